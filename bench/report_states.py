"""The benchmark JSON as bench/report.py reads it: each benchmark's aggregates (median, min, max of
its repetitions) and its repetitions themselves, and the guest's two states.

This 2-vCPU guest is, for minutes at a time, in a fast state (a cache line crosses between its CPUs
in 20-40 ns) or a slow one (160-200 ns). Every timed run and every round is taken between two probes
of that state (bench/handoff_probe.h): counter slow_state of a repetition (0 fast, 1 slow, 0.5 changed
in between, absent when the probe could not run), rounds_fast_state / rounds_slow_state and the
<counter>_fast_state / <counter>_slow_state medians of a run in rounds. A figure per state is the
median over the repetitions (or rounds) of that state only; a ratio is taken between two figures of
the same state, never a fast one over a slow one.
"""
import json

STATES = ("fast", "slow")
SLOW_STATE = {"fast": 0.0, "slow": 1.0}  # the counter slow_state of a repetition in that state


def median(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return None
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


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


class Cell:
    """One figure in one state: a value and what it rests on ("5 reps", "3/4 reps", "5 rounds"), or
    none and why (no run in that state, or the JSON kept no repetitions to split)."""

    def __init__(self, value=None, basis=None, why=None):
        self.value, self.basis, self.why = value, basis, why

    @property
    def shown(self):
        return self.value is not None

    def text(self, state, digits=3, note=""):
        if self.value is None:
            return self.why or f"no {state}-state run"
        return f"{fmt(self.value, digits)}{note} ({self.basis})"


def none_in(state):
    return Cell(why=f"no {state}-state run")


NOT_SPLIT = "not split (a JSON of aggregates only)"


class Runs:
    def __init__(self, path):
        with open(path) as f:
            doc = json.load(f)
        self.context = doc.get("context", {})
        self.aggregates = {}  # (scenario, variant, contender) -> {aggregate name: entry}
        self.repetitions = {}  # (scenario, variant, contender) -> [entries, one per repetition]
        for b in doc["benchmarks"]:
            parts = b["run_name"].split("/")
            key = (parts[0], parts[1], parts[2])
            if b.get("run_type") == "aggregate":
                self.aggregates.setdefault(key, {})[b["aggregate_name"]] = b
            else:
                self.repetitions.setdefault(key, []).append(b)
        for key, reps in self.repetitions.items():
            if len(reps) == 1:  # one repetition (no aggregates): the run is its own median
                self.aggregates.setdefault(key, {}).setdefault("median", reps[0])

    def keys(self):
        return set(self.aggregates) | set(self.repetitions)

    def get(self, key, field, agg="median"):
        e = self.aggregates.get(key, {}).get(agg)
        return None if e is None else value(e, field)

    def count(self, key):
        """How many repetitions a benchmark ran."""
        reps = self.repetitions.get(key)
        if reps:
            return len(reps)
        e = self.aggregates.get(key, {}).get("median")
        return None if e is None else e.get("repetitions")

    def in_state(self, key, field, state, reduce=median):
        """The repetitions of `key` that ran in `state` throughout, reduced (median or max), as a Cell;
        None when the benchmark did not run at all."""
        reps = self.repetitions.get(key)
        if reps:
            vals = [value(e, field) for e in reps if e.get("slow_state") == SLOW_STATE[state]]
            vals = [v for v in vals if v is not None]
            return Cell(reduce(vals), reps_text(len(vals))) if vals else none_in(state)
        if key not in self.aggregates:
            return None
        # A JSON of aggregates only (an older run): split only when every repetition was in one state.
        share = self.get(key, "slow_state", "mean")
        if share is None or share not in SLOW_STATE.values():
            return Cell(why=NOT_SPLIT)
        if share != SLOW_STATE[state]:
            return none_in(state)
        v = self.get(key, field, "max" if reduce is max else "median")
        return Cell(v, reps_text(self.count(key))) if v is not None else none_in(state)

    def in_state_rounds(self, key, field, state):
        """A run in rounds: the median of `field` over its rounds in `state`, as a Cell; None when the
        run (or that counter) is not there."""
        if self.get(key, field) is None:
            return None
        n = self.get(key, f"rounds_{state}_state")
        if n is None:
            return Cell(why="no state probe in this run")
        v = self.get(key, f"{field}_{state}_state")
        return Cell(v, f"{int(n)} round{'s' if n != 1 else ''}") if n and v is not None else none_in(state)


def reps_text(n):
    return f"{n} rep{'s' if n != 1 else ''}"


def value(e, field):
    if field == "time_ns":
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[e.get("time_unit", "ns")]
        return e["real_time"] * scale
    return e.get(field)


def ratio_cell(a, b, state, scale=1.0):
    """a / b, both measured in `state`: their repetitions' counts as the basis."""
    if a is None or b is None:
        return None
    if not a.shown:
        return Cell(why=a.why)
    if not b.shown:
        return Cell(why=b.why)
    if b.value == 0:
        return Cell(why="divisor is 0")
    na, nb = a.basis.split()[0], b.basis.split()[0]
    return Cell(scale * a.value / b.value, f"{na}/{nb} reps")
