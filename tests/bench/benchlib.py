"""What the login benchmarks share: running a command under runstat, and
reporting a series as min/median/max and per-round ratios.

A ratio is taken per round (the module's login and its baseline run one
after the other, in the same round), then summarised: a slow moment on the
machine lands in one round's both sides instead of in one side's median."""
import os
import statistics
import subprocess
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
