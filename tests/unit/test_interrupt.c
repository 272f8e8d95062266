/* Unit tests for interrupt.h's wait: it sleeps on a signalfd, so it wakes
 * for a Ctrl-C or the deadline and nothing else; the Ctrl-C stays pending
 * for the host; no descriptor is left behind; and the attacks a reviewer
 * found on the first version are kept: a host thread that closes the
 * module's descriptor and reuses its number made the wait spin at full CPU
 * until its deadline (and would have closed the host's file), and a host
 * started with stdin closed had fd 0 become the module's signalfd. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/util.h"

static double cpu_seconds(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static long voluntary_switches(void)
{
    struct rusage r;
    getrusage(RUSAGE_THREAD, &r);
    return r.ru_nvcsw;
}

/* The descriptor that is a signalfd, or -1. */
static int find_signalfd(void)
{
    DIR *d = opendir("/proc/self/fd");
    int found = -1;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[300], target[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n > 0) {
            target[n] = '\0';
            if (strstr(target, "signalfd"))
                found = atoi(e->d_name);
        }
    }
    if (d)
        closedir(d);
    return found;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* A quiet wait: the deadline, no wake-up in between (the 100 ms steps made
 * five in half a second), no descriptor left. */
static void test_quiet_wait(void **state)
{
    (void)state;
    struct interrupt_guard g;
    interrupt_guard_begin(&g);
    int fds = count_fds();
    long sw = voluntary_switches();
    double t0 = sso_monotonic();
    assert_false(interrupt_sleep_until(&g, t0 + 0.5));
    double waited = sso_monotonic() - t0;
    long woke = voluntary_switches() - sw;
    interrupt_guard_end(&g);
    assert_true(waited >= 0.5);
    assert_true(woke <= 2);
    assert_int_equal(count_fds(), fds);
}

static volatile sig_atomic_t interrupts_delivered;
static void on_sigint(int sig)
{
    (void)sig;
    interrupts_delivered++;
}

static void *send_sigint(void *arg)
{
    (void)arg;
    sleep_ms(200);
    kill(getpid(), SIGINT);
    return NULL;
}

/* A Ctrl-C ends the wait at once and is left pending: the host gets it
 * when the mask is restored. */
static void test_ctrl_c_ends_the_wait_and_stays_pending(void **state)
{
    (void)state;
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigaction(SIGINT, &sa, &old);
    interrupts_delivered = 0;
    struct interrupt_guard g;
    interrupt_guard_begin(&g);
    int fds = count_fds();
    pthread_t t;
    pthread_create(&t, NULL, send_sigint, NULL);
    double t0 = sso_monotonic();
    bool interrupted = interrupt_sleep_until(&g, t0 + 30);
    double waited = sso_monotonic() - t0;
    pthread_join(t, NULL);
    assert_true(interrupted);
    assert_true(waited < 20); /* not the 30 s deadline */
    assert_true(interrupt_pending());
    assert_int_equal(interrupts_delivered, 0);
    assert_int_equal(count_fds(), fds);
    interrupt_guard_end(&g);
    assert_int_equal(interrupts_delivered, 1);
    sigaction(SIGINT, &old, NULL);
}

static void on_sigusr1(int sig)
{
    (void)sig;
}

struct reuse {
    pthread_t waiter;
    int reused; /* the host's file that took the signalfd's number */
    int closed;
    int other; /* the pipe's other end */
};

/* A host thread closes the wait's descriptor, opens a file that gets the
 * same number, and pokes the waiting thread out of its poll. */
static void *close_and_reuse(void *arg)
{
    struct reuse *r = arg;
    sleep_ms(200);
    r->closed = find_signalfd();
    if (r->closed >= 0) {
        close(r->closed);
        r->reused = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    }
    pthread_kill(r->waiter, SIGUSR1);
    return NULL;
}

static void test_descriptor_taken_by_the_host(void **state)
{
    (void)state;
    struct sigaction sa = {.sa_handler = on_sigusr1}, old;
    sigaction(SIGUSR1, &sa, &old);
    struct reuse r = {.waiter = pthread_self(), .reused = -1, .closed = -1};
    struct interrupt_guard g;
    interrupt_guard_begin(&g);
    pthread_t t;
    pthread_create(&t, NULL, close_and_reuse, &r);
    double c0 = cpu_seconds(), t0 = sso_monotonic();
    assert_false(interrupt_sleep_until(&g, t0 + 1.2));
    double used = cpu_seconds() - c0, waited = sso_monotonic() - t0;
    pthread_join(t, NULL);
    interrupt_guard_end(&g);
    sigaction(SIGUSR1, &old, NULL);
    assert_true(r.closed >= 3);
    assert_int_equal(r.reused, r.closed);
    assert_true(waited >= 1.2);
    /* The first version spun here: a 1.2 s wait cost over 1 s of CPU. */
    assert_true(used < 0.3);
    /* The host's file is still open: the wait did not close it. */
    struct stat st;
    assert_int_equal(fstat(r.reused, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    close(r.reused);
}

/* A host thread closes the wait's descriptor and its next eventfd (or
 * epoll, timerfd, signalfd) takes the number. Every such descriptor is on
 * the kernel's one anonymous inode, so (st_dev, st_ino) cannot tell it from
 * the wait's own: the host's file must still be open after the wait. */
static void *close_and_reuse_anon(void *arg)
{
    struct reuse *r = arg;
    sleep_ms(200);
    r->closed = find_signalfd();
    if (r->closed >= 0) {
        close(r->closed);
        r->reused = eventfd(0, EFD_CLOEXEC);
    }
    return NULL;
}

static void test_descriptor_taken_by_a_host_eventfd(void **state)
{
    (void)state;
    struct reuse r = {.waiter = pthread_self(), .reused = -1, .closed = -1};
    struct interrupt_guard g;
    interrupt_guard_begin(&g);
    pthread_t t;
    pthread_create(&t, NULL, close_and_reuse_anon, &r);
    assert_false(interrupt_sleep_until(&g, sso_monotonic() + 0.6));
    pthread_join(t, NULL);
    interrupt_guard_end(&g);
    assert_true(r.closed >= 3);
    assert_int_equal(r.reused, r.closed);
    /* The host's eventfd is still open: the wait did not close it. */
    assert_int_not_equal(fcntl(r.reused, F_GETFD), -1);
    close(r.reused);
}

/* A host thread closes the wait's descriptor and a pipe that never becomes
 * readable takes the number; then a Ctrl-C comes. The poll on the host's
 * pipe never wakes, yet the Ctrl-C must end the wait promptly. */
static void *close_reuse_then_sigint(void *arg)
{
    struct reuse *r = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* the Ctrl-C stays pending */
    sleep_ms(200);
    r->closed = find_signalfd();
    if (r->closed >= 0) {
        close(r->closed);
        int p[2];
        if (pipe2(p, O_CLOEXEC) == 0) {
            r->reused = p[0];
            r->other = p[1];
        }
    }
    sleep_ms(100);
    kill(getpid(), SIGINT);
    return NULL;
}

static void test_ctrl_c_after_descriptor_taken_by_a_quiet_pipe(void **state)
{
    (void)state;
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigaction(SIGINT, &sa, &old);
    interrupts_delivered = 0;
    struct reuse r = {.waiter = pthread_self(), .reused = -1, .closed = -1, .other = -1};
    struct interrupt_guard g;
    interrupt_guard_begin(&g);
    pthread_t t;
    pthread_create(&t, NULL, close_reuse_then_sigint, &r);
    double t0 = sso_monotonic();
    bool interrupted = interrupt_sleep_until(&g, t0 + 10);
    double waited = sso_monotonic() - t0;
    pthread_join(t, NULL);
    interrupt_guard_end(&g);
    sigaction(SIGINT, &old, NULL);
    assert_int_equal(r.reused, r.closed);
    if (r.reused >= 0)
        close(r.reused);
    if (r.other >= 0)
        close(r.other);
    assert_true(interrupted);
    assert_true(waited < 4); /* about a second; not the 10 s deadline (slack for a busy machine) */
}

static void *look_at_fd0(void *arg)
{
    int *seen = arg;
    sleep_ms(200);
    *seen = fcntl(0, F_GETFD) != -1;
    return NULL;
}

/* stdin closed: the wait's descriptor is not fd 0. */
static void test_stdin_closed(void **state)
{
    (void)state;
    int saved = dup(0);
    assert_true(saved >= 0);
    close(0);
    struct interrupt_guard g;
    interrupt_guard_begin(&g);
    int fd0_open = -1;
    pthread_t t;
    pthread_create(&t, NULL, look_at_fd0, &fd0_open);
    assert_false(interrupt_sleep_until(&g, sso_monotonic() + 0.5));
    pthread_join(t, NULL);
    interrupt_guard_end(&g);
    int still_closed = fcntl(0, F_GETFD) == -1;
    dup2(saved, 0);
    close(saved);
    assert_int_equal(fd0_open, 0);
    assert_true(still_closed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_wait),
        cmocka_unit_test(test_ctrl_c_ends_the_wait_and_stays_pending),
        cmocka_unit_test(test_descriptor_taken_by_the_host),
        cmocka_unit_test(test_stdin_closed),
        cmocka_unit_test(test_descriptor_taken_by_a_host_eventfd),
        cmocka_unit_test(test_ctrl_c_after_descriptor_taken_by_a_quiet_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
