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
 * other thread is blocked (docs/explore.md, "Interrupts, DPCs and timers", "Virtual time").
 *
 * Limits of this version (docs/explore.md, "Limits"): no data-race detection, no shrinking, no
 * exhaustive search.
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
    NDISLOCK_EXPLORE_PCT = 1
} NDISLOCK_EXPLORE_STRATEGY;

typedef struct NDISLOCK_EXPLORE_OPTIONS {
    NDISLOCK_EXPLORE_STRATEGY Strategy;
    ULONG Depth;     /* PCT's bug depth, 1..3 (0: 2); ignored by RANDOM */
    ULONG64 Seed;    /* the first schedule's seed; schedule i's is derived from Seed and i */
    ULONG Schedules; /* schedules to run at most (0: 1000); the first failing one ends the search */
    ULONG MaxSteps;  /* scheduling points in one schedule before it is a Livelock (0: 10000) */
    /* A token printed with a finding: run exactly that schedule, once. NULL: the environment
     * variable NDISLOCK_EXPLORE_REPLAY if set, else search as above. */
    const char *Replay;
} NDISLOCK_EXPLORE_OPTIONS;

#define NDISLOCK_EXPLORE_TOKEN_SIZE 96
#define NDISLOCK_EXPLORE_MESSAGE_SIZE 1024

typedef struct NDISLOCK_EXPLORE_RESULT {
    BOOLEAN Found;                               /* a schedule failed: the fields below say how */
    char Rule[32];                               /* "AssertionFailed", "Deadlock" or "Livelock" */
    char Token[NDISLOCK_EXPLORE_TOKEN_SIZE];     /* replays the failing schedule (Options.Replay) */
    char Message[NDISLOCK_EXPLORE_MESSAGE_SIZE]; /* the finding, with the token */
    ULONG Schedules;                             /* schedules run */
    ULONG64 Steps;                               /* scheduling points taken, over all schedules */
} NDISLOCK_EXPLORE_RESULT;

/* NdislockExplore: IRQL: PASSIVE_LEVEL, outside an exploration (one at a time per process: a
 * second concurrent or nested call gets NDISLOCK_BUSY). Runs Setup, the threads it spawned, then
 * Check, once per schedule, until a schedule fails or Options->Schedules ran; fills *Result (a
 * finding also goes to stderr with its token). NDISLOCK_INVALID_ARGUMENT: a NULL pointer, a Depth
 * above 3, or a replay token that does not parse. A scenario thread that is not spawned with
 * NdislockExploreSpawn (nor one of the schedule's interrupt and DPC delivery contexts) calling
 * into ndislock during a schedule ends the process with ExploreUncontrolled (it would run free of
 * the scheduler). While it runs, no ISR, DPC or timer thread runs: the scheduler delivers them. The threads of a
 * failing schedule are abandoned at the point where it failed: their locks stay as they were, and C++ destructors of
 * their locals do not run. Run with the verifier off (it would see the abandoned holds). Model: CHESS and PCT
 * (docs/explore.md). */
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
    std::string replay; // empty: NDISLOCK_EXPLORE_REPLAY, else search
};

struct Result {
    NDISLOCK_STATUS status = NDISLOCK_OK;
    bool found = false;
    std::string rule, token, message;
    unsigned schedules = 0;
    unsigned long long steps = 0;
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
    NDISLOCK_EXPLORE_RESULT r{};
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
    return result;
}

} // namespace ndislock::explore
#endif /* __cplusplus */

#endif /* NDISLOCK_EXPLORE_H */
