// The six NDIS spin-lock calls (ndis-contract.md section 2), one test per documented behaviour.
#include <cstring>

#include "test_support.h"
#include "wait_probe.h"

using namespace ndislock_test;

class NdisSpinLock : public ModelTest {};

TEST_F(NdisSpinLock, AllocateSetsTheWordToFree) {
    NDIS_SPIN_LOCK lock;
    std::memset(&lock, 0xA5, sizeof lock);
    NdisAllocateSpinLock(&lock);
    EXPECT_EQ(word(lock.SpinLock), 0u);
}

TEST_F(NdisSpinLock, AcquireRaisesToDispatchAndSavesPassiveInOldIrql) {
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    lock.OldIrql = 0x7F;
    NdisAcquireSpinLock(&lock);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(lock.OldIrql, PASSIVE_LEVEL);
    EXPECT_EQ(word(lock.SpinLock), 1u);
    NdisReleaseSpinLock(&lock);
}

TEST_F(NdisSpinLock, AcquireFromApcLevelSavesApcLevel) {
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    NdisAcquireSpinLock(&lock);
    EXPECT_EQ(lock.OldIrql, APC_LEVEL);
    NdisReleaseSpinLock(&lock);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(old);
}

TEST_F(NdisSpinLock, AcquireAtDispatchSavesDispatchAndReleaseStaysThere) {
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    NdisAcquireSpinLock(&lock);
    EXPECT_EQ(lock.OldIrql, DISPATCH_LEVEL);
    NdisReleaseSpinLock(&lock);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
}

TEST_F(NdisSpinLock, ReleaseFreesTheWordThenLowersToOldIrql) {
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    NdisAcquireSpinLock(&lock);
    NdisReleaseSpinLock(&lock);
    EXPECT_EQ(word(lock.SpinLock), 0u);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(NdisSpinLock, OldIrqlIsWrittenOnlyOnceTheLockIsHeld) {
    // A waiter must not overwrite the holder's OldIrql: the holder's release reads it. The waiter
    // runs on the other processor: on the holder's it would wait for the processor (at
    // DISPATCH_LEVEL under the lock) and never reach the lock.
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    NdisAcquireSpinLock(&lock); // OldIrql = PASSIVE
    Flag waiter_done;
    std::atomic<ndislock::model::ThreadState *> waiter_state{nullptr};
    std::thread waiter;
    {
        Watchdog dog("OldIrqlIsWrittenOnlyOnceTheLockIsHeld");
        waiter = std::thread([&] {
            NdislockBindCurrentThread(1);
            waiter_state.store(current_thread_state());
            KIRQL old;
            KeRaiseIrql(APC_LEVEL, &old);
            NdisAcquireSpinLock(&lock);
            EXPECT_EQ(lock.OldIrql, APC_LEVEL);
            NdisReleaseSpinLock(&lock);
            KeLowerIrql(old);
            waiter_done.set();
        });
        // The waiter is inside its acquire, at the held lock: had it written OldIrql early, it
        // would have by now.
        EXPECT_TRUE(eventually_waiting_on(waiter_state, &lock)) << "the waiter never reached the held lock";
        EXPECT_EQ(lock.OldIrql, PASSIVE_LEVEL);
        EXPECT_FALSE(waiter_done.is_set());
        NdisReleaseSpinLock(&lock);
        waiter.join();
    }
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(NdisSpinLock, DprAcquireKeepsDispatchAndLeavesOldIrqlAlone) {
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    lock.OldIrql = 0x5A;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&lock);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(lock.SpinLock), 1u);
    EXPECT_EQ(lock.OldIrql, 0x5A); // current WDK headers do not touch it
    NdisDprReleaseSpinLock(&lock);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(lock.SpinLock), 0u);
    KeLowerIrql(old);
}

TEST_F(NdisSpinLock, NestedInOrderReleasesRestoreEachLevel) {
    NDIS_SPIN_LOCK a, b;
    NdisAllocateSpinLock(&a);
    NdisAllocateSpinLock(&b);
    NdisAcquireSpinLock(&a);
    NdisAcquireSpinLock(&b);
    EXPECT_EQ(a.OldIrql, PASSIVE_LEVEL);
    EXPECT_EQ(b.OldIrql, DISPATCH_LEVEL);
    NdisReleaseSpinLock(&b);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    NdisReleaseSpinLock(&a);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(NdisSpinLock, OutOfOrderReleaseRunsAtPassiveWhileHoldingAndEndsAtDispatch) {
    // The trap the NDIS docs describe: each release restores the IRQL its own acquire saved.
    NDIS_SPIN_LOCK a, b;
    NdisAllocateSpinLock(&a);
    NdisAllocateSpinLock(&b);
    NdisAcquireSpinLock(&a);
    NdisAcquireSpinLock(&b);
    NdisReleaseSpinLock(&a);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL) << "code between the releases runs at PASSIVE_LEVEL";
    EXPECT_EQ(word(b.SpinLock), 1u) << "while B is still held";
    NdisReleaseSpinLock(&b);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL) << "and the IRQL is left at DISPATCH_LEVEL";
    KeLowerIrql(PASSIVE_LEVEL);
}

TEST_F(NdisSpinLock, FreeLeavesTheMemoryAndAllocateMakesItUsableAgain) {
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    NdisAcquireSpinLock(&lock);
    NdisReleaseSpinLock(&lock);
    NDIS_SPIN_LOCK before;
    std::memcpy(&before, &lock, sizeof lock);
    NdisFreeSpinLock(&lock);
    EXPECT_EQ(std::memcmp(&before, &lock, sizeof lock), 0) << "the WDK's NdisFreeSpinLock changes nothing";
    NdisAllocateSpinLock(&lock);
    NdisAcquireSpinLock(&lock);
    EXPECT_EQ(word(lock.SpinLock), 1u);
    NdisReleaseSpinLock(&lock);
}

TEST_F(NdisSpinLock, FunctionSpellingsBehaveAsTheMacros) {
    // Parenthesised names bypass the function-like macros: the real exported functions.
    void (*acquire)(PNDIS_SPIN_LOCK) = &NdisAcquireSpinLock;
    void (*release)(PNDIS_SPIN_LOCK) = &NdisReleaseSpinLock;
    NDIS_SPIN_LOCK lock;
    (NdisAllocateSpinLock)(&lock);
    acquire(&lock);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(lock.OldIrql, PASSIVE_LEVEL);
    (NdisDprReleaseSpinLock)(&lock);
    (NdisDprAcquireSpinLock)(&lock);
    release(&lock);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    (NdisFreeSpinLock)(&lock);
}

TEST_F(NdisSpinLock, WaiterGetsTheLockWhenTheHolderReleases) {
    // The waiter on the other processor, so that it waits for the lock, not for the processor.
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    std::atomic<int> phase{0};
    std::atomic<ndislock::model::ThreadState *> waiter_state{nullptr};
    NdisAcquireSpinLock(&lock);
    std::thread waiter;
    {
        Watchdog dog("WaiterGetsTheLockWhenTheHolderReleases");
        waiter = std::thread([&] {
            NdislockBindCurrentThread(1);
            waiter_state.store(current_thread_state());
            NdisAcquireSpinLock(&lock);
            phase.store(2);
            NdisReleaseSpinLock(&lock);
        });
        EXPECT_TRUE(eventually_waiting_on(waiter_state, &lock)) << "the waiter never reached the held lock";
        EXPECT_EQ(phase.load(), 0);
        NdisReleaseSpinLock(&lock);
        waiter.join();
    }
    EXPECT_EQ(phase.load(), 2);
}
