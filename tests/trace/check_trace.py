#!/usr/bin/env python3
"""Checks a timeline written by ndislock (NDISLOCK_TRACE, NdislockTraceStart, demo --trace).

Usage: check_trace.py TRACE.json [--holds NAME=N] [--hold-threads NAME=N] [--waits NAME=N]
                      [--routines NAME=N] [--arrows N] [--findings RULE=N] [--dropped none|some]
                      [--irql-seen N,...] [--max-rings N]

Always checked, whatever the program traced:
  - the file is JSON in the Chrome trace event format: a traceEvents list whose events have a
    name, a known phase, pid, and (but metadata) a non-negative ts; complete events a
    non-negative dur; thread events a tid; otherData.dropped_events an integer;
  - holds of one spin lock (the plain and queued variants) never overlap in time across threads:
    each X event really is one acquire paired with its release;
  - every arrow start (ph s) has exactly one end (ph f) with the same id, no earlier than it;
  - IRQL counters stay within 0..31.
The options add exact counts for a known scenario: holds of a lock, distinct threads holding it,
waits for a lock ("wait for lock" events whose args.for names it), routine runs, arrows, findings,
dropped events, IRQL values seen, and an upper bound on the rings the threads recorded into
(otherData.rings). Exit status 0 when every check passes.
"""
import argparse
import collections
import json
import sys

PHASES = {"X", "i", "C", "M", "s", "f"}
SHARED_VARIANTS = ("Rw", "Ex")  # reader/writer variants: holders may overlap


def fail(message):
    print(f"check_trace: FAIL: {message}")
    sys.exit(1)


def counts(pairs):
    out = {}
    for pair in pairs or []:
        name, _, n = pair.rpartition("=")
        if not name:
            fail(f"expected NAME=N, got {pair!r}")
        out[name] = int(n)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("trace")
    parser.add_argument("--holds", action="append")
    parser.add_argument("--hold-threads", action="append")
    parser.add_argument("--waits", action="append")
    parser.add_argument("--max-rings", type=int)
    parser.add_argument("--routines", action="append")
    parser.add_argument("--findings", action="append")
    parser.add_argument("--arrows", type=int)
    parser.add_argument("--dropped", choices=["none", "some"])
    parser.add_argument("--irql-seen")
    args = parser.parse_args()

    try:
        with open(args.trace, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{args.trace}: not readable JSON: {e}")
    events = doc.get("traceEvents")
    if not isinstance(events, list) or not events:
        fail("no traceEvents list")
    dropped = doc.get("otherData", {}).get("dropped_events")
    if not isinstance(dropped, int) or dropped < 0:
        fail("otherData.dropped_events is not a count")

    holds = collections.defaultdict(list)  # lock name -> [(start, end, tid)]
    holders = collections.defaultdict(set)  # lock name -> threads that held it
    waits = collections.Counter()  # lock name -> waits for it
    routines = collections.Counter()
    findings = collections.Counter()
    starts, ends = {}, collections.defaultdict(list)
    irqls = set()
    for n, e in enumerate(events):
        where = f"event {n} ({e.get('name')!r})"
        if not isinstance(e.get("name"), str) or e.get("ph") not in PHASES or not isinstance(e.get("pid"), int):
            fail(f"{where}: needs a name, a known phase and a pid: {e}")
        ph = e["ph"]
        if ph == "M":
            continue
        ts = e.get("ts")
        if not isinstance(ts, (int, float)) or ts < 0:
            fail(f"{where}: bad ts {ts!r}")
        if ph != "C" and not isinstance(e.get("tid"), int):
            fail(f"{where}: a thread event without a tid")
        if ph == "X":
            dur = e.get("dur")
            if not isinstance(dur, (int, float)) or dur < 0:
                fail(f"{where}: bad dur {dur!r}")
            cat = e.get("cat")
            if cat == "hold" and not e.get("args", {}).get("open"):
                holders[e["name"]].add(e["tid"])
            if cat == "wait" and e["name"] == "wait for lock":
                waits[e.get("args", {}).get("for")] += 1
            if cat == "hold":
                variant = e.get("args", {}).get("variant", "")
                if not e.get("args", {}).get("open") and not variant.startswith(SHARED_VARIANTS):
                    holds[e["name"]].append((ts, ts + dur, e["tid"]))
            elif cat == "routine":
                routines[e["name"]] += 1
        elif ph == "i" and e.get("cat") == "finding":
            findings[e["name"]] += 1
        elif ph == "s":
            if e.get("id") in starts:
                fail(f"{where}: arrow id {e.get('id')} started twice")
            starts[e.get("id")] = ts
        elif ph == "f":
            ends[e.get("id")].append(ts)
        elif ph == "C":
            value = e.get("args", {}).get("IRQL")
            if not isinstance(value, int) or not 0 <= value <= 31:
                fail(f"{where}: IRQL {value!r} out of range")
            irqls.add(value)

    for name, spans in holds.items():
        spans.sort()
        for (s1, e1, t1), (s2, e2, t2) in zip(spans, spans[1:]):
            if s2 < e1 - 0.001 and t1 != t2:  # the writer rounds to whole nanoseconds
                fail(f"lock {name!r}: held by thread {t1} over [{s1}, {e1}] and by thread {t2} from {s2}")
    for arrow, ts in starts.items():
        if len(ends.get(arrow, [])) != 1 or ends[arrow][0] < ts:
            fail(f"arrow {arrow}: started at {ts}, ends {ends.get(arrow)}")
    for arrow in ends:
        if arrow not in starts:
            fail(f"arrow {arrow}: ends without a start")

    for name, n in counts(args.holds).items():
        if len(holds.get(name, [])) != n:
            fail(f"lock {name!r}: {len(holds.get(name, []))} holds, expected {n}")
    for name, n in counts(args.hold_threads).items():
        if len(holders.get(name, ())) != n:
            fail(f"lock {name!r}: held by {len(holders.get(name, ()))} threads, expected {n}")
    for name, n in counts(args.waits).items():
        if waits[name] != n:
            fail(f"lock {name!r}: {waits[name]} waits, expected {n}")
    for name, n in counts(args.routines).items():
        if routines[name] != n:
            fail(f"routine {name!r}: {routines[name]} runs, expected {n}")
    for name, n in counts(args.findings).items():
        if findings[name] != n:
            fail(f"finding {name!r}: {findings[name]}, expected {n}")
    if args.arrows is not None and len(starts) != args.arrows:
        fail(f"{len(starts)} interrupt arrows, expected {args.arrows}")
    if args.dropped == "none" and dropped != 0:
        fail(f"{dropped} events dropped, expected none")
    if args.dropped == "some" and dropped == 0:
        fail("no event dropped, expected some")
    if args.max_rings is not None:
        rings = doc.get("otherData", {}).get("rings")
        if not isinstance(rings, int) or rings > args.max_rings:
            fail(f"otherData.rings is {rings!r}, expected at most {args.max_rings}")
    if args.irql_seen:
        missing = {int(x) for x in args.irql_seen.split(",")} - irqls
        if missing:
            fail(f"IRQL values never seen on a virtual processor: {sorted(missing)} (seen {sorted(irqls)})")
    total_holds = sum(len(v) for v in holds.values())
    print(f"check_trace: OK: {len(events)} events, {total_holds} holds, {sum(routines.values())} routine runs, "
          f"{len(starts)} arrows, {sum(findings.values())} findings, {sum(waits.values())} lock waits, "
          f"{dropped} dropped, {doc.get('otherData', {}).get('rings')} rings")


if __name__ == "__main__":
    main()
