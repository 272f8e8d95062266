# tests/tap.sh - TAP output for the shell test scripts (sourced):
#   check STATUS DESCRIPTION [DIAGNOSTIC]   one "ok"/"not ok" line; returns STATUS
#   finish                                  the plan line; exits 1 if any check failed
n=0 failed=0
check() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
        [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
    fi
    return "$1"
}
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }
