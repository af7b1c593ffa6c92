// The choices a schedule makes, recorded one per scheduling point (docs/explore.md, "Replay" and
// "Shrinking"), and the order in which a point offers its runnable threads.
//
// A point's order puts its default first: the thread at the point if it is still runnable (going
// on with it is no preemption), else the lowest-indexed runnable thread; the others follow by
// index. A choice is its rank in that order, so a list of ranks replays a schedule exactly (the
// runnable sets it meets depend only on the choices before), and rank 0 everywhere is the
// schedule with no preemption. A rank above 0 where the thread at the point was runnable is a
// preemption (CHESS's: switching away from a thread that could have gone on).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ndislock::explore {

// What the thread at a point was about to do, for the trace (explore/trace.h). The strings are
// static (the call tables' names, __FILE__).
struct PointLabel {
    int context = -1;              // the thread at the point; -1: none (the schedule's first choice)
    const char *call = nullptr;    // "NdisAcquireSpinLock", "NdislockExploreYield", "blocks", "returns"
    const char *file = nullptr;    // the call's site, if a site macro gave it
    int line = 0;                  //
    const void *address = nullptr; // else the caller's return address, if known
};

struct ChoiceRecord {
    std::uint8_t rank = 0;   // in the point's order: 0 the default
    std::uint8_t count = 0;  // runnable threads offered
    std::uint8_t chosen = 0; // the thread that goes on
    bool preemptive = false; // the thread at the point was runnable: rank > 0 preempts it
    // An interrupt delivery offered at the point (Strategy::take_extra), not a choice of thread:
    // count 2, rank 1 if the interrupt came in there (which stops the thread at the point, so it is
    // counted as a preemption), chosen the thread at the point.
    bool extra = false;
    PointLabel label;
};

// A schedule as the ranks of its choices; past its end every choice is the default (rank 0).
using ChoiceList = std::vector<std::uint8_t>;

// The thread at rank in the order of the point (running: the thread at the point, or -1;
// runnable[0..count): the runnable threads by index, count >= 1). A rank past the end is 0's.
unsigned thread_at_rank(unsigned rank, int running, const unsigned *runnable, unsigned count) noexcept;
// The rank of thread chosen (one of runnable) in that order.
unsigned rank_of(unsigned chosen, int running, const unsigned *runnable, unsigned count) noexcept;
// Whether the thread at the point is among the runnable ones (a non-default choice preempts it).
bool running_is_runnable(int running, const unsigned *runnable, unsigned count) noexcept;

// The scheduler names the point it is about to ask the strategy at (only the baton's holder, or
// the exploring thread while no thread runs, calls these); the strategy's record takes it.
void note_point(int context, const char *call, const char *file, int line, const void *address) noexcept;
PointLabel take_point_label() noexcept; // and forgets it

// The exhaustive search's next schedule after recorded, depth first: prefix becomes the choices
// up to the deepest point with an untried alternative (ranks are tried in order 0, 1, ...) whose
// preemptions stay within bound, that alternative last. False when none is left (every schedule
// within the bound was run).
bool next_bounded_prefix(const std::vector<ChoiceRecord> &recorded, unsigned bound, std::vector<std::uint8_t> &prefix);

// Preemptions in a recorded schedule, and the ranks it took (trailing defaults dropped).
unsigned count_preemptions(const std::vector<ChoiceRecord> &records) noexcept;
ChoiceList ranks_of(const std::vector<ChoiceRecord> &records);

} // namespace ndislock::explore
