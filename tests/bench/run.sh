#!/bin/sh
# make bench: see tests/bench/bench.py (and storm.py for the login storm).
cd "$(dirname "$0")/../.." && exec /usr/bin/python3 tests/bench/bench.py "$@"
