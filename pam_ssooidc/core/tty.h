/* tty.h - typed characters do not echo while the module waits for approval.
 *
 * A person used to passwords types one while the code is on the screen; it
 * must not appear in clear. The module acts only on the controlling
 * terminal (/dev/tty), only when it is a terminal and the login runs in its
 * foreground, and only on its echo flags: line editing and Ctrl-C (ISIG)
 * stay as they are. Under sudo and su the terminal belongs to the user being
 * authenticated; under sshd there is none, and nothing is done. Nothing
 * here can fail a login: a terminal that cannot be changed is left alone.
 *
 * At the end the terminal is put back exactly as found, and what was typed
 * meanwhile is discarded (tcflush): it was typed unseen, most likely a
 * password from habit, and would otherwise be read by whatever reads next -
 * the command sudo runs, a shell that puts it in its history. A login
 * stopped and sent to the background meanwhile (Ctrl-Z, bg) leaves the
 * terminal alone at the end: it belongs to the job in front by then. */
#ifndef SSO_TTY_H
#define SSO_TTY_H

#include <stdbool.h>
#include <termios.h>

struct tty_quiet {
    int fd;                /* the controlling terminal, or -1 */
    struct termios saved;  /* its settings as found */
};

/* Turn echo off on the controlling terminal, saving its settings. Does
 * nothing (q->fd is -1) when there is none, it is no terminal, the login is
 * not in its foreground, or echo is off already. */
void tty_quiet_begin(struct tty_quiet *q);

/* In the foreground still: discard what was typed meanwhile and put the
 * settings back as found. Then close. Safe to call twice, and after a
 * begin that did nothing. */
void tty_quiet_end(struct tty_quiet *q);

#endif
