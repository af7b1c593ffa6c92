#include "explore/strategy.h"

namespace ndislock::explore {

void Strategy::begin(const ScheduleKey &key) noexcept {
    key_ = key;
    prng_ = key.seed;
    changes_ = 0;
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
    if (key_.kind == StrategyKind::Random) return runnable[splitmix64(prng_) % count];
    if (running >= 0)
        for (unsigned i = 0; i < changes_; ++i)
            if (change_at_[i] == step) priority_[running] = i + 1;
    unsigned best = runnable[0];
    for (unsigned i = 1; i < count; ++i)
        if (priority_[runnable[i]] > priority_[best]) best = runnable[i];
    return best;
}

bool Strategy::take_extra(unsigned count) noexcept {
    if (key_.kind == StrategyKind::Random) return splitmix64(prng_) % (count + 1) == count;
    const std::uint32_t horizon = key_.horizon != 0 ? key_.horizon : 1;
    return splitmix64(prng_) % horizon == 0;
}

} // namespace ndislock::explore
