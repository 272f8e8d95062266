#!/usr/bin/python3
"""End-to-end: a user runs the real sudo in a pseudo-terminal; sudo's PAM
service runs the built module against the local IAM Identity Center
stand-in, and a "browser" approves on the stand-in's approval page.

Usage: /usr/bin/python3 tests/e2e/test_sudo.py [-v]     (as root; prints TAP)

Isolation: a sudoers drop-in /etc/sudoers.d/ssooidc-e2e-<random> (checked
with visudo -cf before it is put in place) gives only the throw-away test
user `Defaults:USER pam_service=sudo-ssooidc-e2e-<random>` (and the same
pam_login_service, for sudo -i), so sudo runs
/etc/pam.d/sudo-ssooidc-e2e-<random> for that user alone. Both files are
removed afterwards; /etc/pam.d/sudo and /etc/sudoers are never changed.

sudo always passes PAM_SILENT; the module shows the code anyway, and the
one sentence that says why a login failed, and "Contacting the sign-in
service..." when a call is slow. What the user types while the module waits
is not echoed and is discarded, and the terminal is left as it was found. The stanza uses prompt=auto, which means
never (PAM_TEXT_INFO) for a service not named sshd: sudo prints the text at
once and the module polls; the user presses nothing.

After a failed authentication sudo runs the PAM flow again, up to
passwd_tries times (default 3), each time with a new code. The denial case
sets passwd_tries=1 (as docs/sudo.md recommends) so a denial ends sudo; one
case keeps the default to show the retry.
-v (or E2E_VERBOSE=1) prints every transcript, not only failed ones."""
import contextlib
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (ACCOUNT, MODULE, PAM_D, ROLE, SUDOERS_D, Browser,  # noqa: E402
                    comment, device, new_device, run_cases, run_suite, sample_stanza,
                    shown_link)

MODULE_TIMEOUT = 30
SHOWN_END = r"It expires in [^\n]*\n"  # the last line of the device text
DENIED = "The sign-in request was denied."


class Ctx:
    def __init__(self, world, work, sd, user, service, conf):
        self.world, self.work, self.sd, self.user = world, work, sd, user
        self.service, self.conf = service, conf
        self.dropin = os.path.join(SUDOERS_D, "ssooidc-e2e-" + world.tag)
        self.browser = Browser(sd)
        self.known = set()

    def stanza(self):
        """The admins' sample conf/sudo.pam itself (prompt=auto), its module
        line pointed at the built module and the test's config."""
        self.world.root_file(os.path.join(PAM_D, self.service),
                             "# sudo's PAM service for the e2e test user (pam_service=)\n%s"
                             % sample_stanza("sudo", self.conf))

    def sudoers(self, passwd_tries=None):
        # pam_login_service is what `sudo -i` uses (default sudo-i).
        lines = ["Defaults:%s pam_service=%s" % (self.user, self.service),
                 "Defaults:%s pam_login_service=%s" % (self.user, self.service),
                 "Defaults:%s !lecture" % self.user]
        if passwd_tries is not None:
            lines.append("Defaults:%s passwd_tries=%d" % (self.user, passwd_tries))
        lines.append("%s ALL=(ALL) ALL" % self.user)
        if getattr(self, "victim", None):  # another person on the same host
            lines += ["Defaults:%s pam_service=%s" % (self.victim, self.service),
                      "Defaults:%s !lecture" % self.victim,
                      "Defaults:%s passwd_tries=1" % self.victim,
                      "%s ALL=(ALL) ALL" % self.victim]
        self.world.root_file(self.dropin, "\n".join(lines) + "\n", mode=0o440,
                             validate=["visudo", "-cf"])

    def sudo(self, case, *command, user=None):
        """The user types `sudo -k COMMAND` in their terminal."""
        return case.terminal("runuser", ["-u", user or self.user, "--", "sudo", "-k"] +
                             list(command), timeout=30)

    def wait_shown(self, c, term, what="the device text"):
        i = term.expect(SHOWN_END)
        c.check(i == 0, "sudo shows %s (ending in 'It expires in ...')" % what)
        dev = new_device(self.sd, self.known)
        c.check(dev is not None, "the stand-in has a new device authorization")
        return dev, term.text

    def check_shown(self, c, text, dev):
        code = dev["userCode"] if dev else "<no device>"
        c.check(dev and dev["status"] == "pending",
                "the code is still pending (not yet approved) while shown", str(dev))
        c.check(code in text, "the user code %s is shown although sudo passes PAM_SILENT" % code)
        c.check("open %s/device and enter the code" % self.sd.url in text,
                "the verification URL is shown")
        c.check("%s/device?user_code=%s" % (self.sd.url, code) in text,
                "the complete verification link is shown")
        c.check("press Enter" not in text, "prompt=auto under sudo: information, no Enter asked")


def diagnostics(ctx):
    def run():
        ops = ["%s %s%s" % (r.get("op"), r.get("status"),
                            " approver=%s" % r["approver"] if r.get("approver") else "")
               for r in ctx.sd.log() if r.get("op") != "Control"]
        try:
            dropin = open(ctx.dropin).read()
        except OSError as e:
            dropin = str(e)
        return ("--- %s\n%s--- stand-in devices\n%s\n--- stand-in requests (last 30)\n%s"
                % (ctx.dropin, dropin, ctx.sd.devices(), "\n".join(ops[-30:])))
    return run


# ---------------------------------------------------------------- the cases

def approved_sudo_runs_the_command(c, x):
    x.sudoers(passwd_tries=1)
    t = x.sudo(c, "id", "-un")
    dev, shown = x.wait_shown(c, t)
    x.check_shown(c, shown, dev)
    c.check("It expires in %d seconds." % MODULE_TIMEOUT in shown, "the time left is shown")
    link = shown_link(shown)
    status, page = x.browser.open(link) if link else (None, "")
    c.check(status == 200 and dev["userCode"] in page,
            "the link shown opens the approval page with the same code")
    approved_at = time.monotonic()
    status, page = x.browser.decide(dev["userCode"], x.user, "approve")
    c.check(status == 200 and "Request approved" in page, "the browser approves (POST)")
    rc = t.finish()
    waited = time.monotonic() - approved_at
    after = t.text[len(shown):]
    c.check(rc == 0, "sudo exits 0 without the user pressing anything", "exit status %s" % rc)
    c.check("root" in after.split(), "the command ran as root (id -un printed root)")
    c.check(waited < 10, "sudo finished %.1f s after the approval (polling)" % waited)
    d = device(x.sd, dev["userCode"])
    c.check(d and d["status"] == "redeemed" and d["approver"] == x.user,
            "the stand-in's device was redeemed, approved by %s" % x.user, str(d))
    who = [r for r in x.sd.log("GetCallerIdentity") if r.get("approver") == x.user]
    c.check(who and who[-1].get("status") == 200,
            "the module checked who approved (GetCallerIdentity)")


def denied_sudo_fails_once_with_passwd_tries_1(c, x):
    x.sudoers(passwd_tries=1)
    t = x.sudo(c, "true")
    dev, shown = x.wait_shown(c, t)
    x.check_shown(c, shown, dev)
    status, page = x.browser.decide(dev["userCode"], x.user, "deny")
    c.check(status == 200 and "Request denied" in page, "the browser denies (POST)")
    rc = t.finish()
    after = t.text[len(shown):]
    c.check(rc not in (0, None), "sudo exits non-zero", "exit status %s" % rc)
    c.check("sudo: 1 incorrect password attempt" in after,
            "sudo says: 1 incorrect password attempt")
    c.check("Sorry, try again." not in after, "passwd_tries=1: sudo does not start over")
    c.check(DENIED in after, "the person is told why although sudo passes PAM_SILENT: "
            + DENIED)
    time.sleep(1.5)
    c.check(new_device(x.sd, set(x.known), timeout=0.1) is None,
            "no second device authorization was started")
    c.check(device(x.sd, dev["userCode"])["status"] == "denied", "the device ended denied")


def default_passwd_tries_starts_over_with_a_new_code(c, x):
    x.sudoers(passwd_tries=None)  # sudo's default: 3
    t = x.sudo(c, "true")
    dev1, shown = x.wait_shown(c, t)
    x.browser.decide(dev1["userCode"], x.user, "deny")
    dev2, shown2 = x.wait_shown(c, t, "a second device text (sudo tries again)")
    between = shown2[len(shown):]
    c.check("Sorry, try again." in between, "sudo says: Sorry, try again.")
    c.check(dev2 and dev2["userCode"] != dev1["userCode"] and dev2["userCode"] in between,
            "the second attempt shows a new code", "%s %s" % (dev1, dev2))
    status, page = x.browser.decide(dev2["userCode"], x.user, "approve")
    c.check(status == 200 and "Request approved" in page, "the browser approves the new code")
    rc = t.finish()
    c.check(rc == 0, "sudo exits 0 after the second code was approved", "exit status %s" % rc)
    c.check(device(x.sd, dev1["userCode"])["status"] == "denied"
            and device(x.sd, dev2["userCode"])["status"] == "redeemed",
            "first code denied, second redeemed")


def login_shell_sudo_i_uses_pam_login_service(c, x):
    """sudo -i authenticates through pam_login_service (default sudo-i,
    which would ask for the locked password): the drop-in points it at the
    same service."""
    x.sudoers(passwd_tries=1)
    t = x.sudo(c, "-i", "id", "-un")
    dev, shown = x.wait_shown(c, t)
    c.check(dev and dev["userCode"] in shown, "the user code is shown for sudo -i")
    status, page = x.browser.decide(dev["userCode"], x.user, "approve")
    c.check(status == 200 and "Request approved" in page, "the browser approves (POST)")
    rc = t.finish()
    c.check(rc == 0 and "root" in t.text[len(shown):].split(),
            "sudo -i ran the command as root", "exit status %s" % rc)


# ------------------------------------------------------------ roles
# "LinuxLogin for ssh, LinuxAdmin for sudo": one config file, the sudo
# stanza overrides role_name (docs/options-identity.md).

def roles_login_for_ssh_admin_for_sudo(c, x):
    x.world.root_file(os.path.join(PAM_D, x.service),
                      "# sudo wants the admin permission set\n%s"
                      % sample_stanza("sudo", x.conf, "role_name=LinuxAdmin"))
    x.sudoers(passwd_tries=1)
    try:
        x.sd.scenario(assignments={x.user: [[ACCOUNT, "LinuxLogin"]]}, approver=x.user)
        t = x.sudo(c, "id", "-un")
        dev, shown = x.wait_shown(c, t)
        x.browser.decide(dev["userCode"], x.user, "approve")
        rc = t.finish()
        c.check(rc not in (0, None) and "root" not in t.text[len(shown):].split(),
                "holding only LinuxLogin, sudo (role_name=LinuxAdmin) is refused",
                "exit %s" % rc)
        asked = [r.get("role_name") for r in x.sd.log("GetRoleCredentials")][-1:]
        c.check(asked == ["LinuxAdmin"], "the module asked the portal for LinuxAdmin", str(asked))
        x.sd.scenario(assignments={x.user: [[ACCOUNT, "LinuxLogin"], [ACCOUNT, "LinuxAdmin"]]})
        t = x.sudo(c, "id", "-un")
        dev, shown = x.wait_shown(c, t)
        x.browser.decide(dev["userCode"], x.user, "approve")
        rc = t.finish()
        c.check(rc == 0 and "root" in t.text[len(shown):].split(),
                "holding LinuxAdmin too, sudo runs the command", "exit %s" % rc)
    finally:
        x.sd.scenario(assignments={"*": [[ACCOUNT, ROLE]]})
        x.stanza()


# ------------------------------------------------------------ break-glass
# conf/sudo-breakglass.pam: members of one group may use their local
# password only when the service is unreachable (docs/break-glass.md).

PASSWORD_PROMPT = r"\[sudo\] password for"


def breakglass_setup(x, member):
    if not getattr(x, "bg_group", None):
        x.bg_group = "ssobg" + x.world.tag
        subprocess.run(["groupadd", x.bg_group], check=True, capture_output=True)
        x.world.cleanup.push("group " + x.bg_group,
                             lambda: subprocess.run(["groupdel", x.bg_group], capture_output=True))
        x.bg_password = "Bg-" + x.world.tag + "-pass"
        subprocess.run(["chpasswd"], input="%s:%s" % (x.user, x.bg_password), text=True,
                       check=True, capture_output=True)
        x.world.cleanup.push("lock password", lambda: subprocess.run(["usermod", "-L", x.user],
                                                                     capture_output=True))
    subprocess.run(["gpasswd", "-a" if member else "-d", x.user, x.bg_group],
                   capture_output=True)


def breakglass_stanza(x, conf):
    text = sample_stanza("sudo-breakglass", conf).replace("ingroup breakglass",
                                                          "ingroup " + x.bg_group)
    x.world.root_file(os.path.join(PAM_D, x.service),
                      "# break-glass stanza (conf/sudo-breakglass.pam)\n" + text)


@contextlib.contextmanager
def breakglass_sudo(c, x, member, conf):
    """Within: `sudo id -un` as x.user (a member of the break-glass group
    or not) under the break-glass stanza with `conf`, one password try;
    the stanza is put back afterwards."""
    breakglass_setup(x, member=member)
    breakglass_stanza(x, conf)
    x.sudoers(passwd_tries=1)
    try:
        yield x.sudo(c, "id", "-un")
    finally:
        x.stanza()


def breakglass_member_uses_password_when_unreachable(c, x):
    with breakglass_sudo(c, x, True, x.conf_unreachable) as t:
        i = t.expect([PASSWORD_PROMPT, SHOWN_END], timeout=30)
        c.check(i == 0, "service unreachable: sudo asks the member for the local password")
        t.child.sendline(x.bg_password)
        rc = t.finish()
        c.check(rc == 0 and "root" in t.text.split(), "with the password, the command runs",
                "exit %s" % rc)


def breakglass_never_after_a_refusal(c, x):
    with breakglass_sudo(c, x, True, x.conf) as t:
        dev, shown = x.wait_shown(c, t)
        x.browser.decide(dev["userCode"], x.user, "deny")
        i = t.expect([PASSWORD_PROMPT], timeout=15)
        rc = t.finish()
        c.check(i != 0, "approval denied: no password prompt, even for a member")
        c.check(rc not in (0, None), "sudo fails", "exit %s" % rc)


def breakglass_not_for_non_members(c, x):
    with breakglass_sudo(c, x, False, x.conf_unreachable) as t:
        i = t.expect([PASSWORD_PROMPT], timeout=15)
        rc = t.finish()
        c.check(i != 0, "service unreachable, not a member: no password prompt")
        c.check(rc not in (0, None), "sudo fails", "exit %s" % rc)


# ------------------------------------------------------------ fair limits
# One local user must not lock everyone else out (docs/reliability.md): a
# stopped sudo holds its place for one lease at most, and one user (one
# real uid: one source) holds at most max_pending_per_source places.

BUSY_SOURCE = "Too many sign-ins are waiting from your address or account"


def sudo_pid(term):
    """The sudo process under the terminal's runuser."""
    for _ in range(50):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open("/proc/%s/comm" % pid) as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm == "sudo" and int(fields[1]) == term.child.pid:
                return int(pid)
        time.sleep(0.1)
    return None


def ten_stopped_sudo_runs_lock_out_nobody(c, x):
    """The attack: a local user starts 10 sudo runs and sends each SIGSTOP
    (they are its real uid, so the kernel lets them; sudo ignores SIGTERM
    while authenticating). Another person's sudo then shows its code at once
    and is admitted when approved."""
    import signal
    x.sudoers(passwd_tries=1)
    x.world.root_file(os.path.join(PAM_D, x.service),
                      "# default fair limits, a fresh cache_dir\n%s"
                      % sample_stanza("sudo", x.conf_fair))
    terms, stopped, refused = [], [], 0
    try:
        for _ in range(10):
            t = x.sudo(c, "true")
            terms.append(t)
            i = t.expect([SHOWN_END, BUSY_SOURCE], timeout=30)
            if i == 0:
                pid = sudo_pid(t)
                if pid:
                    os.kill(pid, signal.SIGSTOP)
                    stopped.append(pid)
            elif i == 1:
                refused += 1
                t.finish()
        comment("%d sudo runs showed a code and were stopped, %d were refused"
                % (len(stopped), refused))
        c.check(1 <= len(stopped) <= 2, "at most max_pending_per_source=2 of the user's 10 sudo "
                "runs got a code (%d)" % len(stopped))
        c.check(refused == 10 - len(stopped), "the others were refused at once, telling the "
                "user why even under PAM_SILENT (%d)" % refused)
        x.known.update(d["userCode"] for d in x.sd.devices())
        t = x.sudo(c, "id", "-un", user=x.victim)
        dev, shown = x.wait_shown(c, t, "another person's code, beside the user's stopped sudo runs")
        status, page = x.browser.decide(dev["userCode"], x.victim, "approve") if dev else (0, "")
        c.check(status == 200 and "Request approved" in page, "the other person approves")
        rc = t.finish()
        c.check(rc == 0 and "root" in t.text[len(shown):].split(),
                "the other person's sudo runs the command", "exit %s" % rc)
    finally:
        for pid in stopped:
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        for t in terms:
            t.close()
        x.stanza()


def sudo_runs_killed_writing_their_record_leave_nothing(c, x):
    """The attack: sudo keeps the caller's RLIMIT_FSIZE, so under `ulimit -f 0`
    the module's write of its record kills sudo (SIGXFSZ). Records are written
    whole under a temporary name first: what such runs leave counts for
    nothing, and another person's sudo is admitted at once."""
    x.sudoers(passwd_tries=1)
    x.world.root_file(os.path.join(PAM_D, x.service),
                      "# default fair limits\n%s" % sample_stanza("sudo", x.conf_fair))
    cache = os.path.join(x.work, "cache-fair")
    try:
        p = subprocess.run(["runuser", "-u", x.user, "--", "bash", "-c",
                            "ulimit -f 0; for i in $(seq 10); do sudo -S -k true </dev/null "
                            ">/dev/null 2>&1 & done; wait"], capture_output=True, text=True,
                           timeout=120)
        empty = [n for n in os.listdir(cache)
                 if n.startswith("lease-") and os.path.getsize(os.path.join(cache, n)) == 0]
        c.check(not empty, "no empty record is left behind", str(empty) + p.stderr[-300:])
        # Nor anything to pile up (the second review flooded cache_dir with
        # temp files this way, past the scan's cap): records are O_TMPFILE.
        junk = [n for n in os.listdir(cache) if n.startswith("ltmp-")]
        c.check(not junk, "no temporary file is left behind either", str(junk))
        x.known.update(d["userCode"] for d in x.sd.devices())
        t = x.sudo(c, "id", "-un", user=x.victim)
        dev, shown = x.wait_shown(c, t, "another person's code, after the killed sudo runs")
        status, page = x.browser.decide(dev["userCode"], x.victim, "approve") if dev else (0, "")
        rc = t.finish()
        c.check(rc == 0 and "root" in t.text[len(shown):].split(),
                "the other person's sudo runs the command", "exit %s" % rc)
    finally:
        x.stanza()


# ------------------------------------------------------------ the person learns why
# Each way a login fails is told in its own sentence (core/conv.c) although
# sudo passes PAM_SILENT; typing while the module waits is not echoed and is
# discarded; the terminal is exactly as before on every way out. sudo runs
# inside a shell that prints `stty -g` before and after, and then reads
# what was left in the terminal's input.

EXPIRED = "The code expired before it was approved. Log in again for a new code."
WRONG_ACCOUNT = "The approval came from an account that may not log in as this user."
NOT_PERMITTED = "The approving account is not permitted to log in to this host."
UNREACHABLE = "The sign-in service could not be reached or did not answer properly."
CANCELLED = "Sign-in cancelled."
SENTENCES = (DENIED, EXPIRED, WRONG_ACCOUNT, NOT_PERMITTED, UNREACHABLE, CANCELLED)
CONTACTING = "Contacting the sign-in service..."
TYPED = "hunter2-typed-while-waiting"
# trap: a Ctrl-C meant for sudo must not end the shell before it reports.
SHELL = ('trap ":" INT; echo "stty=$(stty -g)"; %s; rc=$?; read -t 1 -r line; '
         'echo "leftover=[$line]"; echo "stty=$(stty -g)"; exit $rc')
STTY = re.compile(r"^stty=([0-9a-f:]+)$", re.M)
LEFTOVER = re.compile(r"^leftover=\[(.*)\]$", re.M)


def in_shell(c, x, command, user=None):
    """`command` (words) as the user, inside the reporting shell."""
    return case_terminal(c, user or x.user, SHELL % " ".join(command))


def case_terminal(c, user, script):
    return c.terminal("runuser", ["-u", user, "--", "bash", "-c", script], timeout=60)


def type_while_waiting(c, x, t, dev):
    """Once the module polls (so it is waiting), type a password from habit
    and press Enter."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        d = device(x.sd, dev["userCode"]) if dev else None
        if d and d["polls"] >= 1:
            break
        time.sleep(0.05)
    t.child.send(TYPED + "\r")
    time.sleep(0.3)  # the kernel echoes at once, if it echoes at all


def told(c, t, shown, want, what):
    after = t.text[len(shown):]
    c.check(want in after, "%s: the person is told %r" % (what, want))
    others = [m for m in SENTENCES if m != want and m in after]
    c.check(not others, "%s: and no other sentence" % what, str(others))


def terminal_as_found(c, t, what, typed=True):
    c.check(TYPED not in t.text, "%s: what was typed while waiting was not echoed" % what)
    settings = STTY.findall(t.text)
    c.check(len(settings) == 2 and settings[0] == settings[1],
            "%s: the terminal's settings afterwards are those from before (stty -g)" % what,
            str(settings))
    left = LEFTOVER.findall(t.text)
    c.check(left == [""], "%s: nothing typed while waiting reaches the next reader" % what,
            str(left))


def refused_and_told(c, x, what, decide, want, settle=None):
    """sudo as the user; the code is shown; the user types; `decide(dev)`
    acts in the browser (or not); sudo fails telling `want`."""
    x.sudoers(passwd_tries=1)
    t = in_shell(c, x, ["sudo", "-k", "true"])
    dev, shown = x.wait_shown(c, t)
    type_while_waiting(c, x, t, dev)
    if decide:
        decide(dev)
    rc = t.finish(timeout=60)
    c.check(rc not in (0, None), "%s: sudo fails" % what, "exit status %s" % rc)
    told(c, t, shown, want, what)
    terminal_as_found(c, t, what)
    return t


def denied_is_told(c, x):
    refused_and_told(c, x, "denied", lambda d: x.browser.decide(d["userCode"], x.user, "deny"),
                     DENIED)


def expired_is_told(c, x):
    x.sd.scenario(expire_after_polls=5)  # time to type first, even on a loaded machine
    try:
        refused_and_told(c, x, "expired", None, EXPIRED)
    finally:
        x.sd.scenario(expire_after_polls=None)


def wrong_person_is_told(c, x):
    refused_and_told(c, x, "wrong person", lambda d: x.browser.decide(d["userCode"], "bob",
                                                                       "approve"),
                     WRONG_ACCOUNT)


def not_permitted_is_told(c, x):
    x.sd.scenario(assignments={x.user: []})
    try:
        refused_and_told(c, x, "not permitted",
                         lambda d: x.browser.decide(d["userCode"], x.user, "approve"),
                         NOT_PERMITTED)
    finally:
        x.sd.scenario(assignments={"*": [[ACCOUNT, ROLE]]})


def ctrl_c_is_told(c, x):
    t = refused_and_told(c, x, "Ctrl-C", lambda d: t_intr(c), CANCELLED)
    c.check(t.text.count("It expires in") == 1, "Ctrl-C: sudo did not start again")


def t_intr(c):
    c.terms[-1].child.sendintr()


def provider_down_is_told(c, x):
    """StartDeviceAuthorization black-holed (the stand-in reads the request
    and never answers): the person reads that the service is being
    contacted, once, and then why it failed - no blank screen."""
    x.sudoers(passwd_tries=1)
    x.world.root_file(os.path.join(PAM_D, x.service), "# a short http_timeout, no retry\n%s"
                      % sample_stanza("sudo", x.conf_slow))
    x.sd.scenario(faults={"StartDeviceAuthorization": {"kind": "hang"}}, hang_seconds=8)
    try:
        t = in_shell(c, x, ["sudo", "-k", "true"])
        i = t.expect(re.escape(CONTACTING), timeout=30)
        c.check(i == 0, "provider down: %r is shown while the call waits" % CONTACTING)
        rc = t.finish(timeout=60)
        c.check(rc not in (0, None), "provider down: sudo fails", "exit status %s" % rc)
        c.check(t.text.count(CONTACTING) == 1, "provider down: said once (%d)"
                % t.text.count(CONTACTING))
        c.check("It expires in" not in t.text, "provider down: no code was shown")
        told(c, t, "", UNREACHABLE, "provider down")
        c.check(t.text.find(CONTACTING) < t.text.find(UNREACHABLE),
                "provider down: first the note, then the reason")
        terminal_as_found(c, t, "provider down")
    finally:
        x.sd.scenario(faults={})
        x.stanza()


def slow_provider_is_said_once_and_admits(c, x):
    """Every answer of the stand-in 3 s late: the note appears once per
    login (before the code), and the approval still admits."""
    x.sudoers(passwd_tries=1)
    x.sd.scenario(latency=3)
    try:
        t = in_shell(c, x, ["sudo", "-k", "id", "-un"])
        dev, shown = x.wait_shown(c, t)
        c.check(CONTACTING in shown and shown.find(CONTACTING) < shown.find("It expires in"),
                "slow: %r is shown before the code" % CONTACTING)
        type_while_waiting(c, x, t, dev)
        x.browser.decide(dev["userCode"], x.user, "approve")
        rc = t.finish(timeout=90)
        c.check(rc == 0 and "root" in t.text[len(shown):].split(),
                "slow: the approved command ran", "exit status %s" % rc)
        c.check(t.text.count(CONTACTING) == 1, "slow: said once per login although every call "
                "was slow (%d)" % t.text.count(CONTACTING))
        terminal_as_found(c, t, "slow, approved")
    finally:
        x.sd.scenario(latency=0)


def su_hides_typing_and_tells_why(c, x):
    """su (not silent) the same way: /etc/pam.d/su replaced for the case
    and restored after (checked byte for byte at the end)."""
    if not getattr(x, "su_replaced", False):
        x.world.replace_system_file(os.path.join(PAM_D, "su"),
                                    "auth required %s conf=%s\naccount required pam_permit.so\n"
                                    "session required pam_permit.so\n" % (MODULE, x.conf))
        x.su_replaced = True
    t = case_terminal(c, x.user, SHELL % ("su -c true " + x.victim))
    dev, shown = x.wait_shown(c, t)
    type_while_waiting(c, x, t, dev)
    x.browser.decide(dev["userCode"], x.victim, "deny")
    rc = t.finish(timeout=60)
    c.check(rc not in (0, None), "su: fails", "exit status %s" % rc)
    told(c, t, shown, DENIED, "su")
    terminal_as_found(c, t, "su")


CASES = [approved_sudo_runs_the_command, denied_sudo_fails_once_with_passwd_tries_1,
         default_passwd_tries_starts_over_with_a_new_code,
         login_shell_sudo_i_uses_pam_login_service, roles_login_for_ssh_admin_for_sudo,
         breakglass_member_uses_password_when_unreachable, breakglass_never_after_a_refusal,
         breakglass_not_for_non_members, ten_stopped_sudo_runs_lock_out_nobody,
         sudo_runs_killed_writing_their_record_leave_nothing,
         denied_is_told, expired_is_told, wrong_person_is_told, not_permitted_is_told,
         provider_down_is_told, ctrl_c_is_told, slow_provider_is_said_once_and_admits,
         su_hides_typing_and_tells_why]


def setup(tap, world):
    work, sd, user = world.basics("alice")
    service = "sudo-ssooidc-e2e-" + world.tag
    # The cases run many sudos of one user within a minute: a generous
    # start rate here; the fair-limits case uses the defaults.
    conf = world.module_conf(work, sd, timeout=MODULE_TIMEOUT, max_starts_per_source=100)
    ctx = Ctx(world, work, sd, user, service, conf)
    ctx.victim = world.add_user("victim")
    ctx.conf_fair = world.module_conf(work, sd, name="fair.conf", timeout=MODULE_TIMEOUT,
                                      cache_dir=os.path.join(work, "cache-fair"))
    ctx.conf_slow = world.module_conf(work, sd, name="slow.conf", timeout=MODULE_TIMEOUT,
                                      http_timeout=4, retries=0, max_starts_per_source=100)
    import socket
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))  # nobody listens: the service is unreachable
    world.cleanup.push("dead port", dead.close)
    ctx.conf_unreachable = world.module_conf(
        work, sd, name="unreachable.conf", timeout=MODULE_TIMEOUT, retries=0,
        oidc_endpoint="https://127.0.0.1:%d" % dead.getsockname()[1])
    ctx.stanza()
    comment("sudo (pam_service %s, drop-in %s), stand-in %s, user %s"
            % (service, ctx.dropin, sd.url, user))
    only = os.environ.get("E2E_ONLY", "").split(",")
    run_cases(tap, [f for f in CASES if not only[0] or f.__name__ in only], ctx,
              diagnostics(ctx))


def main():
    return run_suite("e2e-sudo", ["sudo", "visudo", "runuser", "useradd", "userdel"], setup)


if __name__ == "__main__":
    sys.exit(main())
