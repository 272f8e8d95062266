#!/bin/bash
# The test runner: runs the suites declared in tests/suites.d/, each printing
# TAP into build/test-logs/NAME.log, tallies each, and finishes with
# "N passed, N failed" (", N skipped" when some were). A suite that exits
# non-zero without reporting a failure counts as one failure. Exit status 0
# only when nothing failed.
#
#   tests/run_all.sh               every suite
#   tests/run_all.sh NAME...       only these (make check SUITES="NAME...")
#   tests/run_all.sh --list        the names, in the order they run
#   tests/run_all.sh --list NAME...  check the names only: fails on an unknown one
#
# tests/suites.d/*.sh are sourced in name order; each declares its suites
# with `suite NAME COMMAND...` (run in turn) or `suite_background NAME
# COMMAND...` (started at once, beside the others, and tallied at the end).
# They are read twice: first only to learn the names, then to run the
# chosen ones, so a file must do nothing but declare (functions and
# variables for its own commands are fine). tests/README.md lists them.
set -u
cd "$(dirname "$0")/.." || exit 1
PY=/usr/bin/python3
LOGDIR=build/test-logs

# Pass 1: learn the names. `suite` and `suite_background` only record them.
ALL_NAMES=()
suite() { ALL_NAMES+=("$1"); }
suite_background() { ALL_NAMES+=("$1"); }
load_suites() {
    local f
    for f in tests/suites.d/*.sh; do
        [ -e "$f" ] || continue
        # shellcheck disable=SC1090
        . "$f"
    done
}
load_suites

declare -A KNOWN=() CHOSEN=()
for n in "${ALL_NAMES[@]}"; do KNOWN[$n]=1; done

list=no
if [ "${1:-}" = --list ]; then
    list=yes
    shift
elif [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
    sed -n '2,/^set -u$/{/^set -u$/d;s/^# \{0,1\}//;p}' "$0"
    exit 0
fi
unknown=()
for n in "$@"; do
    if [ -n "${KNOWN[$n]:-}" ]; then CHOSEN[$n]=1; else unknown+=("$n"); fi
done
if [ "${#unknown[@]}" -gt 0 ]; then
    echo "run_all.sh: no such suite: ${unknown[*]}" >&2
    echo "the suites are: ${ALL_NAMES[*]}" >&2
    exit 2
fi
if [ "$list" = yes ]; then
    for n in "${ALL_NAMES[@]}"; do
        if [ $# -eq 0 ] || [ -n "${CHOSEN[$n]:-}" ]; then echo "$n"; fi
    done
    exit 0
fi
# No names: every suite.
chosen() { [ "${#CHOSEN[@]}" -eq 0 ] || [ -n "${CHOSEN[$1]:-}" ]; }

mkdir -p "$LOGDIR"
passed=0 failed=0 skipped=0 cpu_total=0

# Count one suite's TAP log: ok / not ok / skips, and a non-zero exit that
# reported no failure counts as one.
tally() { # tally NAME RC SECONDS
    local name=$1 rc=$2 secs=$3 log="$LOGDIR/$1.log"
    local ok nok skip cpu=""
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
    # CPU seconds (user + system, the suite's processes and the ones they
    # waited for): on 2 cores the total, not each suite's wall time, sets
    # how long `make check` takes.
    cpu=$(awk 'NF == 2 { printf "%d", $1 + $2 + 0.5 }' "$LOGDIR/$name.cpu" 2>/dev/null)
    cpu_total=$((cpu_total + ${cpu:-0}))
    [ -n "$cpu" ] && cpu=", CPU $cpu s"
    echo "    $name: $ok passed, $nok failed, $skip skipped ($secs s$cpu)"
    passed=$((passed + ok)) failed=$((failed + nok)) skipped=$((skipped + skip))
}

# Pass 2: run the chosen suites.
# Run a suite's command (a program or a function) with its output in
# NAME.log and its CPU seconds, user and system, in NAME.cpu. In a subshell:
# the runner's own shell also reaps the background suites, whose CPU would
# otherwise count to whichever suite was running when they ended.
cpu_timed() { # cpu_timed NAME COMMAND...
    local name=$1; shift
    (
        TIMEFORMAT='%U %S'
        { time "$@" >"$LOGDIR/$name.log" 2>&1; } 2>"$LOGDIR/$name.cpu"
    )
}
suite() { # suite NAME COMMAND...
    local name=$1; shift
    chosen "$name" || return 0
    local t0=$SECONDS
    cpu_timed "$name" "$@"
    tally "$name" $? $((SECONDS - t0))
}

# Long, mostly CPU-bound suites (valgrind) run beside the others, filling
# the time the rest spend waiting on polls and servers; each is tallied at
# the end.
BG_NAMES=() BG_PIDS=() BG_T0S=()
suite_background() { # suite_background NAME COMMAND...
    local name=$1; shift
    chosen "$name" || return 0
    BG_NAMES+=("$name") BG_T0S+=("$SECONDS")
    cpu_timed "$name" "$@" &
    BG_PIDS+=($!)
}

load_suites

for i in "${!BG_PIDS[@]}"; do
    wait "${BG_PIDS[$i]}"
    tally "${BG_NAMES[$i]}" $? $((SECONDS - BG_T0S[i]))
done

"$PY" -c 'import sys; sys.path.insert(0, "tests/module"); import harness; harness.cleanup_pam_wrapper_dirs()'
echo "CPU: $cpu_total s in all suites, $SECONDS s wall"
echo
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
