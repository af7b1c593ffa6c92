#include "explore/search.h"

#include <memory>

namespace ndislock::explore {

std::uint64_t schedule_seed(std::uint64_t base, unsigned index) noexcept {
    std::uint64_t mix = base ^ (0xD1B54A32D192ED03ull * (index + 1ull));
    return splitmix64(mix);
}

namespace {
bool keep_finding(DriverFinding &into, const ScheduleKey &key, const ScheduleOutcome &outcome) {
    if (!outcome.finding.found) return false;
    into.found = true;
    into.finding = outcome.finding;
    into.key = key;
    into.choices = outcome.choices;
    return true;
}
} // namespace

SeedDriver::SeedDriver(const ScheduleKey &first, bool portfolio, unsigned schedules, SearchShare share) noexcept
    : first_(first), portfolio_(portfolio), schedules_(schedules), share_(share) {
    if (share_.count == 0) share_ = SearchShare{};
}

bool SeedDriver::next(ScheduleKey &key) {
    while (index_ < schedules_ && index_ % share_.count != share_.index)
        ++index_;
    if (index_ >= schedules_) return false;
    key = first_;
    key.seed = schedule_seed(first_.seed, index_);
    key.horizon = horizon_;
    if (portfolio_) {
        // The rotation: random, PCT at depth 1, 2 and 3, and exhaustive at bound 1 (each finds
        // what the others may take long to: docs/explore.md, "Strategies").
        const unsigned turn = index_ % kPortfolioTurns;
        key.kind = turn == 0 ? StrategyKind::Random : StrategyKind::Pct;
        key.depth = turn == 0 ? 2 : turn;
        if (turn == 4) {
            key.kind = StrategyKind::Random;
            if (share_.index == 0 && !exhaustive_.exhausted()) exhaustive_.next(key);
        }
    }
    ++index_;
    return true;
}

bool SeedDriver::after(const ScheduleKey &key, const ScheduleOutcome &outcome) {
    if (outcome.steps > horizon_) horizon_ = static_cast<std::uint32_t>(outcome.steps);
    if (key.kind == StrategyKind::Choices) exhaustive_.after(key, outcome); // its next schedule
    return !keep_finding(found_, key, outcome);
}

bool ExhaustiveDriver::next(ScheduleKey &key) {
    if (exhausted_ || run_ >= budget_) return false;
    key = ScheduleKey{};
    key.kind = StrategyKind::Choices;
    key.choices = std::make_shared<const ChoiceList>(prefix_);
    return true;
}

bool ExhaustiveDriver::after(const ScheduleKey &key, const ScheduleOutcome &outcome) {
    ++run_;
    if (keep_finding(found_, key, outcome)) return false;
    // Backtrack: the deepest point with an untried alternative within the bound.
    if (next_bounded_prefix(outcome.choices, bound_, prefix_)) return true;
    exhausted_ = true;
    return false;
}

} // namespace ndislock::explore
