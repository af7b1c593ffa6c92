// How an exploration chooses, at each scheduling point, which runnable thread goes on
// (docs/explore.md, "Strategies"). Deterministic: a strategy's choices depend only on its seed and
// on the sequence of runnable sets it is shown, so replaying a schedule is replaying its seed.
//
//   Random  a runnable thread chosen uniformly at every point.
//   PCT     (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010) random distinct priorities
//           at or above depth, and depth-1 change points drawn over [1, horizon] steps: the
//           highest-priority runnable thread runs; at the i-th change point the running thread's
//           priority drops to i (below every initial one). A bug of depth d among n threads and
//           k steps is hit with probability at least 1/(n k^(d-1)) per schedule.
//   Choices a given list of ranks, then the default (explore/choices.h): the replay of a recorded
//           schedule, and the exhaustive search's and the shrinker's schedules (explore/search.h).
//   Threads a given list of threads, one per point, each taken where it is runnable (else the
//           default): the shrinker's reordered schedules (explore/shrink.h).
// Every strategy records its choices (recorded()), whichever way it made them.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "explore/choices.h"

namespace ndislock::explore {

inline constexpr unsigned kMaxContexts = 8;
inline constexpr unsigned kMaxDepth = 3;

enum class StrategyKind : std::uint8_t { Random, Pct, Choices, Threads };

// SplitMix64 (Steele, Lea, Flood 2014): a full-period generator with a one-word state.
inline std::uint64_t splitmix64(std::uint64_t &state) noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// What one schedule needs to be replayed: the strategy, its parameters and the schedule's seed.
struct ScheduleKey {
    StrategyKind kind = StrategyKind::Random;
    unsigned depth = 2;         // PCT
    std::uint32_t horizon = 16; // PCT: the steps change points are drawn over
    std::uint64_t seed = 0;
    std::shared_ptr<const ChoiceList> choices; // Choices: the ranks to take; Threads: the threads
};

class Strategy {
public:
    void begin(const ScheduleKey &key) noexcept;
    // A thread joins the schedule (its priority, for PCT).
    void spawned(unsigned index) noexcept;
    // The thread to run at step `step` (1-based), among runnable[0..count) (context indices, in
    // increasing order; count >= 1); running is the thread at the point, or -1.
    unsigned pick(std::uint64_t step, int running, const unsigned *runnable, unsigned count) noexcept;
    // The schedule's choices so far, one per pick since begin().
    const std::vector<ChoiceRecord> &recorded() const noexcept { return recorded_; }
    // Whether to take the extra option a point offers beside its count runnable threads: deliver
    // a pending interrupt on the running thread, here (explore/deliveries.h). Random: one chance
    // in count + 1, as if the delivery were one more runnable thread. PCT: one chance in the
    // horizon at every offer, so the point where an interrupt arrives is spread over the
    // schedule's steps (no depth bound is claimed for it).
    // Recorded as a choice of its own (ChoiceRecord::extra), so choice tokens, the exhaustive
    // search and the shrinker replay, enumerate and remove deliveries as they do thread choices.
    bool take_extra(int running, unsigned count) noexcept;

private:
    unsigned choose(std::uint64_t step, int running, const unsigned *runnable, unsigned count) noexcept;
    std::vector<ChoiceRecord> recorded_; // cleared by begin(), its capacity kept: no allocation in steady state
    ScheduleKey key_{};
    std::uint64_t prng_ = 0;
    std::uint64_t priority_[kMaxContexts] = {};
    std::uint64_t change_at_[kMaxDepth] = {}; // steps, kMaxDepth-1 used at most
    unsigned changes_ = 0;
};

} // namespace ndislock::explore
