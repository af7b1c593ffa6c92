#!/usr/bin/env python3
"""A check of report_states.py / report_targets.py on a made-up JSON (no benchmark run): each
state's figure comes from that state's repetitions only, a ratio pairs two figures of the same
state, and a target is met only when it holds in both states. Run by bench/report_smoke.sh.

    python3 bench/report_states_check.py
"""
import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_states import Runs  # noqa: E402
from report_targets import targets  # noqa: E402


def rep(name, slow_state, **counters):
    e = {"run_name": name, "run_type": "iteration", "real_time": 1.0, "time_unit": "ns", **counters}
    if slow_state is not None:
        e["slow_state"] = slow_state
    return e


def row(rows, prefix):
    found = [r for r in rows if f"| {r[1]} | {r[2]}".startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def main():
    q, m = "S1/handoff/ndislock_queued/iterations:1/real_time/threads:2", "S1/handoff/ck_spinlock_mcs/iterations:1/real_time/threads:2"
    nq, nm = "S2/cs25ns/ndislock_queued/x", "S2/cs25ns/ck_spinlock_mcs/x"
    benchmarks = [
        # S1: queued 100 ns fast, 1000 ns slow; MCS 100 fast, 200 slow; a changed run of each (0.5)
        # that must count in neither state. Same-state ratios: fast 1.0 (met), slow 5.0 (missed).
        rep(q, 0.0, ns_per_handoff=100.0), rep(q, 1.0, ns_per_handoff=1000.0), rep(q, 0.5, ns_per_handoff=1.0),
        rep(m, 0.0, ns_per_handoff=100.0), rep(m, 1.0, ns_per_handoff=200.0), rep(m, 0.5, ns_per_handoff=1e9),
        # S2: both in the slow state only: no fast-state run, so never "met".
        rep(nq, 1.0, ops_per_s=2e6), rep(nm, 1.0, ops_per_s=1e6),
        rep(nq, None, ops_per_s=1.0),  # the probe could not run: neither state
    ]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "results.json")
        with open(path, "w") as f:
            json.dump({"context": {}, "benchmarks": benchmarks}, f)
        runs = Runs(path)
        rows = targets(runs)
        md = "\n".join(rows.lines())
    s1 = row(rows.rows, "| S1 (queued) | hand-off ns")
    cells = s1[3]
    assert abs(cells["fast"].value - 1.0) < 1e-9 and cells["fast"].basis == "1/1 reps", cells["fast"].__dict__
    assert abs(cells["slow"].value - 5.0) < 1e-9 and cells["slow"].basis == "1/1 reps", cells["slow"].__dict__
    assert "| 1 (1/1 reps) | 5 (1/1 reps) | **no** (slow state) |" in md, md
    s2 = row(rows.rows, "| S2 (queued) | cs25ns: ndislock_queued ops/s / ck_spinlock_mcs")
    assert not s2[3]["fast"].shown and abs(s2[3]["slow"].value - 2.0) < 1e-9
    assert "| no fast-state run | 2 (1/1 reps) | not shown in both states |" in md, md
    print("report_states_check: ok")


if __name__ == "__main__":
    main()
