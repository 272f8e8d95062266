#!/bin/bash
# Run every suite, each printing TAP, and finish with "N passed, N failed".
# A suite that exits non-zero without reporting a failure counts as one.
set -u
cd "$(dirname "$0")/.."
export AWS4_TESTSUITE="${AWS4_TESTSUITE:-$PWD/tests/unit/aws4_testsuite}"
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"
passed=0 failed=0 skipped=0
PY=/usr/bin/python3

# Count one suite's TAP log: ok / not ok / skips, and a non-zero exit that
# reported no failure counts as one.
tally() { # tally NAME RC SECONDS
    local name=$1 rc=$2 secs=$3 log="$LOGDIR/$1.log"
    local ok nok skip
    # cmocka writes skips as "not ok N # SKIP": a skip is neither pass nor fail.
    skip=$(grep -cE '^(not )?ok [0-9]+.*# (SKIP|skip)' "$log")
    ok=$(grep -E '^ok [0-9]+' "$log" | grep -cvE '# (SKIP|skip)')
    nok=$(grep -E '^not ok [0-9]+' "$log" | grep -cvE '# (SKIP|skip)')
    echo "=== $name"
    if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
        nok=1
        echo "not ok - $name exited with status $rc"
    fi
    grep -E '^(not ok|ok [0-9]+.*# (SKIP|skip))' "$log" | sed 's/^/    /'
    if [ "$nok" -gt 0 ]; then
        echo "--- last lines of $log:"
        tail -n 60 "$log" | sed 's/^/    | /'
    fi
    echo "    $name: $ok passed, $nok failed, $skip skipped ($secs s)"
    passed=$((passed + ok)) failed=$((failed + nok)) skipped=$((skipped + skip))
}

suite() { # suite NAME COMMAND...
    local name=$1; shift
    local t0=$SECONDS
    "$@" >"$LOGDIR/$name.log" 2>&1
    tally "$name" $? $((SECONDS - t0))
}

# Long, mostly CPU-bound suites (valgrind) run beside the others, filling
# the time the rest spend waiting on polls and servers; each is tallied at
# the end.
BG_NAMES=() BG_PIDS=() BG_T0S=()
suite_background() { # suite_background NAME COMMAND...
    local name=$1; shift
    BG_NAMES+=("$name") BG_T0S+=("$SECONDS")
    "$@" >"$LOGDIR/$name.log" 2>&1 &
    BG_PIDS+=($!)
}

unit() {
    local rc=0
    for t in build/unit/test_*; do
        [ -x "$t" ] || continue
        echo "# $t"
        CMOCKA_MESSAGE_OUTPUT=TAP "$t" || rc=1
    done
    return $rc
}

suite_background module-valgrind "$PY" tests/module/test_module.py pam_ssooidc/pam_ssooidc.so \
    --wrap valgrind --jobs 4
suite_background module-oidc-valgrind "$PY" tests/module/test_module_oidc.py \
    pam_ssooidc/pam_ssooidc.so --wrap valgrind --jobs 4
suite unit unit
suite exported-symbols tests/check_symbols.sh pam_ssooidc/pam_ssooidc.so
suite standin-botocore "$PY" tests/standin/test_botocore.py
suite module "$PY" tests/module/test_module.py pam_ssooidc/pam_ssooidc.so --jobs 8
suite module-asan "$PY" tests/module/test_module.py build/asan/pam_ssooidc.so --wrap asan --jobs 8

# Further suites (end-to-end, packaging, hardening) live in tests/suites.d/,
# one file each, run in name order; each calls `suite NAME COMMAND...`.
for f in tests/suites.d/*.sh; do
    [ -e "$f" ] || continue
    # shellcheck disable=SC1090
    . "$f"
done

for i in "${!BG_PIDS[@]}"; do
    wait "${BG_PIDS[$i]}"
    tally "${BG_NAMES[$i]}" $? $((SECONDS - BG_T0S[i]))
done

"$PY" -c 'import sys; sys.path.insert(0, "tests/module"); import harness; harness.cleanup_pam_wrapper_dirs()' 
echo
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
