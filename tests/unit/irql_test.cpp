// IRQL: per-processor at DISPATCH_LEVEL and above, raise/lower rules (ndis-contract.md 3, 4).
#include "model/processors.h" // g_processors: what a thread waiting for a processor waits on
#include "ndislock/rw_lock.h"
#include "test_support.h"
#include "wait_probe.h"

using namespace ndislock_test;

class Irql : public ModelTest {};

TEST_F(Irql, AThreadStartsAtPassiveLevel) {
    KIRQL seen = 0xFF;
    Watchdog dog("AThreadStartsAtPassiveLevel");
    std::thread([&] { seen = KeGetCurrentIrql(); }).join();
    EXPECT_EQ(seen, PASSIVE_LEVEL);
}

TEST_F(Irql, RaiseStoresTheOldIrqlAndLowerRestoresIt) {
    KIRQL old = 0xFF;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_EQ(old, PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(Irql, RaiseToTheCurrentLevelIsAllowed) {
    KIRQL first, second;
    KeRaiseIrql(DISPATCH_LEVEL, &first);
    KeRaiseIrql(DISPATCH_LEVEL, &second);
    EXPECT_EQ(second, DISPATCH_LEVEL);
    KeLowerIrql(second);
    KeLowerIrql(first);
}

TEST_F(Irql, RaiseToDpcLevelReturnsTheOldIrql) {
    KIRQL apc;
    KeRaiseIrql(APC_LEVEL, &apc);
    EXPECT_EQ(KeRaiseIrqlToDpcLevel(), APC_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(APC_LEVEL);
    KeLowerIrql(apc);
}

TEST_F(Irql, DeviceLevelsAboveDispatchRaiseAndLowerInSteps) {
    KIRQL to_dispatch, to_device, to_high;
    KeRaiseIrql(DISPATCH_LEVEL, &to_dispatch);
    KeRaiseIrql(5, &to_device); // a DIRQL
    EXPECT_EQ(KeGetCurrentIrql(), 5);
    KeRaiseIrql(HIGH_LEVEL, &to_high);
    EXPECT_EQ(to_high, 5);
    KeLowerIrql(to_high);
    KeLowerIrql(to_device);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(to_dispatch);
}

TEST_F(Irql, ApcLevelBelongsToTheThread) {
    ASSERT_EQ(NdislockSetProcessorCount(1), NDISLOCK_OK);
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    KIRQL other = 0xFF;
    Watchdog dog("ApcLevelBelongsToTheThread");
    std::thread([&] { other = KeGetCurrentIrql(); }).join(); // same processor, its own thread state
    EXPECT_EQ(other, PASSIVE_LEVEL);
    KeLowerIrql(old);
}

TEST_F(Irql, AtDispatchAProcessorRunsOneThreadAtThatLevel) {
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    std::atomic<bool> same_processor_raised{false}, other_processor_raised{false};
    std::atomic<ndislock::model::ThreadState *> same_state{nullptr};
    Watchdog dog("AtDispatchAProcessorRunsOneThreadAtThatLevel");
    std::thread same([&] {
        NdislockBindCurrentThread(0);
        same_state.store(current_thread_state());
        KIRQL o;
        KeRaiseIrql(DISPATCH_LEVEL, &o); // waits: processor 0 is busy at DISPATCH_LEVEL
        same_processor_raised.store(true);
        KeLowerIrql(o);
    });
    std::thread other([&] {
        NdislockBindCurrentThread(1);
        KIRQL o;
        KeRaiseIrql(DISPATCH_LEVEL, &o); // processor 1 is free
        other_processor_raised.store(true);
        KeLowerIrql(o);
    });
    other.join();
    EXPECT_TRUE(other_processor_raised.load());
    // The second thread of processor 0 waits for the processor instead of raising beside us.
    EXPECT_TRUE(eventually_waiting_on(same_state, &ndislock::model::g_processors[0]))
        << "the second thread of processor 0 never waited for it";
    EXPECT_FALSE(same_processor_raised.load()) << "a second thread ran at DISPATCH_LEVEL on processor 0";
    KeLowerIrql(old);
    same.join();
    EXPECT_TRUE(same_processor_raised.load());
}

TEST_F(Irql, BelowDispatchThreadsOfOneProcessorRunTogether) {
    ASSERT_EQ(NdislockSetProcessorCount(1), NDISLOCK_OK);
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    std::atomic<bool> ran{false};
    Watchdog dog("BelowDispatchThreadsOfOneProcessorRunTogether");
    std::thread([&] {
        KIRQL o;
        KeRaiseIrql(APC_LEVEL, &o); // no processor hand-over below DISPATCH_LEVEL
        ran.store(true);
        KeLowerIrql(o);
    }).join();
    EXPECT_TRUE(ran.load());
    KeLowerIrql(old);
}

using IrqlDeathTest = Irql;

// Verifier off is a free x64 build (docs/verifier.md, "Two personalities"): KfRaiseIrql writes
// the level without a check, so a "raise" to a lower level lowers, and the program goes on.
TEST_F(Irql, RaisingBelowTheCurrentIrqlSetsItAsAFreeBuildDoes) {
    KIRQL old, again;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeRaiseIrql(APC_LEVEL, &again);
    EXPECT_EQ(again, DISPATCH_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(old);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(IrqlDeathTest, RaisingAboveHighLevelIsFatal) {
    EXPECT_DEATH(
        {
            KIRQL old;
            KeRaiseIrql(HIGH_LEVEL + 1, &old);
        },
        "IrqlInvalidRaise");
}

// KeLowerIrql to a higher level: a free build writes it (a raise); beyond HIGH_LEVEL the CR8
// write faults, so that still ends the process.
TEST_F(Irql, LoweringAboveTheCurrentIrqlSetsItAsAFreeBuildDoes) {
    KeLowerIrql(DISPATCH_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(IrqlDeathTest, LoweringAboveHighLevelIsFatal) {
    EXPECT_DEATH(KeLowerIrql(HIGH_LEVEL + 1), "IrqlInvalidLower.*irql_test.cpp");
}

TEST_F(IrqlDeathTest, TheFunctionSpellingReportsItsCallersAddress) {
    EXPECT_DEATH((KeLowerIrql)(HIGH_LEVEL + 1), "IrqlInvalidLower.*called from 0x[0-9a-f]+");
}

// A raising acquire above DISPATCH_LEVEL: x64's KeAcquireSpinLock sets DISPATCH_LEVEL while the
// lock is held, and the release puts the saved IRQL back.
TEST_F(Irql, RaisingAcquireAboveDispatchHoldsAtDispatchAsX64Does) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL old, saved;
    KeRaiseIrql(HIGH_LEVEL, &old);
    KeAcquireSpinLock(&lock, &saved);
    EXPECT_EQ(saved, HIGH_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_FALSE(KeTestSpinLock(&lock));
    KeReleaseSpinLock(&lock, saved);
    EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    EXPECT_TRUE(KeTestSpinLock(&lock));
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLock(&lock, &h);
    EXPECT_EQ(h.OldIrql, HIGH_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseInStackQueuedSpinLock(&h);
    EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    KeLowerIrql(old);
}

// The same with an observer that only looks (lock statistics here; a sanitizer's annotations or a
// timeline alike): nothing checks rules, so both acquire forms keep the free build's behaviour.
TEST_F(Irql, RaisingAcquireAboveDispatchHoldsAtDispatchWhileStatisticsLook) {
    NdislockStatsEnable(TRUE, 0);
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL old, saved;
    KeRaiseIrql(HIGH_LEVEL, &old);
    KeAcquireSpinLock(&lock, &saved);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseSpinLock(&lock, saved);
    EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLock(&lock, &h);
    EXPECT_EQ(h.OldIrql, HIGH_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseInStackQueuedSpinLock(&h);
    EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    KeLowerIrql(old);
    NdislockStatsEnable(FALSE, 0);
    NdislockStatsReset();
}

// The reader/writer locks' raising acquires above DISPATCH_LEVEL behave as the spin locks' do: a
// free build holds them at DISPATCH_LEVEL, and the release puts the saved IRQL back. Each of the
// three lock types, in both modes; run with no observer, then with one that only looks.
void rw_acquires_above_dispatch_hold_at_dispatch() {
    KIRQL old;
    KeRaiseIrql(HIGH_LEVEL, &old);
    PNDIS_RW_LOCK_EX ex = NdisAllocateRWLock(nullptr);
    ASSERT_NE(ex, nullptr);
    for (const bool write : {false, true}) {
        SCOPED_TRACE(write ? "NdisAcquireRWLockWrite" : "NdisAcquireRWLockRead");
        LOCK_STATE_EX state;
        if (write)
            NdisAcquireRWLockWrite(ex, &state, 0);
        else
            NdisAcquireRWLockRead(ex, &state, 0);
        EXPECT_EQ(state.OldIrql, HIGH_LEVEL);
        EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
        NdisReleaseRWLock(ex, &state);
        EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    }
    NdisFreeRWLock(ex);
    NDIS_RW_LOCK ndis5;
    NdisInitializeReadWriteLock(&ndis5);
    for (const BOOLEAN write : {FALSE, TRUE}) {
        SCOPED_TRACE(write ? "NdisAcquireReadWriteLock(write)" : "NdisAcquireReadWriteLock(read)");
        LOCK_STATE state;
        NdisAcquireReadWriteLock(&ndis5, write, &state);
        EXPECT_EQ(state.OldIrql, HIGH_LEVEL);
        EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
        NdisReleaseReadWriteLock(&ndis5, &state);
        EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    }
    EX_SPIN_LOCK spin = 0;
    for (const bool exclusive : {false, true}) {
        SCOPED_TRACE(exclusive ? "ExAcquireSpinLockExclusive" : "ExAcquireSpinLockShared");
        const KIRQL saved = exclusive ? ExAcquireSpinLockExclusive(&spin) : ExAcquireSpinLockShared(&spin);
        EXPECT_EQ(saved, HIGH_LEVEL);
        EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
        EXPECT_NE(spin, 0);
        if (exclusive)
            ExReleaseSpinLockExclusive(&spin, saved);
        else
            ExReleaseSpinLockShared(&spin, saved);
        EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
        EXPECT_EQ(spin, 0);
    }
    KeLowerIrql(old);
}

TEST_F(Irql, ReaderWriterRaisingAcquireAboveDispatchHoldsAtDispatchAsX64Does) {
    rw_acquires_above_dispatch_hold_at_dispatch();
}

TEST_F(Irql, ReaderWriterRaisingAcquireAboveDispatchHoldsAtDispatchWhileStatisticsLook) {
    NdislockStatsEnable(TRUE, 0);
    rw_acquires_above_dispatch_hold_at_dispatch();
    NdislockStatsEnable(FALSE, 0);
    NdislockStatsReset();
}
