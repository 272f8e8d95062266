#!/usr/bin/python3
"""Login storm: N concurrent FIRST logins (empty cache dir) against one
stand-in, as N threads of one process (build/hardening/storm_drive, a
pam_drive that also records wall-clock times and user codes) under
pam_wrapper + nss_wrapper. Policy: account_id + role_name (the full
identity check). The stand-in approves each device on its 2nd poll
(approve_after_polls=1); the module polls every interval = 1 s.

Required (exit status 1 otherwise): all N PAM_SUCCESS, exactly one
RegisterClient, a valid cache file afterwards (root 0600, parses).

Reported: approval -> PAM_SUCCESS p50/p99 (approval = stand-in receipt of
the CreateToken poll that returned the token; success = the login's end in
the driver; both epoch clocks of this host), login duration, CPU per login
of the driver process (getrusage / N) and of the stand-in (/proc/PID/stat
utime+stime before/after, measured apart), each against a baseline of
single isolated first logins measured in the same run.

Usage: storm.py [-n 200] [--baseline 5] [--module SO]
                [--json FILE]   (stand-in latency knob pinned to 0)
`make storm` runs it with -n 200 (STORM_N=...). tests/hardening/test_storm.py
runs the same code with 30 logins as a test."""
import argparse
import atexit
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hardening"))
from hcommon import (MODULE, STORM_DRIVE, SECRET_MARKERS, World, ensure_built,  # noqa: E402
                     parse_registration, proc_cpu_seconds, run_pam)
from harness import UNLIMITED  # noqa: E402  (hcommon put tests/module on the path)


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


STORM_USER = "ssostorm"


def storm_user_env(w):
    """The threaded driver looks the user up from many threads at once, and
    nss_wrapper's lookups are not safe for that (seen: sporadic "no such
    local user"). Real logins are one process each, so the storm uses a real
    user (created once, removed at exit) and leaves nss_wrapper out.
    Without root, fall back to nss_wrapper's alice."""
    if os.geteuid() != 0:
        return "alice", w.host.env()
    uid = subprocess.run(["id", "-u", STORM_USER], capture_output=True, text=True)
    if uid.returncode == 0 and int(uid.stdout) < 1000:
        # an earlier version made a system account, which no name rule admits
        subprocess.run(["userdel", STORM_USER], capture_output=True)
        uid = subprocess.run(["id", "-u", STORM_USER], capture_output=True, text=True)
    if uid.returncode != 0:
        # an ordinary account (uid >= UID_MIN): the exact-name rule admits it
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        STORM_USER], check=True)
        atexit.register(subprocess.run, ["userdel", STORM_USER], capture_output=True)
    env = w.host.env()
    env["LD_PRELOAD"] = " ".join(l for l in env["LD_PRELOAD"].split()
                                 if "nss_wrapper" not in l)
    return STORM_USER, env


def drive(w, n, cache, timeout, scenario=None):
    """One storm_drive run of n concurrent logins into `cache` (the stand-in
    is reset first: it forgets earlier registrations). Returns a dict with
    per-login records, rusage and the stand-in's CPU delta."""
    # No fair limits: the storm is N logins open at once from one source on
    # purpose (the caps would refuse all but a few; tests/bench/faults.py
    # measures them).
    w.host.service(w.options(cache=cache, **UNLIMITED), "storm")
    user, env = storm_user_env(w)
    scenario = dict(scenario or {})
    scenario.setdefault("approver", user)
    w.sd.reset(approve_after_polls=1, latency=0, **scenario)
    sd_cpu0 = proc_cpu_seconds(w.sd.proc.pid)
    samples, done = [], threading.Event()

    def sample():  # the stand-in's CPU every 100 ms, for its peak load
        while not done.is_set():
            samples.append((time.monotonic(), proc_cpu_seconds(w.sd.proc.pid)))
            done.wait(0.1)
    sampler = threading.Thread(target=sample)
    sampler.start()
    t0 = time.time()
    try:
        rc, stdout, stderr, _ = run_pam([STORM_DRIVE, "-n", str(n), "storm", user],
                                        env, "", timeout)
    finally:
        wall = time.time() - t0
        done.set()
        sampler.join()
    sd_cpu = proc_cpu_seconds(w.sd.proc.pid) - sd_cpu0
    peak = 0.0
    for i, (ta, ca) in enumerate(samples):  # busiest window of >= 300 ms
        for tb, cb in samples[i + 1:]:
            if tb - ta >= 0.3:
                peak = max(peak, (cb - ca) / (tb - ta))
                break
    logins = []
    for m in re.finditer(r"^login (\d+) (\S+) ([\d.]+) ([\d.]+) (\S+)$", stdout, re.M):
        logins.append({"i": int(m.group(1)), "code": m.group(2), "start": float(m.group(3)),
                       "end": float(m.group(4)), "user_code": m.group(5)})
    ru = re.search(r"^rusage ([\d.]+) ([\d.]+) (\d+)$", stdout, re.M)
    log = w.sd.log()
    return {"n": n, "rc": rc, "stdout": stdout, "stderr": stderr, "wall": wall,
            "logins": logins, "cpu_user": float(ru.group(1)) if ru else None,
            "cpu_sys": float(ru.group(2)) if ru else None,
            "maxrss_kib": int(ru.group(3)) if ru else None, "standin_cpu": sd_cpu,
            "standin_peak": peak,
            "log": log, "cache": cache, "reg_path": w.reg_path(cache)}


def analyse(run):
    """Derive the figures and the pass/fail facts from one drive()."""
    logins, log = run["logins"], run["log"]
    ops = [r["op"] for r in log if r["op"] != "Control"]
    approved = {r["user_code"]: r["t"] for r in log
                if r["op"] == "CreateToken" and r["status"] == 200 and r.get("user_code")}
    started = {r["user_code"]: r["t"] for r in log
               if r["op"] == "StartDeviceAuthorization" and r["status"] == 200}
    # Each login runs on one keep-alive connection: line up its requests.
    conn_of = {r["user_code"]: r["conn"] for r in log
               if r["op"] == "CreateToken" and r["status"] == 200 and r.get("user_code")}
    by_conn = {}
    for r in log:
        if r["op"] in ("GetRoleCredentials", "GetCallerIdentity") and r["status"] == 200:
            by_conn.setdefault(r["conn"], {})[r["op"]] = r["t"]
    lat, shown, seg_portal, seg_sts, seg_end = [], [], [], [], []
    for lg in logins:
        if lg["code"] == "PAM_SUCCESS" and lg["user_code"] in approved:
            lat.append(lg["end"] - approved[lg["user_code"]])
            c = by_conn.get(conn_of.get(lg["user_code"]), {})
            if "GetRoleCredentials" in c and "GetCallerIdentity" in c:
                seg_portal.append(c["GetRoleCredentials"] - approved[lg["user_code"]])
                seg_sts.append(c["GetCallerIdentity"] - c["GetRoleCredentials"])
                seg_end.append(lg["end"] - c["GetCallerIdentity"])
        if lg["user_code"] in started:
            shown.append(started[lg["user_code"]] - lg["start"])
    polls = [r for r in log if r["op"] == "CreateToken"]
    path = run["reg_path"]
    st = os.lstat(path) if os.path.lexists(path) else None
    cpu = (run["cpu_user"] or 0) + (run["cpu_sys"] or 0)
    n = run["n"]
    out = {
        "n": n,
        "success": sum(1 for lg in logins if lg["code"] == "PAM_SUCCESS"),
        "codes": sorted({lg["code"] for lg in logins}),
        "register_client": ops.count("RegisterClient"),
        "cache_ok": bool(st and stat.S_ISREG(st.st_mode) and st.st_uid == 0
                         and stat.S_IMODE(st.st_mode) == 0o600
                         and parse_registration(path) is not None),
        "temp_left": sorted(f for f in os.listdir(run["cache"]) if ".tmp" in f)
        if os.path.isdir(run["cache"]) else [],
        "matched": len(lat),
        "approval_to_success_p50": pct(lat, 50) if lat else None,
        "approval_to_success_p99": pct(lat, 99) if lat else None,
        "approval_to_success_max": max(lat) if lat else None,
        "seg_token_to_portal_p50": pct(seg_portal, 50) if seg_portal else None,
        "seg_token_to_portal_p99": pct(seg_portal, 99) if seg_portal else None,
        "seg_portal_to_sts_p50": pct(seg_sts, 50) if seg_sts else None,
        "seg_portal_to_sts_p99": pct(seg_sts, 99) if seg_sts else None,
        "seg_sts_to_success_p50": pct(seg_end, 50) if seg_end else None,
        "seg_sts_to_success_p99": pct(seg_end, 99) if seg_end else None,
        "start_to_code_p50": pct(shown, 50) if shown else None,
        "start_to_code_p99": pct(shown, 99) if shown else None,
        "login_p50": pct([lg["end"] - lg["start"] for lg in logins], 50) if logins else None,
        "login_p99": pct([lg["end"] - lg["start"] for lg in logins], 99) if logins else None,
        "wall": run["wall"],
        "cpu_per_login": cpu / n,
        "maxrss_kib": run["maxrss_kib"],
        "standin_cpu": run["standin_cpu"],
        "standin_cpu_per_login": run["standin_cpu"] / n,
        "standin_util": run["standin_cpu"] / run["wall"] if run["wall"] else None,
        "standin_peak": run["standin_peak"],
        "polls": len(polls),
        "slow_down": sum(1 for r in polls if r.get("error") == "SlowDownException"),
        "api_requests": len(ops),
        "connections": len({r["conn"] for r in log if r["op"] != "Control"}),
        "secret_leak": [m for m in SECRET_MARKERS if m in run["stdout"] + run["stderr"]],
        "rc": run["rc"],
    }
    return out


def storm(n=200, baseline=5, module=MODULE, timeout=600, progress=None):
    """Run `baseline` isolated single first logins, then the n-login storm,
    in one stand-in. Returns (storm figures, baseline figures list, raw storm)."""
    ensure_built(STORM_DRIVE)
    say = progress or (lambda msg: None)
    w = World(module, prefix="ssooidc-storm-")
    try:
        base = []
        for i in range(baseline):
            say("baseline login %d/%d" % (i + 1, baseline))
            base.append(analyse(drive(w, 1, w.fresh_cache(), 120)))
        say("storm of %d logins" % n)
        raw = drive(w, n, w.fresh_cache(), timeout)
        return analyse(raw), base, raw
    finally:
        w.close()


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    return xs[len(xs) // 2] if xs else None


def requirements(s):
    return [
        (s["success"] == s["n"], "all %d logins PAM_SUCCESS (%d; codes %s)"
         % (s["n"], s["success"], ",".join(s["codes"]))),
        (s["register_client"] == 1, "exactly one RegisterClient (%d)" % s["register_client"]),
        (s["cache_ok"], "a valid cache file afterwards (root 0600, parses)"),
        (not s["temp_left"], "no temp file left in the cache dir%s"
         % (" %s" % s["temp_left"] if s["temp_left"] else "")),
        (s["matched"] == s["n"], "every login matched to its approval in the stand-in log "
         "(%d/%d)" % (s["matched"], s["n"])),
        (not s["secret_leak"], "no secret marker in the driver's output%s"
         % (" %s" % s["secret_leak"] if s["secret_leak"] else "")),
    ]


def ms(x):
    return "-" if x is None else "%.0f ms" % (x * 1000)


def table(s, base):
    b = {k: median([x[k] for x in base]) for k in base[0]} if base else {}

    # /proc ticks are 10 ms: the baseline stand-in CPU is the sum over all
    # baseline logins, divided by their number.
    base_sd = sum(x["standin_cpu"] for x in base)
    base_sd_per = base_sd / len(base) if base else None

    def ratio(k):
        return "%.2fx" % (s[k] / b[k]) if b.get(k) else "-"
    rows = [
        ("logins", "%d" % s["n"], "1 (x%d, median)" % len(base), ""),
        ("PAM_SUCCESS", "%d/%d" % (s["success"], s["n"]),
         "%d/%d" % (sum(x["success"] for x in base), len(base)), ""),
        ("RegisterClient calls", "%d" % s["register_client"],
         "%d in %d logins" % (sum(x["register_client"] for x in base), len(base)), ""),
        ("approval -> PAM_SUCCESS p50", ms(s["approval_to_success_p50"]),
         ms(b.get("approval_to_success_p50")), ratio("approval_to_success_p50")),
        ("approval -> PAM_SUCCESS p99", ms(s["approval_to_success_p99"]),
         ms(b.get("approval_to_success_p99")), ratio("approval_to_success_p99")),
        ("approval -> PAM_SUCCESS max", ms(s["approval_to_success_max"]), "", ""),
        ("  token poll -> GetRoleCredentials p50/p99", "%s/%s" % (
            ms(s["seg_token_to_portal_p50"]), ms(s["seg_token_to_portal_p99"])),
         ms(b.get("seg_token_to_portal_p50")), ""),
        ("  GetRoleCredentials -> GetCallerIdentity", "%s/%s" % (
            ms(s["seg_portal_to_sts_p50"]), ms(s["seg_portal_to_sts_p99"])),
         ms(b.get("seg_portal_to_sts_p50")), ""),
        ("  GetCallerIdentity -> PAM_SUCCESS", "%s/%s" % (
            ms(s["seg_sts_to_success_p50"]), ms(s["seg_sts_to_success_p99"])),
         ms(b.get("seg_sts_to_success_p50")), ""),
        ("login start -> code shown p50", ms(s["start_to_code_p50"]),
         ms(b.get("start_to_code_p50")), ""),
        ("login start -> code shown p99", ms(s["start_to_code_p99"]), "", ""),
        ("login duration p50", ms(s["login_p50"]), ms(b.get("login_p50")), ratio("login_p50")),
        ("login duration p99", ms(s["login_p99"]), "", ""),
        ("storm wall time", "%.2f s" % s["wall"], "%.2f s" % b.get("wall", 0), ""),
        ("driver CPU per login", ms(s["cpu_per_login"]), ms(b.get("cpu_per_login")),
         ratio("cpu_per_login")),
        ("driver max RSS", "%d KiB" % (s["maxrss_kib"] or 0),
         "%d KiB" % (b.get("maxrss_kib") or 0), ""),
        ("stand-in CPU total", "%.2f s" % s["standin_cpu"],
         "%.2f s / %d" % (base_sd, len(base)), ""),
        ("stand-in CPU per login", ms(s["standin_cpu_per_login"]), ms(base_sd_per),
         "%.2fx" % (s["standin_cpu_per_login"] / base_sd_per) if base_sd_per else "-"),
        ("stand-in CPU / storm wall", "%.0f%% of a core" % (100 * (s["standin_util"] or 0)),
         "", ""),
        ("stand-in CPU, busiest 300 ms", "%.0f%% of a core" % (100 * (s["standin_peak"] or 0)),
         "", ""),
        ("CreateToken polls (slow_down)", "%d (%d)" % (s["polls"], s["slow_down"]),
         "%s" % b.get("polls", "-"), ""),
        ("API requests / TCP connections", "%d / %d" % (s["api_requests"], s["connections"]),
         "%s / %s" % (b.get("api_requests", "-"), b.get("connections", "-")), ""),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows + [("", "storm", "", "")])
    w2 = max(len(r[2]) for r in rows + [("", "", "baseline", "")])
    lines = ["%-*s  %*s  %*s  %s" % (w0, "", w1, "storm", w2, "baseline", "storm/baseline")]
    for r in rows:
        lines.append("%-*s  %*s  %*s  %s" % (w0, r[0], w1, r[1], w2, r[2], r[3]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--baseline", type=int, default=5)
    ap.add_argument("--module", default=MODULE)
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    ncpu = os.cpu_count()
    print("# login storm: %d concurrent first logins, one stand-in, %d CPUs, load %.2f"
          % (a.n, ncpu, os.getloadavg()[0]), flush=True)
    s, base, raw = storm(a.n, a.baseline, os.path.abspath(a.module),
                         progress=lambda m: print("# " + m, flush=True))
    print(table(s, base))
    failed = 0
    for ok, what in requirements(s):
        failed += not ok
        print("%s %s" % ("PASS" if ok else "FAIL", what))
    if failed and raw["stderr"]:
        print("--- driver stderr (tail)\n" + raw["stderr"][-3000:])
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"storm": s, "baseline": base}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
