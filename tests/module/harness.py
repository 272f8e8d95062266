"""Shared plumbing for the module tests: the stand-in, a PAM service run
through pam_wrapper (no /etc/pam.d changes), fake local users through
nss_wrapper, and a TAP reporter. Tests drive the real pamtester binary."""
import contextlib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from tap import Tap  # noqa: E402,F401  (the one TAP helper; suites take it from here)
STANDIN = os.path.join(ROOT, "tests", "standin", "standin.py")
PY = "/usr/bin/python3"  # Debian's, with python3-botocore

# tests/tools/pwnam_fold.c (make tools): a forgiving name lookup.
PWNAM_FOLD = os.path.join(ROOT, "build", "tools", "pwnam_fold.so")

# Marker prefixes of every secret the stand-in hands out: none may ever
# appear in anything the module prints or logs.
SECRET_MARKERS = ("csecret-", "devcode-", "atoken-", "sak-", "stoken-")

PAM_MESSAGES = {
    "PAM_SUCCESS": "Success",
    "PAM_AUTH_ERR": "Authentication failure",
    "PAM_AUTHINFO_UNAVAIL": "Authentication service cannot retrieve authentication info",
    "PAM_SERVICE_ERR": "Error in service module",
    "PAM_USER_UNKNOWN": "User not known to the underlying authentication module",
    "PAM_CONV_ERR": "Conversation error",
    "PAM_BUF_ERR": "Memory buffer error",
}


# The module trusts its config file, CA file, user map and cache directory
# only when every directory above them is root's and not writable by group
# or others (like OpenSSH's StrictModes, without an exception for sticky
# directories), so /tmp will not do: tests keep their trusted files here.
TRUSTED_BASE = "/run/ssooidc-tests"


def trusted_base():
    os.makedirs(TRUSTED_BASE, mode=0o755, exist_ok=True)
    os.chown(TRUSTED_BASE, 0, 0)
    os.chmod(TRUSTED_BASE, 0o755)
    return TRUSTED_BASE


def trusted_tempdir(prefix):
    """A fresh root-owned 0755 directory under TRUSTED_BASE."""
    d = tempfile.mkdtemp(prefix=prefix, dir=trusted_base())
    os.chmod(d, 0o755)
    return d


def _lib(name):
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise RuntimeError("missing " + name)


class Standin:
    def __init__(self, workdir, scenario=None, mode="aws"):
        self.dir = os.path.join(workdir, "standin")
        os.makedirs(self.dir, exist_ok=True)
        args = [PY, STANDIN, "--dir", self.dir, "--port", "0", "--mode", mode]
        if scenario:
            args += ["--scenario", json.dumps(scenario)]
        self.out = open(os.path.join(self.dir, "stdout.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT)
        port_file = os.path.join(self.dir, "port")
        deadline = time.time() + 30
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("stand-in did not start; see " + self.out.name)
            time.sleep(0.05)
        self.port = int(open(port_file).read().strip())
        self.url = "https://127.0.0.1:%d" % self.port
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def _call(self, method, path, body=None, form=False):
        data = None
        headers = {}
        if body is not None:
            if form:
                data = body.encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def reset(self, **scenario):
        self._call("POST", "/_standin/reset", {})
        if scenario:
            self._call("POST", "/_standin/scenario", scenario)

    def scenario(self, **scenario):
        self._call("POST", "/_standin/scenario", scenario)

    def log(self, op=None):
        _, body = self._call("GET", "/_standin/log")
        recs = json.loads(body)
        return [r for r in recs if op is None or r.get("op") == op]

    def api_log(self):
        skip = ("Control", "Page", "Approve", "Deny")
        return [r for r in self.log() if r.get("op") not in skip]

    def devices(self):
        _, body = self._call("GET", "/_standin/devices")
        return json.loads(body)

    def decide(self, user_code, user="alice", decision="approve"):
        from urllib.parse import urlencode
        return self._call("POST", "/device/decide",
                          urlencode({"user_code": user_code, "user": user,
                                     "decision": decision}), form=True)

    def rotate(self, keep_old=False):
        """oidc mode: new signing keys (rsa-N, ec-N); returns the JWKS's kids."""
        _, body = self._call("POST", "/_standin/rotate", {"keep_old": keep_old})
        return json.loads(body)["kids"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.out.close()


ACCOUNT, ROLE = "111122223333", "LinuxLogin"  # the stand-in's default assignment


def stanza_options(sd, conf, cache, policy="identity", base=None, **extra):
    """PAM stanza arguments pointing every endpoint at the stand-in.
    policy: identity (account_id+role_name), any (allow_any_approver) or none.
    base: further defaults. extra: k=v, k=None for a flag, k=False to drop."""
    opts = {
        "conf": conf,
        "start_url": "https://example.awsapps.com/start",
        "oidc_endpoint": sd.url,
        "portal_endpoint": sd.url,
        "sts_endpoint": sd.url,
        "ca_file": sd.ca,
        "cache_dir": cache,
        "prompt": "never",
    }
    opts.update(base or {})
    if policy == "identity":
        opts.update(account_id=ACCOUNT, role_name=ROLE)
    elif policy == "any":
        opts["allow_any_approver"] = None
    return stanza_args(opts, extra)


def stanza_args(opts, extra):
    """The options `opts` with `extra` applied (k=v, k=None for a flag,
    k=False to drop one), as PAM stanza arguments."""
    opts = dict(opts)
    for k, v in extra.items():
        if v is False:
            opts.pop(k, None)
        else:
            opts[k] = v
    return ["%s=%s" % (k, v) if v is not None else k for k, v in opts.items()]


# The fair limits (pending.c) switched off, for tests and benchmarks that run
# many logins from one source on purpose (storms, concurrency).
UNLIMITED = {"max_pending": 0, "max_pending_per_source": 0, "max_starts": 0,
             "max_starts_per_source": 0}


def unlimited_options():
    """UNLIMITED as stanza options: for benchmarks that start many logins
    from one source on purpose (the fair limits would refuse the 11th in a
    minute)."""
    return ["%s=%d" % kv for kv in UNLIMITED.items()]


OUTCOME_KEYS = ["result", "user", "rhost", "service", "approver", "seconds", "retries",
                "request_id", "reason"]
# One " key=value": a value is percent-encoded (outcome.h), so it is made of
# letters, digits, "-._~:/@" and %XX only - no space, quote, '=' or bare '%'.
_OUTCOME_PAIR = re.compile(r" ([a-z_]+)=((?:[A-Za-z0-9._~:/@-]|%[0-9A-F]{2})+)")


def parse_outcome(line):
    """The outcome line ("login k=v k=v ...") as a dict of decoded values, as
    a SIEM would read it; None unless every key is there exactly once, in
    order, and the whole line is made of such pairs."""
    if not line.startswith("login"):
        return None
    rest = line[len("login"):]
    pairs, pos = [], 0
    for m in _OUTCOME_PAIR.finditer(rest):
        if m.start() != pos:
            return None
        pos = m.end()
        pairs.append((m.group(1), urllib.parse.unquote(m.group(2), errors="strict")))
    if pos != len(rest) or [k for k, _ in pairs] != OUTCOME_KEYS:
        return None
    return dict(pairs)


def naive_outcome_fields(line):
    """The line read as the docs' one-liners read it: split on spaces (and
    double quotes), each piece at its first '=', values percent-decoded.
    A list of (key, value), repeats and all: for the forging tests."""
    pieces = re.split(r'[ "]+', line[line.find("login"):])
    return [(k, urllib.parse.unquote(v)) for k, _, v in
            (p.partition("=") for p in pieces if "=" in p)]


def check_naive_outcome(c, r, user, result, name):
    """The outcome line read by a parser that splits on spaces and quotes
    has the nine keys once each, the real result and user, and no forged
    "result=PAM_SUCCESS" or "user=root" anywhere in it."""
    raw = r.login_line_raw
    fields = naive_outcome_fields(raw)
    got = dict(fields)
    c.check([k for k, _ in fields] == OUTCOME_KEYS and got.get("result") == result
            and got.get("user") == user and "result=PAM_SUCCESS" not in raw
            and "user=root" not in raw and '"' not in raw,
            "%s: a naive split-on-spaces-and-quotes parser reads the real fields only" % name,
            r, str(fields))


# How much slower than a plain run a login may be: under valgrind, under
# ASan, and plain on a loaded two-core machine beside other suites.
SLOWDOWN = {"valgrind": 10, "asan": 3}


def time_bound(seconds, wrap="none"):
    """A generous upper bound for something the configuration lets take
    `seconds` (a timeout, http_timeout x attempts, backoffs): what it can
    exceed only by waiting for something it should not, never by running
    slowly. Bounds like this only catch a wait far past the configured one;
    what a case asserts is what it counted (attempts, requests, retries)."""
    return SLOWDOWN.get(wrap, 2) * (seconds + 10)


class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds
        self.syslog = [m.group(2) for m in
                       re.finditer(r"SYSLOG\((\d+)\): (.*)", err)]
        self.code = "?"
        if rc == 0 and "successfully authenticated" in out + err:
            self.code = "PAM_SUCCESS"
        for name, text in PAM_MESSAGES.items():
            if name != "PAM_SUCCESS" and ("pamtester: " + text) in out + err:
                self.code = name

    @property
    def login_line_raw(self):
        """The last outcome line exactly as logged (values percent-encoded)."""
        lines = [l for l in self.syslog if l.startswith("login ")]
        return lines[-1] if lines else ""

    @property
    def login_line(self):
        """The last outcome line with its values decoded, to search for
        words of the reason ("uid 0" in r.login_line). Not for parsing:
        that is what outcome (parse_outcome) is for."""
        return urllib.parse.unquote(self.login_line_raw)

    @property
    def outcome(self):
        """The outcome line as a dict (parse_outcome), or None."""
        return parse_outcome(self.login_line_raw)

    def everything(self):
        return self.out + self.err


class Host:
    """A throw-away PAM world: service files, users, config and cache."""

    USERS = ("alice", "bob", "carol")

    def __init__(self, workdir, module, wrap=(), asan=False):
        self.dir = workdir
        self.module = module
        self.wrap = list(wrap)
        self.asan = asan
        self.svc = os.path.join(workdir, "pam.d")
        os.makedirs(self.svc, exist_ok=True)
        with open(os.path.join(self.svc, "other"), "w") as f:
            f.write("auth required pam_deny.so\n")  # PAM's fallback service
        self.cache = os.path.join(workdir, "cache")
        self.passwd = os.path.join(workdir, "passwd")
        self.group = os.path.join(workdir, "group")
        with open(self.passwd, "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
            f.write("backup:x:34:34:backup:/var/backups:/bin/sh\n")  # a system account
            # The target of the alias and case-variant tests (forgiving_name_lookup).
            f.write("rtvictim:x:2101:2101:rtvictim:/home/rtvictim:/bin/sh\n")
            for i, u in enumerate(self.USERS):
                f.write("%s:x:%d:%d:%s:/home/%s:/bin/sh\n" % (u, 2001 + i, 2001 + i, u, u))
        with open(self.group, "w") as f:
            f.write("root:x:0:\n")
            f.write("backup:x:34:\n")
            f.write("rtvictim:x:2101:\n")
            for i, u in enumerate(self.USERS):
                f.write("%s:x:%d:\n" % (u, 2001 + i))
        self.conf = os.path.join(workdir, "pam_ssooidc.conf")
        # Unique per process: pam_wrapper may give two processes that start
        # at the same moment one /tmp/pam.X directory, and a shared service
        # name would then let one run with the other's stanza.
        self.default_service = "ssotest%d" % os.getpid()
        self.extra_env = {}  # further variables for the PAM host (hostile-env tests)
        self.preload = []  # further libraries to preload, before the wrappers

    def write_conf(self, text, mode=0o600):
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, mode)
        return self.conf

    def service(self, options, name="ssotest"):
        with open(os.path.join(self.svc, name), "w") as f:
            f.write("auth required %s %s\n" % (self.module, " ".join(options)))
            f.write("account required pam_permit.so\n")
        return name

    def env(self):
        pre = []
        if self.asan:
            lib = subprocess.check_output(["gcc", "-print-file-name=libasan.so"], text=True).strip()
            pre.append(lib)
        # Before nss_wrapper, so that a shim over getpwnam can chain to it.
        pre += self.preload
        pre += [_lib("libpam_wrapper.so"), _lib("libnss_wrapper.so")]
        # After pam_wrapper, so that its constructor runs first: pam_wrapper's
        # start-up one process at a time (tests/tools/pwrap_serial.c).
        pre.append(os.path.join(ROOT, "build", "tools", "pwrap_serial.so"))
        e = dict(os.environ)
        e.update({
            "LD_PRELOAD": " ".join(pre),
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": self.svc,
            "PAM_WRAPPER_DEBUGLEVEL": "2",
            "NSS_WRAPPER_PASSWD": self.passwd,
            "NSS_WRAPPER_GROUP": self.group,
            "ASAN_OPTIONS": "detect_leaks=1:exitcode=86:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=87",
            "LSAN_OPTIONS": "suppressions=%s" % os.path.join(ROOT, "tests", "module", "lsan.supp"),
        })
        e.update(self.extra_env)
        return e

    def login(self, user, service="ssotest", flags="", stdin="\n", rhost="203.0.113.7",
              timeout=120):
        op = "authenticate(%s)" % flags if flags else "authenticate"
        cmd = self.wrap + ["pamtester", "-v", "-I", "rhost=" + rhost, service, user, op]
        t0 = time.monotonic()
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                           env=self.env(), timeout=timeout, errors="replace")
        return Result(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


    def drive(self, user, service="ssotest", conv="enter", n=1, silent=False, timeout=300,
              delay=0):
        """Run tests/tools/pam_drive: n concurrent logins in one process."""
        tool = os.path.join(ROOT, "build", "tools", "pam_drive")
        cmd = self.wrap + [tool, "-c", conv, "-n", str(n), "-d", str(delay)]
        cmd += ["-s"] if silent else []
        cmd += [service, user]
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True, env=self.env(),
                           timeout=timeout, errors="replace")
        r = Result(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)
        r.codes = re.findall(r"^login \d+ (\S+) ", p.stdout, re.M)
        r.times = [float(x) for x in re.findall(r"^login \d+ \S+ ([\d.]+)$", p.stdout, re.M)]
        if len(r.codes) == 1:
            r.code = r.codes[0]
        return r


@contextlib.contextmanager
def forgiving_name_lookup(host, aliases=""):
    """Within: the host's name lookup works like SSSD with AD's default
    case_sensitive = false, winbind or LDAP (tests/tools/pwnam_fold.c): a
    name that is not found is looked up again in lower case, or as the
    target of an alias ("alias=target,..."), and the entry found carries
    the account's own name."""
    if not os.path.exists(PWNAM_FOLD):
        raise RuntimeError("missing %s: run make tools" % PWNAM_FOLD)
    host.preload = [PWNAM_FOLD]
    saved = dict(host.extra_env)
    host.extra_env["PWNAM_FOLD_ALIASES"] = aliases
    try:
        yield
    finally:
        host.preload = []
        host.extra_env = saved


def login_deciding_on_the_page(login, sd, user, decision="approve", settle=1.2):
    """Run login() in a thread, wait for its code on the stand-in, then
    decide it on the approval page as `user`, as a person in a browser
    would, `settle` seconds after the code appeared (so that a poll has
    seen it pending). Returns (page status, the login's result or None)."""
    result = {}
    t = threading.Thread(target=lambda: result.update(r=login()))
    t.start()
    code = None
    deadline = time.time() + 90  # valgrind start-up is slow
    while code is None and time.time() < deadline:
        devs = sd.devices()
        if devs:
            code = devs[-1]["userCode"]
        time.sleep(0.1)
    time.sleep(settle)
    status, _ = sd.decide(code, user, decision)
    t.join(120)
    return status, result.get("r")


# verification_uri_complete as the stand-in's complete_uri knob makes it
# ({port}, {user_code} filled in), whether the person may be shown it
# (pam_ssooidc/core/complete_uri.h), and what the debug line says if not.
COMPLETE_URI_CASES = (
    ("another host", "https://localhost:{port}/device?user_code={user_code}", False,
     "not on the origin"),
    ("another port", "https://127.0.0.1:1/device?user_code={user_code}", False,
     "not on the origin"),
    ("the same origin without the code", "https://127.0.0.1:{port}/device?user_code=", False,
     "does not carry the user code"),
    ("the same origin with the code", "https://127.0.0.1:{port}/activate?x=1&code={user_code}",
     True, None),
)


def check_complete_uri_cases(c, reset, options):
    """verification_uri_complete is shown only on verification_uri's origin
    and carrying the code; otherwise the person sees verification_uri and
    the code, and the debug log says why (without the code). c: a LoginCtx
    with sd and sample(); reset(**scenario) readies the stand-in."""
    uri = c.sd.url + "/device"
    for name, template, shown, why in c.sample(COMPLETE_URI_CASES, every=2):
        reset(approve_after_polls=0, complete_uri=template)
        r = c.login("alice", options)
        code = (c.sd.devices() or [{}])[-1].get("userCode", "?")
        link = template.replace("{port}", str(c.sd.port)).replace("{user_code}", code)
        c.check(r.code == "PAM_SUCCESS", "complete link on %s: the login goes on" % name, r)
        lines = [l for l in r.syslog if "verification_uri_complete not shown" in l]
        if shown:
            c.check("Open this link" in r.out and "\n    %s\n" % link in r.out
                    and "or open %s and enter the code" % uri in r.out and code in r.out
                    and not lines, "complete link on %s: shown, with verification_uri and "
                    "the code" % name, r)
            continue
        c.check(link not in r.out and "Open this link" not in r.out
                and "Open %s in" % uri in r.out and "\n    %s\n" % code in r.out,
                "complete link on %s: not shown; verification_uri and the code are" % name, r)
        c.check(len(lines) == 1 and why in lines[0] and code not in lines[0],
                "complete link on %s: one debug line says why, without the code" % name, r)


class LoginCtx:
    """The part of a module test's context every suite shares: one login
    through self.host with self.options() (outputs kept for the secrets
    check), and a check whose failure shows the login in full. The suite's
    Ctx sets host, tap, outputs and options()."""

    def login(self, user="alice", options=None, service=None, **kw):
        service = service or self.host.default_service
        self.host.service(options if options is not None else self.options(), service)
        r = self.host.login(user, service=service, **kw)
        self.outputs.append(r.everything())
        return r

    def concurrent_logins(self, n, user="alice", timeout=300):
        """n logins at once through the service as it is set up: their
        results, and a line for each one that did not end (a hung
        pamtester is reported, not lost)."""
        results, errors = [], []

        def run():
            try:
                results.append(self.host.login(user, service=self.host.default_service,
                                               timeout=timeout))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
        threads = [threading.Thread(target=run) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout + 20)
        for r in results:
            self.outputs.append(r.everything())
        return results, errors

    def map_file(self, name, text):
        """A root-only file in the work dir (a user_map): its path."""
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def check(self, cond, name, r=None, extra=""):
        detail = extra
        if r is not None:
            err = "\n".join(l for l in r.err.splitlines() if not l.startswith("PWRAP_"))
            detail += ("\ncode=%s rc=%d secs=%.1f\n--- stdout\n%s\n--- stderr\n%s\n--- syslog\n%s"
                       % (r.code, r.rc, r.seconds, r.out, err, "\n".join(r.syslog)))
        return self.tap.check(cond, name, detail)


def cleanup_pam_wrapper_dirs():
    """Remove the /tmp/pam.? directories pam_wrapper leaves when its process
    dies early. Directories of live processes (another suite running beside
    this one) are left alone: pam_wrapper writes its pid into each."""
    for name in os.listdir("/tmp"):
        if not re.fullmatch(r"pam\.[0-9A-Za-z]", name):
            continue
        d = os.path.join("/tmp", name)
        try:
            pid = int(open(os.path.join(d, "pid")).read().strip())
            os.kill(pid, 0)
            continue  # alive
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (OSError, ValueError):
            continue  # no pid yet (being created) or not ours to judge
