// The verifier's budgets in virtual time (docs/explore.md, "Virtual time"): inside a schedule a
// context's own time moves 20 ns per scheduling point and by each stall's length, and nothing
// else, so LockHeldTooLong, IsrTooLong and DpcTooLong depend on the schedule alone. Every hold and
// routine run is timed, the first over budget is the finding (no sampling, no streak of three),
// it is found in the first schedule, its replay shows the same figure, and the machine's speed
// (a sanitizer, a loaded CI host, real busy work between the calls) changes nothing. Runs with the
// verifier on: a finding kept by the process instead of the exploration fails the binary (86).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "explore_device.h"
#include "explore_support.h"
#include "ndislock/device.h"
#include "ndislock/explore.h"
#include "ndislock/ndis.h"
#include "ndislock/verifier.h"
#include "ndislock/wdk_dispatcher.h"

namespace ex = ndislock::explore;

namespace {

using explore_support::expect_replays;
using explore_support::options;

constexpr ULONG64 kHoldBudgetNs = 25'000;
constexpr ULONG64 kIsrBudgetNs = 25'000;
constexpr ULONG64 kDpcBudgetNs = 100'000;

// Real busy work of about `us` microseconds: plain code, which virtual time does not count.
void busy_for_real(int us) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    while (std::chrono::steady_clock::now() < end) {
    }
}

using explore_support::Device;

// Stalls for us microseconds, in pieces of at most 50 us (the most one KeStallExecutionProcessor
// may take), as drivers do.
void stall_us(ULONG us) {
    for (ULONG left = us; left != 0;) {
        const ULONG piece = left < 50 ? left : 50;
        KeStallExecutionProcessor(piece);
        left -= piece;
    }
}

Device g_device;

class ExploreBudgets : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
        ASSERT_NE(NdislockVerifierGetMode(), NDISLOCK_VERIFIER_OFF) << "ctest runs this binary with the verifier on";
        // The budgets the scenarios are written against, not a sanitizer preset's wider ones:
        // virtual time does not depend on how fast the build runs.
        NdislockVerifierSetHoldBudget(kHoldBudgetNs);
        NdislockVerifierSetCallbackBudgets(kIsrBudgetNs, kDpcBudgetNs);
        NdislockVerifierResetFindings();
        g_device = Device{};
        NDIS_HANDLE adapter = nullptr;
        ASSERT_EQ(NdislockMiniportInitialize(Device::Initialize, &g_device, &adapter), NDIS_STATUS_SUCCESS);
    }
    void TearDown() override {
        if (g_device.adapter != nullptr) NdislockMiniportHalt(g_device.adapter, Device::Halt, &g_device);
        EXPECT_EQ(NdislockVerifierFindingCount(), 0u); // the schedules' findings stayed the exploration's
    }
};

// Static: the same address in every schedule, so a replayed finding is the same text.
NDIS_SPIN_LOCK g_lock;

ULONG g_stall_us = 0;   // the stall under the lock
int g_real_busy_us = 0; // real work under the lock, which virtual time does not count

void stalled_hold(ex::Run &run) {
    NdisAllocateSpinLock(&g_lock);
    run.spawn([] {
        NdisAcquireSpinLock(&g_lock);
        KeStallExecutionProcessor(g_stall_us);
        busy_for_real(g_real_busy_us);
        NdisReleaseSpinLock(&g_lock);
    });
    run.spawn([] { // contends for the lock: waiting for it is not the holder's time
        NdisAcquireSpinLock(&g_lock);
        NdisReleaseSpinLock(&g_lock);
    });
}

// One hold of 30 us (1.2x the budget) among others: the first schedule finds it, with the exact
// figure (the stall plus the two calls inside the hold at 20 ns each), for every strategy, and
// every replay prints the same text.
TEST_F(ExploreBudgets, OneHoldJustOverBudgetIsFoundInTheFirstScheduleForEveryStrategy) {
    g_stall_us = 30;
    g_real_busy_us = 0;
    const NDISLOCK_EXPLORE_STRATEGY strategies[] = {NDISLOCK_EXPLORE_RANDOM, NDISLOCK_EXPLORE_PCT,
                                                    NDISLOCK_EXPLORE_EXHAUSTIVE, NDISLOCK_EXPLORE_PORTFOLIO};
    for (const NDISLOCK_EXPLORE_STRATEGY strategy : strategies) {
        const ex::Result r = ex::explore(options(strategy, strategy == NDISLOCK_EXPLORE_PCT ? 2 : 0, 9), stalled_hold);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        ASSERT_TRUE(r.found) << "strategy " << strategy << ": nothing in " << r.schedules << " schedules";
        EXPECT_EQ(r.rule, "LockHeldTooLong") << r.message;
        EXPECT_EQ(r.schedules, 1u) << r.message;
        EXPECT_NE(r.message.find("virtual time"), std::string::npos) << r.message;
        EXPECT_NE(r.message.find("held for 30.0 us"), std::string::npos) << r.message;
        EXPECT_NE(r.message.find("virtual_budgets_test.cpp"), std::string::npos) << r.message; // the acquire's line
        expect_replays(stalled_hold, r);
    }
}

// A hold under budget in virtual time is never reported, however long it takes for real (here 2 ms
// of real busy work, 80x the budget, as a slow or loaded machine could make any hold): exhaustive
// at bound 2, every hold timed.
TEST_F(ExploreBudgets, HoldUnderBudgetInVirtualTimeIsSilentHoweverLongItRunsForReal) {
    g_stall_us = 20;
    g_real_busy_us = 2000;
    ex::Options o = options(NDISLOCK_EXPLORE_EXHAUSTIVE, 0, 1);
    o.bound = 2;
    const ex::Result r = ex::explore(o, stalled_hold);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_TRUE(r.exhausted);
}

// A hold that makes many ndislock calls costs 20 ns of virtual time per scheduling point in it (a
// spin-lock pair is three of them: two at the acquire, one at the release): 100 pairs under a lock are
// 6 us, no finding; 450 pairs are 27 us, over.
TEST_F(ExploreBudgets, CallsInsideAHoldCostTwentyNanosecondsPerSchedulingPoint) {
    static NDIS_SPIN_LOCK inner;
    auto scenario = [](ex::Run &run) {
        NdisAllocateSpinLock(&g_lock);
        NdisAllocateSpinLock(&inner);
        run.spawn([] {
            NdisAcquireSpinLock(&g_lock);
            for (int i = 0; i < 100; ++i) { // 300 scheduling points
                NdisDprAcquireSpinLock(&inner);
                NdisDprReleaseSpinLock(&inner);
            }
            NdisReleaseSpinLock(&g_lock);
        });
    };
    ex::Options o = options(NDISLOCK_EXPLORE_RANDOM, 0, 3, 20);
    o.max_steps = 1000;
    const ex::Result r = ex::explore(o, scenario);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    // 450 pairs: 1350 scheduling points, 27 us.
    auto long_scenario = [](ex::Run &run) {
        NdisAllocateSpinLock(&g_lock);
        NdisAllocateSpinLock(&inner);
        run.spawn([] {
            NdisAcquireSpinLock(&g_lock);
            for (int i = 0; i < 450; ++i) {
                NdisDprAcquireSpinLock(&inner);
                NdisDprReleaseSpinLock(&inner);
            }
            NdisReleaseSpinLock(&g_lock);
        });
    };
    o.max_steps = 5000;
    const ex::Result over = ex::explore(o, long_scenario);
    ASSERT_EQ(over.status, NDISLOCK_OK);
    ASSERT_TRUE(over.found);
    EXPECT_EQ(over.rule, "LockHeldTooLong") << over.message;
    EXPECT_NE(over.message.find("held for 27.0 us"), std::string::npos) << over.message;
}

void interrupt_once(ex::Run &run) {
    run.spawn([] { NdislockAssertInterrupt(g_device.interrupt, 0); });
}

// An ISR that stalls 40 us (1.6x its budget) is reported the first time it runs, and replayed.
TEST_F(ExploreBudgets, IsrOverBudgetIsFoundTheFirstTimeItRuns) {
    g_device.isr = [](PBOOLEAN) { stall_us(40); };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 4), interrupt_once);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << "nothing in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "IsrTooLong") << r.message;
    EXPECT_EQ(r.schedules, 1u) << r.message;
    EXPECT_NE(r.message.find("virtual time"), std::string::npos) << r.message;
    expect_replays(interrupt_once, r);
}

// A DPC that stalls 150 us in pieces (1.5x its budget) is reported the first time; one of 60 us is not.
TEST_F(ExploreBudgets, DpcOverBudgetIsFoundTheFirstTimeAndOneUnderIsNot) {
    g_device.dpc = [] { stall_us(150); };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 4), interrupt_once);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << "nothing in " << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "DpcTooLong") << r.message;
    EXPECT_EQ(r.schedules, 1u) << r.message;
    expect_replays(interrupt_once, r);

    g_device.dpc = [] { stall_us(60); };
    const ex::Result under = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 4, 50), interrupt_once);
    ASSERT_EQ(under.status, NDISLOCK_OK);
    EXPECT_FALSE(under.found) << under.message;
}

// A stall moves the schedule's clock by its length: KeQueryInterruptTime, in 100 ns units, sees
// the 40 us pass, though no real time did.
TEST_F(ExploreBudgets, StallMovesTheSchedulesClock) {
    static ULONGLONG before = 0, after = 0;
    auto scenario = [](ex::Run &run) {
        run.spawn([] {
            before = KeQueryInterruptTime();
            KeStallExecutionProcessor(40);
            after = KeQueryInterruptTime();
        });
    };
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 2, 1), scenario);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_GE(after - before, 400u);
    EXPECT_LT(after - before, 400u + 100u); // and by the steps between, 1 us each, no more
}

} // namespace
