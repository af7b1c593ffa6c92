#!/bin/sh
# A short run of the protocol binary through bench/report.py: the pipeline of bench/run.sh, with
# 20 ms timed runs and a few contenders. Checks that the targets and tables the docs quote are
# written (not their values: speed is measured by bench/run.sh, never asserted by a test).
#   bench/report_smoke.sh <ndislock-bench> <report.py> <output directory>
set -eu
bench=$1 report=$2 out=$3
mkdir -p "$out"
NDISLOCK_VERIFIER=off NDISLOCK_BENCH_RUN_MS=20 "$bench" --benchmark_repetitions=1 \
    --benchmark_filter='S0/pair/(ndislock|bare_tas)$|S2/cs25ns/(ndislock|ndislock_dpr_word|bare_tas|pthread_spinlock|rounds)/|S3/serial_bound/|S3/x2/(ndislock|pthread_spinlock|std_mutex|os_floor_no_lock|rounds)/|S7/t2/' \
    --benchmark_out="$out/results.json" --benchmark_out_format=json >/dev/null
python3 "$report" "$out/results.json" "$out" >/dev/null
md="$out/results.md"
fail=0
expect() {
    if ! grep -qF -- "$1" "$md"; then
        echo "report_smoke: missing from $md: $1" >&2
        fail=1
    fi
}
expect '| S0 | NdisAcquire+Release / bare TAS pair <= 1.3 |'
expect '| S2 (rounds) | cs25ns: ndislock ops/s / best spinner of the same round, median of 5 rounds >= 1 |'
expect 'cs25ns: acquisitions that moved the lock to the other thread, ndislock / ndislock_dpr_word /'
expect '| S2 (info) | cs25ns: lock word alone (ndislock_dpr_word: Dpr forms, threads staying at DISPATCH_LEVEL) ops/s / best spinner'
expect '| S3 (rounds) | x2: ndislock / std::mutex ops/s, median of 5 rounds >= 1 |'
expect '| S3 (info) | x2: serial bound ops/s / pthread_spinlock (the most any lock could reach) |'
expect 'Serial bound (`S3/serial_bound/bare_tas`'
expect '| run | contender | ops/s | min/max | Jain | mean wait ns | max wait us | CPU ns per op | moved | slow reps |'
expect '| S3 (info) | x2: share of repetitions in the guest'"'"'s slow state, ndislock / std::mutex (values) |'
# The rounds split by the guest's state (with 20 ms runs and 5 rounds, most runs see one state only).
expect '| S3 (rounds, info) | x2: the guest'"'"'s state, line hand-off between the CPUs before and after each round, median (ns) |'
expect 'x2: ndislock / std::mutex ops/s, median of the'
expect 'fast-state rounds |'
expect 'slow-state rounds |'
# The no-lock floor moves nothing: its moved column is empty, a lock's is a share in (0, 1].
expect '| x2 | os_floor_no_lock |'
if grep -E '^\| x2 \| os_floor_no_lock \|' "$md" | grep -qvE '\| - \| (-|[0-9.]+) \|$'; then
    echo "report_smoke: the no-lock floor reports a moved share" >&2
    fail=1
fi
# (A share, however small: under load one thread may keep the lock nearly throughout, 1.4e-05.)
# Then the share of slow-state repetitions: 0, 0.5 or 1 here (one repetition), or "-" when the
# probe could not run (a process allowed on one CPU).
if ! grep -E '^\| cs25ns \| ndislock \|' "$md" |
    awk -F'|' '{ v = $(NF - 2); gsub(/ /, "", v); ok = v ~ /^[0-9.]+(e[-+][0-9]+)?$/ && v + 0 > 0 && v + 0 <= 1
                 w = $(NF - 1); gsub(/ /, "", w); ok = ok && (w == "-" || w == "0" || w == "0.5" || w == "1") }
               END { exit !ok }'; then
    echo "report_smoke: ndislock's S2 row lacks a moved share in (0, 1] or a slow-state share" >&2
    fail=1
fi
# S7: the read-mostly targets and table.
expect '| S7 | t2: ndislock_rw_ex ops/s / best peer ('
expect '| S7 (rounds) | t2: ndislock_rw_ex ops/s / best peer of the same round, median of 5 rounds >= 1 |'
expect '| S7 (rounds) | t2: ndislock_rw_ex max writer wait over the rounds < 50 ms (value in ms) |'
expect '| threads | contender | ops/s | CPU ns per op | max writer wait us | max reader wait us | torn |'
expect '| t2 | ndislock_rw_ex |'
[ -s "$out/throughput.svg" ] || { echo "report_smoke: no throughput.svg" >&2; fail=1; }
exit $fail
