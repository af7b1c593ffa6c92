// The verifier inside an exploration (docs/explore.md, "The verifier in a schedule"): a rule broken
// by a scenario thread fails its schedule with the rule's ID and the verifier's text, is replayed
// from its token and shrunk like any other finding, and is not the process's finding (this binary
// runs with the verifier on: an error kept by the process would end it with status 86). What a
// schedule teaches the verifier (held locks, lock order, class IRQLs) does not reach the next.
#include <gtest/gtest.h>

#include <string>

#include "explore_support.h"
#include "ndislock/explore.h"
#include "ndislock/ndis.h"
#include "ndislock/verifier.h"

namespace ex = ndislock::explore;

namespace {

using explore_support::ab_ba;
using explore_support::expect_replays;
using explore_support::options;

class ExploreVerifier : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK);
        ASSERT_NE(NdislockVerifierGetMode(), NDISLOCK_VERIFIER_OFF) << "ctest runs this binary with the verifier on";
        NdislockVerifierResetFindings();
    }
    // The schedule's findings stayed the exploration's.
    void TearDown() override { EXPECT_EQ(NdislockVerifierFindingCount(), 0u); }
};

// With the verifier on, AB/BA is the LockOrderInversion at the second order's acquire, whether or
// not the schedule went on to deadlock: every strategy finds it, and it shrinks to no preemption
// (one thread after the other shows both orders).
TEST_F(ExploreVerifier, AbBaIsALockOrderInversionForEveryStrategy) {
    const NDISLOCK_EXPLORE_STRATEGY strategies[] = {NDISLOCK_EXPLORE_RANDOM, NDISLOCK_EXPLORE_PCT,
                                                    NDISLOCK_EXPLORE_EXHAUSTIVE, NDISLOCK_EXPLORE_PORTFOLIO};
    for (const NDISLOCK_EXPLORE_STRATEGY strategy : strategies) {
        ex::Options o = options(strategy, strategy == NDISLOCK_EXPLORE_PCT ? 2 : 0, 5);
        const ex::Result r = ex::explore(o, ab_ba);
        ASSERT_EQ(r.status, NDISLOCK_OK);
        ASSERT_TRUE(r.found) << "strategy " << strategy << ": nothing in " << r.schedules << " schedules";
        EXPECT_EQ(r.rule, "LockOrderInversion") << r.message;
        EXPECT_LE(r.schedules, 1000u);
        EXPECT_NE(r.message.find("the verifier reports error"), std::string::npos) << r.message;
        EXPECT_NE(r.message.find("explore_support.h"), std::string::npos) << r.message; // ab_ba's line
        EXPECT_EQ(r.preemptions, 0u) << r.message;
        expect_replays(ab_ba, r);
        if (!r.shrunk_token.empty()) expect_replays(ab_ba, r.shrunk_token, r);
    }
}

NDIS_SPIN_LOCK g_lock;

// NdisAcquireSpinLock released by NdisDprReleaseSpinLock: an error at the release's line.
void wrong_release(ex::Run &run) {
    NdisAllocateSpinLock(&g_lock);
    run.spawn([] {
        NdisAcquireSpinLock(&g_lock);
        NdisDprReleaseSpinLock(&g_lock);
        KeLowerIrql(PASSIVE_LEVEL); // what the right release would have restored
    });
}

TEST_F(ExploreVerifier, WrongReleaseVariantFailsTheFirstSchedule) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1), wrong_release);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "ReleaseVariantMismatch") << r.message;
    EXPECT_EQ(r.schedules, 1u);
    EXPECT_NE(r.message.find("Windows:"), std::string::npos) << r.message; // the verifier's analogue line
    expect_replays(wrong_release, r);
}

// A terminal rule (Windows would spin forever): the schedule's finding, and the process goes on.
void recursive_acquire(ex::Run &run) {
    NdisAllocateSpinLock(&g_lock);
    run.spawn([] {
        NdisAcquireSpinLock(&g_lock);
        NdisDprAcquireSpinLock(&g_lock);
    });
}

TEST_F(ExploreVerifier, TerminalRuleFailsTheScheduleNotTheProcess) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1), recursive_acquire);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "RecursiveAcquire") << r.message;
    expect_replays(recursive_acquire, r);
}

// A scenario routine that returns holding a lock: nobody releases it, as at a thread's end.
void returns_holding(ex::Run &run) {
    NdisAllocateSpinLock(&g_lock);
    run.spawn([] { NdisAcquireSpinLock(&g_lock); });
}

TEST_F(ExploreVerifier, RoutineReturningHoldingALockIsThreadExitHoldingLock) {
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1), returns_holding);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "ThreadExitHoldingLock") << r.message;
    EXPECT_NE(r.message.find("thread 0 returns from its scenario routine"), std::string::npos) << r.message;
    expect_replays(returns_holding, r);
}

// Locked increments and a consistent order: nothing, over the whole bound-2 space, though each
// schedule reinitializes the locks the last one used (the verifier forgets its threads' holds).
NDIS_SPIN_LOCK g_first, g_second;
int g_value;

void ordered(ex::Run &run) {
    NdisAllocateSpinLock(&g_first);
    NdisAllocateSpinLock(&g_second);
    g_value = 0;
    for (int i = 0; i < 2; ++i)
        run.spawn([] {
            NdisAcquireSpinLock(&g_first);
            NdisDprAcquireSpinLock(&g_second);
            NDISLOCK_SHARED_WRITE(g_value, NDISLOCK_SHARED_READ(g_value) + 1);
            NdisDprReleaseSpinLock(&g_second);
            NdisReleaseSpinLock(&g_first);
        });
    run.check([] { return g_value == 2; });
}

TEST_F(ExploreVerifier, CorrectScenarioExhaustiveAtBoundTwoReportsNothing) {
    ex::Options o = options(NDISLOCK_EXPLORE_EXHAUSTIVE, 0, 1, 100000);
    o.bound = 2;
    const ex::Result r = ex::explore(o, ordered);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_TRUE(r.exhausted);
    EXPECT_GT(r.schedules, 1u);
}

// Each schedule starts from the lock order known before the exploration: the order one schedule
// takes is not held against the next (a scenario that changes between schedules shows it; real
// scenarios must not, or their tokens would not replay).
unsigned g_schedule;

void alternating_orders(ex::Run &run) {
    NdisAllocateSpinLock(&g_first);
    NdisAllocateSpinLock(&g_second);
    const bool reverse = (g_schedule++ % 2) != 0;
    run.spawn([reverse] {
        PNDIS_SPIN_LOCK outer = reverse ? &g_second : &g_first, inner = reverse ? &g_first : &g_second;
        NdisAcquireSpinLock(outer);
        NdisDprAcquireSpinLock(inner);
        NdisDprReleaseSpinLock(inner);
        NdisReleaseSpinLock(outer);
    });
}

TEST_F(ExploreVerifier, WhatOneScheduleTeachesDoesNotReachTheNext) {
    g_schedule = 0;
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 3, 20), alternating_orders);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    EXPECT_FALSE(r.found) << r.message;
    EXPECT_EQ(r.schedules, 20u);
}

// Nor what it teaches the lock classes' IRQLs, though a scenario thread remembers the classes it saw
// held at DISPATCH_LEVEL (the verifier's per-thread cache): the first schedule holds the class
// there only, which is taken back; the second takes it above DISPATCH_LEVEL, then holds it at
// DISPATCH_LEVEL, which is LockClassIrqlInconsistent there, on the worker the first one used.
NDIS_SPIN_LOCK g_classed;

void held_low_then_both_sides(ex::Run &run) {
    NdisAllocateSpinLock(&g_classed);
    const bool both_sides = (g_schedule++ % 2) != 0;
    run.spawn([both_sides] {
        if (both_sides) {
            KIRQL dirql = 0;
            KeRaiseIrql(DISPATCH_LEVEL + 3, &dirql);
            KeAcquireSpinLockAtDpcLevel(&g_classed.SpinLock);
            KeReleaseSpinLockFromDpcLevel(&g_classed.SpinLock);
            KeLowerIrql(dirql);
        }
        NdisAcquireSpinLock(&g_classed);
        NdisReleaseSpinLock(&g_classed);
    });
}

TEST_F(ExploreVerifier, ClassIrqlOfOneScheduleDoesNotReachTheNext) {
    g_schedule = 0;
    ex::Options o = options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 4);
    o.shrink_replays = 0; // the scenario changes from run to run: nothing to shrink or replay
    const ex::Result r = ex::explore(o, held_low_then_both_sides);
    ASSERT_EQ(r.status, NDISLOCK_OK);
    ASSERT_TRUE(r.found) << r.schedules << " schedules";
    EXPECT_EQ(r.rule, "LockClassIrqlInconsistent") << r.message;
    EXPECT_EQ(r.schedules, 2u) << r.message;
}

// What the process learnt before the exploration still counts, as in a run: the order taken here,
// outside, is inverted by a scenario thread. One allocation site for both sides, reached through
// one call of the helper that allocates (a helper's call site is part of its locks' class): the
// same classes.
NDIS_SPIN_LOCK g_x, g_y;

[[gnu::noinline]] void allocate_x_and_y_here() {
    NdisAllocateSpinLock(&g_x);
    NdisAllocateSpinLock(&g_y);
    asm volatile("" ::: "memory"); // no tail call: this frame stays
}
[[gnu::noinline]] void allocate_x_and_y() {
    allocate_x_and_y_here(); // the one call site of the helper
    asm volatile("" ::: "memory");
}

void inverts_the_outside_order(ex::Run &run) {
    allocate_x_and_y(); // a failed schedule abandons its thread holding g_y
    run.spawn([] {
        NdisAcquireSpinLock(&g_y);
        NdisDprAcquireSpinLock(&g_x);
        NdisDprReleaseSpinLock(&g_x);
        NdisReleaseSpinLock(&g_y);
    });
}

TEST_F(ExploreVerifier, OrderLearntBeforeTheExplorationCounts) {
    allocate_x_and_y();
    NdisAcquireSpinLock(&g_x);
    NdisDprAcquireSpinLock(&g_y);
    NdisDprReleaseSpinLock(&g_y);
    NdisReleaseSpinLock(&g_x);
    const ex::Result r = ex::explore(options(NDISLOCK_EXPLORE_RANDOM, 0, 1, 10), inverts_the_outside_order);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.rule, "LockOrderInversion") << r.message;
    expect_replays(inverts_the_outside_order, r);
}

} // namespace
