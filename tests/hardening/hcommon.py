"""Shared plumbing for the hardening tests and the storm benchmark.

Builds on tests/module/harness.py (imported, not modified): a World is one
stand-in plus one throw-away PAM host (pam_wrapper + nss_wrapper), with
helpers to build a stanza, compute the registration cache's file name, and
clean up only the pam_wrapper directories whose owner process is dead (other
engineers' runs may be using /tmp/pam.? at the same time)."""
import hashlib
import itertools
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))

import harness  # noqa: E402,F401
from harness import Host, Result, SECRET_MARKERS, Standin, Tap  # noqa: E402,F401

MODULE = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc.so")
BUILD = os.path.join(ROOT, "build", "hardening")
KILLWRITE = os.path.join(BUILD, "killwrite.so")
STORM_DRIVE = os.path.join(BUILD, "storm_drive")
PAM_DRIVE = os.path.join(ROOT, "build", "tools", "pam_drive")
ACCOUNT, ROLE = harness.ACCOUNT, harness.ROLE
CLIENT_NAME = "hardening-test"
START_URL = "https://example.awsapps.com/start"


def ensure_built(*paths):
    """Build missing helpers through make (hardening.mk has the rules)."""
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        rel = [os.path.relpath(p, ROOT) for p in missing]
        subprocess.run(["make", "-C", ROOT, "--no-print-directory", "-s"] + rel, check=True,
                       stdout=sys.stderr)


def reg_file_name(sd, client_name=CLIENT_NAME, proxy=""):
    """reg-<first 128 bits of SHA-256 of the key material>.json for a stanza
    of harness.stanza_options against the stand-in sd (its URL as
    oidc_endpoint, its CA as ca_file), as aws/registration_key.c builds the
    material and store.c (store_file_name) the name."""
    key = ("registration\n%s\n%s\n%s\n%s" % (sd.url, client_name, sd.ca, proxy)).encode()
    return "reg-%s.json" % hashlib.sha256(key).hexdigest()[:32]


def parse_registration(path):
    """The cache file's registration if it is exactly what cache.c writes
    (five members, right types, version 1), else None."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        obj = json.loads(data)
    except (OSError, ValueError):
        return None
    if not isinstance(obj, dict) or set(obj) != {"version", "clientId", "clientSecret",
                                                 "clientIdIssuedAt", "clientSecretExpiresAt"}:
        return None
    if obj["version"] != 1 or not isinstance(obj["clientId"], str) or not obj["clientId"]:
        return None
    if not isinstance(obj["clientSecret"], str) or not obj["clientSecret"]:
        return None
    for k in ("clientIdIssuedAt", "clientSecretExpiresAt"):
        if not isinstance(obj[k], int) or isinstance(obj[k], bool) or obj[k] < 0:
            return None
    return obj


# Directories of live processes are left alone (see harness).
cleanup_dead_pam_wrapper_dirs = harness.cleanup_pam_wrapper_dirs


# ---------------------------------------------------------------- pam_wrapper

# pam_wrapper (1.1.4) picks its /tmp/pam.X directory with a check-then-mkdir
# and removes "stale" directories whose pid file it cannot parse, which may
# be one a sibling is still creating. Processes that start at the same
# moment can therefore share a directory or lose it, and one may then read
# the other's service file: measured here as 5 of 400 concurrent pamtester
# runs using the wrong stanza. So within this process: every login gets a
# service name of its own (a shared directory then still holds the right
# file), the service dir carries an "other" stanza that denies, pam_wrapper's
# start-up is serialised (the lock is held until it reports that it is
# initialised), and a login whose pam_wrapper failed to start is retried.
_PWRAP_INIT = threading.Lock()
_SERVICE_IDS = itertools.count(1)
_PWRAP_DONE = re.compile(rb"pwrap_init: (Successfully initialized|Failed)")
_PWRAP_FAILED = (b"pwrap_init: Failed", b"Initialization failure",
                 b"error reading PAM configuration file")


def run_pam(cmd, env, stdin="\n", timeout=120):
    """Run a pam_wrapper'd command; (rc, stdout, stderr, seconds)."""
    env = dict(env)
    # Level 2 prints both the SYSLOG lines the checks read and the
    # "Successfully initialized" line the start-up lock waits for.
    try:
        level = int(env.get("PAM_WRAPPER_DEBUGLEVEL") or 0)
    except ValueError:
        level = 0
    env["PAM_WRAPPER_DEBUGLEVEL"] = str(max(level, 2))
    for attempt in range(4):
        t0 = time.monotonic()
        head = b""
        with _PWRAP_INIT:
            p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env)
            fd = p.stderr.fileno()
            deadline = time.monotonic() + 10
            while not _PWRAP_DONE.search(head) and time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    break
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                head += chunk
        try:
            out, err = p.communicate(stdin.encode() if stdin is not None else None,
                                     timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        err = head + err
        # pam_wrapper could not set up (no module outcome line): run again.
        failed_start = any(m in err for m in _PWRAP_FAILED) and b"login user=" not in err
        if not failed_start or attempt == 3:
            return (p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                    time.monotonic() - t0)
        time.sleep(0.05 * (attempt + 1))


def snapshot_module(path, into):
    """Copy the module into `into` and return the copy: other engineers may
    rebuild the original while these tests run ("file too short")."""
    os.makedirs(into, exist_ok=True)
    dst = os.path.join(into, os.path.basename(path))
    for _ in range(50):
        st = os.stat(path)
        if time.time() - st.st_mtime >= 1.0:
            shutil.copyfile(path, dst)
            st2 = os.stat(path)
            with open(dst, "rb") as f:
                magic = f.read(4)
            if (st2.st_mtime_ns == st.st_mtime_ns and st2.st_size == st.st_size
                    and os.path.getsize(dst) == st.st_size and magic == b"\x7fELF"):
                os.chmod(dst, 0o755)
                return dst
        time.sleep(0.2)
    raise RuntimeError("%s keeps changing; is a build running?" % path)


class World:
    """One stand-in and one PAM host in a private temporary directory."""

    def __init__(self, module=MODULE, prefix="ssooidc-hard-", scenario=None):
        self.work = harness.trusted_tempdir(prefix)
        os.chmod(self.work, 0o755)
        try:
            lib = snapshot_module(module, os.path.join(self.work, "lib"))
            self.sd = Standin(self.work, scenario)
        except Exception:
            shutil.rmtree(self.work, ignore_errors=True)
            raise
        self.host = Host(self.work, lib)
        with open(os.path.join(self.host.svc, "other"), "w") as f:
            f.write("auth required pam_deny.so\naccount required pam_deny.so\n")
        self.n_cache = 0

    def fresh_cache(self):
        self.n_cache += 1
        return os.path.join(self.work, "cache%d" % self.n_cache)

    def options(self, policy="identity", cache=None, **extra):
        """A stanza: see harness.stanza_options; every login here also
        carries a fixed client_name."""
        conf = self.host.write_conf("# options come from the stanza\n")
        return harness.stanza_options(self.sd, conf, cache or self.fresh_cache(), policy,
                                      base={"start_url": START_URL,
                                            "client_name": CLIENT_NAME}, **extra)

    def login(self, options, user="alice", stdin="\n", rhost="203.0.113.7", timeout=120,
              extra_env=None, preload=None):
        """pamtester under pam_wrapper with a service name of its own;
        preload: a library to add to LD_PRELOAD."""
        service = "sso%d" % next(_SERVICE_IDS)
        path = os.path.join(self.host.svc, service)
        self.host.service(options, service)
        env = self.host.env()
        env.update(extra_env or {})
        if preload:
            env["LD_PRELOAD"] = env["LD_PRELOAD"] + " " + preload
        cmd = self.host.wrap + ["pamtester", "-v", "-I", "rhost=" + rhost, service, user,
                                "authenticate"]
        try:
            rc, out, err, secs = run_pam(cmd, env, stdin, timeout)
        finally:
            os.unlink(path)
        r = Result(rc, out, err, secs)
        r.service = service
        if rc in (86, 87, 88):  # ASan/LSan, UBSan, valgrind exit codes set by harness.Host
            r.code = "SANITIZER_ERROR(%d)" % rc
        return r

    def reg_path(self, cache):
        return os.path.join(cache, reg_file_name(self.sd))

    def register_directly(self, name="attacker"):
        """A real registration at the stand-in, made outside the module: what
        an attacker who can reach the service would plant."""
        status, body = self.sd._call("POST", "/client/register",
                                     {"clientName": name, "clientType": "public"})
        if status != 200:
            raise RuntimeError("RegisterClient failed: %s %s" % (status, body))
        return json.loads(body)

    def api_ops(self):
        return [x["op"] for x in self.sd.api_log()]

    def close(self):
        try:
            self.sd.stop()
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
            cleanup_dead_pam_wrapper_dirs()


def cache_json(reg):
    """A registration serialised the way cache.c writes it."""
    return json.dumps({"version": 1, "clientId": reg["clientId"],
                       "clientSecret": reg["clientSecret"],
                       "clientIdIssuedAt": reg["clientIdIssuedAt"],
                       "clientSecretExpiresAt": reg["clientSecretExpiresAt"]},
                      separators=(",", ":")) + "\n"


def proc_cpu_seconds(pid):
    """utime+stime of a process (all its threads) from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tck




# ---------------------------------------------------------------- running tests

class Checks:
    """TAP checks of one test, printed later in test order (tests run in
    parallel worker threads, each with its own World)."""

    def __init__(self, w, name):
        self.w, self.name, self.items = w, name, []

    def check(self, cond, what, r=None, extra=""):
        detail = str(extra)
        if r is not None:
            detail += "\ncode=%s rc=%s secs=%.1f\n--- stdout\n%s\n--- stderr (tail)\n%s" % (
                r.code, r.rc, r.seconds, r.out[-1500:], r.err[-3000:])
        self.items.append((bool(cond), what, detail))
        return bool(cond)

    def expect(self, r, code, what):
        return self.check(r.code == code, "%s -> %s" % (what, code), r,
                          "got %s" % r.code)


def run_workers(worker, n, worlds):
    """worker() in n threads (at least one); then close the Worlds they made."""
    import threading
    threads = [threading.Thread(target=worker) for _ in range(max(1, n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in worlds:
        w.close()


def run_tests(tests, workers, make_world, only=None):
    """Run test functions fn(Checks) over `workers` Worlds in parallel and
    print their TAP in order. Returns the exit status (1 if anything failed)."""
    import queue
    import traceback
    tests = [t for t in tests if not only or t.__name__ in only]
    worlds = []
    results = [None] * len(tests)
    todo = queue.Queue()
    for i, t in enumerate(tests):
        todo.put(i)

    def worker():
        try:
            w = make_world()
        except Exception:
            w = None
            err = traceback.format_exc()
        if w is not None:
            worlds.append(w)
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            c = Checks(w, tests[i].__name__)
            if w is None:
                c.check(False, tests[i].__name__ + ": no test world", extra=err)
            else:
                try:
                    tests[i](c)
                except Exception:
                    c.check(False, tests[i].__name__ + " raised", extra=traceback.format_exc())
            results[i] = c

    run_workers(worker, min(workers, len(tests)), worlds)
    tap = Tap(detail_lines=60)
    for c in results:
        tap.comment(c.name)
        for ok, what, detail in c.items:
            tap.check(ok, what, detail)
    return tap.done()
