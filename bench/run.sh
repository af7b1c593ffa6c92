#!/bin/sh
# One command for the whole benchmark protocol (../shared/spec/benchmarks.md):
#   bench/run.sh [google-benchmark flags]
# installs the peer packages when missing (bench/setup.sh), builds build/default's ndislock-bench,
# runs every contender and scenario, S7's reader/writer locks included (about 6 minutes on 2
# cores), then writes
#   bench/results/results.json   Google Benchmark JSON (every one of 5 interleaved repetitions, and
#                                their medians, min, max; the console shows the aggregates only)
#   bench/results/results.md     the results and targets tables (markdown), each target in each of
#                                the guest's fast and slow states (bench/report_targets.py)
#   bench/results/throughput.svg throughput against thread count, contenders side by side
# NDISLOCK_BENCH_RUN_MS sets the wall time of each timed run (default 200).
set -eu
cd "$(dirname "$0")/.."
sh bench/setup.sh
cmake --preset default >/dev/null
cmake --build build/default --target ndislock-bench -j2
mkdir -p bench/results
NDISLOCK_VERIFIER=off build/default/bench/ndislock-bench \
    --benchmark_out=bench/results/results.json --benchmark_out_format=json "$@"
python3 bench/report.py bench/results/results.json bench/results
