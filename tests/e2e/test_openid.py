#!/usr/bin/python3
"""End-to-end in the OpenID mode: the built module inside the real sudo and
the real OpenSSH sshd, against panva's oidc-provider (a real OpenID
provider, tests/providers/providers.py), with every approval made through
the provider's own pages, as the person would in a browser.

Usage: /usr/bin/python3 tests/e2e/test_openid.py [-v]     (as root; TAP)

The throw-away local users (World.add_user: ssoe2ea<tag>, ...) are also the
provider's users, so the ID token's preferred_username is the local name:

    alice  linux-users    the user logging in
    bob    linux-admins   a colleague: in a required group, but not alice
    carol  (none)         in no required group

required_groups=linux-users,linux-admins. sudo uses a public client; sshd a
confidential one (client_secret_file, client_auth=basic).

Cases:
  sudo    alice runs `sudo -k id -un`: the code is shown although sudo passes
          PAM_SILENT; alice approves; the command runs as root. bob approves
          alice's code: refused (the person is told, under PAM_SILENT too,
          and the outcome line says bob does not map to alice). carol
          approves her own: refused, not in required_groups.
  sshd    keyboard-interactive, prompt=always (conf/sshd.pam): the code is the
          prompt's text; alice approves, presses Enter, the command runs.
          bob approves alice's: the user is told the approval came from an
          account that may not log in as this user; carol approves her own:
          told her account is not permitted to log in to this host.
  hostile alice's environment points SSL_CERT_FILE, SSL_CERT_DIR and
          CURL_CA_BUNDLE at a CA she made, and https_proxy (and friends) at
          a CONNECT proxy on loopback: the login still trusts only ca_file,
          uses no proxy, and succeeds with alice's approval.

Without node >= 20.19 or the pinned oidc-provider (tests/providers/deps.sh
installs both) the whole suite is one TAP skip.

Isolation as in test_sudo.py and test_sshd.py: a sudoers drop-in and
/etc/pam.d files with random names, a private sshd on a loopback port run
under a symlink named as its PAM service; the provider binds 127.0.0.1 and
runs as nobody. All removed afterwards, checked by check_clean_exit.
-v (or E2E_VERBOSE=1) prints every transcript, not only failed ones."""
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "providers"))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import e2elib  # noqa: E402
from e2elib import (PAM_D, SUDOERS_D, SyslogCatcher, Tap, World, check_clean_exit,  # noqa: E402
                    comment, preconditions, run_cases, sample_stanza)
from test_sshd import SSHD, Sshd  # noqa: E402
from connect_proxy import ConnectProxy  # noqa: E402
import harness  # noqa: E402  (tests/module, put on the path by e2elib)

MODULE_TIMEOUT = 40  # below test_sshd's LoginGraceTime (60 s)
GROUPS = "linux-users,linux-admins"
TITLE = "Sign in with your organization's identity provider."
# "Open URL in WHERE\nand enter the code:" or, with a complete link,
# "or open URL and enter the code:"; then the code alone, indented 4.
CODE_TEXT = re.compile(r"[Oo]pen (https://\S+)(?: in [^\n]*\n| )and enter the code:\n\n"
                       r"    ([A-Za-z0-9-]{4,})\n")
SHOWN_END = r"It expires in [^\n]*\n"
PROMPT_END = "press Enter: "
WRONG_ACCOUNT = "The approval came from an account that may not log in as this user."
NOT_PERMITTED = "The approving account is not permitted to log in to this host."
COMMAND = "echo E2E-OK-$((6*7))"
COMMAND_OUTPUT = "E2E-OK-42"


class Ctx:
    def __init__(self, world, work, p, syslog):
        self.world, self.work, self.p, self.syslog = world, work, p, syslog
        self.dropin = os.path.join(SUDOERS_D, "ssooidc-e2e-" + world.tag)
        self.sudo_service = "sudo-ssooidc-e2e-" + world.tag
        self.ssh_service = "sshd-ssooidc-e2e-" + world.tag

    # -- the module's configuration files (root-owned, 0600)
    def conf(self, name, client, **extra):
        opts = {
            "issuer": self.p.issuer,
            "client_id": client.client_id,
            "ca_file": self.ca,
            "cache_dir": os.path.join(self.work, "cache"),
            "scopes": "openid,profile,groups",
            "required_groups": GROUPS,
            "timeout": MODULE_TIMEOUT,
        }
        if client.client_secret:
            secret = os.path.join(self.work, "secret-" + client.client_id)
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(client.client_secret + "\n")
            opts["client_secret_file"] = secret
            opts["client_auth"] = "basic"
        opts.update(extra)
        path = os.path.join(self.work, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("# pam_ssooidc end-to-end test configuration (OpenID mode)\n")
            for k, v in opts.items():
                f.write("%s = %s\n" % (k, v))
        return path

    def sudo_stanza(self):
        self.world.root_file(os.path.join(PAM_D, self.sudo_service),
                             "# sudo's PAM service for the e2e test users (pam_service=)\n%s"
                             % sample_stanza("sudo", self.sudo_conf))

    def ssh_stanza(self):
        self.world.root_file(os.path.join(PAM_D, self.ssh_service),
                             "# sshd runs as %s, so this is its PAM service\n%s"
                             % (self.ssh_service, sample_stanza("sshd", self.ssh_conf)))

    def sudoers(self):
        lines = []
        for u in (self.alice, self.bob, self.carol):
            lines += ["Defaults:%s pam_service=%s" % (u, self.sudo_service),
                      "Defaults:%s !lecture" % u,
                      "Defaults:%s passwd_tries=1" % u,
                      "%s ALL=(ALL) ALL" % u]
        self.world.root_file(self.dropin, "\n".join(lines) + "\n", mode=0o440,
                             validate=["visudo", "-cf"])

    def password(self, who):
        return self.p.users[who].password

    def outcomes(self, since, service):
        """Outcome lines of `service` logged since index `since`."""
        lines = self.syslog.outcome_lines()[since:]
        parsed = [harness.parse_outcome(line) for line in lines]
        return [o for o in parsed if o and o.get("service") == service]


def shown_code(text):
    """(verification URL, user code) from the device text, or (None, None)."""
    m = CODE_TEXT.search(text)
    return (m.group(1), m.group(2)) if m else (None, None)


def outcome_check(c, x, since, service, want_result, want_approver, reason_has=None):
    """The module's outcome line in syslog (the details behind the one
    sentence the person is told)."""
    if not x.syslog.available:
        c.tap.skip("%s: outcome line" % c.name, "/dev/log belongs to a syslog daemon here")
        return
    deadline = time.monotonic() + 3
    while True:
        got = x.outcomes(since, service)
        if got or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    o = got[-1] if got else {}
    ok = (len(got) == 1 and o.get("result") == want_result
          and o.get("approver") == want_approver
          and (reason_has is None or reason_has in o.get("reason", "")))
    c.check(ok, "the module's outcome line: result=%s approver=%s%s"
            % (want_result, want_approver, ", reason: %r" % reason_has if reason_has else ""),
            "\n".join(x.syslog.outcome_lines()[since:]) or "(no outcome line)")


def sudo_run(c, x, user, env=None):
    """`user` types `sudo -k id -un` in their terminal; returns the terminal
    once the device text is shown, and the (url, code) it showed."""
    t = c.terminal("runuser", ["-u", user, "--", "sudo", "-k", "id", "-un"], timeout=40,
                   env=env)
    i = t.expect(SHOWN_END)
    c.check(i == 0, "sudo shows the device text (ending in 'It expires in ...')")
    url, code = shown_code(t.text) if i == 0 else (None, None)
    c.check(code is not None, "a user code is shown on its own line, indented 4 spaces")
    return t, url, code


def approve(c, x, code, who):
    try:
        page = x.p.approve(code, who, x.password(who))
        ok, detail = True, page
    except Exception as e:  # ApprovalError, or an HTTP failure
        ok, detail = False, str(e)
    c.check(ok, "%s approves the code through the provider's pages" % x.role[who], detail)
    return ok


# ---------------------------------------------------------------- sudo

def sudo_approved_runs_the_command(c, x):
    since = len(x.syslog.outcome_lines())
    t, url, code = sudo_run(c, x, x.alice)
    shown = t.text
    c.check(TITLE in shown, "the OpenID title is shown: %r" % TITLE)
    c.check(url == x.p.verification_uri,
            "the provider's verification URL is shown (%s)" % x.p.verification_uri, str(url))
    c.check(code and "%s?user_code=%s" % (x.p.verification_uri, code) in shown,
            "the complete link with the same code is shown")
    c.check("It expires in %d seconds." % MODULE_TIMEOUT in shown, "the time left is shown")
    c.check("press Enter" not in shown, "prompt=auto under sudo: information, no Enter asked")
    c.check("root" not in shown.split(), "nothing ran before the approval")
    approve(c, x, code, x.alice)
    rc = t.finish()
    after = t.text[len(shown):]
    c.check(rc == 0, "sudo exits 0 without the user pressing anything", "exit status %s" % rc)
    c.check("root" in after.split(), "the command ran as root (id -un printed root)")
    outcome_check(c, x, since, x.sudo_service, "PAM_SUCCESS", x.alice)


def sudo_refused(c, x, user, approver):
    """sudo as `user`, approved by `approver` and refused: sudo fails, the
    command does not run, sudo counts one wrong password. (outcome lines
    before it, the terminal)"""
    since = len(x.syslog.outcome_lines())
    t, url, code = sudo_run(c, x, user)
    shown = t.text
    approve(c, x, code, approver)
    rc = t.finish()
    after = t.text[len(shown):]
    c.check(rc not in (0, None), "sudo fails", "exit status %s" % rc)
    c.check("root" not in after.split(), "the command did not run")
    c.check("sudo: 1 incorrect password attempt" in after,
            "sudo says: 1 incorrect password attempt")
    return since, t


def sudo_approved_by_another_user_is_refused(c, x):
    since, t = sudo_refused(c, x, x.alice, x.bob)
    c.check(WRONG_ACCOUNT in t.text and x.bob not in t.text,
            "under PAM_SILENT the person is told %r, and bob is not named" % WRONG_ACCOUNT)
    outcome_check(c, x, since, x.sudo_service, "PAM_AUTH_ERR", x.bob,
                  "approved by %s, who does not map to local user %s" % (x.bob, x.alice))


def sudo_user_outside_required_groups_is_refused(c, x):
    since, t = sudo_refused(c, x, x.carol, x.carol)
    c.check(NOT_PERMITTED in t.text, "under PAM_SILENT the person is told %r" % NOT_PERMITTED)
    outcome_check(c, x, since, x.sudo_service, "PAM_AUTH_ERR", x.carol,
                  "approved by %s, who is in none of required_groups" % x.carol)


# ---------------------------------------------------------------- sshd

def ssh_run(c, x, user):
    args = ["-F", "/dev/null",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "PreferredAuthentications=keyboard-interactive",
            "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
            "-p", str(x.sshd.port), "%s@127.0.0.1" % user, COMMAND]
    t = c.terminal("ssh", args, timeout=40)
    i = t.expect(PROMPT_END)
    c.check(i == 0, "ssh shows the device prompt ending in %r" % PROMPT_END)
    url, code = shown_code(t.text) if i == 0 else (None, None)
    c.check(code is not None, "the user code is in the prompt text, on its own line")
    return t, url, code


def sshd_approved_login_runs_the_command(c, x):
    since = len(x.syslog.outcome_lines())
    t, url, code = ssh_run(c, x, x.alice)
    shown = t.text
    c.check(TITLE in shown and url == x.p.verification_uri,
            "the OpenID title and the provider's verification URL are shown", str(url))
    c.check("It expires in %d seconds." % MODULE_TIMEOUT in shown, "the time left is shown")
    c.check(COMMAND_OUTPUT not in shown, "nothing ran before the approval")
    approve(c, x, code, x.alice)
    t.press_enter()
    rc = t.finish()
    c.check(COMMAND_OUTPUT in t.text[len(shown):],
            "the session ran the command after Enter (%s)" % COMMAND_OUTPUT)
    c.check(rc == 0, "ssh exits 0", "exit status %s" % rc)
    c.check("Accepted keyboard-interactive/pam for %s" % x.alice in x.sshd.log(),
            "sshd logged: Accepted keyboard-interactive/pam")
    outcome_check(c, x, since, x.ssh_service, "PAM_SUCCESS", x.alice)


def ssh_decided(c, x, user, approver):
    """ssh as `user`, approved by `approver`, Enter pressed: (outcome lines
    before it, the terminal, ssh's exit status, what it printed after the
    code)."""
    since = len(x.syslog.outcome_lines())
    t, url, code = ssh_run(c, x, user)
    shown = t.text
    approve(c, x, code, approver)
    t.press_enter()
    rc = t.finish()
    return since, t, rc, t.text[len(shown):]


def sshd_approved_by_another_user_is_refused(c, x):
    since, t, rc, after = ssh_decided(c, x, x.alice, x.bob)
    c.check(WRONG_ACCOUNT in after and x.bob not in after,
            "the user is told: %s (and not who approved)" % WRONG_ACCOUNT)
    c.check("Permission denied" in after, "ssh says Permission denied")
    c.check(rc not in (0, None) and COMMAND_OUTPUT not in t.text,
            "ssh fails, the command did not run", "exit status %s" % rc)
    outcome_check(c, x, since, x.ssh_service, "PAM_AUTH_ERR", x.bob,
                  "who does not map to local user %s" % x.alice)


# ---------------------------------------------------------------- hostile env

def hostile_env(proxy_url, ca, ca_dir):
    return {
        "HTTPS_PROXY": proxy_url, "https_proxy": proxy_url,
        "ALL_PROXY": proxy_url, "all_proxy": proxy_url,
        "HTTP_PROXY": proxy_url, "http_proxy": proxy_url,
        "NO_PROXY": "", "no_proxy": "",
        "SSL_CERT_FILE": ca, "SSL_CERT_DIR": ca_dir, "CURL_CA_BUNDLE": ca,
    }


def attacker_ca(x):
    """A CA alice made herself, in her home, owned by her."""
    import pwd
    pw = pwd.getpwnam(x.alice)
    d = os.path.join(pw.pw_dir, "my-ca")
    os.makedirs(d, mode=0o755)
    key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                    "/CN=alice's own CA", "-keyout", key, "-out", ca],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "rehash", d], capture_output=True)  # for SSL_CERT_DIR
    for path in [d] + [os.path.join(d, n) for n in os.listdir(d)]:
        os.lchown(path, pw.pw_uid, pw.pw_gid)
    return ca, d


def verifies(cafile, url, proxy=None):
    """True if an HTTPS GET of url verifies against cafile (through proxy)."""
    ctx = ssl.create_default_context(cafile=cafile)
    handlers = [urllib.request.HTTPSHandler(context=ctx),
                urllib.request.ProxyHandler({"https": proxy} if proxy else {})]
    try:
        with urllib.request.build_opener(*handlers).open(url, timeout=10) as r:
            return r.status == 200
    except (OSError, ssl.SSLError):
        return False


def sudo_pid(runuser_pid):
    """The sudo process the pseudo-terminal's runuser started."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == runuser_pid and comm == "sudo":
            return int(d)
    return None


def environ_of(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            raw = f.read().decode("utf-8", "replace")
    except (OSError, TypeError):
        return {}
    return dict(kv.split("=", 1) for kv in raw.split("\0") if "=" in kv)


def hostile_environment_under_sudo(c, x):
    ca, ca_dir = attacker_ca(x)
    discovery = x.p.issuer + "/.well-known/openid-configuration"
    # The controls: each hostile setting would show if the module took it.
    c.check(not verifies(ca, discovery),
            "control: alice's CA does not verify the provider (trusting it would fail)")
    c.check(verifies(x.ca, discovery, proxy=x.proxy.url) and len(x.proxy.connects()) == 1,
            "control: a client that honours https_proxy reaches the provider through "
            "the proxy, and the proxy records it", str(x.proxy.requests))
    before = len(x.proxy.requests)
    since = len(x.syslog.outcome_lines())
    env = hostile_env(x.proxy.url, ca, ca_dir)
    t, url, code = sudo_run(c, x, x.alice, env=env)
    shown = t.text
    got = environ_of(sudo_pid(t.child.pid))
    c.check(all(got.get(k) == v for k, v in env.items()),
            "sudo, where the module runs, has the hostile variables in its environment",
            "\n".join("%s=%s" % kv for kv in sorted(got.items())
                      if "PROXY" in kv[0].upper() or "SSL" in kv[0] or "CURL" in kv[0]))
    approve(c, x, code, x.alice)
    rc = t.finish()
    after = t.text[len(shown):]
    c.check(rc == 0 and "root" in after.split(),
            "the login succeeds with alice's approval: the command ran as root",
            "exit status %s" % rc)
    c.check(len(x.proxy.requests) == before, "no connection reached alice's proxy",
            str(x.proxy.requests[before:]))
    outcome_check(c, x, since, x.sudo_service, "PAM_SUCCESS", x.alice)


def sshd_user_outside_required_groups_is_refused(c, x):
    since, t, rc, after = ssh_decided(c, x, x.carol, x.carol)
    c.check(NOT_PERMITTED in after, "the user is told: %s" % NOT_PERMITTED)
    c.check("Permission denied" in after, "ssh says Permission denied")
    c.check(rc not in (0, None) and COMMAND_OUTPUT not in t.text,
            "ssh fails, the command did not run", "exit status %s" % rc)
    outcome_check(c, x, since, x.ssh_service, "PAM_AUTH_ERR", x.carol,
                  "who is in none of required_groups")


SUDO_CASES = [sudo_approved_runs_the_command, sudo_approved_by_another_user_is_refused,
              sudo_user_outside_required_groups_is_refused]
SSHD_CASES = [sshd_approved_login_runs_the_command, sshd_approved_by_another_user_is_refused,
              sshd_user_outside_required_groups_is_refused]
HOSTILE_CASES = [hostile_environment_under_sudo]


def diagnostics(x):
    def run():
        out = ["--- outcome lines (last 10)"] + x.syslog.outcome_lines()[-10:]
        out += ["--- provider log (last 30 lines)",
                "".join(open(x.p.log, errors="replace").readlines()[-30:])]
        if getattr(x, "sshd", None):
            out += ["--- sshd log (last 30 lines)"] + x.sshd.log().splitlines()[-30:]
        return "\n".join(out)
    return run


def skip_all(why):
    print("ok 1 - e2e-openid # SKIP %s" % why, flush=True)
    print("1..1", flush=True)
    return 0


def main():
    tap = Tap()
    if not preconditions(tap, "e2e-openid", ["sudo", "visudo", "runuser", "useradd", "userdel",
                                             SSHD, "ssh", "ssh-keygen", "openssl"]):
        return tap.done()
    try:
        import providers
    except ImportError as e:  # python3-cryptography (tests/providers/deps.sh)
        return skip_all("the provider harness cannot load: %s" % e)
    t0 = time.monotonic()
    world = World()
    syslog = SyslogCatcher()
    proxy = ConnectProxy()
    x = None
    work = None
    try:
        work = world.tempdir()
        os.chmod(work, 0o711)  # the provider, run as nobody, reaches its own directory
        alice, bob, carol = (world.add_user(r) for r in ("alice", "bob", "carol"))
        try:
            p = providers.start_panva(work, users={alice: ["linux-users"],
                                                   bob: ["linux-admins"], carol: []})
        except providers.ProviderUnavailable as e:
            world.cleanup.run()
            syslog.stop()
            proxy.stop()
            return skip_all(str(e))
        world.cleanup.push("oidc-provider", p.stop)
        x = Ctx(world, work, p, syslog)
        x.alice, x.bob, x.carol = alice, bob, carol
        x.role = {alice: "alice (the user)", bob: "bob (another user)",
                  carol: "carol (in no required group)"}
        x.proxy = proxy
        trust = os.path.join(work, "trust")
        os.makedirs(trust, mode=0o755)
        x.ca = os.path.join(trust, "provider-ca.pem")
        shutil.copy(p.ca, x.ca)
        os.chmod(x.ca, 0o644)
        x.sudo_conf = x.conf("openid-sudo.conf", p.client("none", "RS256"))
        x.ssh_conf = x.conf("openid-sshd.conf", p.client("client_secret_basic", "RS256"))
        x.sudo_stanza()
        x.sudoers()
        x.ssh_stanza()
        comment("oidc-provider %s, users %s %s %s, /dev/log %s"
                % (p.issuer, alice, bob, carol,
                   "caught" if syslog.available else "owned by a syslog daemon"))
        run_cases(tap, SUDO_CASES, x, diagnostics(x))
        x.sshd = Sshd(world, work, x.ssh_service, "%s,%s" % (alice, carol))
        x.sshd.start()
        comment("sshd (PAM service %s) on 127.0.0.1:%d" % (x.ssh_service, x.sshd.port))
        run_cases(tap, SSHD_CASES, x, diagnostics(x))
        comment("alice's proxy %s" % proxy.url)
        run_cases(tap, HOSTILE_CASES, x, diagnostics(x))
    except Exception:
        import traceback
        tap.check(False, "setup", traceback.format_exc())
    finally:
        world.cleanup.run()
        syslog.stop()
        proxy.stop()
    extra = []
    if x is not None and x.p.alive():
        extra.append("oidc-provider pid %d" % x.p.proc.pid)
    if x is not None and getattr(x, "sshd", None) and x.sshd.alive():
        extra.append("sshd pid %d" % x.sshd.proc.pid)
    if work:
        extra += ["pid %d still uses %s" % (pid, work) for pid in e2elib._processes_using(work)]
    check_clean_exit(tap, world, "provider, sshd, users, sudoers drop-in, /etc/pam.d files, "
                     "temp dir", extra)
    comment("e2e-openid took %.1f s" % (time.monotonic() - t0))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
