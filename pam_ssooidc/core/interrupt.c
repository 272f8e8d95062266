/* interrupt.c - see interrupt.h. */
#define _GNU_SOURCE
#include "core/interrupt.h"

#include <pthread.h>

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

/* Short sleeps with a look at the pending set between them. Not
 * sigtimedwait: that would take the signal off the process's queue, and a
 * host that waits for SIGINT in a thread of its own (sigwait) would never
 * see it. 100 ms keeps a Ctrl-C well within a second and costs nothing. */
#define INTERRUPT_CHECK_EVERY 0.1

bool interrupt_sleep_until(const struct interrupt_guard *g, double until)
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
