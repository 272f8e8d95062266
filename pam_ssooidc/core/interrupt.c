/* interrupt.c - see interrupt.h. */
#define _GNU_SOURCE
#include "core/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <linux/kcmp.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
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

/* The wait's own signalfd, at 3 or above (a host started with stdin closed
 * must not find its fd 0 to be ours), and a second descriptor of the same
 * file to recognise it by. A buggy host thread may close a descriptor it
 * does not own and reuse the number; the kernel's own comparison (kcmp)
 * tells whether the two still name one file - the inode cannot: every
 * signalfd, eventfd, epoll and timerfd shares one. When they no longer do,
 * the wait takes the steps and closes neither, since one of the numbers is
 * the host's now: leaking a descriptor in such a host beats closing its
 * file. (A check and then a close can still race a thread that closes and
 * reuses in between; nothing can prevent that one.) Without kcmp (a
 * seccomp filter, an old kernel) there is no signalfd wait at all. */
struct wait_fd {
    int fd;
    int ref;
};

static bool same_file(int a, int b)
{
    pid_t pid = getpid();
    return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

static bool wait_fd_open(struct wait_fd *w, const sigset_t *set)
{
    int fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd >= 0 && fd < 3) {
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        fd = high;
    }
    if (fd < 0)
        return false;
    int ref = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (ref < 0 || !same_file(fd, ref)) {
        if (ref >= 0)
            close(ref);
        close(fd);
        return false;
    }
    *w = (struct wait_fd){.fd = fd, .ref = ref};
    return true;
}

static bool wait_fd_ours(const struct wait_fd *w)
{
    return same_file(w->fd, w->ref);
}

static void wait_fd_close(const struct wait_fd *w)
{
    if (wait_fd_ours(w)) {
        close(w->fd);
        close(w->ref);
    }
}

/* A wait that wakes only when the time comes or a Ctrl-C arrives: poll on
 * a signalfd for the two blocked signals. Polling a signalfd reads nothing,
 * so the signal stays pending, as above; no handler or disposition changes.
 * Each poll lasts at most a second, and every wake-up checks that the
 * descriptor is still ours (a quiet file put in its place would otherwise
 * hide a Ctrl-C until the deadline): one wake-up a second instead of ten.
 * Without a signalfd (no descriptor left, a filter refusing it), or when
 * the descriptor stops being ours, the steps above do the same job; a
 * wake-up that finds nothing pending waits a step before polling again, so
 * nothing can make this loop spin faster than the steps. */
#define POLL_MAX_MS 1000

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
        if (!(left > 0)) /* also a NaN deadline: it has no future */
            break;
        /* Rounded up, so the wait never ends a little before `until`. */
        double ms = left * 1000.0 + 1.0;
        struct pollfd p = {.fd = w.fd, .events = POLLIN};
        int n = poll(&p, 1, ms > POLL_MAX_MS ? POLL_MAX_MS : (int)ms);
        if (n < 0 && errno != EINTR) {
            wait_fd_close(&w);
            return sleep_in_steps(g, until);
        }
        if (!wait_fd_ours(&w) || (n > 0 && (p.revents & (POLLNVAL | POLLERR | POLLHUP))))
            return sleep_in_steps(g, until); /* closes neither: see wait_fd */
        if (n > 0 && !interrupt_pending())
            sso_sleep_until(sso_monotonic() + (left < INTERRUPT_CHECK_EVERY ? left
                                               : INTERRUPT_CHECK_EVERY));
    }
    wait_fd_close(&w);
    return false;
}
