# Fuzzing and allocation failure (docs/fuzzing.md). The binaries are built by
# `make tools` (tests/fuzz/fuzz.mk, tests/alloc/alloc.mk).
# fuzz: each libFuzzer target replays its seed corpus and every reproducer in
#   tests/fuzz/regressions/, then fuzzes for FUZZ_CHECK_SECONDS (2) with
#   ASan+UBSan; two TAP lines per target.
# alloc-failure: the `make check` subset of the sweep - every k whose
#   allocating call site is outside libcrypto, libcurl and jansson, every
#   2nd of jansson's, every 8th of libcurl's and every 300th of libcrypto's,
#   the k of tests/alloc/regressions.txt, and 2 of the module's own call
#   sites under valgrind (docs/fuzzing.md).
#   `make allocfail` runs every k.
# Both run in the background from the start, beside everything else, and
# are tallied at the end: neither changes any system-wide state, and started
# last they were the run's tail (about 70 s after the last foreground suite).
suite_background alloc-failure /usr/bin/python3 tests/alloc/run.py --tap
suite_background fuzz tests/fuzz/run.sh --tap --seconds "${FUZZ_CHECK_SECONDS:-2}"
