// The exploration's C calls (ndislock/explore.h): argument checks, the replay token, the result.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "explore/scheduler.h"
#include "explore/jobs.h"
#include "explore/search_api.h"
#include "explore/token.h"
#include "ndislock/ndis.h"
#include "platform/diagnostics.h"

using namespace ndislock::explore;

extern "C" {

NDISLOCK_API NDISLOCK_STATUS NdislockExplore(const NDISLOCK_EXPLORE_OPTIONS *Options, NDISLOCK_EXPLORE_SETUP *Setup,
                                             NDISLOCK_EXPLORE_CHECK *Check, void *Context,
                                             NDISLOCK_EXPLORE_RESULT *Result) {
    if (Options == nullptr || Setup == nullptr || Result == nullptr) return NDISLOCK_INVALID_ARGUMENT;
    std::memset(Result, 0, sizeof *Result);
    if (Options->Depth > kMaxDepth) return NDISLOCK_INVALID_ARGUMENT;
    if (!search_options_valid(*Options)) return NDISLOCK_INVALID_ARGUMENT; // the strategy, Bound, the shard
    (void)KeGetCurrentIrql(); // the exploring thread's first call configures the process
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) return NDISLOCK_WRONG_IRQL;

    Plan plan;
    plan.first.kind = Options->Strategy == NDISLOCK_EXPLORE_PCT ? StrategyKind::Pct : StrategyKind::Random;
    plan.first.depth = Options->Depth != 0 ? Options->Depth : 2;
    plan.first.seed = Options->Seed;
    plan.schedules = Options->Schedules != 0 ? Options->Schedules : 1000;
    plan.max_steps = Options->MaxSteps != 0 ? Options->MaxSteps : 10000;
    const char *replay = Options->Replay != nullptr ? Options->Replay : std::getenv("NDISLOCK_EXPLORE_REPLAY");
    if (replay != nullptr && *replay != '\0') {
        if (!parse_token(replay, plan.first)) return NDISLOCK_INVALID_ARGUMENT;
        plan.replay = true;
    }

    NDISLOCK_EXPLORE_OPTIONS options = *Options;
    if (!shard_from_environment(options)) return NDISLOCK_INVALID_ARGUMENT;
    if (options.Jobs > 1 && !plan.replay && options.Strategy != NDISLOCK_EXPLORE_EXHAUSTIVE)
        return explore_in_jobs(options, Setup, Check, Context, Result);
    const SearchRun search(options, plan); // exhaustive, portfolio, a shard: a driver
    ExplorationResult r;
    if (!run_exploration(plan, Setup, Check, Context, r)) return NDISLOCK_BUSY;
    search.collect(r);
    Result->Schedules = r.schedules;
    Result->Steps = r.steps;
    if (r.finding.found) {
        Result->Found = TRUE;
        std::snprintf(Result->Rule, sizeof Result->Rule, "%s", r.finding.rule);
        format_token(r.key, Result->Token, sizeof Result->Token);
        // The message is the finding alone (a replay gives the same text); where the search found
        // it goes to stderr beside it.
        std::snprintf(Result->Message, sizeof Result->Message, "%s: %s\n  replay: NDISLOCK_EXPLORE_REPLAY=%s",
                      r.finding.rule, r.finding.message, Result->Token);
        std::fprintf(stderr, "ndislock explore: schedule %u of the search: %s\n", r.schedules, Result->Message);
    }
    search.complete(plan, Setup, Check, Context, r, Result); // state space; shrunk schedule, trace
    return NDISLOCK_OK;
}

NDISLOCK_API NDISLOCK_STATUS NdislockExploreSpawn(PNDISLOCK_EXPLORE_RUN Run, NDISLOCK_EXPLORE_ROUTINE *Routine,
                                                  void *Context) {
    return spawn(Run, Routine, Context) ? NDISLOCK_OK : NDISLOCK_INVALID_ARGUMENT;
}

NDISLOCK_API void NdislockExploreYield(void) { yield_point(__builtin_return_address(0)); }

NDISLOCK_API void ndislock_explore_assert(int condition, const char *message, const char *file, int line) {
    if (condition) return;
    if (fail_assertion(message, file, line)) return; // not reached: the schedule failed
    ndislock::platform::fatal("AssertionFailed: NdislockExploreAssert failed at %s:%d: %s", file ? file : "?", line,
                              message ? message : "");
}

} // extern "C"
