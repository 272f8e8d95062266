"""What the login benchmarks share: running a command under runstat, and
reporting a series as min/median/max and per-round ratios.

A ratio is taken per round (the module's login and its baseline run one
after the other, in the same round), then summarised: a slow moment on the
machine lands in one round's both sides instead of in one side's median."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RUNSTAT = os.path.join(ROOT, "build", "tools", "runstat")


def run_measured(cmd, env=None, stdin=b"\n"):
    """Run a command; return (elapsed, cpu seconds, peak RSS KiB, exit status).
    runstat (a small C parent) measures it: a child forked straight from this
    Python process would count Python's own pages in its peak RSS."""
    fd, out = tempfile.mkstemp()
    os.close(fd)
    t0 = time.monotonic()
    subprocess.run([RUNSTAT, "-o", out] + cmd, env=env, input=stdin,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - t0
    cpu, rss, code = open(out).read().split()
    os.unlink(out)
    return elapsed, float(cpu), int(rss), int(code)


def spread(xs, scale=1.0, fmt="%.1f"):
    """"min / median / max" of a series, each times scale."""
    return " / ".join(fmt % (v * scale) for v in (min(xs), statistics.median(xs), max(xs)))


def ratios(num, den):
    """Per-round ratios num[i] / den[i]."""
    return [a / b for a, b in zip(num, den)]


def load():
    """The 1-minute load average, as /proc/loadavg gives it."""
    return os.getloadavg()[0]


def load_line(before, after):
    return "load average (1 min) %.2f at the start, %.2f at the end, %d CPUs" % (
        before, after, os.cpu_count() or 0)


# ---------------------------------------------------------------- the host
# The tests run the module under pam_wrapper and nss_wrapper (no root
# needed). Those preloads cost CPU of their own and lengthen every symbol
# lookup of the module's dlopen; no production host has them. As root, the
# benchmarks measure the module as sshd, sudo and login run it instead:
# pam_drive -C (Linux-PAM's pam_start_confdir) on the main thread, no
# preload, the local user in /etc/passwd - a copy with the bench's users
# added, bind-mounted in a private mount namespace, so the host's file is
# never touched.
REAL_HOST_ENV = "SSOOIDC_BENCH_REAL_HOST"


def _users_known(users):
    import pwd
    try:
        return all(pwd.getpwnam(u) for u in users)
    except KeyError:
        return False


def _free_uid(start=61000):
    import pwd
    uid = start
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
        uid += 1


def enter_real_host(users):
    """Make the rest of this script run in a host without wrappers (see
    above). As root: re-executes the script under unshare -m the first time
    (it does not return then), and inside adds `users` to bind-mounted
    copies of /etc/passwd and /etc/group. Returns True when the real host is
    ready, False when it cannot be (not root, no unshare): the caller then
    uses the tests' wrapped host and says so."""
    if os.environ.get(REAL_HOST_ENV) == "1":
        if _users_known(users):
            return True
        tmp = tempfile.mkdtemp(prefix="ssooidc-bench-host-")
        passwd, group = os.path.join(tmp, "passwd"), os.path.join(tmp, "group")
        ids, nxt = {}, 61000
        for u in users:
            ids[u] = nxt = _free_uid(nxt)
            nxt += 1
        with open("/etc/passwd") as src, open(passwd, "w") as dst:
            dst.write(src.read())
            for u, uid in ids.items():
                dst.write("%s:x:%d:%d:bench:/nonexistent:/bin/sh\n" % (u, uid, uid))
        with open("/etc/group") as src, open(group, "w") as dst:
            dst.write(src.read())
            for u, uid in ids.items():
                dst.write("%s:x:%d:\n" % (u, uid))
        os.chmod(passwd, 0o644)
        os.chmod(group, 0o644)
        for f in (passwd, group):
            subprocess.run(["mount", "--bind", f, "/etc/" + os.path.basename(f)], check=True)
        return _users_known(users)
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    env = dict(os.environ)
    env[REAL_HOST_ENV] = "1"
    sys.stdout.flush()
    os.execvpe("unshare", ["unshare", "-m", "--propagation", "private", sys.executable]
               + sys.argv, env)
    return False  # not reached


def host_env():
    """The environment of a login in the real host: no preloads."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env
