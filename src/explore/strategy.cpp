#include "explore/strategy.h"

namespace ndislock::explore {

void Strategy::begin(const ScheduleKey &key) noexcept {
    key_ = key;
    prng_ = key.seed;
    changes_ = 0;
    recorded_.clear();
    (void)take_point_label(); // a failed schedule's last one
    for (auto &p : priority_)
        p = 0;
    if (key_.kind == StrategyKind::Pct) {
        const std::uint32_t horizon = key_.horizon != 0 ? key_.horizon : 1;
        for (unsigned i = 0; i + 1 < key_.depth && i < kMaxDepth; ++i)
            change_at_[changes_++] = 1 + splitmix64(prng_) % horizon;
    }
}

void Strategy::spawned(unsigned index) noexcept {
    // Above every change point's priority (1..depth-1); distinct but for a 2^-40 chance, and then
    // the lower index wins.
    if (index < kMaxContexts) priority_[index] = key_.depth + (splitmix64(prng_) >> 24);
}

unsigned Strategy::pick(std::uint64_t step, int running, const unsigned *runnable, unsigned count) noexcept {
    ChoiceRecord record;
    record.count = static_cast<std::uint8_t>(count);
    record.preemptive = running_is_runnable(running, runnable, count);
    record.label = take_point_label();
    if (key_.kind == StrategyKind::Choices) {
        const std::size_t at = recorded_.size();
        const unsigned rank = key_.choices && at < key_.choices->size() ? (*key_.choices)[at] : 0;
        record.chosen = static_cast<std::uint8_t>(thread_at_rank(rank, running, runnable, count));
    } else if (key_.kind == StrategyKind::Threads) {
        const std::size_t at = recorded_.size();
        const unsigned wanted = key_.choices && at < key_.choices->size() ? (*key_.choices)[at] : ~0u;
        const bool can = wanted != ~0u && running_is_runnable(static_cast<int>(wanted), runnable, count);
        record.chosen = static_cast<std::uint8_t>(can ? wanted : thread_at_rank(0, running, runnable, count));
    } else {
        record.chosen = static_cast<std::uint8_t>(choose(step, running, runnable, count));
    }
    record.rank = static_cast<std::uint8_t>(rank_of(record.chosen, running, runnable, count));
    recorded_.push_back(record);
    return record.chosen;
}

unsigned Strategy::choose(std::uint64_t step, int running, const unsigned *runnable, unsigned count) noexcept {
    if (key_.kind == StrategyKind::Random) return runnable[splitmix64(prng_) % count];
    if (running >= 0)
        for (unsigned i = 0; i < changes_; ++i)
            if (change_at_[i] == step) priority_[running] = i + 1;
    unsigned best = runnable[0];
    for (unsigned i = 1; i < count; ++i)
        if (priority_[runnable[i]] > priority_[best]) best = runnable[i];
    return best;
}

bool Strategy::take_extra(int running, unsigned count) noexcept {
    ChoiceRecord record;
    record.count = 2;
    record.extra = true;
    record.preemptive = true;
    record.chosen = static_cast<std::uint8_t>(running >= 0 ? running : 0);
    record.label.context = running;
    record.label.call = "an interrupt comes in";
    const std::size_t at = recorded_.size();
    bool take = false;
    if (key_.kind == StrategyKind::Choices) {
        take = key_.choices && at < key_.choices->size() && (*key_.choices)[at] != 0;
    } else if (key_.kind == StrategyKind::Threads) {
        take = false; // a thread sequence says nothing of deliveries (the shrinker's moves keep none)
    } else if (key_.kind == StrategyKind::Random) {
        take = splitmix64(prng_) % (count + 1) == count;
    } else {
        const std::uint32_t horizon = key_.horizon != 0 ? key_.horizon : 1;
        take = splitmix64(prng_) % horizon == 0;
    }
    record.rank = take ? 1 : 0;
    recorded_.push_back(record);
    return take;
}

} // namespace ndislock::explore
