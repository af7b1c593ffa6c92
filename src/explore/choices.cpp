#include "explore/choices.h"

namespace ndislock::explore {

namespace {
// The point being taken. Written and read by the baton's holder only: the baton's release store
// and acquire exchange order it between threads (explore/scheduler.h).
PointLabel g_label;

unsigned default_position(int running, const unsigned *runnable, unsigned count) noexcept {
    for (unsigned i = 0; i < count; ++i)
        if (static_cast<int>(runnable[i]) == running) return i;
    return 0;
}
} // namespace

unsigned thread_at_rank(unsigned rank, int running, const unsigned *runnable, unsigned count) noexcept {
    const unsigned first = default_position(running, runnable, count);
    if (rank == 0 || rank >= count) return runnable[first];
    // Rank r > 0: the r-th of the others, by index (skipping the default's position).
    const unsigned position = rank - 1 < first ? rank - 1 : rank;
    return runnable[position];
}

unsigned rank_of(unsigned chosen, int running, const unsigned *runnable, unsigned count) noexcept {
    const unsigned first = default_position(running, runnable, count);
    for (unsigned i = 0; i < count; ++i)
        if (runnable[i] == chosen) return i == first ? 0 : i < first ? i + 1 : i;
    return 0;
}

bool running_is_runnable(int running, const unsigned *runnable, unsigned count) noexcept {
    for (unsigned i = 0; i < count; ++i)
        if (static_cast<int>(runnable[i]) == running) return true;
    return false;
}

void note_point(int context, const char *call, const char *file, int line, const void *address) noexcept {
    g_label = PointLabel{context, call, file, line, address};
}

PointLabel take_point_label() noexcept {
    const PointLabel label = g_label;
    g_label = PointLabel{};
    return label;
}

bool next_bounded_prefix(const std::vector<ChoiceRecord> &c, unsigned bound, std::vector<std::uint8_t> &prefix) {
    // Every alternative but the default at a point where the running thread could go on is a
    // preemption, so the cost of the next rank is that of the preemptions before the point plus
    // one there.
    std::vector<unsigned> before(c.size() + 1, 0);
    for (std::size_t i = 0; i < c.size(); ++i)
        before[i + 1] = before[i] + (c[i].rank != 0 && c[i].preemptive ? 1 : 0);
    for (std::size_t i = c.size(); i-- > 0;) {
        if (c[i].rank + 1u >= c[i].count) continue;
        if (c[i].preemptive && before[i] + 1 > bound) continue;
        prefix.assign(i, 0);
        for (std::size_t j = 0; j < i; ++j)
            prefix[j] = c[j].rank;
        prefix.push_back(static_cast<std::uint8_t>(c[i].rank + 1));
        return true;
    }
    return false;
}

unsigned count_preemptions(const std::vector<ChoiceRecord> &records) noexcept {
    unsigned n = 0;
    for (const ChoiceRecord &r : records)
        n += r.rank != 0 && r.preemptive ? 1 : 0;
    return n;
}

ChoiceList ranks_of(const std::vector<ChoiceRecord> &records) {
    ChoiceList ranks;
    std::size_t end = records.size();
    while (end != 0 && records[end - 1].rank == 0)
        --end;
    ranks.reserve(end);
    for (std::size_t i = 0; i < end; ++i)
        ranks.push_back(records[i].rank);
    return ranks;
}

} // namespace ndislock::explore
