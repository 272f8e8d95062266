#!/usr/bin/python3
"""The login storm as a test: 30 concurrent first logins (threads of one
process under pam_wrapper) against one stand-in, fresh cache dir. Asserts
all PAM_SUCCESS, exactly one RegisterClient and a valid cache file; no
timing assertions (the figures are the benchmark's business: make storm).

Usage: test_storm.py [-n 30] [--module SO]   Prints TAP."""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
from hcommon import MODULE, Tap  # noqa: E402
import storm  # noqa: E402  (tests/bench/storm.py)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--module", default=MODULE)
    a = ap.parse_args()
    tap = Tap()
    s, _, raw = storm.storm(a.n, baseline=0, module=os.path.abspath(a.module), timeout=180)
    detail = "%s\n--- driver stdout (tail)\n%s\n--- driver stderr (tail)\n%s" % (
        {k: v for k, v in s.items()}, raw["stdout"][-1500:], raw["stderr"][-3000:])
    for ok, what in storm.requirements(s):
        tap.check(ok, what, detail)
    tap.check(raw["rc"] == 0, "the driver exited 0 (rc %s)" % raw["rc"], detail)
    print("# %d logins in %.1f s; approval->success p50 %.0f ms, p99 %.0f ms (not asserted)"
          % (s["n"], s["wall"], 1000 * (s["approval_to_success_p50"] or 0),
             1000 * (s["approval_to_success_p99"] or 0)))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
