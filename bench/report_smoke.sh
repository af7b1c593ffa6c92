#!/bin/sh
# A short run of the protocol binary through bench/report.py: the pipeline of bench/run.sh, with
# 20 ms timed runs and a few contenders. Checks that the targets and tables the docs quote are
# written, each target in each of the guest's states (not their values: speed is measured by
# bench/run.sh, never asserted by a test).
#   bench/report_smoke.sh <ndislock-bench> <report.py> <output directory>
set -eu
bench=$1 report=$2 out=$3
mkdir -p "$out"
# First the per-state logic on a made-up JSON: same-state ratios, met only in both states.
python3 "$(dirname "$report")/report_states_check.py"
NDISLOCK_VERIFIER=off NDISLOCK_BENCH_RUN_MS=20 "$bench" --benchmark_repetitions=1 \
    --benchmark_filter='S0/pair/(ndislock|ndislock_queued|bare_tas|ck_spinlock_mcs)$|S1/handoff/(ndislock_queued|ck_spinlock_mcs)/|S2/cs25ns/(ndislock|ndislock_dpr_word|bare_tas|pthread_spinlock|rounds)/|S3/serial_bound/|S3/x2/(ndislock|ndislock_queued|pthread_spinlock|std_mutex|os_floor_no_lock|rounds)/|S7/t2/' \
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
# The targets table: a column per state of the guest.
expect '| scenario | target | fast state | slow state | met |'
expect '| S0 | NdisAcquire+Release / bare TAS pair <= 1.3 |'
expect '| S2 (rounds) | cs25ns: ndislock ops/s / best spinner of the same round, median of 5 rounds >= 1 |'
expect 'cs25ns: acquisitions that moved the lock to the other thread, ndislock / ndislock_dpr_word /'
expect '| S2 (info) | cs25ns: lock word alone (ndislock_dpr_word: Dpr forms, threads staying at DISPATCH_LEVEL) ops/s / best spinner'
expect '| S3 | x2: ndislock / std::mutex ops/s >= 1 |'
expect '| S3 (rounds) | x2: ndislock / std::mutex ops/s, median of 5 rounds >= 1 |'
expect '| S3 (info) | x2: serial bound ops/s / pthread_spinlock (the most any lock could reach) |'
expect '| S3 (rounds, info) | x2: line hand-off between the CPUs before and after each round, median (ns; the state probe) |'
# The in-stack queued lock's targets (issue #22); against MCS only when Concurrency Kit is built in.
expect '| S3 (queued) | x2: ndislock_queued / std::mutex ops/s >= 0.8 |'
expect '| S3 (rounds, queued) | x2: ndislock_queued / std::mutex ops/s of the same round, median >= 0.8 |'
if grep -q '"S0/pair/ck_spinlock_mcs' "$out/results.json"; then
    expect '| S0 (queued) | KeAcquire+ReleaseInStackQueuedSpinLock / ck_spinlock_mcs pair <= 1.3 |'
    expect '| S1 (queued) | hand-off ns, ndislock_queued / ck_spinlock_mcs <= 1.2 |'
    expect '| S2 (rounds, queued) | cs25ns: ndislock_queued / ck_spinlock_mcs ops/s of the same round, median >= 1 |'
fi
# A state-independent target is judged once and says why.
if ! grep -E '^\| S0 \| NdisAcquire' "$md" | grep -qF '| state-independent: one thread, no line crosses CPUs |'; then
    echo "report_smoke: S0's target does not say it is state-independent" >&2
    fail=1
fi
# Each state's cell: a figure with the repetitions (a ratio: numerator/denominator) or rounds behind
# it, or "no <state>-state run" (one 20 ms repetition sees one state, or a changing one: neither);
# "met" only with a figure in both states, else "not shown in both states".
check_states() { # <row prefix> <count pattern>
    if ! grep -F -- "$1" "$md" | awk -F'|' -v count="$2" '
        function cell(c, state) { gsub(/^ +| +$/, "", c)
            if (c == "no " state "-state run") return 0
            if (c ~ ("^[-0-9.e+]+ \\(" count "\\)$")) return 1
            return -1 }
        { f = cell($4, "fast"); s = cell($5, "slow"); m = $6; gsub(/^ +| +$/, "", m)
          ok = f >= 0 && s >= 0 && (f && s ? (m == "yes" || m ~ /^\*\*no\*\*/) : m == "not shown in both states")
          n++ }
        END { exit !(n == 1 && ok) }'; then
        echo "report_smoke: the row '$1' lacks a figure with its count or a no-run note in each state, or its verdict" >&2
        fail=1
    fi
}
check_states '| S3 | x2: ndislock / std::mutex ops/s >= 1 |' '[0-9]+/[0-9]+ reps?'
check_states '| S3 | x2: ndislock min/max per-thread ops >= 0.5 |' '[0-9]+ reps?'
check_states '| S3 (queued) | x2: ndislock_queued / std::mutex ops/s >= 0.8 |' '[0-9]+/[0-9]+ reps?'
check_states '| S3 (rounds) | x2: ndislock / std::mutex ops/s, median of 5 rounds >= 1 |' '[0-9]+ rounds?'
check_states '| S7 (rounds) | t2: ndislock_rw_ex ops/s / best peer of the same round, median of 5 rounds >= 1 |' '[0-9]+ rounds?'
# The S2/S3 tables: ops/s in each state after the moved share.
expect '| run | contender | ops/s | min/max | Jain | mean wait ns | max wait us | CPU ns per op | moved | ops/s, fast state | ops/s, slow state |'
expect 'Serial bound (`S3/serial_bound/bare_tas`'
# The no-lock floor moves nothing: its moved column is empty, a lock's is a share in (0, 1].
expect '| x2 | os_floor_no_lock |'
if ! grep -E '^\| x2 \| os_floor_no_lock \|' "$md" | awk -F'|' '{ v = $(NF - 3); gsub(/ /, "", v); exit v != "-" }'; then
    echo "report_smoke: the no-lock floor reports a moved share" >&2
    fail=1
fi
# (A share, however small: under load one thread may keep the lock nearly throughout, 1.4e-05.)
# Then ops/s in each state: a figure with one repetition behind it, or no run in that state.
if ! grep -E '^\| cs25ns \| ndislock \|' "$md" |
    awk -F'|' '{ v = $(NF - 3); gsub(/ /, "", v); ok = v ~ /^[0-9.]+(e[-+][0-9]+)?$/ && v + 0 > 0 && v + 0 <= 1
                 f = $(NF - 2); s = $(NF - 1)
                 ok = ok && (f ~ /\(1 rep\)/ || f ~ /no fast-state run/) && (s ~ /\(1 rep\)/ || s ~ /no slow-state run/) }
               END { exit !ok }'; then
    echo "report_smoke: ndislock's S2 row lacks a moved share in (0, 1] or its ops/s in each state" >&2
    fail=1
fi
# S1: ns per hand-off in each state.
expect '| contender | ns per hand-off | mean wait ns | max wait us | fast state | slow state |'
# S7: the read-mostly targets and table.
expect '| S7 | t2: ndislock_rw_ex ops/s / best peer of the state >= 1 |'
expect '| S7 (rounds) | t2: ndislock_rw_ex ops/s / best peer of the same round, median of 5 rounds >= 1 |'
expect '| S7 (rounds) | t2: ndislock_rw_ex max writer wait over the rounds < 50 ms (value in ms) |'
expect '| threads | contender | ops/s | CPU ns per op | max writer wait us | max reader wait us | torn | ops/s, fast state | ops/s, slow state |'
expect '| t2 | ndislock_rw_ex |'
[ -s "$out/throughput.svg" ] || { echo "report_smoke: no throughput.svg" >&2; fail=1; }
exit $fail
