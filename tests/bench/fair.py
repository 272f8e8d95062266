#!/usr/bin/python3
"""make bench, part 5: the fair limits under hostile load (docs/reliability.md).

Hostile logins are never approved (timeout=10, the minimum) and start again
as soon as they end or are refused (after 0.2 s), like a stranger who opens
connections in a loop. Each runs as a pamtester process with its own
PAM_RHOST (-I rhost=), so a thread is one connection and an address one
source. Measured over a window of --window seconds at the stand-in: the
provider requests per minute the host sends (StartDeviceAuthorization +
CreateToken + the rest), under
  (a) one hostile source with 10 connections looping,
  (b) 20 hostile sources with 1 connection each (pam_wrapper has 62
      working directories for the host: the load stays well below),
each with the default limits and with every limit off (the uncapped
figure). Under (a) with the defaults, a legitimate login from another
address is approved on the page as a person would: its result and latency
(from start to PAM_SUCCESS), beside the same login on a quiet host in the
same run. A benchmark: it reports, it does not fail a build.

A start limit counts a sliding minute, so the window is a minute by
default: a shorter one overstates the starts (a source's 10 come at once).

Usage: fair.py [--window 60]"""
import argparse
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "module"))
from harness import (UNLIMITED, Host, Standin, cleanup_pam_wrapper_dirs,  # noqa: E402
                     stanza_options, trusted_tempdir)

MODULE = os.path.join(HERE, "..", "..", "pam_ssooidc", "pam_ssooidc.so")
API = ("RegisterClient", "StartDeviceAuthorization", "CreateToken", "GetRoleCredentials",
       "GetCallerIdentity")


class Bench:
    def __init__(self, work):
        self.work = work
        self.sd = Standin(work)
        self.host = Host(work, os.path.abspath(MODULE))
        self.n = 0

    def service(self, limits, name, cache=None, **extra):
        self.n += 1
        cache = cache or os.path.join(self.work, "cache-%d" % self.n)
        conf = self.host.write_conf("# options come from the stanza\n")
        opts = stanza_options(self.sd, conf, cache, timeout=10, **dict(limits, **extra))
        self.host.service(opts, name)
        return cache

    def pamtester(self, rhost, service):
        cmd = ["pamtester", "-v", "-I", "rhost=" + rhost, service, "alice", "authenticate"]
        return subprocess.run(cmd, input="\n", capture_output=True, text=True,
                              env=self.host.env(), timeout=120)


def attack(b, service, sources, per_source, stop):
    """Threads that loop never-approved logins until stop is set."""
    def loop(rhost):
        while not stop.is_set():
            b.pamtester(rhost, service)
            stop.wait(0.2)
    threads = [threading.Thread(target=loop, args=("198.51.100.%d" % (1 + s),), daemon=True)
               for s in range(sources) for _ in range(per_source)]
    for t in threads:
        t.start()
    return threads


def requests_per_minute(b, t0, t1):
    recs = [r for r in b.sd.log() if r.get("op") in API and t0 <= r["t"] <= t1]
    starts = sum(1 for r in recs if r["op"] == "StartDeviceAuthorization")
    return len(recs) * 60.0 / (t1 - t0), starts * 60.0 / (t1 - t0)


def legit_login(b, service):
    """A person at 203.0.113.99 approves their code on the page. Their
    service has its own client_name (so its own registration, in the same
    cache_dir and under the same limits): their code is the one whose client
    no stranger's code has."""
    known = {d["userCode"] for d in b.sd.devices()}
    strangers = {d["clientId"] for d in b.sd.devices()}
    result = {}
    t = threading.Thread(target=lambda: result.update(r=b.pamtester("203.0.113.99", service)))
    t0 = time.monotonic()
    t.start()
    deadline = time.monotonic() + 60
    code = None
    while code is None and time.monotonic() < deadline:
        new = [d for d in b.sd.devices()
               if d["userCode"] not in known and d["clientId"] not in strangers]
        code = new[0]["userCode"] if new else None
        time.sleep(0.05)
    if code:
        b.sd.decide(code, "alice", "approve")
    t.join(120)
    r = result.get("r")
    ok = r is not None and "Authentication failure" not in r.stderr and r.returncode == 0
    return ok, time.monotonic() - t0, code is not None


def scenario(b, name, limits, sources, per_source, window, legit=False):
    service = "fair%d" % b.n
    cache = b.service(limits, service)
    b.service(limits, service + "-legit", cache=cache, client_name="pam-ssooidc-legit")
    b.sd.reset()  # nobody approves the strangers
    stop = threading.Event()
    threads = attack(b, service, sources, per_source, stop)
    time.sleep(5)  # let the loops fill what they can
    t0 = time.time()
    legit_result = legit_login(b, service + "-legit") if legit else None
    rest = window - (time.time() - t0)
    if rest > 0:
        time.sleep(rest)
    t1 = time.time()
    stop.set()
    for t in threads:
        t.join(60)
    rpm, spm = requests_per_minute(b, t0, t1)
    return {"name": name, "rpm": rpm, "starts_pm": spm, "legit": legit_result}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=int, default=60)
    a = ap.parse_args()
    work = trusted_tempdir("ssooidc-fair-")
    b = Bench(work)
    try:
        b.service({}, "quiet")
        b.sd.reset()
        quiet = legit_login(b, "quiet")
        print("# fair limits: never-approved logins looping, %d s window, AWS stand-in "
              "(interval 1 s)" % a.window, flush=True)
        rows = []
        for label, sources, per in (("(a) 1 source x 10 connections", 1, 10),
                                    ("(b) 20 sources x 1 connection", 20, 1)):
            capped = scenario(b, label, {}, sources, per, a.window, legit=sources == 1)
            free = scenario(b, label, UNLIMITED, sources, per, a.window)
            rows.append((label, capped, free))
            print("%s: %6.0f requests/min (%4.0f starts/min) with the default limits; "
                  "%6.0f (%4.0f starts/min) uncapped; %.2fx"
                  % (label, capped["rpm"], capped["starts_pm"], free["rpm"], free["starts_pm"],
                     capped["rpm"] / free["rpm"] if free["rpm"] else 0), flush=True)
            if capped["legit"]:
                ok, secs, shown = capped["legit"]
                print("    a person at another address under (a): %s, %.2f s from start to "
                      "the end of the login (quiet host, same run: %s, %.2f s; %.2fx)"
                      % ("PAM_SUCCESS" if ok else "FAILED" + ("" if shown else " (no code)"),
                         secs, "PAM_SUCCESS" if quiet[0] else "FAILED", quiet[1],
                         secs / quiet[1] if quiet[1] else 0), flush=True)
        return 0
    finally:
        b.sd.stop()
        cleanup_pam_wrapper_dirs()
        import shutil
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
