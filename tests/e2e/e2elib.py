"""Shared plumbing for the end-to-end tests (tests/e2e/test_*.py).

These tests run the built module inside real programs - OpenSSH's sshd and
sudo - as a person would meet it: a real client in a pseudo-terminal, the
local IAM Identity Center stand-in (tests/standin), approval through the
stand-in's approval page with an HTTP POST, as a browser would.

They need root: they create throw-away local users and PAM service files.
Everything they create carries a unique random tag and an owner marker with
the test's pid, and is removed in a `finally`, from atexit and on
SIGTERM/SIGINT/SIGHUP. Leftovers of a run that was killed with SIGKILL are
removed by the next run (only those whose owner pid is gone, so concurrent
runs do not disturb each other).

Nothing here touches the system's own /etc/pam.d/sshd or /etc/pam.d/sudo.
"""
import atexit
import ctypes
import hashlib
import io
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from connect_proxy import free_port, recv_until  # noqa: E402,F401  (free_port: re-exported)
import harness  # noqa: E402
from harness import Standin, Tap  # noqa: E402,F401  (Tap: re-exported)

import pexpect  # noqa: E402  (Debian: python3-pexpect)

MODULE = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
ACCOUNT, ROLE = "111122223333", "LinuxLogin"
# Every file and user we create is marked so that a later run can tell ours
# from anything else, and a dead run's from a live one's.
MARK = "pam_ssooidc-e2e owner-pid="
PAM_D = "/etc/pam.d"
SUDOERS_D = "/etc/sudoers.d"
SVC_INFIX = "ssooidc-e2e-"
USER_PREFIX = "ssoe2e"
TMP_PREFIX = "ssooidc-e2e-"
PROTECTED = ("/etc/pam.d/sshd", "/etc/pam.d/sudo", "/etc/pam.d/login", "/etc/pam.d/su",
             "/etc/sudoers")
RESTORE_MANIFEST = "RESTORE"  # in a World's temp dir: system files to put back
VERBOSE = os.environ.get("E2E_VERBOSE") == "1" or "-v" in sys.argv[1:]


def printable(text):
    """What the user saw, safe for a log: control characters other than
    newline are shown escaped (\\r, \\x1b, ...)."""
    out = []
    for ch in text.replace("\r\n", "\n"):
        if ch == "\n" or (ch.isprintable() and ch != "\x7f"):
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    return "".join(out)


def comment(text, prefix="# "):
    for line in str(text).splitlines() or [""]:
        print(prefix + line, flush=True)


def file_digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _user_exists(name):
    with open("/etc/passwd") as f:
        return any(line.split(":", 1)[0] == name for line in f)


def _owner_pid(text):
    m = re.search(re.escape(MARK) + r"(\d+)", text)
    return int(m.group(1)) if m else None


def die_with_parent():
    """preexec_fn: SIGTERM the child when this test process dies, even by
    SIGKILL, so no sshd outlives its test."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_quiet(args, tries=1):
    """Run a command; retry while /etc/passwd or /etc/shadow is locked by a
    concurrent useradd/userdel."""
    for i in range(tries):
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode == 0 or i == tries - 1:
            return p
        time.sleep(0.3)
    return p


def _processes_using(path):
    """Pids whose command line mentions path."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if path + "/" in cmd or cmd.split("\0").count(path):
            pids.append(int(d))
    return pids


def _restore_from(workdir):
    """Put back the system files a (dead) run replaced: RESTORE lists
    'backup-name<TAB>original-path' lines."""
    try:
        with open(os.path.join(workdir, RESTORE_MANIFEST)) as f:
            lines = f.read().splitlines()
    except OSError:
        return
    for line in lines:
        name, _, original = line.partition("\t")
        backup = os.path.join(workdir, name)
        if os.path.exists(backup):
            shutil.copy2(backup, original + ".restore")
            os.rename(original + ".restore", original)
            comment("restored %s from a dead run's backup" % original)


def reap_stale():
    """Remove what a killed earlier run left behind (dead owner pid only)."""
    for d, pat in ((PAM_D, SVC_INFIX), (SUDOERS_D, SVC_INFIX)):
        for name in os.listdir(d):
            if pat not in name:
                continue
            path = os.path.join(d, name)
            try:
                with open(path) as f:
                    pid = _owner_pid(f.read(4096))
            except OSError:
                continue
            if pid and not _pid_alive(pid):
                os.unlink(path)
                comment("removed stale %s (owner pid %d is gone)" % (path, pid))
    tmp = harness.trusted_base()
    for name in os.listdir(tmp):
        path = os.path.join(tmp, name)
        if not name.startswith(TMP_PREFIX) or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, "OWNER")) as f:
                pid = _owner_pid(f.read())
        except OSError:
            continue
        if pid and not _pid_alive(pid):
            _restore_from(path)
            for other in _processes_using(path):  # e.g. its orphaned stand-in
                os.kill(other, signal.SIGKILL)
                comment("killed stale pid %d (it used %s)" % (other, path))
            shutil.rmtree(path, ignore_errors=True)
            comment("removed stale %s (owner pid %d is gone)" % (path, pid))
    with open("/etc/passwd") as f:
        for line in f:
            parts = line.split(":")
            if len(parts) < 5 or not parts[0].startswith(USER_PREFIX):
                continue
            pid = _owner_pid(parts[4])
            if pid and not _pid_alive(pid):
                run_quiet(["userdel", "-r", "-f", parts[0]], tries=5)
                comment("removed stale user %s (owner pid %d is gone)" % (parts[0], pid))


class Cleanup:
    """A stack of undo actions, run once: in `finally`, at exit, or on a
    terminating signal."""

    def __init__(self):
        self.actions = []
        self.done = False
        self.failures = []
        atexit.register(self.run)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        raise SystemExit(128 + signum)

    def push(self, what, fn):
        self.actions.append((what, fn))

    def run(self):
        if self.done:
            return
        self.done = True
        while self.actions:
            what, fn = self.actions.pop()
            try:
                fn()
            except Exception as e:  # keep going: undo everything we can
                self.failures.append("%s: %s" % (what, e))
                comment("cleanup of %s failed: %s" % (what, e))


class World:
    """Everything one test script creates on this host."""

    def __init__(self):
        self.cleanup = Cleanup()
        self.tag = secrets.token_hex(4)
        self.pid = os.getpid()
        self.marker = MARK + str(self.pid)
        self.created_files = []
        self.created_users = []
        self.created_dirs = []
        self.protected = {p: file_digest(p) for p in PROTECTED}
        reap_stale()

    def basics(self, role):
        """A temp dir, the stand-in in it and a throw-away user:
        (work, sd, user)."""
        work = self.tempdir()
        return work, self.standin(work), self.add_user(role)

    def tempdir(self):
        d = harness.trusted_tempdir("%s%s-" % (TMP_PREFIX, self.tag))
        with open(os.path.join(d, "OWNER"), "w") as f:
            f.write(self.marker + "\n")
        self.created_dirs.append(d)
        self.cleanup.push("temp dir " + d, lambda: shutil.rmtree(d, ignore_errors=True))
        return d

    def standin(self, workdir, **scenario):
        sd = Standin(workdir, scenario or None)
        self.cleanup.push("stand-in", sd.stop)
        return sd

    def add_user(self, role="user"):
        name = "%s%s%s" % (USER_PREFIX, role[:1], self.tag)  # <= 32 chars
        p = run_quiet(["useradd", "-m", "-s", "/bin/bash", "-c", self.marker, name], tries=10)
        if p.returncode != 0:
            raise RuntimeError("useradd %s failed: %s" % (name, p.stderr))
        self.created_users.append(name)
        self.cleanup.push("user " + name, lambda: self._del_user(name))
        # useradd leaves the password locked ('!'); make sure of it, so the
        # module is the only way in.
        run_quiet(["usermod", "-L", name], tries=10)
        return name

    def _del_user(self, name):
        # Retried: /etc/passwd may be locked by a concurrent useradd, or a
        # session process of the user may still be exiting.
        for i in range(20):
            p = run_quiet(["userdel", "-r"] + (["-f"] if i >= 10 else []) + [name])
            if p.returncode in (0, 12) or not _user_exists(name):  # 12: home not removed
                break
            time.sleep(0.3)
        if _user_exists(name):
            raise RuntimeError("userdel %s failed: %s" % (name, p.stderr.strip()))
        if p.returncode == 12 and os.path.isdir("/home/" + name):
            shutil.rmtree("/home/" + name, ignore_errors=True)
        for leftover in ("/run/sudo/ts/" + name, "/var/lib/sudo/lectured/" + name):
            if os.path.lexists(leftover):
                os.unlink(leftover)

    def root_file(self, path, text, mode=0o644, validate=None):
        """Create (or replace) a root-owned file carrying our marker;
        `validate` is a command that must accept it first (e.g. visudo -cf)."""
        first = path not in self.created_files
        if first and os.path.lexists(path):
            raise RuntimeError("refusing to overwrite existing " + path)
        # Written beside it under a name with a '.' (which sudo's @includedir
        # skips) and renamed into place, so sudo and PAM never see half a file.
        tmp = "%s.tmp%d" % (path, self.pid)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        try:
            with os.fdopen(fd, "w") as f:
                f.write("# %s - a temporary file of pam_ssooidc's end-to-end tests\n"
                        % self.marker)
                f.write(text)
            os.chmod(tmp, mode)
            if validate:
                p = subprocess.run(validate + [tmp], capture_output=True, text=True)
                if p.returncode != 0:
                    raise RuntimeError("%s refused %s:\n%s%s\n%s" % (
                        validate[0], path, p.stdout, p.stderr, text))
            os.rename(tmp, path)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        if first:
            self.created_files.append(path)
            self.cleanup.push(path, lambda: os.path.lexists(path) and os.unlink(path))
        return path

    def replace_system_file(self, path, text):
        """Replace a system file (e.g. /etc/pam.d/su, which has no per-user
        alternative) for the duration of the test. A backup and a RESTORE
        manifest in our temp dir let a later run put it back if this one is
        killed; the closing check verifies it is byte-for-byte unchanged."""
        work = self.tempdir() if not self.created_dirs else self.created_dirs[0]
        name = "backup-" + os.path.basename(path)
        backup = os.path.join(work, name)
        shutil.copy2(path, backup)
        with open(os.path.join(work, RESTORE_MANIFEST), "a") as f:
            f.write("%s\t%s\n" % (name, path))

        def restore():
            shutil.copy2(backup, path + ".restore")
            os.rename(path + ".restore", path)
        self.cleanup.push("restore " + path, restore)
        tmp = path + ".e2e-new"
        with open(tmp, "w") as f:
            f.write("# %s - replaced for pam_ssooidc's end-to-end tests; restored after\n"
                    % self.marker)
            f.write(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)

    def module_conf(self, workdir, sd, name="pam_ssooidc.conf", **options):
        """The module's config file: every endpoint is the stand-in."""
        opts = {
            "start_url": "https://example.awsapps.com/start",
            "oidc_endpoint": sd.url,
            "portal_endpoint": sd.url,
            "sts_endpoint": sd.url,
            "ca_file": sd.ca,
            "cache_dir": os.path.join(workdir, "cache"),
            "account_id": ACCOUNT,
            "role_name": ROLE,
        }
        opts.update(options)
        path = os.path.join(workdir, name)
        with open(path, "w") as f:
            f.write("# pam_ssooidc end-to-end test configuration\n")
            for k, v in opts.items():
                f.write("%s = %s\n" % (k, v))
        os.chmod(path, 0o600)
        return path

    def leftovers(self):
        """What is still on the host after cleanup (should be nothing)."""
        left = [p for p in self.created_files if os.path.lexists(p)]
        left += [d for d in self.created_dirs if os.path.lexists(d)]
        with open("/etc/passwd") as f:
            names = {line.split(":")[0] for line in f}
        left += ["user " + u for u in self.created_users if u in names]
        left += ["home /home/" + u for u in self.created_users if os.path.lexists("/home/" + u)]
        return left

    def protected_changed(self):
        return [p for p, h in self.protected.items() if file_digest(p) != h]


def sample_stanza(name, conf, *options):
    """conf/<name>.pam, the sample shipped to admins, with its module line
    pointing at the built module and the test's config file (options given
    here come last, and the last one given wins)."""
    with open(os.path.join(ROOT, "conf", name + ".pam")) as f:
        text = f.read()
    pat = re.compile(r"^(auth\s+(?:required|\[[^\]]*\])\s+)pam_ssooidc\.so\b([^\n]*)$", re.M)
    if len(pat.findall(text)) != 1:
        raise RuntimeError("conf/%s.pam: expected one 'auth ... pam_ssooidc.so' line" % name)
    return pat.sub(lambda m: " ".join([m.group(1) + MODULE, "conf=" + conf,
                                       m.group(2).strip()] + list(options)).rstrip(), text)


class Terminal:
    """A program in a pseudo-terminal, and everything it printed."""

    def __init__(self, cmd, args, timeout=30, env=None, stderr_to=None):
        """stderr_to: a file that gets the program's stderr instead of the
        terminal (the terminal's unread output is lost when it hangs up)."""
        self.log = io.StringIO()
        preexec = None
        if stderr_to:
            def preexec():
                fd = os.open(stderr_to, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.dup2(fd, 2)
                os.close(fd)
        base = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME": "/root", "TERM": "xterm", "LANG": "C.UTF-8"}
        base.update(env or {})
        self.t0 = time.monotonic()
        self.child = pexpect.spawn(cmd, args, env=base, cwd="/", encoding="utf-8",
                                   codec_errors="replace", timeout=timeout,
                                   dimensions=(50, 120), preexec_fn=preexec)
        self.child.logfile_read = self.log
        self.status = None

    @property
    def text(self):
        """Everything shown so far, with \\r\\n turned into \\n."""
        return self.log.getvalue().replace("\r\n", "\n")

    def expect(self, pattern, timeout=None):
        """Wait for pattern (or a list); return the index matched, or -1 on
        EOF/timeout."""
        pats = pattern if isinstance(pattern, list) else [pattern]
        try:
            i = self.child.expect(pats + [pexpect.EOF], timeout=timeout or self.child.timeout)
        except pexpect.TIMEOUT:
            return -1
        return -1 if i == len(pats) else i

    def press_enter(self):
        self.child.send("\r")

    def finish(self, timeout=30):
        """Wait for the program to end; return its exit status (None if it
        had to be killed)."""
        try:
            self.child.expect(pexpect.EOF, timeout=timeout)
        except pexpect.TIMEOUT:
            self.child.terminate(force=True)
        self.child.close()
        self.status = self.child.exitstatus
        if self.status is None and self.child.signalstatus is not None:
            self.status = 128 + self.child.signalstatus
        return self.status

    def elapsed(self):
        return time.monotonic() - self.t0

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()


def new_device(sd, known, timeout=20):
    """The device authorization the stand-in created since `known` (a set of
    user codes), as listed by GET /_standin/devices."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [d for d in sd.devices() if d["userCode"] not in known]
        if fresh:
            known.add(fresh[-1]["userCode"])
            return fresh[-1]
        time.sleep(0.05)
    return None


def device(sd, code):
    for d in sd.devices():
        if d["userCode"] == code:
            return d
    return None


def shown_link(text):
    """The complete verification link the terminal showed (the one a person
    would click), or None."""
    m = re.findall(r"https://\S+/device\?user_code=[A-Za-z0-9-]+", text)
    return m[-1] if m else None


class Browser:
    """What a person does in the browser: open the link shown in the
    terminal, check the code on the page, press Approve or Deny (an HTTP
    POST of the page's form to /device/decide)."""

    def __init__(self, sd):
        self.sd = sd
        self.ctx = ssl.create_default_context(cafile=sd.ca)

    def _req(self, url, data=None):
        headers = {"User-Agent": "Mozilla/5.0 (pam_ssooidc e2e test)"}
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(url, data=data, headers=headers,
                                     method="POST" if data is not None else "GET")
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def open(self, link):
        return self._req(link)

    def decide(self, code, signed_in_as, decision):
        return self._req(self.sd.url + "/device/decide",
                         {"user_code": code, "user": signed_in_as, "decision": decision})


class SyslogCatcher:
    """Binds /dev/log (when nothing else does, as on a machine without a
    syslog daemon) and keeps every message: the module's outcome lines from
    real sudo and su. `available` is False when /dev/log belongs to a real
    syslog daemon; the caller then reports its syslog checks as skipped."""

    def __init__(self):
        self.messages = []
        self.available = False
        self.sock = None
        if os.path.exists("/dev/log") and self._dead_socket("/dev/log"):
            os.unlink("/dev/log")  # left by a killed run: nothing listens
        if os.path.exists("/dev/log"):
            return
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        os.chmod("/dev/log", 0o666)
        self.available = True
        self.stopped = False
        import threading
        threading.Thread(target=self._run, daemon=True).start()

    @staticmethod
    def _dead_socket(path):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            probe.connect(path)
            return False
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        finally:
            probe.close()

    def _run(self):
        while not self.stopped:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            self.messages.append(data.decode("utf-8", "replace"))

    def outcome_lines(self):
        out = []
        for m in list(self.messages):
            i = m.find(": login result=")
            if i >= 0:
                out.append(m[i + 2:].rstrip("\n"))
        return out

    def stop(self):
        if self.sock:
            self.stopped = True
            self.sock.close()
            if os.path.exists("/dev/log"):
                os.unlink("/dev/log")
            self.sock = None


def in_nss_sandbox():
    """Inside tests/tools/nss_sandbox.sh: nsswitch.conf names ssooidc."""
    with open("/etc/nsswitch.conf") as f:
        text = f.read()
    return re.search(r"^passwd:.*\bssooidc\b", text, re.M) is not None


def ssh_kbdint(case, port, user, command, timeout=40):
    """ssh to 127.0.0.1:port as user with keyboard-interactive only (no
    keys, no known hosts), running command: the case's terminal."""
    args = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "PreferredAuthentications=keyboard-interactive",
            "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
            "-p", str(port), "%s@127.0.0.1" % user, command]
    return case.terminal("ssh", args, timeout=timeout)


def ssh_banner(port, timeout=5):
    """The SSH identification string a fresh TCP connection gets, or ''."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            data = recv_until(s, b"\n", 256, 256)
            return data.decode("ascii", "replace").strip()
    except OSError:
        return ""


def preconditions(tap, name, tools):
    """True when the test can run; otherwise report why (a skip when not
    root, a failure when a tool or the module is missing)."""
    if os.geteuid() != 0:
        print("ok 1 - %s # SKIP needs root (creates users and PAM services)" % name)
        print("1..1")
        return False
    missing = [t for t in tools if not shutil.which(t) and not os.path.exists(t)]
    if not os.path.exists(MODULE):
        missing.append(MODULE + " (run make)")
    if missing:
        tap.check(False, "%s: required programs present" % name,
                  "missing: %s (tests/deps.sh installs them)" % ", ".join(missing))
        return False
    return True


class Case:
    """One scenario: its checks are TAP lines; when one fails (or with -v),
    the transcript of every terminal in it goes into the log."""

    def __init__(self, tap, name):
        self.tap, self.name = tap, name
        self.failed = False
        self.terms = []
        self.t0 = time.monotonic()

    def terminal(self, cmd, args, **kw):
        t = Terminal(cmd, args, **kw)
        self.terms.append(t)
        return t

    def check(self, cond, what, detail=""):
        ok = self.tap.check(bool(cond), "%s: %s" % (self.name, what), detail)
        if not ok:
            self.failed = True
        return ok

    def report(self, diagnostics=None):
        for t in self.terms:
            t.close()
        if not (self.failed or VERBOSE):
            return
        comment("---- %s (%.1f s)" % (self.name, time.monotonic() - self.t0))
        for i, t in enumerate(self.terms, 1):
            comment("what the user saw (terminal %d, exit status %s):" % (i, t.status))
            comment(printable(t.text), "#   | ")
        if self.failed and diagnostics:
            try:
                comment(diagnostics())
            except Exception as e:
                comment("(diagnostics failed: %s)" % e)


def check_clean_exit(tap, world, what, extra_left=()):
    """The closing checks of a suite: nothing left behind, the system's own
    PAM and sudoers files unchanged, every cleanup step done."""
    left = world.leftovers() + list(extra_left)
    tap.check(not left, "cleanup left nothing behind (%s)" % what, "\n".join(left))
    tap.check(not world.protected_changed(), "/etc/pam.d/sshd, sudo, login, su and "
              "/etc/sudoers are unchanged", "\n".join(world.protected_changed()))
    tap.check(not world.cleanup.failures, "every cleanup step worked",
              "\n".join(world.cleanup.failures))


def run_suite(name, tools, setup, left="user, sudoers drop-in, /etc/pam.d file, temp dir"):
    """An e2e suite's main(): the preconditions, a World, setup(tap, world)
    (which sets up and runs the cases; a crash in it is a failed check),
    the World's cleanup, the closing checks (what the suite may have left:
    `left`) and the time it took. Returns the exit status."""
    import traceback
    tap = Tap()
    if not preconditions(tap, name, tools):
        return tap.done()
    t0 = time.monotonic()
    world = World()
    try:
        setup(tap, world)
    except Exception:
        tap.check(False, "setup", traceback.format_exc())
    finally:
        world.cleanup.run()
    check_clean_exit(tap, world, left)
    comment("%s took %.1f s" % (name, time.monotonic() - t0))
    return tap.done()


def run_cases(tap, cases, ctx, diagnostics=None):
    import traceback
    for fn in cases:
        case = Case(tap, fn.__name__)
        try:
            fn(case, ctx)
        except Exception:
            case.check(False, "ran without an exception", traceback.format_exc())
        finally:
            case.report(diagnostics)
