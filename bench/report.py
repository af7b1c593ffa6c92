#!/usr/bin/env python3
"""Turns ndislock-bench's Google Benchmark JSON into results.md (tables, targets) and
throughput.svg (ops/s against thread count, one line per contender). Standard library only.

    python3 bench/report.py bench/results/results.json bench/results
"""
import json
import math
import os
import sys

S7_NDISLOCK = "ndislock_rw_ex"
SPINNERS = ["bare_tas", "pthread_spinlock", "absl_spinlock", "tbb_spin_mutex",
            "ck_spinlock_fas", "ck_spinlock_ticket", "ck_spinlock_mcs"]


def load(path):
    with open(path) as f:
        doc = json.load(f)
    runs = {}  # (scenario, variant, contender) -> {aggregate: entry}
    for b in doc["benchmarks"]:
        agg = b.get("aggregate_name")
        if agg is None:
            agg = "median"  # single repetition: the run is its own median
        parts = b["run_name"].split("/")
        key = (parts[0], parts[1], parts[2])
        runs.setdefault(key, {})[agg] = b
    return doc.get("context", {}), runs


def get(runs, key, field, agg="median"):
    e = runs.get(key, {}).get(agg)
    if e is None:
        return None
    if field == "time_ns":
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[e.get("time_unit", "ns")]
        return e["real_time"] * scale
    return e.get(field)


def fmt(v, digits=3):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.2f}M"
    if a >= 1e4:
        return f"{v / 1e3:.1f}k"
    return f"{v:.{digits}g}"


def slow_share(runs, key):
    # The share of repetitions that ran in the guest's slow state (counter slow_state: 1 slow at
    # both ends of the run, 0 fast, 0.5 changed); the run itself when there was one repetition.
    v = get(runs, key, "slow_state", "mean")
    return get(runs, key, "slow_state") if v is None else v


def span(runs, key, field):
    return f"{fmt(get(runs, key, field))} ({fmt(get(runs, key, field, 'min'))}-{fmt(get(runs, key, field, 'max'))})"


# Entries under a scenario/variant that are measurements about the contenders, not contenders.
NOT_CONTENDERS = {"rounds"}


def contenders(runs, scenario, variant):
    return sorted({k[2] for k in runs if k[0] == scenario and k[1] == variant and k[2] not in NOT_CONTENDERS})


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    ctx, runs = load(src)
    md = []
    md.append("# ndislock benchmark results\n")
    md.append(f"Machine: {ctx.get('cpu_model', '?')}, {ctx.get('cores', ctx.get('num_cpus', '?'))} cores, "
              f"{ctx.get('kernel', '?')}, {ctx.get('mhz_per_cpu', '?')} MHz; ndislock virtual processors: "
              f"{ctx.get('virtual_processors', '?')}; run {ctx.get('date', '?')}; load average at start "
              f"{', '.join(f'{x:.2f}' for x in ctx.get('load_avg', [])) or '?'}; "
              f"timed runs {ctx.get('timed_run_ms', '?')} ms. "
              "Median of the repetitions, (min-max) after it.\n")

    # Targets first: what the protocol asks.
    t = []
    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    def by_state(scenario, key, field, what):
        # The rounds of a run, split by the guest's state probed before and after each
        # (handoff_probe.h): a line hand-off between the CPUs of about 20-40 ns (fast) or 160-200 ns
        # (slow), threshold 80 ns; a round whose two probes disagree is in neither.
        fast, slow = get(runs, key, "rounds_fast_state"), get(runs, key, "rounds_slow_state")
        if fast is None or slow is None:
            return
        probe = get(runs, key, "handoff_ns")
        t.append((f"{scenario} (rounds, info)", f"{key[1]}: the guest's state, line hand-off between the CPUs "
                  f"before and after each round, median (ns)", probe, None))
        for state, count in (("fast", fast), ("slow", slow)):
            v = get(runs, key, f"{field}_{state}_state")
            t.append((f"{scenario} (rounds, info)", f"{key[1]}: {what}, median of the {fmt(count)} "
                      f"{state}-state rounds", v, None))

    def state_shares(scenario, variant, other, other_name):
        # A ratio of a fast-state median to a slow-state one compares the states, not the locks.
        # Written whenever both were measured: a share the probes could not tell (a loaded machine,
        # every probe inconclusive) reads "-".
        if get(runs, (scenario, variant, "ndislock"), "ops_per_s") is None or get(runs, (scenario, variant, other), "ops_per_s") is None:
            return
        sn, so = slow_share(runs, (scenario, variant, "ndislock")), slow_share(runs, (scenario, variant, other))
        t.append((f"{scenario} (info)", f"{variant}: share of repetitions in the guest's slow state, ndislock / "
                  f"{other_name} (values)", f"{fmt(sn, 2)} / {fmt(so, 2)}", None))
    s0 = ratio(get(runs, ("S0", "pair", "ndislock"), "time_ns"), get(runs, ("S0", "pair", "bare_tas"), "time_ns"))
    t.append(("S0", "NdisAcquire+Release / bare TAS pair <= 1.3", s0, None if s0 is None else s0 <= 1.3))
    s0c = ratio(get(runs, ("S0", "pair", "ndislock"), "time_ns"), get(runs, ("S0", "pair", "bare_tas_2calls"), "time_ns"))
    t.append(("S0 (info)", "NdisAcquire+Release / bare TAS behind two out-of-line calls", s0c, None))
    for cs in ("cs25ns", "cs250ns"):
        nd = get(runs, ("S2", cs, "ndislock"), "ops_per_s")
        best = max(((get(runs, ("S2", cs, c), "ops_per_s") or 0, c) for c in SPINNERS), default=(0, "-"))
        r = ratio(nd, best[0])
        t.append(("S2", f"{cs}: ndislock ops/s / best spinner ({best[1]}) >= 1", r, None if r is None else r >= 1.0))
        state_shares("S2", cs, best[1], best[1])
        # The same target with each contender measured next to the others: the median over rounds of
        # the ratio within a round (S2/<cs>/rounds), which a change of the guest's state cannot split.
        pr = get(runs, ("S2", cs, "rounds"), "ndislock_over_best_spinner")
        if pr is not None:
            n = get(runs, ("S2", cs, "rounds"), "rounds")
            t.append(("S2 (rounds)", f"{cs}: ndislock ops/s / best spinner of the same round, median of "
                      f"{fmt(n)} rounds >= 1", pr, pr >= 1.0))
            pw = get(runs, ("S2", cs, "rounds"), "dpr_word_over_best_spinner")
            t.append(("S2 (rounds, info)", f"{cs}: lock word alone (ndislock_dpr_word) / best spinner of the "
                      f"same round, median of {fmt(n)} rounds", pw, None))
            by_state("S2", ("S2", cs, "rounds"), "ndislock_over_best_spinner", "ndislock / best spinner")
        # The same lock word without the IRQL raise and lower around every acquisition.
        rw = ratio(get(runs, ("S2", cs, "ndislock_dpr_word"), "ops_per_s"), best[0])
        if rw is not None:
            t.append(("S2 (info)", f"{cs}: lock word alone (ndislock_dpr_word: Dpr forms, threads staying at "
                      f"DISPATCH_LEVEL) ops/s / best spinner ({best[1]})", rw, None))
        # Each time the lock changes threads its line crosses cores: the main cost at 25 ns.
        mn, mb = get(runs, ("S2", cs, "ndislock"), "moved"), get(runs, ("S2", cs, best[1]), "moved")
        mw = get(runs, ("S2", cs, "ndislock_dpr_word"), "moved")
        if mn is not None and mb is not None:
            t.append(("S2 (info)", f"{cs}: acquisitions that moved the lock to the other thread, ndislock"
                      f"{'' if mw is None else ' / ndislock_dpr_word'} / {best[1]} (values)",
                      " / ".join(fmt(v) for v in (mn, mw, mb) if v is not None), None))
    for x in ("x2", "x4", "x8"):
        nd = get(runs, ("S3", x, "ndislock"), "ops_per_s")
        r1 = ratio(nd, get(runs, ("S3", x, "std_mutex"), "ops_per_s"))
        r2 = ratio(nd, get(runs, ("S3", x, "pthread_spinlock"), "ops_per_s"))
        mm = get(runs, ("S3", x, "ndislock"), "min_max")
        mw = get(runs, ("S3", x, "ndislock"), "max_wait_us")
        t.append(("S3", f"{x}: ndislock / std::mutex ops/s >= 1", r1, None if r1 is None else r1 >= 1.0))
        state_shares("S3", x, "std_mutex", "std::mutex")
        t.append(("S3", f"{x}: ndislock / pthread_spinlock ops/s >= 5", r2, None if r2 is None else r2 >= 5.0))
        t.append(("S3", f"{x}: ndislock min/max per-thread ops >= 0.5", mm, None if mm is None else mm >= 0.5))
        t.append(("S3", f"{x}: ndislock max wait < 50 ms (value in ms)", None if mw is None else mw / 1000,
                  None if mw is None else mw < 50_000))
        # The same targets with the contenders measured next to each other (S3/<x>/rounds).
        rk = ("S3", x, "rounds")
        if get(runs, rk, "rounds") is not None:
            n = fmt(get(runs, rk, "rounds"))
            for field, what, goal in (("ndislock_over_std_mutex", "ndislock / std::mutex ops/s", 1.0),
                                      ("ndislock_over_pthread_spinlock", "ndislock / pthread_spinlock ops/s", 5.0),
                                      ("ndislock_min_max", "ndislock min/max per-thread ops", 0.5)):
                v = get(runs, rk, field)
                t.append(("S3 (rounds)", f"{x}: {what}, median of {n} rounds >= {fmt(goal)}", v,
                          None if v is None else v >= goal))
            by_state("S3", rk, "ndislock_over_std_mutex", "ndislock / std::mutex ops/s")
            fm_r = get(runs, rk, "floor_min_max")
            if fm_r is not None:
                t.append(("S3 (rounds, info)", f"{x}: OS floor, no lock at all: min/max per-thread ops, "
                          f"median of {n} rounds", fm_r, None))
        # The scheduler's own floor (no lock, same threads and work): what no lock can beat.
        fm = get(runs, ("S3", x, "os_floor_no_lock"), "min_max")
        fw = get(runs, ("S3", x, "os_floor_no_lock"), "max_wait_us")
        if fm is not None:
            t.append(("S3 (info)", f"{x}: OS floor, no lock at all: min/max per-thread ops", fm, None))
            t.append(("S3 (info)", f"{x}: OS floor, no lock at all: max wait (value in ms)", fw / 1000, None))
            rf = ratio(get(runs, ("S3", x, "os_floor_no_lock"), "ops_per_s"),
                       get(runs, ("S3", x, "pthread_spinlock"), "ops_per_s"))
            t.append(("S3 (info)", f"{x}: OS floor ops/s / pthread_spinlock (no exclusion at all)", rf, None))
        # Critical sections never overlap: one thread running them back to back is the ceiling.
        rs = ratio(get(runs, ("S3", "serial_bound", "bare_tas"), "ops_per_s"),
                   get(runs, ("S3", x, "pthread_spinlock"), "ops_per_s"))
        if rs is not None:
            t.append(("S3 (info)", f"{x}: serial bound ops/s / pthread_spinlock (the most any lock could reach)", rs, None))
    for name, label in (("ndislock_verifier", "verifier on"), ("ndislock_stats_observer", "observer on (statistics)")):
        r = ratio(get(runs, ("S0", "pair", name), "time_ns"), get(runs, ("S0", "pair", "ndislock"), "time_ns"))
        if r is not None and name == "ndislock_verifier":
            t.append(("S5", f"S0 {label} / verifier off <= 4", r, r <= 4.0))
        elif r is not None:
            # The protocol's S5 is the verifier's. The statistics observer times every hold (its
            # histogram is what it is for), where the verifier samples one in 16: information only.
            t.append(("S5 (info)", f"S0 {label} / verifier off", r, None))
        r2 = ratio(get(runs, ("S2", "cs25ns", name), "ops_per_s"), get(runs, ("S2", "cs25ns", "ndislock"), "ops_per_s"))
        if r2 is not None:
            t.append(("S5 (info)", f"S2 cs25ns {label} / verifier off, throughput", r2, None))
    b = get(runs, ("S6", "footprint", "ndislock"), "bytes_per_lock_beyond_struct")
    t.append(("S6", "verifier off: bytes per lock beyond the struct == 0", b, None if b is None else b < 0.5))
    # The first repetition pays for the verifier's table; later ones reuse it: take the max.
    bv = get(runs, ("S6", "footprint", "ndislock_verifier"), "bytes_per_lock_beyond_struct", "max")
    if bv is not None:
        t.append(("S6", "verifier on: bytes per live lock <= 64", bv, bv <= 64))
        af = get(runs, ("S6", "footprint", "ndislock_verifier"), "rss_after_free_kib", "max")
        t.append(("S6", "verifier on: RSS back to baseline after the frees (KiB above)", af, None if af is None else af < 1024))
    # S7: read-mostly, reader/writer locks (bench/s7_read_mostly.cpp).
    for tn in ("t2", "t4", "t8"):
        nd = get(runs, ("S7", tn, S7_NDISLOCK), "ops_per_s")
        peers = [(get(runs, ("S7", tn, c), "ops_per_s") or 0, c) for c in contenders(runs, "S7", tn)
                 if not c.startswith("ndislock")]
        best = max(peers, default=(0, "-"))
        r = ratio(nd, best[0])
        if r is not None:
            t.append(("S7", f"{tn}: ndislock_rw_ex ops/s / best peer ({best[1]}) >= 1", r, r >= 1.0))
        mw = get(runs, ("S7", tn, S7_NDISLOCK), "max_writer_wait_us", "max")
        if mw is None:  # one repetition: the run is its own maximum
            mw = get(runs, ("S7", tn, S7_NDISLOCK), "max_writer_wait_us")
        if mw is not None:
            t.append(("S7", f"{tn}: ndislock_rw_ex max writer wait, every repetition, < 50 ms (value in ms)",
                      mw / 1000, mw < 50_000))
        rk = ("S7", tn, "rounds")
        pr = get(runs, rk, "ndislock_over_best_peer")
        if pr is not None:
            n = fmt(get(runs, rk, "rounds"))
            t.append(("S7 (rounds)", f"{tn}: ndislock_rw_ex ops/s / best peer of the same round, median of {n} "
                      f"rounds >= 1", pr, pr >= 1.0))
            pc = get(runs, rk, "best_peer_cpu_over_ndislock")
            t.append(("S7 (rounds, info)", f"{tn}: best peer's CPU ns per op / ndislock_rw_ex's, median of {n} "
                      f"rounds (> 1: ndislock costs less CPU per op)", pc, None))
            rw = get(runs, rk, f"max_writer_wait_us_{S7_NDISLOCK}")
            if rw is not None:
                t.append(("S7 (rounds)", f"{tn}: ndislock_rw_ex max writer wait over the rounds < 50 ms (value in ms)",
                          rw / 1000, rw < 50_000))
    md.append("## Targets (one run)\n")
    md.append("| scenario | target | measured | met |")
    md.append("|---|---|---|---|")
    for sc, what, v, ok in t:
        md.append(f"| {sc} | {what} | {fmt(v)} | {'-' if ok is None else ('yes' if ok else '**no**')} |")
    md.append("")

    md.append("## S0: uncontended acquire+release, one thread (ns per pair)\n")
    floor = get(runs, ("S0", "pair", "bare_tas"), "time_ns")
    md.append("| variant | contender | ns per pair | x bare TAS |")
    md.append("|---|---|---|---|")
    for variant in ("pair", "dpr", "nested"):
        for c in contenders(runs, "S0", variant):
            v = get(runs, ("S0", variant, c), "time_ns")
            md.append(f"| {variant} | {c} | {span(runs, ('S0', variant, c), 'time_ns')} | {fmt(ratio(v, floor))} |")
    md.append("")

    md.append("## S1: hand-off, two threads ping-pong (ns per hand-off)\n")
    md.append("`slow reps`: the share of the repetitions that ran in this guest's slow state (a cache line "
              "takes 160-200 ns instead of 20-40 ns to move between the CPUs; probed before and after each "
              "run, bench/handoff_probe.h).\n")
    md.append("| contender | ns per hand-off | mean wait ns | max wait us | slow reps |")
    md.append("|---|---|---|---|---|")
    for c in contenders(runs, "S1", "handoff"):
        k = ("S1", "handoff", c)
        md.append(f"| {c} | {span(runs, k, 'ns_per_handoff')} | {fmt(get(runs, k, 'mean_wait_ns'))} | "
                  f"{fmt(get(runs, k, 'max_wait_us'))} | {fmt(slow_share(runs, k), 2)} |")
    md.append("")

    for sc, variants, title in (("S2", ("cs25ns", "cs250ns"), "S2: threads = cores, critical section of work"),
                                ("S3", ("x2", "x4", "x8"), "S3: oversubscribed, threads per core, 25 ns critical section")):
        md.append(f"## {title} (S4 fairness: min/max and Jain's index)\n")
        if sc == "S3":
            md.append("`os_floor_no_lock` is not a lock: the same threads and work with no exclusion, each on its own "
                      "data. Its min/max and max wait are the scheduler's own, which no lock can beat while every "
                      "thread stays runnable.\n")
            sb = get(runs, ("S3", "serial_bound", "bare_tas"), "ops_per_s")
            if sb is not None:
                md.append(f"Serial bound (`S3/serial_bound/bare_tas`: the critical sections back to back on one "
                          f"thread, which no lock can beat): {span(runs, ('S3', 'serial_bound', 'bare_tas'), 'ops_per_s')} ops/s.\n")
        md.append("`moved`: the share of acquisitions that took the lock from another thread (its cache line "
                  "crossed CPUs); the rest were re-takes by the last holder. `slow reps`: the share of the "
                  "repetitions that ran in the guest's slow state (S1 above).\n")
        md.append("| run | contender | ops/s | min/max | Jain | mean wait ns | max wait us | CPU ns per op | moved "
                  "| slow reps |")
        md.append("|---|---|---|---|---|---|---|---|---|---|")
        for v in variants:
            for c in sorted(contenders(runs, sc, v), key=lambda c: -(get(runs, (sc, v, c), "ops_per_s") or 0)):
                k = (sc, v, c)
                md.append(f"| {v} | {c} | {span(runs, k, 'ops_per_s')} | {fmt(get(runs, k, 'min_max'))} | "
                          f"{fmt(get(runs, k, 'jain'))} | {fmt(get(runs, k, 'mean_wait_ns'))} | "
                          f"{fmt(get(runs, k, 'max_wait_us'))} | {fmt(get(runs, k, 'cpu_ns_per_op'))} | "
                          f"{fmt(get(runs, k, 'moved'))} | {fmt(slow_share(runs, k), 2)} |")
        md.append("")

    def worst(k, field):
        v = get(runs, k, field, "max")
        return get(runs, k, field) if v is None else v
    md.append("## S7: read-mostly, 95% reads, reader/writer locks (2, 4, 8 threads)\n")
    md.append("`max writer wait`: the longest any write acquire waited, over every repetition; `torn`: reads "
              "that saw a write half done (0 for a correct lock); `CPU ns per op`: the threads' CPU time over "
              "the operations (what an operation cost, whatever CPU share the machine gave the run).\n")
    md.append("| threads | contender | ops/s | CPU ns per op | max writer wait us | max reader wait us | torn |")
    md.append("|---|---|---|---|---|---|---|")
    for tn in ("t2", "t4", "t8"):
        for c in sorted(contenders(runs, "S7", tn), key=lambda c: -(get(runs, ("S7", tn, c), "ops_per_s") or 0)):
            k = ("S7", tn, c)
            md.append(f"| {tn} | {c} | {span(runs, k, 'ops_per_s')} | {fmt(get(runs, k, 'cpu_ns_per_op'))} | "
                      f"{fmt(worst(k, 'max_writer_wait_us'))} | {fmt(worst(k, 'max_reader_wait_us'))} | {fmt(worst(k, 'torn'))} |")
    md.append("")

    md.append("## S6: 10^6 NDIS_SPIN_LOCKs allocated, each taken once, freed\n")
    md.append("| configuration | struct bytes | bytes per lock beyond the struct | RSS growth MiB | RSS above baseline after free, KiB |")
    md.append("|---|---|---|---|---|")
    for c in contenders(runs, "S6", "footprint"):
        k = ("S6", "footprint", c)
        md.append(f"| {c} | {fmt(get(runs, k, 'struct_bytes'))} | {fmt(get(runs, k, 'bytes_per_lock_beyond_struct'))} | "
                  f"{fmt(get(runs, k, 'peak_rss_growth_mib'))} | {fmt(get(runs, k, 'rss_after_free_kib'))} |")
    md.append("")
    md.append("![throughput against threads](throughput.svg)\n")
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(md))
    write_svg(runs, ctx, os.path.join(outdir, "throughput.svg"))
    print("\n".join(md[:len(t) + 6]))
    print(f"wrote {outdir}/results.md and {outdir}/throughput.svg")


def write_svg(runs, ctx, path):
    cores = int(ctx.get("cores", ctx.get("num_cpus", 2)) or 2)
    series = {}
    for c in contenders(runs, "S2", "cs25ns"):
        pts = [(cores, get(runs, ("S2", "cs25ns", c), "ops_per_s"))]
        for x in (2, 4, 8):
            pts.append((cores * x, get(runs, ("S3", f"x{x}", c), "ops_per_s")))
        series[c] = [(a, b) for a, b in pts if b]
    W, H, L, R, T, B = 900, 520, 80, 230, 40, 60
    xs = sorted({p[0] for s in series.values() for p in s}) or [1, 2]
    ys = [p[1] for s in series.values() for p in s] or [1, 10]
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if y1 == y0:
        y1 += 1
    def X(v):
        return L + (W - L - R) * (math.log2(v) - math.log2(xs[0])) / max(1e-9, math.log2(xs[-1]) - math.log2(xs[0]))
    def Y(v):
        return H - B - (H - T - B) * (math.log10(v) - y0) / (y1 - y0)
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
              "#bcbd22", "#17becf", "#000000", "#aec7e8", "#ff9896", "#98df8a", "#c5b0d5", "#c49c94"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="22" font-size="15">Throughput (ops/s, log) against threads on {cores} cores, '
           f'25 ns critical section (S2, S3)</text>']
    for d in range(y0, y1 + 1):
        y = Y(10 ** d)
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 8}" y="{y + 4:.1f}" text-anchor="end">1e{d}</text>')
    for v in xs:
        x = X(v)
        out.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{H - B + 18}" text-anchor="middle">{v}</text>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 15}" text-anchor="middle">threads</text>')
    for i, (name, pts) in enumerate(sorted(series.items())):
        col = colors[i % len(colors)]
        width = 3.5 if name == "ndislock" else 1.5
        dash = ' stroke-dasharray="5,3"' if name.startswith("ndislock_") else ""
        pl = " ".join(f"{X(a):.1f},{Y(b):.1f}" for a, b in pts)
        out.append(f'<polyline points="{pl}" fill="none" stroke="{col}" stroke-width="{width}"{dash}/>')
        for a, b in pts:
            out.append(f'<circle cx="{X(a):.1f}" cy="{Y(b):.1f}" r="3" fill="{col}"/>')
        ly = T + 16 * i + 10
        out.append(f'<line x1="{W - R + 15}" y1="{ly}" x2="{W - R + 40}" y2="{ly}" stroke="{col}" stroke-width="{width}"{dash}/>')
        out.append(f'<text x="{W - R + 46}" y="{ly + 4}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
