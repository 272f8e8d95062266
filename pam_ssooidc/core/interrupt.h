/* interrupt.h - the person can cancel with Ctrl-C while the module waits.
 *
 * The host owns signal handling, so the module installs no handler. While
 * it waits it keeps SIGINT and SIGQUIT blocked in its own thread (sudo
 * already blocks them during authentication; su and login do not) and
 * looks for them pending between polls (sleeping on a signalfd, which
 * wakes it when one arrives, and once a second) and during requests. A
 * signal it sees is left pending, not consumed: when the module returns
 * and the mask is restored, the host reacts to that Ctrl-C exactly as it
 * would have - sudo stops asking, su and login end. */
#ifndef SSO_INTERRUPT_H
#define SSO_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

struct interrupt_guard {
    sigset_t saved; /* the thread's mask before begin */
    bool active;
};

/* Block SIGINT and SIGQUIT in the calling thread (saving the mask). */
void interrupt_guard_begin(struct interrupt_guard *g);

/* Restore the mask saved by begin; a pending Ctrl-C is then delivered as
 * the host arranged. Safe to call twice. */
void interrupt_guard_end(struct interrupt_guard *g);

/* Is a SIGINT or SIGQUIT pending for this thread or the process? */
bool interrupt_pending(void);

/* Sleep until `until` (sso_monotonic seconds). Returns true, early, when a
 * SIGINT or SIGQUIT is pending (it stays pending); false when the time came. */
bool interrupt_sleep_until(const struct interrupt_guard *g, double until);

#endif
