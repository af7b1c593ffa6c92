// Deterministic exploration (ndislock/explore.h, docs/explore.md): each bug is found within 1000
// schedules by each strategy and replayed from its token 100 times out of 100 to the same finding;
// correct scenarios report nothing; misuse is refused. Bounded: every exploration has a schedule
// count and a step bound, and ctest a timeout. No test asserts a timing (the speed test prints).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "explore_c_scenarios.h"
#include "explore_support.h"
#include "ndislock/explore.h"
#include "ndislock/ndis.h"

namespace ex = ndislock::explore;

namespace {

class Explore : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK); }
};

using explore_support::ab_ba;
using explore_support::expect_replays;
using explore_support::g_a;
using explore_support::g_b;
using explore_support::options;

// Two threads increment a counter: read, then write, each a plain shared access. With the lock
// held around both, correct; without it, an update can be lost.
struct Counter {
    NDIS_SPIN_LOCK lock;
    int value = 0;
};

void increments(ex::Run &run, bool locked) {
    auto counter = std::make_shared<Counter>();
    NdisAllocateSpinLock(&counter->lock);
    for (int i = 0; i < 2; ++i)
        run.spawn([counter, locked] {
            if (locked) NdisAcquireSpinLock(&counter->lock);
            const int seen = NDISLOCK_SHARED_ACCESS(counter->value);
            NdislockExploreYield(); // the write is a shared access too
            counter->value = seen + 1;
            if (locked) NdisReleaseSpinLock(&counter->lock);
        });
    run.check([counter] { return counter->value == 2; });
}

TEST_F(Explore, AbBaDeadlockFoundByRandomAndReplayed) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 7), ab_ba);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << "no deadlock in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "Deadlock");
    EXPECT_LE(r.schedules, 1000u);
    EXPECT_NE(r.message.find("waits for spin lock"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("NDISLOCK_EXPLORE_REPLAY=x1.random."), std::string::npos) << r.message;
    expect_replays(ab_ba, r);
}

TEST_F(Explore, AbBaDeadlockFoundByPctAtEachDepthAndReplayed) {
    for (unsigned depth = 1; depth <= 3; ++depth) {
        const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_PCT, depth, 11), ab_ba);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        // Depth 1 never preempts: the first thread runs to its end, and AB/BA needs one preemption.
        if (depth == 1) {
            EXPECT_FALSE(r.found) << r.message;
            continue;
        }
        ASSERT_TRUE(r.found) << "depth " << depth << ": no deadlock in " << r.schedules << " schedules";
        EXPECT_EQ(r.rule, "Deadlock");
        EXPECT_EQ(r.token.rfind("x1.pct" + std::to_string(depth) + ".", 0), 0u) << r.token;
        expect_replays(ab_ba, r);
    }
}

// The same inversion with in-stack queued locks: their waits park in the queue, not the buckets.
KSPIN_LOCK g_qa, g_qb;

void ab_ba_queued(ex::Run &run) {
    KeInitializeSpinLock(&g_qa);
    KeInitializeSpinLock(&g_qb);
    for (int i = 0; i < 2; ++i)
        run.spawn([i] {
            KLOCK_QUEUE_HANDLE first, second;
            KeAcquireInStackQueuedSpinLock(i == 0 ? &g_qa : &g_qb, &first);
            KeAcquireInStackQueuedSpinLock(i == 0 ? &g_qb : &g_qa, &second);
            KeReleaseInStackQueuedSpinLock(&second);
            KeReleaseInStackQueuedSpinLock(&first);
        });
}

TEST_F(Explore, QueuedAbBaDeadlockFoundAndReplayed) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 2), ab_ba_queued);
    ASSERT_TRUE(r.found) << "no deadlock in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "Deadlock");
    EXPECT_NE(r.message.find("waits for queued spin lock"), std::string::npos) << r.message;
    expect_replays(ab_ba_queued, r);
}

TEST_F(Explore, AbBaFromTheCApi) {
    NDISLOCK_EXPLORE_RESULT r;
    ASSERT_EQ(c_abba_explore(NDISLOCK_EXPLORE_PCT, 2, 3, nullptr, &r), NDISLOCK_OK);
    ASSERT_TRUE(r.Found);
    EXPECT_STREQ(r.Rule, "Deadlock");
    const std::string token = r.Token, message = r.Message;
    for (int i = 0; i < 100; ++i) {
        NDISLOCK_EXPLORE_RESULT again;
        ASSERT_EQ(c_abba_explore(NDISLOCK_EXPLORE_RANDOM, 0, 0, token.c_str(), &again), NDISLOCK_OK);
        ASSERT_TRUE(again.Found);
        ASSERT_EQ(message, again.Message);
    }
}

TEST_F(Explore, LostUpdateFoundByEachStrategyAndReplayed) {
    auto scenario = [](ex::Run &run) { increments(run, false); };
    for (auto [strategy, depth] : {std::pair{NDISLOCK_EXPLORE_RANDOM, 0u}, std::pair{NDISLOCK_EXPLORE_PCT, 2u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 5), scenario);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        ASSERT_TRUE(r.found) << "strategy " << strategy << ": no lost update in " << r.schedules << " schedules";
        EXPECT_EQ(r.rule, "AssertionFailed");
        EXPECT_NE(r.message.find("check returned FALSE"), std::string::npos) << r.message;
        expect_replays(scenario, r);
    }
}

TEST_F(Explore, LockedIncrementsReportNothing) {
    auto scenario = [](ex::Run &run) { increments(run, true); };
    for (auto [strategy, depth] : {std::pair{NDISLOCK_EXPLORE_RANDOM, 0u}, std::pair{NDISLOCK_EXPLORE_PCT, 1u},
                                   std::pair{NDISLOCK_EXPLORE_PCT, 2u}, std::pair{NDISLOCK_EXPLORE_PCT, 3u}}) {
        const ex::Result r = ex::explore(options(strategy, depth, 9, 500), scenario);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        EXPECT_FALSE(r.found) << r.message;
        EXPECT_EQ(r.schedules, 500u);
        EXPECT_GT(r.steps, 500u * 6); // every schedule passed its points: acquire, accesses, release
    }
}

TEST_F(Explore, AssertionInAThreadIsTheFindingAtItsLine) {
    // An order violation: the reader assumes the writer ran first.
    auto scenario = [](ex::Run &run) {
        auto ready = std::make_shared<std::atomic<int>>(0);
        run.spawn([ready] { NDISLOCK_SHARED_ACCESS(ready->store(1)); });
        run.spawn(
            [ready] { NdislockExploreAssert(NDISLOCK_SHARED_ACCESS(ready->load()) == 1, "the writer ran first"); });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1), scenario);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "AssertionFailed");
    EXPECT_NE(r.message.find("explore_test.cpp:"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("the writer ran first"), std::string::npos) << r.message;
    expect_replays(scenario, r);
}

TEST_F(Explore, ScheduleWithoutEndIsALivelock) {
    auto scenario = [](ex::Run &run) {
        auto flag = std::make_shared<int>(0);
        run.spawn([flag] {
            while (NDISLOCK_SHARED_ACCESS(*flag) == 0) {
            } // nobody ever sets it
        });
    };
    ex::Options o = options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 10);
    o.max_steps = 200;
    const ex::Result r = ex::explore(o, scenario);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "Livelock");
    EXPECT_EQ(r.schedules, 1u);
}

TEST_F(Explore, SameSeedSameSearch) {
    auto scenario = [](ex::Run &run) { increments(run, false); };
    const ex::Result first = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 42), scenario);
    const ex::Result second = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 42), scenario);
    ASSERT_TRUE(first.found);
    EXPECT_EQ(first.token, second.token);
    EXPECT_EQ(first.schedules, second.schedules);
    EXPECT_EQ(first.steps, second.steps);
}

TEST_F(Explore, ReplayFromTheEnvironment) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 7), ab_ba);
    ASSERT_TRUE(r.found);
    ASSERT_EQ(setenv("NDISLOCK_EXPLORE_REPLAY", r.token.c_str(), 1), 0);
    const ex::Result again = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 999), ab_ba);
    unsetenv("NDISLOCK_EXPLORE_REPLAY");
    ASSERT_TRUE(again.found);
    EXPECT_EQ(again.schedules, 1u);
    EXPECT_EQ(again.message, r.message);
}

TEST_F(Explore, BadArgumentsAreRefused) {
    ex::Options o;
    o.replay = "x1.random.12"; // too short
    EXPECT_EQ(ex::explore(o, ab_ba).status, NDISLOCK_INVALID_ARGUMENT);
    o.replay = "x9.random.0000000000000001";
    EXPECT_EQ(ex::explore(o, ab_ba).status, NDISLOCK_INVALID_ARGUMENT);
    o.replay.clear();
    o.depth = 4;
    EXPECT_EQ(ex::explore(o, ab_ba).status, NDISLOCK_INVALID_ARGUMENT);
    int dummy = 0;
    EXPECT_EQ(NdislockExploreSpawn(
                  nullptr, [](void *) {}, &dummy),
              NDISLOCK_INVALID_ARGUMENT);
}

TEST_F(Explore, NestedExplorationIsBusy) {
    std::atomic<int> nested{-1};
    auto scenario = [&nested](ex::Run &run) {
        run.spawn([&nested] {
            ex::Options o;
            o.schedules = 1;
            nested.store(ex::explore(o, [](ex::Run &) {}).status);
        });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 1), scenario);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(nested.load(), NDISLOCK_BUSY);
}

TEST_F(Explore, PlainThreadIsRefused) {
    // The child re-runs this test from the start instead of forking this process: ndislock's
    // watchdog thread already runs here, and ThreadSanitizer does not start threads after a fork
    // of a threaded process.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            auto scenario = [](ex::Run &run) {
                run.spawn([] {
                    NDIS_SPIN_LOCK lock;
                    NdisAllocateSpinLock(&lock);
                    std::thread plain([&lock] {
                        NdisAcquireSpinLock(&lock);
                        NdisReleaseSpinLock(&lock);
                    });
                    plain.join();
                });
            };
            ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 1), scenario);
        },
        "ExploreUncontrolled: a lock acquire by a thread not spawned for it");
}

TEST_F(Explore, DpcInAScheduleRunsInIt) {
    // No longer refused: the insert runs it on the scenario's thread before returning, from
    // PASSIVE_LEVEL, inside the schedule (docs/explore.md, "Interrupts and DPCs").
    static int ran = 0;
    auto scenario = [](ex::Run &run) {
        ran = 0;
        run.spawn([] {
            KDPC dpc;
            KeInitializeDpc(
                &dpc, [](PKDPC, PVOID, PVOID, PVOID) { ++ran; }, nullptr);
            KeInsertQueueDpc(&dpc, nullptr, nullptr);
            NdislockExploreAssert(ran == 1, "the DPC ran before the insert returned");
        });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 10), scenario);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(r.schedules, 10u);
}

TEST_F(Explore, SpeedOfThreeThreadsFiftySteps) {
    // Three threads, about 50 scheduling points per schedule: the rate is printed (docs/explore.md,
    // "Speed"), never asserted.
    auto scenario = [](ex::Run &run) {
        auto counter = std::make_shared<Counter>();
        NdisAllocateSpinLock(&counter->lock);
        for (int i = 0; i < 3; ++i)
            run.spawn([counter] {
                for (int j = 0; j < 4; ++j) {
                    NdisAcquireSpinLock(&counter->lock);
                    counter->value = NDISLOCK_SHARED_ACCESS(counter->value) + 1;
                    NdisReleaseSpinLock(&counter->lock);
                }
            });
        run.check([counter] { return counter->value == 12; });
    };
    const unsigned schedules = 2000;
    const auto start = std::chrono::steady_clock::now();
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 3, schedules), scenario);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_FALSE(r.found) << r.message;
    ASSERT_EQ(r.schedules, schedules);
    std::printf("explore speed: %u schedules, %.1f steps each, %.0f schedules/s, %.0f steps/s\n", schedules,
                double(r.steps) / schedules, schedules / seconds, double(r.steps) / seconds);
    RecordProperty("schedules_per_second", std::to_string(static_cast<long>(schedules / seconds)));
}

} // namespace
