# tests/tap.sh - TAP output for the shell test scripts (sourced; bash):
#   check STATUS DESCRIPTION [DIAGNOSTIC]   one "ok"/"not ok" line; returns STATUS
#   skip DESCRIPTION [REASON]               one "ok N - DESCRIPTION # SKIP REASON" line
#   check_is ACTUAL EXPECTED DESCRIPTION    ACTUAL is EXPECTED (the diagnostic: ACTUAL)
#   check_lists DESCRIPTION EXPECTED ACTUAL two lists, one item a line, hold the same
#                                           items (the diagnostic: their diff)
#   check_says OUTPUT DESCRIPTION TEXT...   OUTPUT holds every TEXT (fixed strings)
#   need_tools TOOL...                      "Bail out!" and exit 1 unless every TOOL is there
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
skip() {
    n=$((n + 1))
    echo "ok $n - $1 # SKIP${2:+ $2}"
}
check_is() {
    [ "$1" = "$2" ]
    check $? "$3" "got: $1"
}
check_lists() {
    local diff_out
    diff_out=$(diff <(printf '%s\n' "$2" | sort) <(printf '%s\n' "$3" | sort))
    check $? "$1" "expected (<) vs. actual (>):
$diff_out"
}
check_says() {
    local out=$1 desc=$2 text
    shift 2
    for text in "$@"; do
        printf '%s\n' "$out" | grep -qF -- "$text" || { check 1 "$desc" "$out"; return; }
    done
    check 0 "$desc"
}
need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "Bail out! $tool not found (see tests/deps.sh)"; exit 1; }
    done
}
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }
