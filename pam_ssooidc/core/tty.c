/* tty.c - see tty.h. */
#define _GNU_SOURCE
#include "core/tty.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define ECHO_FLAGS (ECHO | ECHONL)

/* A terminal call from a login that is not (or no longer) in the
 * terminal's foreground would stop the whole host with SIGTTOU; with
 * SIGTTOU blocked the kernel lets the call through instead. Only the
 * calling thread's mask changes, for the length of one call. */
static sigset_t block_ttou(void)
{
    sigset_t ttou, saved;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    pthread_sigmask(SIG_BLOCK, &ttou, &saved);
    return saved;
}

static void unblock_ttou(const sigset_t *saved)
{
    pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* O_NONBLOCK: opening a serial line must not wait for its carrier.
 * O_NOCTTY: never make it anyone's controlling terminal. */
static int open_controlling_terminal(void)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (!isatty(fd) || tcgetpgrp(fd) != getpgrp()) {
        close(fd);
        return -1;
    }
    return fd;
}

void tty_quiet_begin(struct tty_quiet *q)
{
    q->fd = open_controlling_terminal();
    if (q->fd < 0)
        return;
    struct termios quiet;
    bool changed = false;
    sigset_t mask = block_ttou();
    if (tcgetattr(q->fd, &q->saved) == 0 && (q->saved.c_lflag & ECHO_FLAGS)) {
        quiet = q->saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO_FLAGS;
        changed = tcsetattr(q->fd, TCSANOW, &quiet) == 0;
    }
    unblock_ttou(&mask);
    if (!changed) { /* nothing to hide, or not ours to change: leave it */
        close(q->fd);
        q->fd = -1;
    }
}

void tty_quiet_end(struct tty_quiet *q)
{
    if (q->fd < 0)
        return;
    sigset_t mask = block_ttou();
    /* Stopped and sent to the background meanwhile (Ctrl-Z, bg): the
     * terminal and what is typed now belong to the job in front, which set
     * its own modes; the shell gives this one its settings back when it
     * comes to the front again. */
    if (tcgetpgrp(q->fd) == getpgrp()) {
        tcflush(q->fd, TCIFLUSH);
        tcsetattr(q->fd, TCSANOW, &q->saved);
    }
    unblock_ttou(&mask);
    close(q->fd);
    q->fd = -1;
}
