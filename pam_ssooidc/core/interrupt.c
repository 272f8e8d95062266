/* interrupt.c - see interrupt.h. */
#define _GNU_SOURCE
#include "core/interrupt.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/util.h"

static void cancel_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGQUIT);
}

void interrupt_guard_begin(struct interrupt_guard *g)
{
    sigset_t set;
    cancel_signals(&set);
    g->active = pthread_sigmask(SIG_BLOCK, &set, &g->saved) == 0;
}

void interrupt_guard_end(struct interrupt_guard *g)
{
    if (g->active)
        pthread_sigmask(SIG_SETMASK, &g->saved, NULL);
    g->active = false;
}

bool interrupt_pending(void)
{
    sigset_t pending;
    if (sigpending(&pending) != 0)
        return false;
    return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGQUIT) == 1;
}

/* The fallback: short sleeps with a look at the pending set between them.
 * Not sigtimedwait: that would take the signal off the process's queue,
 * and a host that waits for SIGINT in a thread of its own (sigwait) would
 * never see it. 100 ms keeps a Ctrl-C well within a second, at the price
 * of ten wake-ups a second (about 20 µs of CPU each). */
#define INTERRUPT_CHECK_EVERY 0.1

static bool sleep_in_steps(const struct interrupt_guard *g, double until)
{
    /* Counted in steps rather than re-reading the clock after each: a test
     * harness that makes sleeps return at once must not turn this into a
     * busy loop until real time has passed. */
    double left = until - sso_monotonic();
    while (left > 0) {
        if (g->active && interrupt_pending())
            return true;
        double step = g->active && left > INTERRUPT_CHECK_EVERY ? INTERRUPT_CHECK_EVERY : left;
        sso_sleep_until(sso_monotonic() + step);
        left -= step;
    }
    return g->active && interrupt_pending();
}

/* A wait that wakes only when the time comes or a Ctrl-C arrives: poll on
 * a signalfd for the two blocked signals. Polling a signalfd reads nothing,
 * so the signal stays pending, as above; no handler or disposition changes.
 * Without a signalfd (no descriptor left, a filter refusing it) the steps
 * above do the same job. */
#define POLL_MAX_MS (60 * 60 * 1000)

bool interrupt_sleep_until(const struct interrupt_guard *g, double until)
{
    if (!g->active)
        return sleep_in_steps(g, until);
    sigset_t set;
    cancel_signals(&set);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return sleep_in_steps(g, until);
    bool interrupted = false;
    for (;;) {
        if (interrupt_pending()) {
            interrupted = true;
            break;
        }
        double left = until - sso_monotonic();
        if (left <= 0)
            break;
        /* Rounded up, so the wait never ends a little before `until`. */
        double ms = left * 1000.0 + 1.0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, ms > POLL_MAX_MS ? POLL_MAX_MS : (int)ms) < 0 && errno != EINTR) {
            close(fd);
            return sleep_in_steps(g, until);
        }
    }
    close(fd);
    return interrupted;
}
