#!/bin/bash
# Run every suite, each printing TAP, and finish with "N passed, N failed".
# A suite that exits non-zero without reporting a failure counts as one.
set -u
cd "$(dirname "$0")/.."
export AWS4_TESTSUITE="${AWS4_TESTSUITE:-$PWD/../shared/testdata/aws4_testsuite}"
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"
passed=0 failed=0 skipped=0
PY=/usr/bin/python3

suite() { # suite NAME COMMAND...
    local name=$1; shift
    local log="$LOGDIR/$name.log" t0=$SECONDS
    echo "=== $name"
    "$@" >"$log" 2>&1
    local rc=$?
    local ok nok skip
    # cmocka writes skips as "not ok N # SKIP": a skip is neither pass nor fail.
    skip=$(grep -cE '^(not )?ok [0-9]+.*# (SKIP|skip)' "$log")
    ok=$(grep -E '^ok [0-9]+' "$log" | grep -cvE '# (SKIP|skip)')
    nok=$(grep -E '^not ok [0-9]+' "$log" | grep -cvE '# (SKIP|skip)')
    if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
        nok=1
        echo "not ok - $name exited with status $rc"
    fi
    grep -E '^(not ok|ok [0-9]+.*# (SKIP|skip))' "$log" | sed 's/^/    /'
    if [ "$nok" -gt 0 ]; then
        echo "--- last lines of $log:"
        tail -n 60 "$log" | sed 's/^/    | /'
    fi
    echo "    $name: $ok passed, $nok failed, $skip skipped ($((SECONDS - t0)) s)"
    passed=$((passed + ok)) failed=$((failed + nok)) skipped=$((skipped + skip))
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

suite unit unit
suite exported-symbols tests/check_symbols.sh pam_ssooidc/pam_ssooidc.so
suite standin-botocore "$PY" tests/standin/test_botocore.py
suite module "$PY" tests/module/test_module.py pam_ssooidc/pam_ssooidc.so --jobs 4
suite module-asan "$PY" tests/module/test_module.py build/asan/pam_ssooidc.so --wrap asan --jobs 4
suite module-valgrind "$PY" tests/module/test_module.py pam_ssooidc/pam_ssooidc.so --wrap valgrind --jobs 4

# Further suites (end-to-end, packaging, hardening) live in tests/suites.d/,
# one file each, run in name order; each calls `suite NAME COMMAND...`.
for f in tests/suites.d/*.sh; do
    [ -e "$f" ] || continue
    # shellcheck disable=SC1090
    . "$f"
done

rm -rf /tmp/pam.? 2>/dev/null
echo
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
