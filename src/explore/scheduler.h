// The exploration's scheduler (docs/explore.md, "The model"): runs one schedule of a scenario with
// its threads one at a time, and hands the choice of who goes on at each scheduling point to a
// strategy (explore/strategy.h).
//
// Contexts: each scenario thread ("context") has a stack of its own for the whole exploration,
// and exactly one runs at a time. By default a context is a fiber on the exploring thread
// (platform/fiber.h): a switch of context copies the registered per-thread state of every layer
// out of the thread's TLS and the next context's in (platform/context_local.h), then switches
// stacks, all in user mode; a fiber starts as a new thread and ends, when the exploration ends, as
// a thread ends (its key destructors: the model's thread exit). With
// NDISLOCK_EXPLORE_CONTEXTS=threads (and on targets without fibers) a context is a worker OS thread
// that parks on its own baton word (lock::park, with control off) while it does not run; a switch
// passes the baton. Schedules are the same in both modes.
//
// A scheduling point (observe/hooks.h: a lock attempt, a release, an IRQL change;
// NdislockExploreYield) asks the strategy and, if it chose another context, switches to it and
// waits to be switched back. A wait inside ndislock (lock::park of a controlled thread,
// lock/park.h) marks the context blocked on the parked address and switches; an unpark of that
// address makes it runnable again. No runnable context left while some are blocked: a Deadlock,
// witnessed. More points than the bound: a Livelock.
//
// A failing schedule abandons its contexts where they stand: each, run once more, longjmps back to
// its loop on its own stack, and its ndislock thread state is put back to PASSIVE_LEVEL with no
// wait (so its virtual processor is free for the next schedule). Their lock words are the
// scenario's, dropped with the schedule's state.
//
// Single exploration per process at a time (a mutex). Every field of the running schedule is
// touched only by the running context (or the exploring thread while no context runs): with OS
// threads, the baton's release store and acquire exchange order them.
#pragma once

#include <cstdint>
#include <vector>

#include "explore/strategy.h"
#include "ndislock/explore.h"

namespace ndislock::explore {

struct Finding {
    bool found = false;
    const char *rule = "";
    char message[768] = {};
};

struct ExplorationResult {
    Finding finding;
    ScheduleKey key;                   // the failing schedule's, when finding.found
    unsigned schedules = 0;            // run
    std::uint64_t steps = 0;           // over all schedules
    std::vector<ChoiceRecord> choices; // the failing schedule's (explore/choices.h)
};

// How one schedule went, for a ScheduleDriver.
struct ScheduleOutcome {
    const Finding &finding;
    std::uint64_t steps;
    const std::vector<ChoiceRecord> &choices;
};

// Decides a search's schedules one at a time (explore/search.h: exhaustive, portfolio, shards):
// the scheduler asks next() for each schedule's key and tells after() how it went.
class ScheduleDriver {
public:
    virtual bool next(ScheduleKey &key) = 0;                                        // false: the search is over
    virtual bool after(const ScheduleKey &key, const ScheduleOutcome &outcome) = 0; // false: stop here

protected:
    ~ScheduleDriver() = default;
};

struct Plan {
    ScheduleKey first;   // the strategy and its parameters; seed: the search's base seed
    bool replay = false; // run first exactly, once
    unsigned schedules = 1000;
    std::uint32_t max_steps = 10000;
    // Set: it chooses every schedule and keeps the findings (first, replay and schedules unused);
    // result gets the counts only.
    ScheduleDriver *driver = nullptr;
};

// Runs the plan. Returns false if an exploration is already running (NDISLOCK_BUSY).
bool run_exploration(const Plan &plan, NDISLOCK_EXPLORE_SETUP *setup, NDISLOCK_EXPLORE_CHECK *check, void *context,
                     ExplorationResult &result);

// NdislockExploreSpawn: false if no schedule is being set up or running, or the contexts are full.
bool spawn(PNDISLOCK_EXPLORE_RUN run, NDISLOCK_EXPLORE_ROUTINE *routine, void *context) noexcept;
// A context of the schedule's own (an interrupt or DPC delivery context, explore/deliveries.h)
// running routine on virtual processor `processor`: from a context or from Setup, as spawn; a
// finished context's worker is reused. False if every context is live.
bool spawn_on(std::uint32_t processor, NDISLOCK_EXPLORE_ROUTINE *routine, void *context) noexcept;
// Work became pending toward processor (explore/deliveries.h): a context parked on that processor
// below the interrupt's DIRQL is made runnable to take it in its wait. On a context only.
void interrupt_pending_toward(std::uint32_t processor) noexcept;
// Whether a schedule is being set up or runs (false between two schedules).
bool in_schedule() noexcept;
// NdislockExploreYield: a scheduling point on a context, nothing elsewhere. caller: its return
// address, for the trace.
// caller or file:line: where, for the trace; call: what (the trace's cell).
void yield_point(const void *caller = nullptr, const char *call = "NdislockExploreYield", const char *file = nullptr,
                 int line = 0) noexcept;
// NdislockExploreAssert: true if the calling thread is a context (it then never returns: the
// schedule fails), false if the caller must report the failure itself.
bool fail_assertion(const char *message, const char *file, int line) noexcept;

// The index of the context the calling thread runs, or -1 (race detection's observer: explore/race.h).
int current_context() noexcept;
// Fails the running schedule with rule and message, from a context (current_context() >= 0): the
// calling thread goes no further. For findings made outside this file (DataRace).
[[noreturn]] void fail_current(const char *rule, const char *message) noexcept;

} // namespace ndislock::explore
