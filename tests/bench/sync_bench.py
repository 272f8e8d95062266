#!/usr/bin/python3
"""make bench, directory sync part: pam_ssooidc_sync against the Identity
Store / IMDSv2 stand-in holding 10,000 members in 5 groups of 2,000, with
throttling on (each listing operation answers ThrottlingException with
RetryAfterSeconds = 1 to its first calls).

Reported, from one run:
  first sync      wall time, CPU time and peak RSS of the process, the
                  requests it sent and how many were throttled, the accounts
                  written;
  no-change sync  the same, and its ratio to the first (it writes nothing);
  getent          `getent passwd NAME` (a synced account) through the NSS
                  module in a loop: the median and the slowest lookup while
                  idle, during a no-change sync and during a sync that
                  renames 100 people (so it rewrites the files), and each
                  median's ratio to the idle one. The files are replaced by
                  rename, so a lookup never waits on the writer.

Runs inside tests/tools/nss_sandbox.sh (root; a private mount namespace
with its own /var/lib/pam_ssooidc). A benchmark, not a test: it asserts
nothing, it reports. BENCH_SYNC_MEMBERS changes the size."""
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "standin"))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))
from dirctl import Directory  # noqa: E402
from harness import trusted_tempdir  # noqa: E402

SYNC = os.path.join(ROOT, "pam_ssooidc", "pam_ssooidc_sync")
MEMBERS = int(os.environ.get("BENCH_SYNC_MEMBERS", "10000"))
GROUPS = 5
THROTTLES = 2  # per listing operation and sync


def run_sync(conf):
    """One run: (seconds, CPU seconds, peak RSS MiB, the JSON it printed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([SYNC, "--conf", conf, "--json", "--force"], capture_output=True,
                       text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = {"ok": False, "message": (p.stderr or p.stdout)[-300:]}
    return wall, cpu, after.ru_maxrss / 1024.0, out


class Lookups(threading.Thread):
    """getent passwd NAME in a loop until stopped; the latencies in ms."""

    def __init__(self, name):
        super().__init__(daemon=True)
        self.name_, self.times, self.failed = name, [], 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            r = subprocess.run(["getent", "passwd", self.name_], capture_output=True)
            self.times.append((time.monotonic() - t0) * 1000.0)
            self.failed += r.returncode != 0


def during(name, action, settle=1.0):
    """Latencies of lookups while action() runs (settle: idle seconds)."""
    lk = Lookups(name)
    lk.start()
    if action:
        result = action()
    else:
        time.sleep(settle)
        result = None
    lk.stop.set()
    lk.join()
    return lk.times, lk.failed, result


def throttle(dr):
    dr.set(throttle={"ListGroupMemberships": {"count": THROTTLES, "retry_after": 1},
                     "ListUsers": {"count": THROTTLES, "retry_after": 1}})


def main():
    if os.geteuid() != 0:
        print("directory sync part skipped: it needs root (a mount namespace)")
        return 0
    if not os.path.exists(SYNC):
        print("directory sync part skipped: %s is not built" % SYNC)
        return 0
    work = trusted_tempdir("sync-bench-")  # the configuration must be on a trusted path
    per_group = MEMBERS // GROUPS
    dr = Directory(work, {"generate": {"users": MEMBERS, "groups": GROUPS,
                                       "per_group": per_group}})
    try:
        state = dr.ctl("GET", "directory")[1]
        groups = sorted(state["groups"]) if isinstance(state.get("groups"), dict) else []
        conf = os.path.join(work, "sync.conf")
        opts = {"start_url": "https://example.awsapps.com/start", "account_id": "111122223333",
                "role_name": "LinuxLogin", "ca_file": dr.ca, "provision": "sync",
                "identity_store_id": state.get("store_id", "d-1234567890"),
                "sync_groups": ", ".join(groups), "identity_store_endpoint": dr.base,
                "imds_endpoint": dr.imds, "provision_home": os.path.join(work, "home"),
                "cache_dir": os.path.join(work, "cache")}
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in opts.items()))
        print("Directory sync: %d members in %d groups of %d, throttling on (%d "
              "ThrottlingException answers per listing operation and run, RetryAfterSeconds 1)"
              % (MEMBERS, GROUPS, per_group, THROTTLES))
        throttle(dr)
        first = run_sync(conf)
        throttle(dr)
        same = run_sync(conf)
        rows = [("first sync", first), ("no-change sync", same)]
        print("  %-16s %8s %8s %8s %9s %9s %8s" % ("", "wall s", "CPU s", "RSS MiB",
                                                 "requests", "throttled", "written"))
        for label, (wall, cpu, rss, out) in rows:
            if not out.get("ok"):
                print("  %-16s failed: %s" % (label, out.get("message")))
                continue
            print("  %-16s %8.2f %8.2f %8.1f %9d %9d %8s" % (
                label, wall, cpu, rss, out.get("requests", 0), out.get("throttled", 0),
                out.get("counts", {}).get("added", 0) if out.get("written") else "nothing"))
        if first[3].get("ok") and same[3].get("ok"):
            print("  no-change / first: wall %.2fx, CPU %.2fx" % (same[0] / first[0],
                                                                  same[1] / max(first[1], 1e-6)))
        # getent through the NSS module: idle, during a sync that writes
        # nothing, during one that rewrites the files.
        users = state.get("users") or []
        users = users if isinstance(users, list) else []
        name = users[-1].get("UserName") if users else "user%05d" % MEMBERS  # never renamed
        idle, f0, _ = during(name, None, settle=3.0)
        throttle(dr)
        quiet, f1, _ = during(name, lambda: run_sync(conf))
        for u in users[:100]:
            dr.op(op="rename", UserId=u["UserId"], UserName=u["UserName"] + "r")
        throttle(dr)
        busy, f2, out = during(name, lambda: run_sync(conf))
        base = statistics.median(idle) if idle else float("nan")
        print("  getent passwd %s through the NSS module (ms):" % name)
        for label, t, failed in (("idle", idle, f0), ("during a no-change sync", quiet, f1),
                                 ("during a sync rewriting the files", busy, f2)):
            if not t:
                continue
            med = statistics.median(t)
            print("    %-34s %5d lookups, median %6.2f, slowest %7.2f, %.2fx idle%s" % (
                label, len(t), med, max(t), med / base,
                ", %d not found" % failed if failed else ""))
        if out and out[3].get("ok"):
            print("    (the rewriting sync renamed %d)" % out[3].get("counts", {}).get("renamed", 0))
    finally:
        dr.stop()
        subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
