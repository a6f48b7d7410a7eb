#!/bin/sh
# make fuzz: run each harness, then report executions and line coverage.
#   run.sh BUILD SECONDS TARGET...
set -u
B=$1; SECS=$2; shift 2
LLVM_PROFDATA=$(command -v llvm-profdata || command -v llvm-profdata-14)
LLVM_COV=$(command -v llvm-cov || command -v llvm-cov-14)
fail=0
report=""
for t in "$@"; do
    mkdir -p "$B/corpus/$t" "$B/crash/$t" "$B/log"
    log="$B/log/$t.txt"
    echo "== fuzz $t (${SECS} s)"
    # -rss_limit_mb: the harnesses use static memory only; anything growing is a leak
    "$B/bin/$t" -max_total_time="$SECS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$B/crash/$t/" "$B/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $rc != 0 ]; then
        fail=1
        echo "   FAILED (exit $rc): see $log and $B/crash/$t/"
        grep -m3 -E 'ERROR|invariant failed|runtime error' "$log" | sed 's/^/   /'
    fi
    # coverage of the module under test (first source named on line 1)
    src=$(sed -n '1s/^.*fuzz: *\([^ ]*\).*$/\1/p' "tests/fuzz/$t.c")
    rm -f "$B/cov/$t.profraw"
    LLVM_PROFILE_FILE="$B/cov/$t.profraw" "$B/cov/$t" "$B/corpus/$t" "tests/fuzz/corpus/$t" \
        "tests/fuzz/crash/$t" >/dev/null 2>&1
    cov="?"
    if [ -n "$LLVM_PROFDATA" ] && [ -n "$LLVM_COV" ] && [ -f "$B/cov/$t.profraw" ]; then
        "$LLVM_PROFDATA" merge -sparse "$B/cov/$t.profraw" -o "$B/cov/$t.profdata" &&
        cov=$("$LLVM_COV" report "$B/cov/$t" -instr-profile="$B/cov/$t.profdata" "$src" 2>/dev/null |
              awk '$1 == "TOTAL" { print $10 }')
    fi
    n=$(ls "$B/corpus/$t" | wc -l)
    line=$(printf '%-12s %12s execs  %5s inputs  lines %7s  %s' "$t" "${execs:-?}" "$n" "${cov:-?}" "$src")
    echo "   $line"
    report="$report
$line"
done
echo
echo "fuzz summary (${SECS} s each):$report"
[ $fail = 0 ] || { echo "fuzz: crashes found (build/fuzz/crash/)"; exit 1; }
