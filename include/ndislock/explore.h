/*
 * ndislock/explore.h: deterministic exploration (docs/explore.md). A scenario (a few threads that
 * use ndislock's locks) runs many times; in each run, a "schedule", its threads run one at a time
 * under ndislock's scheduler, which picks who goes on at every scheduling point: every spin-lock
 * acquire, try and release, every IRQL change, every wait and wait-lock acquire and release, every
 * event set, every entry into an ISR, DPC or synchronize function, and every NdislockExploreYield
 * (put on a plain shared access with NDISLOCK_SHARED_ACCESS). A schedule that fails (an assertion, every
 * thread blocked, no end) is reported with a token that replays exactly that schedule.
 *
 * Nothing here exists in the WDK: it belongs in a test harness. Clean C11 and C++; the C++ form
 * (ndislock::explore::explore, taking lambdas) is at the end, for C++ only.
 *
 * Interrupts asserted, DPCs queued and timers set in a schedule are run by the scheduler, on its
 * own threads, where its strategy chooses (an ISR may arrive at any scheduling point of the code
 * running its processor below its DIRQL); the clock is virtual, so timeouts expire when every
 * other thread is blocked (docs/explore.md, "Interrupts, DPCs and timers", "Virtual time"). The
 * verifier's hold, ISR and DPC budgets and the watchdog measure that clock: a thread's own time
 * is 20 ns per scheduling point plus its stalls (KeStallExecutionProcessor takes no real time in
 * a schedule), every hold is timed, and the first one over budget is the finding.
 *
 * Limits of this version (docs/explore.md, "Limits"): data races are found on annotated accesses
 * only (NdislockExploreRead/Write). A thread that makes no scheduling point for the watchdog limit
 * of real time, 5 s at least (a loop on plain memory), ends the process with a Livelock report
 * and its token.
 */
#ifndef NDISLOCK_EXPLORE_H
#define NDISLOCK_EXPLORE_H

#include "ndislock/export.h"
#include "ndislock/ext.h" /* NDISLOCK_STATUS */
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One schedule's handle: what NdislockExploreSpawn adds threads to. Opaque. */
typedef struct NDISLOCK_EXPLORE_RUN NDISLOCK_EXPLORE_RUN, *PNDISLOCK_EXPLORE_RUN;

/* A thread of the scenario. */
typedef void NDISLOCK_EXPLORE_ROUTINE(void *Context);
/* Called once per schedule, on the exploring thread, before any scenario thread runs: makes the
 * schedule's fresh state (locks, counters) and spawns its threads with NdislockExploreSpawn. */
typedef void NDISLOCK_EXPLORE_SETUP(PNDISLOCK_EXPLORE_RUN Run, void *Context);
/* Called once per schedule after every thread returned, on the exploring thread: FALSE is an
 * AssertionFailed finding of that schedule. May be NULL. Also where the schedule's state is freed
 * (it is called, with its result ignored, after a failing schedule too). */
typedef BOOLEAN NDISLOCK_EXPLORE_CHECK(void *Context);

typedef enum NDISLOCK_EXPLORE_STRATEGY {
    /* At each point, a runnable thread chosen uniformly from the seed. */
    NDISLOCK_EXPLORE_RANDOM = 0,
    /* PCT (probabilistic concurrency testing): random distinct thread priorities and Depth-1 random
     * change points over the schedule's steps; the highest-priority runnable thread always runs. A
     * bug needing Depth ordering constraints among n threads and k steps is found by one schedule
     * with probability at least 1/(n * k^(Depth-1)). */
    NDISLOCK_EXPLORE_PCT = 1,
    /* Preemption-bounded exhaustive search (CHESS: Musuvathi and Qadeer, PLDI 2007): depth first
     * over the choices, every schedule with at most Bound preemptions (a switch away from a thread
     * that could go on) run exactly once, until the tree or Schedules ends. Result.StateSpace
     * counts them. Seed and the shards are not used. */
    NDISLOCK_EXPLORE_EXHAUSTIVE = 2,
    /* Schedule i by random, PCT depth 1, 2 or 3, or the next schedule of EXHAUSTIVE at Bound 1 in
     * turn (i % 5; the exhaustive turns in shard 0 only, random once its tree ended); each token
     * names its strategy (x1.random., x1.pct<d>., x1.choices.). */
    NDISLOCK_EXPLORE_PORTFOLIO = 3
} NDISLOCK_EXPLORE_STRATEGY;

/* Options.ShrinkReplays: no shrinking. */
#define NDISLOCK_EXPLORE_NO_SHRINK 0xFFFFFFFFu

typedef struct NDISLOCK_EXPLORE_OPTIONS {
    NDISLOCK_EXPLORE_STRATEGY Strategy;
    ULONG Depth;     /* PCT's bug depth, 1..3 (0: 2); ignored by RANDOM */
    ULONG64 Seed;    /* the first schedule's seed; schedule i's is derived from Seed and i */
    ULONG Schedules; /* schedules to run at most (0: 1000); the first failing one ends the search */
    ULONG MaxSteps;  /* scheduling points in one schedule before it is a Livelock (0: 10000) */
    /* A token printed with a finding: run exactly that schedule, once. NULL: the environment
     * variable NDISLOCK_EXPLORE_REPLAY if set, else search as above. */
    const char *Replay;
    ULONG Bound; /* EXHAUSTIVE: preemptions per schedule, 0..2 */
    /* After a finding: the shrinker's replays at most (0: 500; NDISLOCK_EXPLORE_NO_SHRINK: none).
     * A replay (Replay set) is never shrunk. */
    ULONG ShrinkReplays;
    /* Sharding: this search runs schedule i (of 0..Schedules-1) only when i % ShardCount ==
     * ShardIndex, so ShardCount searches with the same options and each index run every schedule
     * once. 1: no sharding; 0: the environment variable NDISLOCK_EXPLORE_SHARD="index/count" if
     * set, else none. RANDOM, PCT and PORTFOLIO; EXHAUSTIVE ignores it. */
    ULONG ShardCount;
    ULONG ShardIndex;
    /* 0 or 1: search in this process; N (at most 64): fork N worker processes, each searching a
     * disjoint share of this search's schedules; the first finding reported wins (docs/explore.md,
     * "Jobs and shards"). Not for a replay or EXHAUSTIVE (they run here). Setup and Check run in
     * the children. */
    ULONG Jobs;
} NDISLOCK_EXPLORE_OPTIONS;

#define NDISLOCK_EXPLORE_TOKEN_SIZE 256
#define NDISLOCK_EXPLORE_MESSAGE_SIZE 1280
#define NDISLOCK_EXPLORE_TRACE_SIZE 4096

typedef struct NDISLOCK_EXPLORE_RESULT {
    BOOLEAN Found;                               /* a schedule failed: the fields below say how */
    char Rule[32];                               /* "AssertionFailed", "Deadlock", "Livelock" or "DataRace" */
    char Token[NDISLOCK_EXPLORE_TOKEN_SIZE];     /* replays the failing schedule (Options.Replay) */
    char Message[NDISLOCK_EXPLORE_MESSAGE_SIZE]; /* the finding, with the token */
    ULONG Schedules;                             /* schedules run */
    ULONG64 Steps;                               /* scheduling points taken, over all schedules */
    /* EXHAUSTIVE: the complete schedules within the bound; all of them if Exhausted, else (the
     * budget or a finding ended the search) at least this many. */
    ULONG64 StateSpace;
    BOOLEAN Exhausted;
    /* A finding, shrunk (docs/explore.md, "Shrinking"): the smallest failing schedule the shrinker
     * found as a choice token ("" if it did not fit or was not shrunk), its preemptions, the
     * shrinker's replays, and its two-column trace (of the found schedule if not shrunk). */
    char ShrunkToken[NDISLOCK_EXPLORE_TOKEN_SIZE];
    ULONG Preemptions;
    ULONG ShrinkReplays;
    char Trace[NDISLOCK_EXPLORE_TRACE_SIZE];
} NDISLOCK_EXPLORE_RESULT;

/* NdislockExplore: IRQL: PASSIVE_LEVEL, outside an exploration (one at a time per process: a
 * second concurrent or nested call gets NDISLOCK_BUSY). Runs Setup, the threads it spawned, then
 * Check, once per schedule, until a schedule fails or Options->Schedules ran; fills *Result (a
 * finding also goes to stderr with its token), then shrinks a finding (ShrinkReplays) and traces
 * it. NDISLOCK_INVALID_ARGUMENT: a NULL pointer, a Depth above 3, a Bound above 2, Jobs above 64, a ShardIndex
 * not below ShardCount (or an NDISLOCK_EXPLORE_SHARD that does not parse), or a replay token
 * that does not parse. NDISLOCK_IO_ERROR: Jobs' processes or pipes could not be made, or a child
 * died without its result. A scenario thread that is not spawned with NdislockExploreSpawn (nor
 * one of the schedule's interrupt and DPC delivery contexts) calling into ndislock during a
 * schedule ends the process with ExploreUncontrolled (it would run free of the scheduler). While
 * it runs, no ISR, DPC or timer thread runs: the scheduler delivers them. The threads of a failing
 * schedule are abandoned at the point where it failed: their locks stay as they were, and C++
 * destructors of their locals do not run. With the verifier on, a rule a scenario thread breaks
 * (an error or a warning, not suppressed) is the schedule's finding, Result.Rule its rule ID: the
 * process keeps, prints and counts nothing of it (no exit status 86), a terminal rule does not end
 * the process, and each schedule starts from what the verifier knew before the exploration
 * (docs/explore.md, "The verifier in a schedule"). Model: CHESS and PCT (docs/explore.md). */
NDISLOCK_API NDISLOCK_STATUS NdislockExplore(const NDISLOCK_EXPLORE_OPTIONS *Options, NDISLOCK_EXPLORE_SETUP *Setup,
                                             NDISLOCK_EXPLORE_CHECK *Check, void *Context,
                                             NDISLOCK_EXPLORE_RESULT *Result);

/* NdislockExploreSpawn: from Setup, or from a scenario thread of the same schedule. Adds a thread
 * that runs Routine(Context) at PASSIVE_LEVEL on virtual processor (its index among the schedule's
 * threads, delivery contexts included, modulo the processor count). NDISLOCK_INVALID_ARGUMENT: no schedule running, or
 * more than 8 threads (the delivery contexts the scheduler adds for interrupts and DPCs count among them). */
NDISLOCK_API NDISLOCK_STATUS NdislockExploreSpawn(PNDISLOCK_EXPLORE_RUN Run, NDISLOCK_EXPLORE_ROUTINE *Routine,
                                                  void *Context);

/* NdislockExploreYield: any IRQL. A scheduling point: another thread may run here. Put it before a
 * plain access to shared data (NDISLOCK_SHARED_ACCESS); outside a schedule it does nothing. */
NDISLOCK_API void NdislockExploreYield(void);

/* A plain shared access as a scheduling point: NDISLOCK_SHARED_ACCESS(x) yields, then reads x. */
#define NDISLOCK_SHARED_ACCESS(access) (NdislockExploreYield(), (access))

/* NdislockExploreRead / NdislockExploreWrite: any IRQL. An annotated access to shared data: Size
 * bytes at Address, read or written by the caller at File:Line. In a schedule, a scheduling point
 * (as NdislockExploreYield), then the access is checked for a data race: another thread's access
 * to an overlapping byte, one of the two a write, that happens-before does not order (a spin-lock
 * release before the next acquire of the same lock, reader/writer locks' shared and exclusive
 * holds, mutexes and executive resources, an event's set before the wait it satisfies,
 * NdislockExploreSpawn) is the schedule's DataRace finding (Result.Rule "DataRace"), naming both
 * accesses' file:line, thread, kind and address; the thread goes no further. Outside a schedule:
 * nothing (and the macros below do not call in at all while no observer is registered). Annotate every
 * access to the datum (an access without it is not seen). Model: happens-before with vector
 * clocks (FastTrack, Flanagan and Freund, PLDI 2009); docs/explore.md, "Races on annotated data". */
NDISLOCK_API void NdislockExploreRead(const volatile void *Address, SIZE_T Size, const char *File, int Line);
NDISLOCK_API void NdislockExploreWrite(const volatile void *Address, SIZE_T Size, const char *File, int Line);

/* The count of observers of the interlocked operations (declared as in ndislock/wdk_interlocked.h,
 * which reads it the same way): only an exploration registers one, for its life, so while it is 0
 * no exploration runs and the macros below do not call into the library (an annotated access then
 * costs one load and a predictable branch beside the access itself, the verifier on or off). */
NDISLOCK_API extern unsigned ndislock_interlocked_observers;
#define NDISLOCK_EXPLORE_MAY_RUN() (__atomic_load_n(&ndislock_interlocked_observers, __ATOMIC_RELAXED) != 0)

/* NDISLOCK_SHARED_READ(x) reads the lvalue x (an expression: its value is x's);
 * NDISLOCK_SHARED_WRITE(x, v); assigns v to it (a statement: a volatile x then raises no C++20
 * deprecation). Each is an annotated access at the caller's line (above). x is evaluated twice
 * (its address, then the access): no side effects in it, and no bit-fields (they have no address).
 * NDISLOCK_SHARED_ACCESS takes any expression, whose address it cannot know: it stays a scheduling
 * point only, and race detection does not see it. */
#define NDISLOCK_SHARED_READ(lvalue)                                                                                   \
    ((NDISLOCK_EXPLORE_MAY_RUN() ? NdislockExploreRead(&(lvalue), sizeof(lvalue), __FILE__, __LINE__) : (void)0),      \
     (lvalue))
#define NDISLOCK_SHARED_WRITE(lvalue, value)                                                                           \
    do {                                                                                                               \
        if (NDISLOCK_EXPLORE_MAY_RUN()) NdislockExploreWrite(&(lvalue), sizeof(lvalue), __FILE__, __LINE__);           \
        (lvalue) = (value);                                                                                            \
    } while (0)

/* NdislockExploreAssert(condition, message): any IRQL, in a scenario thread. A false condition is
 * the schedule's AssertionFailed finding, at the caller's line; the thread goes no further.
 * Outside a schedule a false condition ends the process with the message. */
NDISLOCK_API void ndislock_explore_assert(int condition, const char *message, const char *file, int line);
#define NdislockExploreAssert(condition, message) ndislock_explore_assert(!!(condition), (message), __FILE__, __LINE__)

#ifdef __cplusplus
} /* extern "C" */

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ndislock::explore {

struct Options {
    NDISLOCK_EXPLORE_STRATEGY strategy = NDISLOCK_EXPLORE_RANDOM;
    unsigned depth = 2;
    unsigned long long seed = 1;
    unsigned schedules = 1000;
    unsigned max_steps = 10000;
    std::string replay;                        // empty: NDISLOCK_EXPLORE_REPLAY, else search
    unsigned bound = 2;                        // EXHAUSTIVE's preemption bound
    unsigned shrink_replays = 500;             // 0: no shrinking
    unsigned shard_count = 0, shard_index = 0; // 0: NDISLOCK_EXPLORE_SHARD if set
    unsigned jobs = 1;
};

struct Result {
    NDISLOCK_STATUS status = NDISLOCK_OK;
    bool found = false;
    std::string rule, token, message;
    unsigned schedules = 0;
    unsigned long long steps = 0;
    unsigned long long state_space = 0; // EXHAUSTIVE
    bool exhausted = false;             // EXHAUSTIVE
    std::string shrunk_token, trace;
    unsigned preemptions = 0, shrink_replays = 0;
};

// One schedule: spawn its threads (lambdas); check() runs after they all returned.
class Run {
public:
    template <class F> void spawn(F f) {
        routines_.push_back(std::make_unique<std::function<void()>>(std::move(f)));
        NdislockExploreSpawn(
            run_, [](void *r) { (*static_cast<std::function<void()> *>(r))(); }, routines_.back().get());
    }
    void check(std::function<bool()> f) { check_ = std::move(f); }

private:
    friend Result explore(const Options &, std::function<void(Run &)>);
    PNDISLOCK_EXPLORE_RUN run_ = nullptr;
    std::vector<std::unique_ptr<std::function<void()>>> routines_;
    std::function<bool()> check_;
};

// EXHAUSTIVE's state space as a sentence: "6 schedules within the bound" when the tree ended, "at
// least 3 schedules within the bound" when the budget or a finding ended the search first.
inline std::string describe_state_space(const Result &r) {
    return std::string(r.exhausted ? "" : "at least ") + std::to_string(r.state_space) + " schedules within the bound";
}

// Runs scenario once per schedule: it builds the schedule's state (captured by the lambdas it
// spawns, e.g. through a std::shared_ptr) and spawns the threads.
inline Result explore(const Options &options, std::function<void(Run &)> scenario) {
    struct State {
        std::function<void(Run &)> scenario;
        std::unique_ptr<Run> run;
    } state{std::move(scenario), nullptr};
    NDISLOCK_EXPLORE_OPTIONS o{};
    o.Strategy = options.strategy;
    o.Depth = options.depth;
    o.Seed = options.seed;
    o.Schedules = options.schedules;
    o.MaxSteps = options.max_steps;
    o.Replay = options.replay.empty() ? nullptr : options.replay.c_str();
    o.Bound = options.bound;
    o.ShrinkReplays = options.shrink_replays != 0 ? options.shrink_replays : NDISLOCK_EXPLORE_NO_SHRINK;
    o.ShardCount = options.shard_count;
    o.ShardIndex = options.shard_index;
    o.Jobs = options.jobs;
    auto owned = std::make_unique<NDISLOCK_EXPLORE_RESULT>(); // large (the trace): not on the stack
    NDISLOCK_EXPLORE_RESULT &r = *owned;
    Result result;
    result.status = NdislockExplore(
        &o,
        [](PNDISLOCK_EXPLORE_RUN handle, void *c) {
            auto *s = static_cast<State *>(c);
            s->run = std::make_unique<Run>();
            s->run->run_ = handle;
            s->scenario(*s->run);
        },
        [](void *c) -> BOOLEAN {
            auto *s = static_cast<State *>(c);
            const bool ok = !s->run || !s->run->check_ || s->run->check_();
            s->run.reset(); // the schedule's lambdas and what they captured
            return ok ? TRUE : FALSE;
        },
        &state, &r);
    result.found = r.Found != FALSE;
    result.rule = r.Rule;
    result.token = r.Token;
    result.message = r.Message;
    result.schedules = r.Schedules;
    result.steps = r.Steps;
    result.state_space = r.StateSpace;
    result.exhausted = r.Exhausted != FALSE;
    result.shrunk_token = r.ShrunkToken;
    result.trace = r.Trace;
    result.preemptions = r.Preemptions;
    result.shrink_replays = r.ShrinkReplays;
    return result;
}

} // namespace ndislock::explore
#endif /* __cplusplus */

#endif /* NDISLOCK_EXPLORE_H */
