#!/usr/bin/python3
"""make bench, part 3: the wire and the strangers (docs/reliability.md).

1. Flaky wire. N logins (default 200) where the stand-in fails 5% of all
   API requests at random (HTTP 500, throttling, connection reset), once
   with the default retries=2 and once with retries=0, in the same run with
   the same random sequence. Reported: logins that still succeed (target
   with retries: at least 199/200), retries spent, wall time.
2. Strangers. M connections (default 200) from one source (threads of one
   process) sit in never-approved logins at once; reported: the API
   requests per second the host sends to the provider over the window, with
   the fair limits at their defaults and with every limit off, and how many
   device authorizations were opened. fair.py measures many sources.

Logins run as threads of build/tools/pam_drive (one process, like the
storm), in batches, as the real system user of the storm benchmark.
This is a benchmark: it reports, it does not fail a build.

Usage: faults.py [-n 200] [-m 200] [--rate 0.05] [--wait 15]"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hardening"))
sys.path.insert(0, HERE)
from hcommon import MODULE, World, run_pam  # noqa: E402
from storm import storm_user_env  # noqa: E402
from harness import UNLIMITED  # noqa: E402

PAM_DRIVE = os.path.join(HERE, "..", "..", "build", "tools", "pam_drive")
KINDS = ["http500", "throttle", "reset"]


def drive(w, user, env, n, timeout):
    rc, out, err, secs = run_pam([PAM_DRIVE, "-n", str(n), "bench", user], env, "", timeout)
    return re.findall(r"^login \d+ (\S+) ", out, re.M), secs, err


def flaky_run(w, user, env, n, rate, retries, batch=20):
    cache = w.fresh_cache()
    w.host.service(w.options(cache=cache, retries=retries, **UNLIMITED), "bench")
    w.sd.reset(approve_after_polls=0, approver=user)
    drive(w, user, env, 1, 120)  # the registration, fault-free
    w.sd.scenario(random_faults={"rate": rate, "kinds": KINDS, "seed": 4242})
    codes, t0 = [], time.monotonic()
    while len(codes) < n:
        got, _, _ = drive(w, user, env, min(batch, n - len(codes)), 300)
        codes += got
    wall = time.monotonic() - t0
    log = w.sd.log()
    faults = sum(1 for r in log if r.get("fault"))
    api = sum(1 for r in log if r["op"] not in ("Control", "Page", "Approve", "Deny"))
    return {"ok": codes.count("PAM_SUCCESS"), "n": len(codes), "faults": faults,
            "requests": api, "wall": wall,
            "codes": {c: codes.count(c) for c in sorted(set(codes))}}


def strangers_run(w, user, env, m, wait, limits):
    cache = w.fresh_cache()
    w.host.service(w.options(cache=cache, timeout=wait, **limits), "bench")
    w.sd.reset(approve_after_polls=0, approver=user)
    drive(w, user, env, 1, 120)  # the registration, through one approved login
    w.sd.scenario(approve_after_polls=None)  # from now on nobody approves
    t0 = time.time()
    codes, secs, _ = drive(w, user, env, m, wait + 120)
    log = [r for r in w.sd.log() if r["op"] not in ("Control",)]
    window = [r for r in log if t0 <= r["t"] <= t0 + wait]
    return {"requests": len(window), "rate": len(window) / wait,
            "starts": sum(1 for r in log if r["op"] == "StartDeviceAuthorization"),
            "codes": {c: codes.count(c) for c in sorted(set(codes))}, "wall": secs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("-m", type=int, default=200)
    ap.add_argument("--rate", type=float, default=0.05)
    ap.add_argument("--wait", type=int, default=15)
    a = ap.parse_args()
    if not os.path.exists(PAM_DRIVE):
        print("build/tools/pam_drive missing: run make tools")
        return 1
    w = World(MODULE, prefix="ssooidc-faults-")
    try:
        user, env = storm_user_env(w)
        print("# flaky wire: %d logins, %.0f%% of API requests fail at random (%s)"
              % (a.n, 100 * a.rate, ", ".join(KINDS)), flush=True)
        rows = []
        for retries in (2, 0):
            r = flaky_run(w, user, env, a.n, a.rate, retries)
            rows.append((retries, r))
            print("retries=%d: %d/%d PAM_SUCCESS (%s); %d faults in %d requests; %.1f s"
                  % (retries, r["ok"], r["n"], ", ".join("%s %d" % kv for kv in r["codes"].items()),
                     r["faults"], r["requests"], r["wall"]), flush=True)
        print("target with retries: at least %d/%d" % (a.n - a.n // 200, a.n))
        print()
        print("# strangers: %d never-approved logins at once, %d s window (timeout=%d)"
              % (a.m, a.wait, a.wait), flush=True)
        res = []
        for label, limits in (("default limits", {}), ("no limits", UNLIMITED)):
            r = strangers_run(w, user, env, a.m, a.wait, limits)
            res.append(r)
            print("%-14s %5.1f requests/s to the provider; %d device authorizations "
                  "opened; outcomes %s" % (label, r["rate"], r["starts"],
                                           ", ".join("%s %d" % kv for kv in r["codes"].items())),
                  flush=True)
        if res[1]["rate"]:
            print("with the default limits: %.2fx the requests/s of none" % (res[0]["rate"]
                                                                           / res[1]["rate"]))
        return 0
    finally:
        w.close()


if __name__ == "__main__":
    sys.exit(main())
