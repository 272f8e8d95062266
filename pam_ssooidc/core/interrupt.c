/* interrupt.c - see interrupt.h. */
#define _GNU_SOURCE
#include "core/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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

/* The wait's own signalfd: a descriptor of 3 or above (a host started with
 * stdin closed must not find its fd 0 to be ours), and its identity, so
 * that a descriptor some other thread of the host closed, or closed and
 * reused, is recognised as no longer ours and never closed by us. */
struct wait_fd {
    int fd;
    dev_t dev;
    ino_t ino;
};

static bool wait_fd_open(struct wait_fd *w, const sigset_t *set)
{
    int fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd >= 0 && fd < 3) {
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        fd = high;
    }
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    *w = (struct wait_fd){.fd = fd, .dev = st.st_dev, .ino = st.st_ino};
    return true;
}

static bool wait_fd_ours(const struct wait_fd *w)
{
    struct stat st;
    return fstat(w->fd, &st) == 0 && st.st_dev == w->dev && st.st_ino == w->ino;
}

static void wait_fd_close(const struct wait_fd *w)
{
    if (wait_fd_ours(w))
        close(w->fd);
}

/* A wait that wakes only when the time comes or a Ctrl-C arrives: poll on
 * a signalfd for the two blocked signals. Polling a signalfd reads nothing,
 * so the signal stays pending, as above; no handler or disposition changes.
 * Without a signalfd (no descriptor left, a filter refusing it), or when
 * the descriptor stops being ours, the steps above do the same job; a
 * wake-up that finds nothing pending waits a step before polling again, so
 * nothing can make this loop spin faster than the steps. */
#define POLL_MAX_MS (60 * 60 * 1000)

bool interrupt_sleep_until(const struct interrupt_guard *g, double until)
{
    sigset_t set;
    cancel_signals(&set);
    struct wait_fd w;
    if (!g->active || !wait_fd_open(&w, &set))
        return sleep_in_steps(g, until);
    for (;;) {
        if (interrupt_pending()) {
            wait_fd_close(&w);
            return true;
        }
        double left = until - sso_monotonic();
        if (left <= 0)
            break;
        /* Rounded up, so the wait never ends a little before `until`. */
        double ms = left * 1000.0 + 1.0;
        struct pollfd p = {.fd = w.fd, .events = POLLIN};
        int n = poll(&p, 1, ms > POLL_MAX_MS ? POLL_MAX_MS : (int)ms);
        if (n < 0 && errno != EINTR) {
            wait_fd_close(&w);
            return sleep_in_steps(g, until);
        }
        if (n > 0 && ((p.revents & (POLLNVAL | POLLERR | POLLHUP)) || !wait_fd_ours(&w)))
            return sleep_in_steps(g, until); /* not ours to close any more */
        if (n > 0 && !interrupt_pending())
            sso_sleep_until(sso_monotonic() + (left < INTERRUPT_CHECK_EVERY ? left
                                               : INTERRUPT_CHECK_EVERY));
    }
    wait_fd_close(&w);
    return false;
}
