#!/bin/bash
# Run the libFuzzer targets in build/fuzz/ (build them with `make fuzz-build`).
#
#   tests/fuzz/run.sh [--seconds N] [--jobs J] [--tap] [TARGET...]
#
# For each target (default: every build/fuzz/fuzz_*):
#   1. replay its seed corpus (tests/fuzz/corpus/TARGET) and every reproducer
#      in tests/fuzz/regressions/TARGET: each must pass the invariants;
#   2. fuzz it for N seconds (default 60) with ASan + UBSan + leak checking,
#      starting from the seeds, with tests/fuzz/dict/TARGET.dict if present.
#      New corpus entries go to build/fuzz/work/TARGET (kept between runs,
#      except with --tap, which starts from the seeds alone); a crash, leak,
#      timeout or broken invariant saves its input in build/fuzz/artifacts/.
# J targets run at once (default 1). Prints one summary line per target
# (with --tap, two TAP lines per target: replay, fuzzing) and exits 1 if any
# target failed. Logs: build/fuzz/logs/TARGET.{replay,fuzz}.log
set -u
cd "$(dirname "$0")/../.."

seconds=60 jobs=1 tap=0
targets=()
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --tap) tap=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then
    for b in build/fuzz/fuzz_*; do [ -x "$b" ] && targets+=("$(basename "$b")"); done
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "no fuzz targets built; run 'make fuzz-build'" >&2
    exit 1
fi

B=build/fuzz
mkdir -p "$B/logs" "$B/artifacts" "$B/work" "$B/results"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:symbolize=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

# run_one TARGET: writes build/fuzz/results/TARGET as
# "replay_rc replay_inputs fuzz_rc execs seconds crash_files"
run_one() {
    local t=$1 bin="$B/$1" seeds="tests/fuzz/corpus/$1" regs="tests/fuzz/regressions/$1"
    local work="$B/work/$1" art="$B/artifacts/$1/" dict="tests/fuzz/dict/$1.dict"
    local rlog="$B/logs/$1.replay.log" flog="$B/logs/$1.fuzz.log"
    mkdir -p "$art" "$work"
    [ "$tap" = 1 ] && rm -rf "${work:?}"/* 2>/dev/null
    local inputs=() f
    for f in "$seeds"/* "$regs"/*; do [ -f "$f" ] && inputs+=("$f"); done
    local replay_rc=0
    : >"$rlog"
    if [ ${#inputs[@]} -gt 0 ]; then
        # Individual files: libFuzzer runs each once and stops at the first failure.
        "$bin" -runs=1 -artifact_prefix="$art" "${inputs[@]}" >>"$rlog" 2>&1 || replay_rc=$?
    fi
    local dictarg=()
    [ -f "$dict" ] && dictarg=(-dict="$dict")
    local t0=$SECONDS fuzz_rc=0
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$art" "${dictarg[@]}" "$work" "$seeds" \
        >"$flog" 2>&1 || fuzz_rc=$?
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$flog" | tail -1)
    [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$flog" | tail -1 | tr -d '#')
    local crashes
    crashes=$(grep -oE "(crash|leak|timeout|oom|slow-unit)-[0-9a-f]+" "$flog" | sort -u | tr '\n' ' ')
    echo "$replay_rc ${#inputs[@]} $fuzz_rc ${execs:-0} $((SECONDS - t0)) ${crashes}" >"$B/results/$t"
}

pids=()
for t in "${targets[@]}"; do
    if [ ! -x "$B/$t" ]; then
        echo "0 0 127 0 0 (not built)" >"$B/results/$t"
        continue
    fi
    run_one "$t" &
    pids+=($!)
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait

# shellcheck source=../tap.sh
. tests/tap.sh
total_execs=0 total_secs=0
for t in "${targets[@]}"; do
    read -r replay_rc inputs fuzz_rc execs secs crashes <"$B/results/$t"
    ncrash=$(echo "$crashes" | wc -w)
    [ "$fuzz_rc" != 0 ] && [ "$ncrash" = 0 ] && ncrash=1
    total_execs=$((total_execs + execs)) total_secs=$((total_secs + secs))
    if [ "$tap" = 1 ]; then
        if [ "$replay_rc" = 0 ]; then
            check 0 "$t: $inputs seed and regression inputs replay clean"
        else
            check 1 "$t: replaying seeds/regressions failed (rc $replay_rc)" \
                "$(grep -E "INVARIANT|ERROR: |runtime error|Running: " "$B/logs/$t.replay.log" | head -8)"
        fi
        if [ "$fuzz_rc" = 0 ]; then
            check 0 "$t: fuzzed ${secs} s, $execs execs, 0 crashes"
        else
            check 1 "$t: fuzzed ${secs} s, $execs execs, $ncrash crash(es): $crashes(rc $fuzz_rc)" \
                "$(grep -E "INVARIANT|check:|ERROR: |runtime error|SUMMARY" "$B/logs/$t.fuzz.log" | head -8)"
        fi
    else
        status=ok
        { [ "$replay_rc" != 0 ] || [ "$fuzz_rc" != 0 ]; } && status=FAILED && failed=$((failed + 1))
        printf '%-14s %4s s %12s execs %3s crashes  replay(%s inputs) rc=%s  %s %s\n' \
            "$t" "$secs" "$execs" "$ncrash" "$inputs" "$replay_rc" "$status" "$crashes"
        if [ "$status" = FAILED ]; then
            grep -E "INVARIANT|check:|ERROR: |runtime error|SUMMARY" "$B/logs/$t.replay.log" \
                "$B/logs/$t.fuzz.log" | head -8 | sed 's/^/    /'
        fi
    fi
done
if [ "$tap" = 1 ]; then
    echo "# total: $total_execs execs in $total_secs s of fuzzing"
    finish
else
    echo "total: $total_execs execs in $total_secs s of fuzzing, ${#targets[@]} targets, $failed failed"
fi
[ "$failed" -eq 0 ]
