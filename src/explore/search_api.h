// What NdislockExplore (explore_api.cpp) adds for the searches of explore/search.h and the
// shrinker: the options they take, the driver a plan gets, and the result's search fields.
#pragma once

#include "explore/scheduler.h"
#include "explore/search.h"
#include "ndislock/explore.h"

namespace ndislock::explore {

// The strategy is known and Bound, Jobs and the shard are in range.
bool search_options_valid(const NDISLOCK_EXPLORE_OPTIONS &options) noexcept;
// ShardCount 0: the shard NDISLOCK_EXPLORE_SHARD ("index/count") names, else none (ShardCount 1).
// False if the variable is set but is no such shard.
bool shard_from_environment(NDISLOCK_EXPLORE_OPTIONS &options) noexcept;

class SearchRun {
public:
    // Gives plan a driver when the options need one (EXHAUSTIVE, PORTFOLIO, a shard); not for a
    // replay. plan must outlive the run, and this the plan's exploration.
    SearchRun(const NDISLOCK_EXPLORE_OPTIONS &options, Plan &plan);
    // After run_exploration: the driver's finding into r (as the plan without a driver gives it).
    void collect(ExplorationResult &r) const;
    // The result's StateSpace, Exhausted, and for a finding the shrunk schedule, its token and
    // trace (running the shrinker's replays, an exploration each; none for a replay).
    void complete(const Plan &plan, NDISLOCK_EXPLORE_SETUP *setup, NDISLOCK_EXPLORE_CHECK *check, void *context,
                  const ExplorationResult &r, NDISLOCK_EXPLORE_RESULT *result) const;

private:
    ULONG shrink_replays_;
    bool seeds_ = false, exhaustive_ = false;
    SeedDriver seed_driver_;
    ExhaustiveDriver exhaustive_driver_;
};

} // namespace ndislock::explore
