#!/usr/bin/python3
"""Ctrl-C while the module waits for approval, through a real pseudo-terminal.

The person gave up: the attempt must end within a second, with PAM_AUTH_ERR,
"Sign-in cancelled." on the terminal (under sudo's PAM_SILENT too) and an
outcome line, under sudo, su and login with the module's default
options - and the module must not have touched the host's signal handlers
(it blocks SIGINT/SIGQUIT in its own thread while it waits and leaves a
Ctrl-C pending for the host, which then does what it always does: sudo
stops asking, su and login end).

  sudo   a sudoers drop-in selects this test's PAM service (pam_service=);
         sudo's default passwd_tries (3) is kept: one Ctrl-C must end sudo.
  su     has no such setting: /etc/pam.d/su is replaced for the run and
         restored after (checked byte for byte; a killed run's backup is
         restored by the next run).
  login  likewise: /etc/pam.d/login is replaced and restored; login runs
         as root in the terminal, as getty would start it.

The syslog lines are read from /dev/log, which the test binds when no
syslog daemon does (as on CI).

Usage: /usr/bin/python3 tests/e2e/test_interrupt.py [-v]   (as root; TAP)"""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (MODULE, PAM_D, SUDOERS_D, SyslogCatcher, comment,  # noqa: E402
                    new_device, run_cases, run_suite, sample_stanza)
import harness  # noqa: E402

MODULE_TIMEOUT = 120  # far longer than any case waits: only Ctrl-C can end it
SHOWN_END = r"It expires in [^\n]*\n"
CANCELLED = "Sign-in cancelled."
LIMIT = 1.0           # seconds from Ctrl-C to the end of the attempt
# A loaded test machine's scheduling, on top: generous, and still far below
# MODULE_TIMEOUT, the wait that only Ctrl-C can end.
SLACK = 9.0


class Ctx:
    def __init__(self, world, work, sd, user, conf, syslog):
        self.world, self.work, self.sd, self.user = world, work, sd, user
        self.conf, self.syslog = conf, syslog
        self.known = set()


def wait_for_code(c, x, term):
    i = term.expect(SHOWN_END, timeout=30)
    c.check(i == 0, "the device text is shown")
    dev = new_device(x.sd, x.known)
    c.check(dev is not None, "the stand-in has a pending device authorization")
    time.sleep(1.5)  # the module is now polling (interval 1 s)
    return dev


def interrupt(c, term, what):
    """Press Ctrl-C; return seconds until the program ended (None: it did not)."""
    t0 = time.monotonic()
    term.child.sendintr()
    status = term.finish(timeout=10)
    took = time.monotonic() - t0
    c.check(took < LIMIT + SLACK, "%s ended %.2f s after Ctrl-C (designed for %.1f s, "
            "bound %.0f s)" % (what, took, LIMIT, LIMIT + SLACK), "exit status %s" % status)
    return took, status


def told_cancelled(c, term, what):
    """The person is told, in the module's own words, even under sudo's
    PAM_SILENT (core/conv.c)."""
    c.check(term.text.count(CANCELLED) == 1, "%s: the person is told %r" % (what, CANCELLED))


def outcome_check(c, x, lines, what, service):
    if not x.syslog.available:
        c.tap.skip("%s: outcome line" % c.name, "/dev/log belongs to a syslog daemon here")
        return
    o = [harness.parse_outcome(l) for l in lines]
    o = [d for d in o if d and d["service"] == service]  # other tests may log here too
    c.check(o and o[-1]["result"] == "PAM_AUTH_ERR" and "Ctrl-C" in o[-1]["reason"],
            "%s: one outcome line, result=PAM_AUTH_ERR, reason names the Ctrl-C" % what,
            "\n".join(lines))


def sudo_ctrl_c(c, x):
    service = "sudo-ssooidc-e2e-" + x.world.tag
    x.world.root_file(os.path.join(PAM_D, service), sample_stanza("sudo", x.conf))
    x.world.root_file(os.path.join(SUDOERS_D, "ssooidc-e2e-" + x.world.tag),
                      "Defaults:%s pam_service=%s\nDefaults:%s !lecture\n%s ALL=(ALL) ALL\n"
                      % (x.user, service, x.user, x.user), mode=0o440,
                      validate=["visudo", "-cf"])
    before = len(x.syslog.outcome_lines())
    t = c.terminal("runuser", ["-u", x.user, "--", "sudo", "-k", "true"], timeout=30)
    dev = wait_for_code(c, x, t)
    took, status = interrupt(c, t, "sudo")
    c.check(status not in (0, None), "sudo failed (exit status %s)" % status)
    told_cancelled(c, t, "sudo")
    c.check(t.text.count("It expires in") == 1, "sudo did not start a second attempt "
            "(default passwd_tries): the Ctrl-C ended it")
    time.sleep(0.3)
    outcome_check(c, x, x.syslog.outcome_lines()[before:], "sudo", service)
    d = [v for v in x.sd.devices() if dev and v["userCode"] == dev["userCode"]]
    polls = d[0]["polls"] if d else -1
    time.sleep(1.5)
    d2 = [v for v in x.sd.devices() if dev and v["userCode"] == dev["userCode"]]
    c.check(d2 and d2[0]["polls"] == polls, "no poll after the Ctrl-C")


def su_ctrl_c(c, x):
    target = x.world.add_user("target")
    x.world.replace_system_file(os.path.join(PAM_D, "su"),
                                "auth required %s conf=%s\naccount required pam_permit.so\n"
                                "session required pam_permit.so\n" % (MODULE, x.conf))
    before = len(x.syslog.outcome_lines())
    t = c.terminal("runuser", ["-u", x.user, "--", "su", "-c", "true", target], timeout=30)
    wait_for_code(c, x, t)
    took, status = interrupt(c, t, "su")
    c.check(status not in (0, None), "su failed (exit status %s)" % status)
    told_cancelled(c, t, "su")
    time.sleep(0.3)
    outcome_check(c, x, x.syslog.outcome_lines()[before:], "su", "su")


def login_ctrl_c(c, x):
    x.world.replace_system_file(os.path.join(PAM_D, "login"),
                                "auth required %s conf=%s\naccount required pam_permit.so\n"
                                "session required pam_permit.so\n" % (MODULE, x.conf))
    before = len(x.syslog.outcome_lines())
    t = c.terminal("/bin/login", [x.user], timeout=30)
    wait_for_code(c, x, t)
    took, status = interrupt(c, t, "login")
    c.check(status not in (0, None), "login failed (exit status %s)" % status)
    told_cancelled(c, t, "login")
    time.sleep(0.3)
    outcome_check(c, x, x.syslog.outcome_lines()[before:], "login", "login")


CASES = [sudo_ctrl_c, su_ctrl_c, login_ctrl_c]


def setup(tap, world):
    syslog = SyslogCatcher()
    world.cleanup.push("syslog catcher", syslog.stop)
    work, sd, user = world.basics("int")
    conf = world.module_conf(work, sd, timeout=MODULE_TIMEOUT)
    x = Ctx(world, work, sd, user, conf, syslog)
    comment("stand-in %s, user %s, /dev/log %s" % (sd.url, user, "caught" if syslog.available
                                                    else "owned by a syslog daemon"))
    only = os.environ.get("E2E_ONLY", "").split(",")
    run_cases(tap, [f for f in CASES if not only[0] or f.__name__ in only], x)


def main():
    return run_suite("e2e-interrupt", ["sudo", "su", "/bin/login", "runuser"], setup,
                     "users, sudoers drop-in, /etc/pam.d files, temp dir")


if __name__ == "__main__":
    sys.exit(main())
