#!/bin/sh
# fuzz-long.sh [SECONDS] -- runs every libFuzzer target in build/fuzz for
# SECONDS each (default $FUZZ_TIME, else 300), one after another at nice 19
# (the machine is shared), and prints per target: runs, execs/s, edge
# coverage, features, corpus size before/after, and crashes.
#
# Each target grows its own working corpus build/fuzz/corpus-NAME (seeded
# from fuzz/corpus/NAME, which is only read), so a second run starts where
# the first stopped.  libFuzzer stops a target at its first crash, leak or
# timeout; the input is kept as build/fuzz/long/NAME-crash-* (copy it into
# fuzz/corpus/NAME as a regression seed once fixed).  The per-target log is
# build/fuzz/long/NAME.log.  Exit status: the number of targets that found
# something (0 = all clean).
set -u
cd "$(dirname "$0")/.."
T=${1:-${FUZZ_TIME:-300}}
case $T in ''|*[!0-9]*) echo "fuzz-long: time must be whole seconds" >&2; exit 2 ;; esac
out=build/fuzz/long
mkdir -p "$out"
bad=0
printf '%-16s %6s %11s %9s %7s %7s %13s %s\n' target secs runs execs/s cov ft corpus result
for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] && [ -f "$f" ] || continue
    n=$(basename "$f")
    seeds=fuzz/corpus/${n#fuzz_}
    work=build/fuzz/corpus-$n
    mkdir -p "$seeds" "$work"
    rm -f "$out/$n"-crash-* "$out/$n"-leak-* "$out/$n"-timeout-* "$out/$n"-oom-*
    before=$(find "$work" "$seeds" -type f | wc -l)
    t0=$(date +%s)
    nice -n 19 "$f" -max_total_time="$T" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/$n-" "$work" "$seeds" >"$out/$n.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    stat() { sed -n "s/^stat::$1: *//p" "$out/$n.log" | tail -1; }
    runs=$(stat number_of_executed_units)
    eps=$(stat average_exec_per_sec)
    # the last status line: "#N <kind> cov: C ft: F corp: U/S ..."
    last=$(grep -E '^#[0-9]+' "$out/$n.log" | tail -1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    after=$(find "$work" "$seeds" -type f | wc -l)
    found=$(ls "$out/$n"-crash-* "$out/$n"-leak-* "$out/$n"-timeout-* "$out/$n"-oom-* 2>/dev/null)
    if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
        res="0 crashes"
    else
        bad=$((bad + 1))
        res="FOUND (exit $rc): ${found:-see $out/$n.log}"
    fi
    printf '%-16s %6s %11s %9s %7s %7s %13s %s\n' "$n" "$secs" "${runs:-?}" "${eps:-?}" \
        "${cov:-?}" "${ft:-?}" "$before->$after" "$res"
done
exit "$bad"
