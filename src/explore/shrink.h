// The shrinker (docs/explore.md, "Shrinking"): from a failing schedule, a schedule with as few
// preemptions (then as few non-default choices) as it finds that still fails the same way.
//
// It replays changed schedules, each whole: as choice lists (explore/choices.h), it keeps only the
// first k non-default choices (the rest default), or puts one of them back to the default (go on
// with the running thread), or lowers it to the next thread in the point's order; as the sequence
// of threads that ran (its segments: the runs of one thread), it moves a segment next to another
// of the same thread, earlier or later, so the two merge and a switch goes (Jalbert and Sen's
// trace simplification, FSE 2010, in its simplest form). A change stays only when its schedule
// ends in the same finding (same_finding) and is smaller. It repeats until no change is kept or
// the replay budget is spent. Smaller: fewer preemptions, then fewer non-default choices, then
// lower ranks. Then, while the budget lasts, it runs every schedule with fewer preemptions than the
// best, in the exhaustive search's order, smallest bound first (next_bounded_prefix), and keeps
// the first that fails the same way: the greedy steps move choices by position, and a change
// early in a schedule shifts what later positions mean (an interrupt's arrival), so they can stop
// short. Within the budget the result has the fewest preemptions; past it, a local minimum.
#pragma once

#include <functional>
#include <vector>

#include "explore/choices.h"
#include "explore/scheduler.h"

namespace ndislock::explore {

// The same finding: the same rule and the same message once every hexadecimal address (0x...) in
// it is dropped (a heap lock's address may differ from one replay to the next).
bool same_finding(const Finding &a, const Finding &b) noexcept;

// Runs the schedule of kind Choices (these ranks, then defaults) or Threads (these threads where
// runnable): true and *finding, *recorded set if it ran (false: the exploration could not run).
using ReplayChoices = std::function<bool(StrategyKind kind, const ChoiceList &list, Finding *finding,
                                         std::vector<ChoiceRecord> *recorded)>;

struct Shrunk {
    bool reproduced = false;           // the failing schedule's own choices failed the same way
    std::vector<ChoiceRecord> choices; // the smallest failing schedule found (the original if none)
    unsigned replays = 0;
};

Shrunk shrink(const std::vector<ChoiceRecord> &failing, const Finding &finding, unsigned budget,
              const ReplayChoices &replay);

} // namespace ndislock::explore
