#!/usr/bin/python3
"""The login storm as a test: 30 concurrent first logins (threads of one
process under pam_wrapper) against one stand-in, fresh cache dir. Asserts
all PAM_SUCCESS, exactly one RegisterClient and a valid cache file; no
timing assertions (the figures are the benchmark's business: make storm).

Two more storms over the same registration logic:
- the cached registration is unknown to the service (InvalidClientException
  for everyone): still exactly one new RegisterClient, all succeed;
- RegisterClient fails once (500): the retry policy (retries=2) absorbs it,
  everyone succeeds;
- RegisterClient fails three times in a row (500, more than retries=2): that
  one login fails, the next lock holder registers, everyone else succeeds.

Usage: test_storm.py [-n 30] [--module SO]   Prints TAP."""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
from hcommon import MODULE, STORM_DRIVE, Tap, World, ensure_built  # noqa: E402
import storm  # noqa: E402  (tests/bench/storm.py)


def detail_of(s, raw):
    # The module's syslog lines other than successes say why a login failed.
    odd = [l for l in raw["stderr"].splitlines()
           if "SYSLOG(" in l and "result=Success" not in l and "no default config" not in l]
    return "%s\n--- driver stdout (tail)\n%s\n--- module syslog, all but successes\n%s" % (
        s, raw["stdout"][-1500:], "\n".join(odd[-40:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--module", default=MODULE)
    a = ap.parse_args()
    module = os.path.abspath(a.module)
    tap = Tap()

    # 1. the storm of first logins
    s, _, raw = storm.storm(a.n, baseline=0, module=module, timeout=180)
    detail = detail_of(s, raw)
    for ok, what in storm.requirements(s):
        tap.check(ok, what, detail)
    tap.check(raw["rc"] == 0, "the driver exited 0 (rc %s)" % raw["rc"], detail)
    print("# %d logins in %.1f s; approval->success p50 %.0f ms, p99 %.0f ms (not asserted)"
          % (s["n"], s["wall"], 1000 * (s["approval_to_success_p50"] or 0),
             1000 * (s["approval_to_success_p99"] or 0)), flush=True)

    ensure_built(STORM_DRIVE)
    w = World(module, prefix="ssooidc-storm-")
    try:
        # 2. everyone's cached registration is rejected at once
        cache = w.fresh_cache()
        storm.analyse(storm.drive(w, 1, cache, 60))  # writes the cache
        raw = storm.drive(w, a.n, cache, 180)      # the reset forgot that client
        s = storm.analyse(raw)
        rejected = sum(1 for r in raw["log"] if r["op"] == "StartDeviceAuthorization"
                       and r["error"] == "InvalidClientException")
        d = detail_of(s, raw)
        tap.check(s["success"] == a.n, "stale registration storm: all %d logins PAM_SUCCESS "
                  "(%d)" % (a.n, s["success"]), d)
        tap.check(rejected >= 1 and s["register_client"] == 1,
                  "stale registration storm: %d InvalidClientException, exactly one new "
                  "RegisterClient (%d)" % (rejected, s["register_client"]), d)
        tap.check(s["cache_ok"] and not s["temp_left"],
                  "stale registration storm: valid cache file, no temp file", d)

        # 3. RegisterClient fails once: retried within the same login
        raw = storm.drive(w, a.n, w.fresh_cache(), 180,
                          {"faults": {"RegisterClient": {"kind": "http500", "count": 1}}})
        s = storm.analyse(raw)
        d = detail_of(s, raw)
        tap.check(s["success"] == a.n, "RegisterClient fails once: retried, all %d logins "
                  "PAM_SUCCESS (%d)" % (a.n, s["success"]), d)
        tap.check(s["register_client"] == 2, "RegisterClient fails once: exactly one more "
                  "RegisterClient (%d in all)" % s["register_client"], d)

        # 4. RegisterClient fails more often than one login retries
        raw = storm.drive(w, a.n, w.fresh_cache(), 180,
                          {"faults": {"RegisterClient": {"kind": "http500", "count": 3}}})
        s = storm.analyse(raw)
        codes = sorted(lg["code"] for lg in raw["logins"])
        d = detail_of(s, raw)
        tap.check(codes.count("PAM_AUTHINFO_UNAVAIL") == 1 and s["success"] == a.n - 1,
                  "RegisterClient fails 3 times: that login PAM_AUTHINFO_UNAVAIL, the other %d "
                  "PAM_SUCCESS" % (a.n - 1), d)
        tap.check(s["register_client"] == 4, "RegisterClient fails 3 times: the next lock "
                  "holder registers once (%d in all)" % s["register_client"], d)
        tap.check(s["cache_ok"] and not s["temp_left"],
                  "RegisterClient fails 3 times: valid cache file, no temp file", d)
    finally:
        w.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
