// bench/state_counters.h: the guest's state (handoff_probe.h) as Google Benchmark counters, for a
// timed run (one state per repetition) and for runs in rounds (values split by each round's state).
// report.py reads them to judge every target in each state: a ratio is only ever formed between
// figures measured in the same state.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "handoff_probe.h"

namespace ndislock_bench {

// The guest's state around a timed run, from probes before the loop's start barrier and after its
// end, as counters: handoff_ns, their mean, and slow_state: 1 when both read slow, 0 when both read
// fast, 0.5 when the state changed (absent when not measured). The JSON keeps every repetition,
// so report.py groups a contender's repetitions by this counter.
inline void state_counters(benchmark::State &state, double before_ns, double after_ns) {
    const GuestState s = guest_state(before_ns, after_ns);
    if (s == GuestState::Unmeasured) return;
    state.counters["handoff_ns"] = (before_ns + after_ns) / 2;
    state.counters["slow_state"] = s == GuestState::Slow ? 1.0 : s == GuestState::Fast ? 0.0 : 0.5;
}

inline double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0.0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline double max_of(std::vector<double> v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

// One value per round, with the round's state: counter `name` over every round, and `name`_fast_state
// and `name`_slow_state over the rounds that stayed in that state (absent when there was none);
// rounds_fast_state and rounds_slow_state count those rounds. reduce: median_of or max_of.
inline void split_by_state(benchmark::State &state, const std::string &name, const std::vector<double> &values,
                           const std::vector<GuestState> &states, double (*reduce)(std::vector<double>)) {
    std::vector<double> fast, slow;
    for (std::size_t i = 0; i < values.size() && i < states.size(); ++i) {
        if (states[i] == GuestState::Fast) fast.push_back(values[i]);
        if (states[i] == GuestState::Slow) slow.push_back(values[i]);
    }
    auto &c = state.counters;
    c[name] = reduce(values);
    if (!fast.empty()) c[name + "_fast_state"] = reduce(fast);
    if (!slow.empty()) c[name + "_slow_state"] = reduce(slow);
    c["rounds_fast_state"] = double(fast.size());
    c["rounds_slow_state"] = double(slow.size());
}

} // namespace ndislock_bench
