#include "explore/search_api.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "explore/shrink.h"
#include "explore/token.h"
#include "explore/trace.h"

namespace ndislock::explore {

namespace {
constexpr unsigned kMaxBound = 2;
constexpr unsigned kMaxJobs = 64; // processes forked at once
constexpr unsigned kDefaultShrinkReplays = 500;

SearchShare share_of(const NDISLOCK_EXPLORE_OPTIONS &o) noexcept {
    return o.ShardCount > 1 ? SearchShare{o.ShardCount, o.ShardIndex} : SearchShare{};
}
} // namespace

bool search_options_valid(const NDISLOCK_EXPLORE_OPTIONS &o) noexcept {
    if (o.Strategy != NDISLOCK_EXPLORE_RANDOM && o.Strategy != NDISLOCK_EXPLORE_PCT &&
        o.Strategy != NDISLOCK_EXPLORE_EXHAUSTIVE && o.Strategy != NDISLOCK_EXPLORE_PORTFOLIO)
        return false;
    if (o.Bound > kMaxBound || o.Jobs > kMaxJobs) return false;
    return o.ShardCount <= 1 || o.ShardIndex < o.ShardCount;
}

bool shard_from_environment(NDISLOCK_EXPLORE_OPTIONS &o) noexcept {
    if (o.ShardCount != 0) return true;
    o.ShardCount = 1;
    o.ShardIndex = 0;
    const char *text = std::getenv("NDISLOCK_EXPLORE_SHARD");
    if (text == nullptr || *text == '\0') return true;
    unsigned index = 0, count = 0;
    char end = 0;
    if (std::sscanf(text, "%u/%u%c", &index, &count, &end) != 2 || count == 0 || index >= count) return false;
    o.ShardCount = count;
    o.ShardIndex = index;
    return true;
}

SearchRun::SearchRun(const NDISLOCK_EXPLORE_OPTIONS &o, Plan &plan)
    : shrink_replays_(o.ShrinkReplays != 0 ? o.ShrinkReplays : kDefaultShrinkReplays),
      seed_driver_(plan.first, o.Strategy == NDISLOCK_EXPLORE_PORTFOLIO, plan.schedules, share_of(o)),
      exhaustive_driver_(o.Bound, plan.schedules) {
    if (plan.replay) return;
    if (o.Strategy == NDISLOCK_EXPLORE_EXHAUSTIVE) {
        exhaustive_ = true;
        plan.driver = &exhaustive_driver_;
    } else if (o.Strategy == NDISLOCK_EXPLORE_PORTFOLIO || o.ShardCount > 1) {
        seeds_ = true;
        plan.driver = &seed_driver_;
    }
}

void SearchRun::collect(ExplorationResult &r) const {
    const DriverFinding *d = exhaustive_ ? &exhaustive_driver_.result() : seeds_ ? &seed_driver_.result() : nullptr;
    if (d == nullptr || !d->found) return;
    r.finding = d->finding;
    r.key = d->key;
    r.choices = d->choices;
}

void SearchRun::complete(const Plan &plan, NDISLOCK_EXPLORE_SETUP *setup, NDISLOCK_EXPLORE_CHECK *check, void *context,
                         const ExplorationResult &r, NDISLOCK_EXPLORE_RESULT *result) const {
    if (exhaustive_) {
        result->StateSpace = exhaustive_driver_.schedules();
        result->Exhausted = exhaustive_driver_.exhausted() ? TRUE : FALSE;
    }
    if (!r.finding.found) return;
    std::vector<ChoiceRecord> shown = r.choices;
    if (!plan.replay && shrink_replays_ != NDISLOCK_EXPLORE_NO_SHRINK) {
        // Each replay is an exploration of one schedule: the choices, then defaults.
        const ReplayChoices replay = [&](StrategyKind kind, const ChoiceList &choices, Finding *finding,
                                         std::vector<ChoiceRecord> *recorded) {
            Plan one;
            one.first.kind = kind;
            one.first.choices = std::make_shared<const ChoiceList>(choices);
            one.replay = true;
            one.max_steps = plan.max_steps;
            ExplorationResult again;
            if (!run_exploration(one, setup, check, context, again)) return false;
            *finding = again.finding;
            *recorded = std::move(again.choices);
            return true;
        };
        const Shrunk shrunk = shrink(r.choices, r.finding, shrink_replays_, replay);
        result->ShrinkReplays = shrunk.replays;
        if (!shrunk.reproduced)
            std::fprintf(stderr, "ndislock explore: not shrunk: the failing schedule's choices, replayed, did not fail "
                                 "the same way (the scenario depends on more than the choices: docs/explore.md, "
                                 "\"Writing a scenario\")\n");
        if (shrunk.reproduced) {
            shown = shrunk.choices;
            ScheduleKey key;
            key.kind = StrategyKind::Choices;
            key.choices = std::make_shared<const ChoiceList>(ranks_of(shown));
            format_token(key, result->ShrunkToken, sizeof result->ShrunkToken);
        }
    }
    result->Preemptions = count_preemptions(shown);
    const std::string trace = format_trace(shown, sizeof result->Trace);
    std::snprintf(result->Trace, sizeof result->Trace, "%s", trace.c_str());
    if (result->ShrunkToken[0] != '\0')
        std::fprintf(stderr,
                     "ndislock explore: shrunk to %lu preemption(s) in %lu replays: NDISLOCK_EXPLORE_REPLAY=%s\n%s",
                     static_cast<unsigned long>(result->Preemptions), static_cast<unsigned long>(result->ShrinkReplays),
                     result->ShrunkToken, result->Trace);
}

} // namespace ndislock::explore
