"""What the login benchmarks share: running a command under runstat, and
reporting a series as min/median/max and per-round ratios.

A ratio is taken per round (the module's login and its baseline run one
after the other, in the same round), then summarised: a slow moment on the
machine lands in one round's both sides instead of in one side's median."""
import os
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RUNSTAT = os.path.join(ROOT, "build", "tools", "runstat")


def run_measured_sys(cmd, env=None, stdin=b"\n", prefix=()):
    """Run a command; return (elapsed, cpu seconds, of which system seconds,
    peak RSS KiB, exit status). runstat (a small C parent) measures it: a
    child forked straight from this Python process would count Python's own
    pages in its peak RSS. prefix (RealHost.prefix) goes before runstat, so
    its cost is not counted."""
    fd, out = tempfile.mkstemp()
    os.close(fd)
    t0 = time.monotonic()
    subprocess.run(list(prefix) + [RUNSTAT, "-o", out] + cmd, env=env, input=stdin,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - t0
    cpu, rss, code, system = read_runstat(out)
    return elapsed, cpu, system, rss, code


def read_runstat(path):
    """runstat's line: (cpu seconds, peak RSS KiB, exit status, system
    seconds); the file is removed."""
    cpu, rss, code, system = open(path).read().split()[:4]
    os.unlink(path)
    return float(cpu), int(rss), int(code), float(system)


def run_measured(cmd, env=None, stdin=b"\n", prefix=()):
    """run_measured_sys without the system share: (elapsed, cpu, rss, exit)."""
    elapsed, cpu, _system, rss, code = run_measured_sys(cmd, env, stdin, prefix)
    return elapsed, cpu, rss, code


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
# added, bind-mounted for that one command in a private mount namespace, so
# the host's file is never touched and nothing else sees the users.
class RealHost:
    """host.prefix(): what to put before runstat to run a command in such
    a namespace; None when it cannot be done (not root, no unshare): the
    caller then uses the tests' wrapped host and says so."""

    def __init__(self, workdir, users):
        self.ok = os.geteuid() == 0 and shutil.which("unshare") is not None
        if not self.ok:
            return
        import pwd
        self.passwd = os.path.join(workdir, "bench-passwd")
        self.group = os.path.join(workdir, "bench-group")
        taken = {p.pw_uid for p in pwd.getpwall()}
        uid = 61000
        with open("/etc/passwd") as src, open(self.passwd, "w") as pw, \
                open("/etc/group") as gsrc, open(self.group, "w") as gr:
            pw.write(src.read())
            gr.write(gsrc.read())
            for u in users:
                while uid in taken:
                    uid += 1
                pw.write("%s:x:%d:%d:bench:/nonexistent:/bin/sh\n" % (u, uid, uid))
                gr.write("%s:x:%d:\n" % (u, uid))
                uid += 1
        os.chmod(self.passwd, 0o644)
        os.chmod(self.group, 0o644)

    def prefix(self):
        if not self.ok:
            return None
        return ["unshare", "-m", "--propagation", "private", "sh", "-c",
                'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && shift 2 '
                '&& exec "$@"', "sh", self.passwd, self.group]

    def describe(self):
        if self.ok:
            return ("pam_drive, Linux-PAM's pam_start_confdir, no preload, the user in "
                    "/etc/passwd (a private mount namespace)")
        return ("pam_drive under pam_wrapper and nss_wrapper (not root: the wrappers' own cost "
                "is in every login)")


PAM_DRIVE = os.path.join(ROOT, "build", "tools", "pam_drive")


def pam_host(host, real):
    """(namespace prefix, command, environment) of a login: pam_drive in
    the real host (RealHost) or under the tests' wrappers (harness.Host)."""
    if real.ok:
        return real.prefix(), [PAM_DRIVE, "-C", host.svc], host_env()
    return [], [PAM_DRIVE], host.env()


def host_env():
    """The environment of a login in the real host: no preloads."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env
