/* Unit tests for tty.h on a real pseudo-terminal: echo is off while the
 * login waits and comes back as found, what was typed meanwhile is
 * discarded, and a login sent to the background (Ctrl-Z, bg) leaves the
 * terminal of the job now in front alone - its raw mode and what was typed
 * to it (the attack a reviewer found: the background login used to
 * restore its own settings over the editor's and flush its input).
 *
 * Each test runs in a child that makes the pty its controlling terminal
 * (setsid, TIOCSCTTY) and reports by exit status; the steps are ordered by
 * pipes, never by sleeping. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/tty.h"

/* Child exit codes: 0 as expected, else which check failed. */
enum { OK = 0, NO_TTY = 10, BEGIN_DID_NOTHING, ECHO_STILL_ON, NOT_RESTORED, NOT_FLUSHED,
       FRONT_MODE_CHANGED, FRONT_INPUT_LOST };

static int open_master(char **name)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
        return -1;
    *name = ptsname(master);
    return master;
}

/* In a new session, with the pty as controlling terminal and this process
 * group in its foreground. */
static int become_session(const char *name)
{
    if (setsid() < 0)
        return -1;
    int slave = open(name, O_RDWR);
    if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) != 0 || tcsetpgrp(slave, getpgrp()) != 0)
        return -1;
    return slave;
}

static int pending_bytes(int fd)
{
    int n = 0;
    ioctl(fd, FIONREAD, &n);
    return n;
}

/* The pty passes what the master writes to the slave's input a moment
 * later: wait (at most 5 s) until n bytes are there to read. */
static bool input_arrived(int slave, int n)
{
    for (int i = 0; i < 500; i++) {
        if (pending_bytes(slave) >= n)
            return true;
        usleep(10000);
    }
    return false;
}

static int run_child(int master, int (*body)(const char *, int), const char *name)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(body(name, master));
    int st = -1;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static int foreground_body(const char *name, int master)
{
    int slave = become_session(name);
    if (slave < 0)
        return NO_TTY;
    struct termios before, during, after;
    tcgetattr(slave, &before);
    struct tty_quiet q;
    tty_quiet_begin(&q);
    if (q.fd < 0)
        return BEGIN_DID_NOTHING;
    tcgetattr(slave, &during);
    if (during.c_lflag & ECHO)
        return ECHO_STILL_ON;
    if (write(master, "hunter2\n", 8) != 8 || !input_arrived(slave, 8)) /* typed from habit */
        return NO_TTY;
    tty_quiet_end(&q);
    tcgetattr(slave, &after);
    if (after.c_lflag != before.c_lflag || after.c_iflag != before.c_iflag)
        return NOT_RESTORED;
    if (pending_bytes(slave) != 0)
        return NOT_FLUSHED;
    return OK;
}

static void test_quiet_while_waiting_then_as_found(void **state)
{
    (void)state;
    char *name = NULL;
    int master = open_master(&name);
    assert_true(master >= 0);
    assert_int_equal(run_child(master, foreground_body, name), OK);
    close(master);
}

static int background_body(const char *name, int master)
{
    int slave = become_session(name);
    if (slave < 0)
        return NO_TTY;
    struct tty_quiet q;
    tty_quiet_begin(&q);
    if (q.fd < 0)
        return BEGIN_DID_NOTHING;
    /* Ctrl-Z, bg: another job takes the foreground, puts the terminal in
     * raw mode, and the person types to it. */
    int ready[2], done[2];
    if (pipe(ready) != 0 || pipe(done) != 0)
        return NO_TTY;
    pid_t front = fork();
    if (front == 0) {
        signal(SIGTTOU, SIG_IGN);
        setpgid(0, 0);
        tcsetpgrp(slave, getpgrp());
        struct termios raw;
        tcgetattr(slave, &raw);
        cfmakeraw(&raw);
        tcsetattr(slave, TCSANOW, &raw);
        char c = 'r';
        if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1) /* until checked */
            _exit(1);
        _exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        return NO_TTY;
    if (write(master, "typed to the editor", 19) != 19 || !input_arrived(slave, 19))
        return NO_TTY;
    tty_quiet_end(&q); /* the background login ends */
    struct termios now;
    tcgetattr(slave, &now);
    int rc = OK;
    if (now.c_lflag & (ECHO | ICANON))
        rc = FRONT_MODE_CHANGED;
    else if (pending_bytes(slave) != 19)
        rc = FRONT_INPUT_LOST;
    if (write(done[1], &c, 1) != 1)
        kill(front, SIGKILL);
    waitpid(front, NULL, 0);
    return rc;
}

static void test_background_login_leaves_the_front_job_alone(void **state)
{
    (void)state;
    char *name = NULL;
    int master = open_master(&name);
    assert_true(master >= 0);
    assert_int_equal(run_child(master, background_body, name), OK);
    close(master);
}

static int no_terminal_body(const char *name, int master)
{
    (void)name, (void)master;
    if (setsid() < 0) /* no controlling terminal at all, as under sshd */
        return NO_TTY;
    struct tty_quiet q;
    tty_quiet_begin(&q);
    int rc = q.fd < 0 ? OK : BEGIN_DID_NOTHING;
    tty_quiet_end(&q);
    tty_quiet_end(&q); /* safe twice */
    return rc;
}

static void test_no_terminal_nothing_done(void **state)
{
    (void)state;
    assert_int_equal(run_child(-1, no_terminal_body, NULL), OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_while_waiting_then_as_found),
        cmocka_unit_test(test_background_login_leaves_the_front_job_alone),
        cmocka_unit_test(test_no_terminal_nothing_done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
