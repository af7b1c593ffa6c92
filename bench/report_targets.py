"""The targets table of bench/report.py: every target of the protocol (and of issue #22, the in-stack
queued lock's) judged in each of the guest's two states (report_states.py).

A row that depends on the state gives its figure in the fast state and in the slow state, each with
the repetitions or rounds behind it; it is met only when it holds in both ("not shown in both states"
when one state had no run). A ratio is formed from two contenders measured in the same state. A
target that does not depend on the state (one thread, no cache line crossing CPUs; memory) is
judged once and says so.
"""
from report_states import STATES, Cell, fmt, ratio_cell

SPINNERS = ["bare_tas", "pthread_spinlock", "absl_spinlock", "tbb_spin_mutex",
            "ck_spinlock_fas", "ck_spinlock_ticket", "ck_spinlock_mcs"]
S7_NDISLOCK = "ndislock_rw_ex"
ONE_THREAD = "state-independent: one thread, no line crosses CPUs"
MEMORY = "state-independent: memory, not time"


class Rows:
    def __init__(self):
        self.rows = []

    def states(self, sc, what, cells, goal=None):
        """A row per state: cells {state: Cell or None}; goal(value) -> bool, None for information."""
        if all(cells.get(s) is None for s in STATES):
            return
        self.rows.append(("states", sc, what, {s: cells.get(s) or Cell(why=f"no {s}-state run") for s in STATES}, goal))

    def once(self, sc, what, v, basis, ok, why):
        """A state-independent row, judged once."""
        if v is None:
            return
        self.rows.append(("once", sc, what, (v, basis, why), ok))

    def lines(self):
        md = ["| scenario | target | fast state | slow state | met |", "|---|---|---|---|---|"]
        for kind, sc, what, data, judge in self.rows:
            if kind == "once":
                v, basis, why = data
                cells = (f"{fmt(v)} ({basis or 'one value'}, whichever state)", why)
                met = "-" if judge is None else "yes" if judge else "**no**"
            else:
                cells = tuple(data[s].text(s) for s in STATES)
                met = verdict(data, judge)
            md.append(f"| {sc} | {what} | {cells[0]} | {cells[1]} | {met} |")
        return md


def verdict(cells, goal):
    if goal is None:
        return "-"
    if not all(cells[s].shown and not isinstance(cells[s].value, str) for s in STATES):
        return "not shown in both states"
    missed = [s for s in STATES if not goal(cells[s].value)]
    if not missed:
        return "yes"
    return "**no** (both states)" if len(missed) == 2 else f"**no** ({missed[0]} state)"


def per_state(f):
    return {s: f(s) for s in STATES}


def best_of(runs, sc, variant, names, field, state):
    """The best contender of `names` in `state` (highest `field`): (Cell, name), or (None, None)."""
    best = (None, None)
    for c in names:
        cell = runs.in_state((sc, variant, c), field, state)
        if cell is not None and cell.shown and (best[0] is None or cell.value > best[0].value):
            best = (cell, c)
    return best


def over_best(runs, sc, variant, who, names, field, state, label="best"):
    mine = runs.in_state((sc, variant, who), field, state)
    best, name = best_of(runs, sc, variant, names, field, state)
    if mine is None:
        return None
    if best is None:
        return Cell(why=f"no {state}-state run of any {label}")
    r = ratio_cell(mine, best, state)
    if r is not None and r.shown:
        r.basis = f"{name}, {r.basis}"
    return r


def once_ratio(runs, a, b, field="time_ns"):
    va, vb = runs.get(a, field), runs.get(b, field)
    if va is None or vb is None or vb == 0:
        return None, None
    return va / vb, f"medians of {runs.count(a)}/{runs.count(b)} reps"


def targets(runs):
    t = Rows()
    ge = lambda goal: (lambda v: v >= goal)  # noqa: E731
    le = lambda goal: (lambda v: v <= goal)  # noqa: E731

    # S0: one thread, the line never leaves its CPU.
    r, n = once_ratio(runs, ("S0", "pair", "ndislock"), ("S0", "pair", "bare_tas"))
    t.once("S0", "NdisAcquire+Release / bare TAS pair <= 1.3", r, n, None if r is None else r <= 1.3, ONE_THREAD)
    r, n = once_ratio(runs, ("S0", "pair", "ndislock"), ("S0", "pair", "bare_tas_2calls"))
    t.once("S0 (info)", "NdisAcquire+Release / bare TAS behind two out-of-line calls", r, n, None, ONE_THREAD)
    r, n = once_ratio(runs, ("S0", "pair", "ndislock_queued"), ("S0", "pair", "ck_spinlock_mcs"))
    t.once("S0 (queued)", "KeAcquire+ReleaseInStackQueuedSpinLock / ck_spinlock_mcs pair <= 1.3", r, n,
           None if r is None else r <= 1.3, ONE_THREAD)

    # S1: the hand-off, the queued lock against the queue lock it should match.
    t.states("S1 (queued)", "hand-off ns, ndislock_queued / ck_spinlock_mcs <= 1.2", per_state(
        lambda s: ratio_cell(runs.in_state(("S1", "handoff", "ndislock_queued"), "ns_per_handoff", s),
                             runs.in_state(("S1", "handoff", "ck_spinlock_mcs"), "ns_per_handoff", s), s)), le(1.2))

    for cs in ("cs25ns", "cs250ns"):
        t.states("S2", f"{cs}: ndislock ops/s / best spinner of the state >= 1", per_state(
            lambda s: over_best(runs, "S2", cs, "ndislock", SPINNERS, "ops_per_s", s, "spinner")), ge(1.0))
        t.states("S2 (queued)", f"{cs}: ndislock_queued ops/s / ck_spinlock_mcs >= 1", per_state(
            lambda s: ratio_cell(runs.in_state(("S2", cs, "ndislock_queued"), "ops_per_s", s),
                                 runs.in_state(("S2", cs, "ck_spinlock_mcs"), "ops_per_s", s), s)), ge(1.0))
        # The same targets with each contender measured next to the others (S2/<cs>/rounds): the
        # median over the rounds of a state of the ratio within each round.
        rk = ("S2", cs, "rounds")
        n = fmt(runs.get(rk, "rounds"))
        t.states("S2 (rounds)", f"{cs}: ndislock ops/s / best spinner of the same round, median of {n} rounds >= 1",
                 per_state(lambda s: runs.in_state_rounds(rk, "ndislock_over_best_spinner", s)), ge(1.0))
        t.states("S2 (rounds, queued)", f"{cs}: ndislock_queued / ck_spinlock_mcs ops/s of the same round, "
                 f"median >= 1", per_state(lambda s: runs.in_state_rounds(rk, "queued_over_mcs", s)), ge(1.0))
        t.states("S2 (rounds, info)", f"{cs}: lock word alone (ndislock_dpr_word) / best spinner of the same "
                 f"round, median", per_state(lambda s: runs.in_state_rounds(rk, "dpr_word_over_best_spinner", s)))
        probe = runs.get(rk, "handoff_ns")
        t.once("S2 (rounds, info)", f"{cs}: line hand-off between the CPUs before and after each round, median "
               f"(ns; the state probe)", probe, "every probe of the run", None, "the probe that splits the rounds")
        t.states("S2 (info)", f"{cs}: lock word alone (ndislock_dpr_word: Dpr forms, threads staying at "
                 f"DISPATCH_LEVEL) ops/s / best spinner of the state", per_state(
                     lambda s: over_best(runs, "S2", cs, "ndislock_dpr_word", SPINNERS, "ops_per_s", s, "spinner")))

        # Each time the lock changes threads its line crosses cores: the main cost at 25 ns.
        def moved(s, cs=cs):
            cells = [(c, runs.in_state(("S2", cs, c), "moved", s)) for c in ("ndislock", "ndislock_dpr_word")]
            _, best = best_of(runs, "S2", cs, SPINNERS, "ops_per_s", s)
            if best is not None:
                cells.append((best, runs.in_state(("S2", cs, best), "moved", s)))
            shown = [(c, x) for c, x in cells if x is not None and x.shown]
            if not shown:
                return None
            return Cell(" / ".join(f"{c} {fmt(x.value)}" for c, x in shown),
                        "/".join(x.basis.split()[0] for _, x in shown) + " reps")
        t.states("S2 (info)", f"{cs}: acquisitions that moved the lock to the other thread, ndislock / "
                 f"ndislock_dpr_word / best spinner of the state (values)", per_state(moved))

    for x in ("x2", "x4", "x8"):
        def timed(who, field, s, x=x):
            return runs.in_state(("S3", x, who), field, s)
        t.states("S3", f"{x}: ndislock / std::mutex ops/s >= 1", per_state(
            lambda s: ratio_cell(timed("ndislock", "ops_per_s", s), timed("std_mutex", "ops_per_s", s), s)), ge(1.0))
        t.states("S3", f"{x}: ndislock / pthread_spinlock ops/s >= 5", per_state(
            lambda s: ratio_cell(timed("ndislock", "ops_per_s", s), timed("pthread_spinlock", "ops_per_s", s), s)),
            ge(5.0))
        t.states("S3", f"{x}: ndislock min/max per-thread ops >= 0.5",
                 per_state(lambda s: timed("ndislock", "min_max", s)), ge(0.5))
        t.states("S3", f"{x}: ndislock max wait < 50 ms (value in ms)", per_state(
            lambda s: scaled(timed("ndislock", "max_wait_us", s), 1e-3)), lambda v: v < 50)
        t.states("S3 (queued)", f"{x}: ndislock_queued / std::mutex ops/s >= 0.8", per_state(
            lambda s: ratio_cell(timed("ndislock_queued", "ops_per_s", s), timed("std_mutex", "ops_per_s", s), s)),
            ge(0.8))
        # The same targets with the contenders measured next to each other (S3/<x>/rounds).
        rk = ("S3", x, "rounds")
        n = fmt(runs.get(rk, "rounds"))
        for field, what, goal in (("ndislock_over_std_mutex", "ndislock / std::mutex ops/s", 1.0),
                                  ("ndislock_over_pthread_spinlock", "ndislock / pthread_spinlock ops/s", 5.0),
                                  ("ndislock_min_max", "ndislock min/max per-thread ops", 0.5)):
            t.states("S3 (rounds)", f"{x}: {what}, median of {n} rounds >= {fmt(goal)}",
                     per_state(lambda s: runs.in_state_rounds(rk, field, s)), ge(goal))
        t.states("S3 (rounds, queued)", f"{x}: ndislock_queued / std::mutex ops/s of the same round, median >= 0.8",
                 per_state(lambda s: runs.in_state_rounds(rk, "queued_over_std_mutex", s)), ge(0.8))
        t.states("S3 (rounds, info)", f"{x}: a FIFO lock's ceiling / std::mutex ops/s (1 / two line hand-offs per "
                 f"acquisition, from the round's probes), median",
                 per_state(lambda s: runs.in_state_rounds(rk, "fifo_ceiling_over_std_mutex", s)))
        probe = runs.get(rk, "handoff_ns")
        t.once("S3 (rounds, info)", f"{x}: line hand-off between the CPUs before and after each round, median "
               f"(ns; the state probe)", probe, "every probe of the run", None, "the probe that splits the rounds")
        t.states("S3 (rounds, info)", f"{x}: OS floor, no lock at all: min/max per-thread ops, median",
                 per_state(lambda s: runs.in_state_rounds(rk, "floor_min_max", s)))
        # The scheduler's own floor (no lock, same threads and work): what no lock can beat.
        t.states("S3 (info)", f"{x}: OS floor, no lock at all: min/max per-thread ops",
                 per_state(lambda s: timed("os_floor_no_lock", "min_max", s)))
        t.states("S3 (info)", f"{x}: OS floor, no lock at all: max wait (value in ms)",
                 per_state(lambda s: scaled(timed("os_floor_no_lock", "max_wait_us", s), 1e-3)))
        t.states("S3 (info)", f"{x}: OS floor ops/s / pthread_spinlock (no exclusion at all)", per_state(
            lambda s: ratio_cell(timed("os_floor_no_lock", "ops_per_s", s), timed("pthread_spinlock", "ops_per_s", s), s)))
        # Critical sections never overlap: one thread running them back to back is the ceiling.
        t.states("S3 (info)", f"{x}: serial bound ops/s / pthread_spinlock (the most any lock could reach)", per_state(
            lambda s: ratio_cell(runs.in_state(("S3", "serial_bound", "bare_tas"), "ops_per_s", s),
                                 timed("pthread_spinlock", "ops_per_s", s), s)))

    for name, label in (("ndislock_verifier", "verifier on"), ("ndislock_stats_observer", "observer on (statistics)")):
        r, n = once_ratio(runs, ("S0", "pair", name), ("S0", "pair", "ndislock"))
        if name == "ndislock_verifier":
            t.once("S5", f"S0 {label} / verifier off <= 4", r, n, None if r is None else r <= 4.0, ONE_THREAD)
        else:
            # The protocol's S5 is the verifier's. The statistics observer times every hold (its
            # histogram is what it is for), where the verifier samples one in 16: information only.
            t.once("S5 (info)", f"S0 {label} / verifier off", r, n, None, ONE_THREAD)
        t.states("S5 (info)", f"S2 cs25ns {label} / verifier off, throughput", per_state(
            lambda s: ratio_cell(runs.in_state(("S2", "cs25ns", name), "ops_per_s", s),
                                 runs.in_state(("S2", "cs25ns", "ndislock"), "ops_per_s", s), s)))

    b = runs.get(("S6", "footprint", "ndislock"), "bytes_per_lock_beyond_struct")
    t.once("S6", "verifier off: bytes per lock beyond the struct == 0", b, None, None if b is None else b < 0.5, MEMORY)
    # The first repetition pays for the verifier's table; later ones reuse it: take the max.
    vk = ("S6", "footprint", "ndislock_verifier")
    bv = runs.get(vk, "bytes_per_lock_beyond_struct", "max")
    if bv is None:
        bv = runs.get(vk, "bytes_per_lock_beyond_struct")
    t.once("S6", "verifier on: bytes per live lock <= 64", bv, None, None if bv is None else bv <= 64, MEMORY)
    af = runs.get(vk, "rss_after_free_kib", "max")
    if af is None:
        af = runs.get(vk, "rss_after_free_kib")
    if bv is not None:
        t.once("S6", "verifier on: RSS back to baseline after the frees (KiB above)", af, None,
               None if af is None else af < 1024, MEMORY)

    # S7: read-mostly, reader/writer locks (bench/s7_read_mostly.cpp).
    for tn in ("t2", "t4", "t8"):
        peers = [c for c in contenders(runs, "S7", tn) if not c.startswith("ndislock")]
        t.states("S7", f"{tn}: ndislock_rw_ex ops/s / best peer of the state >= 1", per_state(
            lambda s: over_best(runs, "S7", tn, S7_NDISLOCK, peers, "ops_per_s", s, "peer")), ge(1.0))
        t.states("S7", f"{tn}: ndislock_rw_ex max writer wait, every repetition, < 50 ms (value in ms)", per_state(
            lambda s: scaled(runs.in_state(("S7", tn, S7_NDISLOCK), "max_writer_wait_us", s, max), 1e-3)),
            lambda v: v < 50)
        rk = ("S7", tn, "rounds")
        n = fmt(runs.get(rk, "rounds"))
        t.states("S7 (rounds)", f"{tn}: ndislock_rw_ex ops/s / best peer of the same round, median of {n} rounds >= 1",
                 per_state(lambda s: runs.in_state_rounds(rk, "ndislock_over_best_peer", s)), ge(1.0))
        pc = runs.get(rk, "best_peer_cpu_over_ndislock")
        t.once("S7 (rounds, info)", f"{tn}: best peer's CPU ns per op / ndislock_rw_ex's, median of {n} rounds "
               f"(> 1: ndislock costs less CPU per op)", pc, None, None, "CPU time per op, both states together")
        t.states("S7 (rounds)", f"{tn}: ndislock_rw_ex max writer wait over the rounds < 50 ms (value in ms)",
                 per_state(lambda s: scaled(runs.in_state_rounds(rk, f"max_writer_wait_us_{S7_NDISLOCK}", s), 1e-3)),
                 lambda v: v < 50)
    return t


def scaled(cell, k):
    if cell is not None and cell.shown:
        return Cell(cell.value * k, cell.basis)
    return cell


# Entries under a scenario/variant that are measurements about the contenders, not contenders.
NOT_CONTENDERS = {"rounds"}


def contenders(runs, scenario, variant):
    return sorted({k[2] for k in runs.keys() if k[0] == scenario and k[1] == variant and k[2] not in NOT_CONTENDERS})


