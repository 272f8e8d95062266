/* interrupt.c - see interrupt.h. */
#define _GNU_SOURCE
#include "interrupt.h"

#include <pthread.h>

#include "util.h"

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
    for (;;) {
        if (g->active && interrupt_pending())
            return true;
        double now = sso_monotonic();
        if (now >= until)
            return false;
        double step = until - now;
        if (g->active && step > INTERRUPT_CHECK_EVERY)
            step = INTERRUPT_CHECK_EVERY;
        sso_sleep_until(now + step);
    }
}
