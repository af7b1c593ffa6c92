#!/usr/bin/env python3
"""Turns ndislock-bench's Google Benchmark JSON into results.md (tables, targets) and
throughput.svg (ops/s against thread count, one line per contender). Standard library only.

    python3 bench/report.py bench/results/results.json bench/results
"""
import math
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (ctest runs this from it)
import report_states  # noqa: E402
from report_states import Runs, fmt  # noqa: E402
from report_targets import contenders, targets  # noqa: E402


def get(runs, key, field, agg="median"):
    return runs.get(key, field, agg)


def span(runs, key, field):
    return f"{fmt(get(runs, key, field))} ({fmt(get(runs, key, field, 'min'))}-{fmt(get(runs, key, field, 'max'))})"


def states_cells(runs, key, field):
    """The median of `field` over the repetitions in each of the guest's states, with their count."""
    return " | ".join((runs.in_state(key, field, s) or report_states.Cell(why="-")).text(s)
                      for s in report_states.STATES)


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    runs = Runs(src)
    ctx = runs.context
    md = []
    md.append("# ndislock benchmark results\n")
    md.append(f"Machine: {ctx.get('cpu_model', '?')}, {ctx.get('cores', ctx.get('num_cpus', '?'))} cores, "
              f"{ctx.get('kernel', '?')}, {ctx.get('mhz_per_cpu', '?')} MHz; ndislock virtual processors: "
              f"{ctx.get('virtual_processors', '?')}; run {ctx.get('date', '?')}; load average at start "
              f"{', '.join(f'{x:.2f}' for x in ctx.get('load_avg', [])) or '?'}; "
              f"timed runs {ctx.get('timed_run_ms', '?')} ms. "
              "Median of the repetitions over both of the guest's states, (min-max) after it; each state "
              "apart in the targets and the state columns.\n")

    # Targets first: what the protocol asks, in each of the guest's states (report_targets.py).
    t = targets(runs)
    md.append("## Targets (one run, each in the guest's fast and slow state)\n")
    md.append("Each figure that depends on the guest's state (a cache line crossing its CPUs in 20-40 ns, "
              "fast, or 160-200 ns, slow; probed before and after every run and round, bench/handoff_probe.h) "
              "is given in each state: the median over the repetitions or rounds that stayed in that state, "
              "with their count (a ratio's two counts, numerator/denominator). Both sides of a ratio are "
              "measured in the same state. A target is met only when it holds in both states.\n")
    md += t.lines()
    md.append("")

    md.append("## S0: uncontended acquire+release, one thread (ns per pair)\n")
    floor = get(runs, ("S0", "pair", "bare_tas"), "time_ns")
    md.append("| variant | contender | ns per pair | x bare TAS |")
    md.append("|---|---|---|---|")
    for variant in ("pair", "dpr", "nested"):
        for c in contenders(runs, "S0", variant):
            v = get(runs, ("S0", variant, c), "time_ns")
            md.append(f"| {variant} | {c} | {span(runs, ('S0', variant, c), 'time_ns')} | "
                      f"{fmt(None if v is None or not floor else v / floor)} |")
    md.append("")

    md.append("## S1: hand-off, two threads ping-pong (ns per hand-off)\n")
    md.append("`fast state`, `slow state`: the median over the repetitions that ran in this guest's fast or "
              "slow state (a cache line takes 20-40 ns or 160-200 ns to move between the CPUs; probed before "
              "and after each run, bench/handoff_probe.h), with their count; the first column mixes both.\n")
    md.append("| contender | ns per hand-off | mean wait ns | max wait us | fast state | slow state |")
    md.append("|---|---|---|---|---|---|")
    for c in contenders(runs, "S1", "handoff"):
        k = ("S1", "handoff", c)
        md.append(f"| {c} | {span(runs, k, 'ns_per_handoff')} | {fmt(get(runs, k, 'mean_wait_ns'))} | "
                  f"{fmt(get(runs, k, 'max_wait_us'))} | {states_cells(runs, k, 'ns_per_handoff')} |")
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
                  "crossed CPUs); the rest were re-takes by the last holder. `ops/s, fast state` and `slow state`: the "
                  "median over the repetitions in each of the guest's states, with their count (S1 above).\n")
        md.append("| run | contender | ops/s | min/max | Jain | mean wait ns | max wait us | CPU ns per op | moved "
                  "| ops/s, fast state | ops/s, slow state |")
        md.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for v in variants:
            for c in sorted(contenders(runs, sc, v), key=lambda c: -(get(runs, (sc, v, c), "ops_per_s") or 0)):
                k = (sc, v, c)
                md.append(f"| {v} | {c} | {span(runs, k, 'ops_per_s')} | {fmt(get(runs, k, 'min_max'))} | "
                          f"{fmt(get(runs, k, 'jain'))} | {fmt(get(runs, k, 'mean_wait_ns'))} | "
                          f"{fmt(get(runs, k, 'max_wait_us'))} | {fmt(get(runs, k, 'cpu_ns_per_op'))} | "
                          f"{fmt(get(runs, k, 'moved'))} | {states_cells(runs, k, 'ops_per_s')} |")
        md.append("")

    def worst(k, field):
        v = get(runs, k, field, "max")
        return get(runs, k, field) if v is None else v
    md.append("## S7: read-mostly, 95% reads, reader/writer locks (2, 4, 8 threads)\n")
    md.append("`max writer wait`: the longest any write acquire waited, over every repetition; `torn`: reads "
              "that saw a write half done (0 for a correct lock); `CPU ns per op`: the threads' CPU time over "
              "the operations (what an operation cost, whatever CPU share the machine gave the run).\n")
    md.append("| threads | contender | ops/s | CPU ns per op | max writer wait us | max reader wait us | torn "
              "| ops/s, fast state | ops/s, slow state |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    for tn in ("t2", "t4", "t8"):
        for c in sorted(contenders(runs, "S7", tn), key=lambda c: -(get(runs, ("S7", tn, c), "ops_per_s") or 0)):
            k = ("S7", tn, c)
            md.append(f"| {tn} | {c} | {span(runs, k, 'ops_per_s')} | {fmt(get(runs, k, 'cpu_ns_per_op'))} | "
                      f"{fmt(worst(k, 'max_writer_wait_us'))} | {fmt(worst(k, 'max_reader_wait_us'))} | {fmt(worst(k, 'torn'))} | "
                      f"{states_cells(runs, k, 'ops_per_s')} |")
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
    print("\n".join(md[:len(t.rows) + 8]))
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
