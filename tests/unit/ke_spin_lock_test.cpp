// The kernel's ordinary spin-lock calls (ndis-contract.md section 3).
#include "test_support.h"

using namespace ndislock_test;

class KeSpinLock : public ModelTest {};

TEST_F(KeSpinLock, InitializeSetsTheWordToZero) {
    KSPIN_LOCK lock = 0xDEAD;
    KeInitializeSpinLock(&lock);
    EXPECT_EQ(word(lock), 0u);
}

TEST_F(KeSpinLock, AcquireRaisesToDispatchAndReturnsTheOldIrql) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL old = 0x7F;
    KeAcquireSpinLock(&lock, &old);
    EXPECT_EQ(old, PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(lock), 1u);
    KeReleaseSpinLock(&lock, old);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(word(lock), 0u);
}

TEST_F(KeSpinLock, RaiseToDpcFormReturnsTheOldIrql) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL apc;
    KeRaiseIrql(APC_LEVEL, &apc);
    const KIRQL old = KeAcquireSpinLockRaiseToDpc(&lock);
    EXPECT_EQ(old, APC_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseSpinLock(&lock, old);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(apc);
}

TEST_F(KeSpinLock, ReleaseLowersToTheGivenIrql) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL old;
    KeAcquireSpinLock(&lock, &old);
    KeReleaseSpinLock(&lock, APC_LEVEL); // legal when the acquire was from APC_LEVEL; here it shows the effect
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
}

TEST_F(KeSpinLock, AtDpcLevelFormsDoNotChangeTheIrql) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireSpinLockAtDpcLevel(&lock);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(lock), 1u);
    KeReleaseSpinLockFromDpcLevel(&lock);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(lock), 0u);
    KeLowerIrql(old);
}

TEST_F(KeSpinLock, TryToAcquireTakesAFreeLock) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    EXPECT_EQ(KeTryToAcquireSpinLockAtDpcLevel(&lock), TRUE);
    EXPECT_EQ(word(lock), 1u);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseSpinLockFromDpcLevel(&lock);
    KeLowerIrql(old);
}

TEST_F(KeSpinLock, TryToAcquireFailsAtOnceOnALockHeldByAnotherThread) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    Flag held, done;
    Watchdog dog("TryToAcquireFailsAtOnceOnALockHeldByAnotherThread");
    std::thread holder([&] {
        KIRQL old;
        KeAcquireSpinLock(&lock, &old);
        held.set();
        done.wait();
        KeReleaseSpinLock(&lock, old);
    });
    held.wait();
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    EXPECT_EQ(KeTryToAcquireSpinLockAtDpcLevel(&lock), FALSE);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
    done.set();
    holder.join();
    EXPECT_EQ(word(lock), 0u);
}

TEST_F(KeSpinLock, TestSpinLockSeesFreeAndHeldAndNeverTakes) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    EXPECT_EQ(KeTestSpinLock(&lock), TRUE);
    EXPECT_EQ(word(lock), 0u) << "testing never takes the lock";
    KIRQL old;
    KeAcquireSpinLock(&lock, &old);
    EXPECT_EQ(KeTestSpinLock(&lock), FALSE);
    KeReleaseSpinLock(&lock, old);
    EXPECT_EQ(KeTestSpinLock(&lock), TRUE);
}

TEST_F(KeSpinLock, TestSpinLockSeesALockHeldByAnotherThread) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    Flag held, done;
    Watchdog dog("TestSpinLockSeesALockHeldByAnotherThread");
    std::thread holder([&] {
        KIRQL old;
        KeAcquireSpinLock(&lock, &old);
        held.set();
        done.wait();
        KeReleaseSpinLock(&lock, old);
    });
    held.wait();
    EXPECT_EQ(KeTestSpinLock(&lock), FALSE);
    done.set();
    holder.join();
    EXPECT_EQ(KeTestSpinLock(&lock), TRUE);
}

TEST_F(KeSpinLock, FunctionSpellingsBehaveAsTheMacros) {
    KSPIN_LOCK lock;
    (KeInitializeSpinLock)(&lock);
    KIRQL old;
    (KeAcquireSpinLock)(&lock, &old);
    EXPECT_EQ(old, PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    (KeReleaseSpinLockFromDpcLevel)(&lock);
    EXPECT_EQ((KeTryToAcquireSpinLockAtDpcLevel)(&lock), TRUE);
    (KeReleaseSpinLockFromDpcLevel)(&lock);
    (KeAcquireSpinLockAtDpcLevel)(&lock);
    (KeReleaseSpinLock)(&lock, old);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ((KeAcquireSpinLockRaiseToDpc)(&lock), PASSIVE_LEVEL);
    (KeReleaseSpinLock)(&lock, PASSIVE_LEVEL);
}

TEST_F(KeSpinLock, StallsBusyWaitAtAnyIrqlAndSleepWaitsAtPassive) {
    const auto start = std::chrono::steady_clock::now();
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    KeStallExecutionProcessor(50);
    NdisStallExecution(50);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
    NdisMSleep(1000);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::microseconds(1100));
}
