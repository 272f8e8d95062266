#!/bin/sh
# make bench: see tests/bench/bench.py (and storm.py for the login storm,
# faults.py for a flaky wire, oidc_bench.py for an OpenID provider,
# nss_bench.py for the NSS module against glibc's files).
cd "$(dirname "$0")/../.." || exit 1
# oidc-provider for the OpenID part (npm ci; glewlwyd from Debian).
tests/providers/deps.sh >/dev/null || echo "(OpenID provider dependencies missing: that part is skipped)"
exec /usr/bin/python3 tests/bench/bench.py "$@"
