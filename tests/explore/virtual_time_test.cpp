// Virtual time and the waits as scheduling points (docs/explore.md, "Virtual time"): inside a
// schedule the clock is the scheduler's; a wait with a timeout expires when every other thread is
// blocked (not before, and not as a Deadlock); a wait without one is still a Deadlock; the
// dispatcher waits are points of their own. Bounded: schedule counts, step bounds, ctest timeout.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "ndislock/explore.h"
#include "ndislock/ndis.h"
#include "ndislock/verifier.h"
#include "ndislock/wdk.h"

namespace ex = ndislock::explore;

namespace {

class ExploreTime : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK); }
};

ex::Options options(NDISLOCK_EXPLORE_STRATEGY strategy, unsigned depth, unsigned long long seed, unsigned schedules) {
    ex::Options o;
    o.strategy = strategy;
    o.depth = depth;
    o.seed = seed;
    o.schedules = schedules;
    o.max_steps = 2000;
    return o;
}

LARGE_INTEGER relative_ms(LONGLONG ms) {
    LARGE_INTEGER t;
    t.QuadPart = -ms * 10'000; // 100 ns units, negative: relative
    return t;
}

KEVENT g_event;
NTSTATUS g_status;
ULONGLONG g_waited; // KeQueryInterruptTime units (100 ns) the wait took

// One thread waits 10 ms for an event nobody sets: the timeout expires in virtual time.
void lonely_wait(ex::Run &run) {
    KeInitializeEvent(&g_event, NotificationEvent, FALSE);
    g_status = STATUS_PENDING;
    g_waited = 0;
    run.spawn([] {
        LARGE_INTEGER timeout = relative_ms(10);
        const ULONGLONG before = KeQueryInterruptTime();
        g_status = KeWaitForSingleObject(&g_event, Executive, KernelMode, FALSE, &timeout);
        g_waited = KeQueryInterruptTime() - before;
    });
    run.check([] { return g_status == STATUS_TIMEOUT; });
}

TEST_F(ExploreTime, TimeoutExpiresInVirtualTimeTheSameInEverySchedule) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 20), lonely_wait);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(r.schedules, 20u);
    EXPECT_GE(g_waited, 10u * 10'000) << "the wait ended before its timeout";
    // The same schedule, explored again, reads the same times: nothing came from the machine.
    const ULONGLONG first = g_waited;
    ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 20), lonely_wait);
    EXPECT_EQ(g_waited, first);
}

TEST_F(ExploreTime, TimeoutDoesNotExpireWhileAnotherThreadCanRun) {
    // The setter never blocks: the waiter's 10 ms cannot pass first, however the schedule goes
    // (a hundred points, at 1 us of virtual time each, are far from 10 ms).
    auto scenario = [](ex::Run &run) {
        KeInitializeEvent(&g_event, NotificationEvent, FALSE);
        g_status = STATUS_PENDING;
        run.spawn([] {
            LARGE_INTEGER timeout = relative_ms(10);
            g_status = KeWaitForSingleObject(&g_event, Executive, KernelMode, FALSE, &timeout);
        });
        run.spawn([] {
            for (int i = 0; i < 5; ++i)
                NdislockExploreYield();
            KeSetEvent(&g_event, 0, FALSE);
        });
        run.check([] { return g_status == STATUS_SUCCESS; });
    };
    for (auto [strategy, depth] : {std::pair{NDISLOCK_EXPLORE_RANDOM, 0u}, std::pair{NDISLOCK_EXPLORE_PCT, 2u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 4, 300), scenario);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        EXPECT_FALSE(r.found) << r.message;
    }
}

TEST_F(ExploreTime, WaitWithoutTimeoutIsStillADeadlock) {
    auto scenario = [](ex::Run &run) {
        KeInitializeEvent(&g_event, NotificationEvent, FALSE);
        run.spawn([] { KeWaitForSingleObject(&g_event, Executive, KernelMode, FALSE, nullptr); });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 5), scenario);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "Deadlock") << r.message;
}

// NdisMSleep too: a timed wait in virtual time, not a real sleep (50 ms a schedule otherwise).
TEST_F(ExploreTime, NdisMSleepPassesInVirtualTime) {
    static ULONGLONG slept = 0;
    auto scenario = [](ex::Run &run) {
        slept = 0;
        run.spawn([] {
            const ULONGLONG before = KeQueryInterruptTime();
            NdisMSleep(50'000);
            slept = KeQueryInterruptTime() - before;
        });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 5), scenario);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_GE(slept, 50u * 10'000);
    EXPECT_LT(slept, 51u * 10'000) << "virtual time moved by more than the sleep and a few points";
}

TEST_F(ExploreTime, DelayExecutionPassesInVirtualTime) {
    static ULONGLONG slept = 0;
    auto scenario = [](ex::Run &run) {
        slept = 0;
        run.spawn([] {
            LARGE_INTEGER interval = relative_ms(50);
            const ULONGLONG before = KeQueryInterruptTime();
            KeDelayExecutionThread(KernelMode, FALSE, &interval);
            slept = KeQueryInterruptTime() - before;
        });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 5), scenario);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_GE(slept, 50u * 10'000);
    EXPECT_LT(slept, 51u * 10'000) << "virtual time moved by more than the delay and a few points";
}

// A wait that does not block is a scheduling point all the same: the other thread can run
// between the two plain stores around it, which only that point separates.
TEST_F(ExploreTime, DispatcherWaitIsASchedulingPoint) {
    static int flag = 0;
    auto scenario = [](ex::Run &run) {
        KeInitializeEvent(&g_event, NotificationEvent, TRUE); // signalled: the wait returns at once
        flag = 0;
        run.spawn([] {
            flag = 1;
            KeWaitForSingleObject(&g_event, Executive, KernelMode, FALSE, nullptr);
            flag = 0;
        });
        run.spawn([] { NdislockExploreAssert(NDISLOCK_SHARED_ACCESS(flag) == 0, "saw the flag between the stores"); });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 2, 1000), scenario);
    ASSERT_TRUE(r.found) << "the wait was no point: " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "AssertionFailed");
    EXPECT_NE(r.message.find("saw the flag between the stores"), std::string::npos) << r.message;
}

// Timers fire on virtual time, on the scheduler's threads: a wait on the timer ends at its due
// time, and its DPC runs inside the schedule.
TEST_F(ExploreTime, TimerFiresInVirtualTimeAndRunsItsDpc) {
    static KTIMER timer;
    static KDPC dpc;
    static int dpcs = 0;
    static ULONGLONG waited = 0;
    static NTSTATUS status = STATUS_PENDING;
    auto scenario = [](ex::Run &run) {
        dpcs = 0;
        waited = 0;
        status = STATUS_PENDING;
        KeInitializeTimer(&timer);
        KeInitializeDpc(
            &dpc, [](PKDPC, PVOID, PVOID, PVOID) { ++dpcs; }, nullptr);
        run.spawn([] {
            LARGE_INTEGER due = relative_ms(5);
            const ULONGLONG before = KeQueryInterruptTime();
            KeSetTimer(&timer, due, &dpc);
            status = KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, nullptr);
            waited = KeQueryInterruptTime() - before;
        });
        run.check([] { return status == STATUS_SUCCESS && dpcs == 1 && waited >= 5u * 10'000; });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 50), scenario);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(r.schedules, 50u);
}

// A timer nobody waits for still fires before the schedule ends: when every thread has returned,
// virtual time passes to it.
TEST_F(ExploreTime, TimerSetAndLeftFiresBeforeTheScheduleEnds) {
    static KTIMER timer;
    static KDPC dpc;
    static int dpcs = 0;
    auto scenario = [](ex::Run &run) {
        dpcs = 0;
        KeInitializeTimer(&timer);
        KeInitializeDpc(
            &dpc, [](PKDPC, PVOID, PVOID, PVOID) { ++dpcs; }, nullptr);
        run.spawn([] {
            LARGE_INTEGER due = relative_ms(1000);
            KeSetTimer(&timer, due, &dpc);
        });
        run.check([] { return dpcs == 1; });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 20), scenario);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(r.schedules, 20u);
}

// A set event and a released mutex are scheduling points too: the other thread can run between the
// two plain stores around the call.
TEST_F(ExploreTime, EventSetAndMutexReleaseAreSchedulingPoints) {
    static int flag = 0;
    static KMUTEX mutex;
    auto around = [](void (*call)()) {
        return [call](ex::Run &run) {
            KeInitializeEvent(&g_event, NotificationEvent, FALSE);
            KeInitializeMutex(&mutex, 0);
            flag = 0;
            run.spawn([call] {
                flag = 1;
                call();
                flag = 0;
            });
            run.spawn([] { NdislockExploreAssert(NDISLOCK_SHARED_ACCESS(flag) == 0, "saw the flag around the call"); });
        };
    };
    const ex::Result set =
        ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 3, 1000), around([] { KeSetEvent(&g_event, 0, FALSE); }));
    ASSERT_TRUE(set.found) << "KeSetEvent was no point: " << set.schedules << " schedules";
    EXPECT_EQ(set.rule, "AssertionFailed");
    // The wait that takes the mutex is a point already: the release must be one of its own, so the
    // flag is set after the acquire.
    auto release_only = [](ex::Run &run) {
        KeInitializeMutex(&mutex, 0);
        flag = 0;
        run.spawn([] {
            KeWaitForSingleObject(&mutex, Executive, KernelMode, FALSE, nullptr);
            flag = 1;
            KeReleaseMutex(&mutex, FALSE);
            flag = 0;
        });
        run.spawn([] { NdislockExploreAssert(NDISLOCK_SHARED_ACCESS(flag) == 0, "saw the flag around the call"); });
    };
    const ex::Result released = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 3, 1000), release_only);
    ASSERT_TRUE(released.found) << "KeReleaseMutex was no point: " << released.schedules << " schedules";
    EXPECT_EQ(released.rule, "AssertionFailed");
}

// ---- The watchdog in virtual time, stalls as points, and a context stuck without points -------

class ExploreWatchdog : public ExploreTime {
protected:
    void TearDown() override { NdislockVerifierSetWatchdog(0); } // back to the default 2 s
};

NDIS_SPIN_LOCK g_lock;

// Thread 0 holds the lock for 2 ms of stalls (40 x 50 us); thread 1 waits for it. With a 1 ms
// watchdog limit, a schedule where thread 1 waits through the stalls is a Deadlock report from
// the watchdog on the schedule's clock, at a figure that replays.
void long_wait(ex::Run &run) {
    NdisAllocateSpinLock(&g_lock);
    run.spawn([] {
        NdisAcquireSpinLock(&g_lock);
        for (int i = 0; i < 40; ++i)
            KeStallExecutionProcessor(50); // each a point: thread 1 may run (and wait) meanwhile
        NdisReleaseSpinLock(&g_lock);
    });
    run.spawn([] {
        NdisAcquireSpinLock(&g_lock);
        NdisReleaseSpinLock(&g_lock);
    });
}

TEST_F(ExploreWatchdog, WaitPastTheLimitOfVirtualTimeIsADeadlockThatReplays) {
    NdislockVerifierSetWatchdog(1);
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 6, 200), long_wait);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << "no long wait in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "Deadlock") << r.message;
    EXPECT_NE(r.message.find("thread 1 has waited 1 ms of the schedule's virtual time"), std::string::npos)
        << r.message;
    EXPECT_NE(r.message.find("watchdog limit is 1 ms"), std::string::npos) << r.message;
    for (int i = 0; i < 20; ++i) {
        ex::Options o;
        o.replay = r.token;
        const ex::Result again = ex::explore(o, long_wait);
        ASSERT_TRUE(again.found) << "replay " << i;
        ASSERT_EQ(again.message.substr(0, again.message.find("\n  replay:")),
                  r.message.substr(0, r.message.find("\n  replay:")));
    }
}

// The same scenario under the default limit (2 s): 2 ms is no wait to report.
TEST_F(ExploreWatchdog, WaitUnderTheLimitIsNoFinding) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 6, 200), long_wait);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
}

// A stall is a scheduling point: a loop that stalls until another thread sets a flag (as a driver
// polls for a device) ends in every schedule instead of spinning the exploration forever.
volatile LONG g_ready;

void poll_with_stall(ex::Run &run) {
    g_ready = 0;
    run.spawn([] {
        for (int i = 0; i < 100 && g_ready == 0; ++i) // plain reads: only the stall lets thread 1 in
            KeStallExecutionProcessor(5);
    });
    run.spawn([] { InterlockedExchange(&g_ready, 1); });
    run.check([] { return g_ready == 1; });
}

TEST_F(ExploreWatchdog, StallIsASchedulingPoint) {
    ex::Options o = options(NDISLOCK_EXPLORE_EXHAUSTIVE, 0, 1, 100000);
    o.bound = 2;
    const ex::Result r = ex::explore(o, poll_with_stall);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_TRUE(r.exhausted);
    EXPECT_GT(r.state_space, 1u); // the stalls offered the search choices
}

// A context that spins on plain memory makes no scheduling point, so the thread that would end
// the spin never runs: the watchdog's probe ends the process with a Livelock naming the thread
// and the schedule's token (a hang otherwise), after 5 s of real time (the floor under the
// watchdog limit, set lower here).
std::atomic<int> g_flag{0};

void plain_spin_exploration() {
    NdislockVerifierSetWatchdog(300);
    ex::Options o = options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 1000);
    (void)ex::explore(o, [](ex::Run &run) {
        g_flag.store(0);
        run.spawn([] {
            while (g_flag.load() == 0) { // never ndislock: no scheduling point
            }
        });
        run.spawn([] { g_flag.store(1); });
    });
}

TEST_F(ExploreWatchdog, ContextSpinningOnPlainMemoryEndsInALivelockReportNotAHang) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(plain_spin_exploration(),
                 "Livelock: thread 0 has run [0-9]+ ms of real time without a scheduling point \\(it has made none "
                 "yet\\).*NdislockExploreYield.*replay: NDISLOCK_EXPLORE_REPLAY=x1\\.random\\.");
}

} // namespace
