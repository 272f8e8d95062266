/* interrupt.c - see interrupt.h. */
#define _GNU_SOURCE
#include "interrupt.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

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

/* sigtimedwait is the sleep: it returns the moment a blocked SIGINT or
 * SIGQUIT arrives. It takes the signal off the pending set, so it is raised
 * again at once (still blocked, it waits there for the host). */
bool interrupt_sleep_until(const struct interrupt_guard *g, double until)
{
    sigset_t set;
    cancel_signals(&set);
    for (;;) {
        if (interrupt_pending())
            return true;
        double left = until - sso_monotonic();
        if (left <= 0)
            return false;
        if (!g->active) { /* could not block: a plain, uninterruptible sleep */
            sso_sleep_until(until);
            return false;
        }
        struct timespec ts;
        ts.tv_sec = (time_t)left;
        ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGINT || sig == SIGQUIT) {
            pthread_kill(pthread_self(), sig);
            return true;
        }
        /* EAGAIN: time is up (checked at the top); EINTR: another signal. */
    }
}
