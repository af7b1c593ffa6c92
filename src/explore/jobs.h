// Options.Jobs (docs/explore.md, "Jobs and shards"): a search split over worker processes.
//
// The exploring thread forks Jobs children before any worker thread of the exploration exists;
// child j searches the share of the schedules its shard and j give it (of this process's share:
// ShardCount * Jobs shards, index ShardIndex + ShardCount * j), shrinks what it finds, writes its
// whole result to a pipe and leaves with _exit. The parent reads the results as they come: the
// first child to report a finding wins (the others are killed: their pids, one by one), its result
// is the search's, with the schedules and steps of every child that reported. Which child wins a
// race between two findings depends on the OS; the winner's token replays its schedule exactly.
#pragma once

#include "ndislock/explore.h"

namespace ndislock::explore {

// NdislockExplore with Options.Jobs > 1 (a search, not a replay or an exhaustive search).
NDISLOCK_STATUS explore_in_jobs(const NDISLOCK_EXPLORE_OPTIONS &options, NDISLOCK_EXPLORE_SETUP *setup,
                                NDISLOCK_EXPLORE_CHECK *check, void *context, NDISLOCK_EXPLORE_RESULT *result);

} // namespace ndislock::explore
