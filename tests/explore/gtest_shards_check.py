#!/usr/bin/env python3
"""Runs a test binary made of one NDISLOCK_EXPLORE_SHARDED_TEST as GoogleTest shards and checks
that the shards ran every share of the search exactly once and all its schedules between them.

Usage: gtest_shards_check.py BINARY SHARES SCHEDULES GTEST_SHARDS
"""
import os
import re
import subprocess
import sys

binary, shares, schedules, gtest_shards = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
seen = {}
for index in range(gtest_shards):
    env = dict(os.environ, GTEST_TOTAL_SHARDS=str(gtest_shards), GTEST_SHARD_INDEX=str(index),
               NDISLOCK_VERIFIER="off")
    env.pop("NDISLOCK_EXPLORE_SHARD", None)
    run = subprocess.run([binary], env=env, capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        sys.exit(f"GoogleTest shard {index}: exit status {run.returncode}\n{run.stdout}\n{run.stderr}")
    for share, count in re.findall(r"ndislock explore: share (\d+) of %d: (\d+) schedules" % shares, run.stdout):
        if int(share) in seen:
            sys.exit(f"share {share} ran in GoogleTest shards {seen[int(share)][0]} and {index}")
        seen[int(share)] = (index, int(count))
if sorted(seen) != list(range(shares)):
    sys.exit(f"shares run: {sorted(seen)}, expected 0..{shares - 1}")
if len({shard for shard, _ in seen.values()}) < 2:
    sys.exit(f"every share ran in one GoogleTest shard: {seen}")
total = sum(count for _, count in seen.values())
if total != schedules:
    sys.exit(f"the shares ran {total} schedules between them, expected {schedules}")
print(f"{shares} shares over {gtest_shards} GoogleTest shards: each once, {total} schedules in all: {seen}")
