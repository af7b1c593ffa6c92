// The searches beyond one strategy's seeds (docs/explore.md, "Strategies"): each a ScheduleDriver
// (explore/scheduler.h) that picks a search's schedules one at a time.
//
//   SeedDriver        random or PCT schedules from the search's seed, one strategy or the
//                     portfolio's rotation (random, PCT depth 1, 2, 3, then the next schedule of
//                     an exhaustive search at bound 1, then again), over the share of the
//                     schedule indices a shard owns (i % count == index).
//   ExhaustiveDriver  CHESS's preemption-bounded search (Musuvathi, Qadeer, PLDI 2007): depth
//                     first over the tree of choices, each schedule the previous one's choices up
//                     to the deepest point with an untried alternative within the bound, that
//                     alternative, then the default (no preemption) to the end. Every schedule
//                     with at most `bound` preemptions runs exactly once (for a scenario whose
//                     runs depend on the choices alone); the schedules counted when the tree ends
//                     are the bounded state space's size.
#pragma once

#include <cstdint>
#include <vector>

#include "explore/scheduler.h"

namespace ndislock::explore {

// Which schedules of a search this process runs: schedule i when i % count == index.
struct SearchShare {
    unsigned count = 1;
    unsigned index = 0;
};

// Schedule i's seed in a search from base: the scheduler's own derivation (scheduler.cpp), so a
// shard runs exactly the schedules the whole search would at those indices.
std::uint64_t schedule_seed(std::uint64_t base, unsigned index) noexcept;

// What a driver kept of the first failing schedule.
struct DriverFinding {
    bool found = false;
    Finding finding;
    ScheduleKey key;
    std::vector<ChoiceRecord> choices;
};

class ExhaustiveDriver final : public ScheduleDriver {
public:
    ExhaustiveDriver(unsigned bound, unsigned budget) noexcept : bound_(bound), budget_(budget) {}
    bool next(ScheduleKey &key) override;
    bool after(const ScheduleKey &key, const ScheduleOutcome &outcome) override;

    const DriverFinding &result() const noexcept { return found_; }
    unsigned schedules() const noexcept { return run_; } // complete schedules run
    bool exhausted() const noexcept { return exhausted_; }

private:
    unsigned bound_;
    unsigned budget_;
    unsigned run_ = 0;
    bool exhausted_ = false;
    ChoiceList prefix_; // the next schedule's choices (empty: the first, all defaults)
    DriverFinding found_;
};

// The portfolio's rotation: schedule i's turn is i % kPortfolioTurns.
inline constexpr unsigned kPortfolioTurns = 5;

class SeedDriver final : public ScheduleDriver {
public:
    // first: the strategy (Random or Pct, its depth) and the base seed; schedules: the whole
    // search's indices [0, schedules), of which this share runs its own.
    SeedDriver(const ScheduleKey &first, bool portfolio, unsigned schedules, SearchShare share) noexcept;
    bool next(ScheduleKey &key) override;
    bool after(const ScheduleKey &key, const ScheduleOutcome &outcome) override;

    const DriverFinding &result() const noexcept { return found_; }

private:
    ScheduleKey first_;
    bool portfolio_;
    unsigned schedules_;
    SearchShare share_;
    unsigned index_ = 0;         // the next schedule index to consider
    std::uint32_t horizon_ = 16; // PCT: the most steps a schedule took so far (scheduler.cpp's rule)
    // The portfolio's exhaustive turns, at bound 1: in shard 0 only (each of its schedules follows
    // from the one before, so shards cannot split it); once the tree ended, random takes them.
    ExhaustiveDriver exhaustive_{1, ~0u};
    DriverFinding found_;
};

} // namespace ndislock::explore
