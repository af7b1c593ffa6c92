// In-stack queued spin locks: encoding, IRQL, FIFO order (ndis-contract.md section 3).
#include <cstdint>

#include "test_support.h"

using namespace ndislock_test;

class QueuedSpinLock : public ModelTest {};

static KSPIN_LOCK owner_value(const KSPIN_LOCK &lock) {
    return reinterpret_cast<std::uintptr_t>(&lock) | LOCK_QUEUE_OWNER;
}

TEST_F(QueuedSpinLock, AcquireRaisesAndMakesTheHandleTheOwningTail) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KLOCK_QUEUE_HANDLE handle;
    KeAcquireInStackQueuedSpinLock(&lock, &handle);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(handle.OldIrql, PASSIVE_LEVEL);
    EXPECT_EQ(word(lock), reinterpret_cast<KSPIN_LOCK>(&handle.LockQueue)) << "the word holds the tail entry";
    EXPECT_EQ(reinterpret_cast<KSPIN_LOCK>(handle.LockQueue.Lock), owner_value(lock)) << "lock address | 2";
    EXPECT_EQ(handle.LockQueue.Next, nullptr);
    EXPECT_EQ(KeTestSpinLock(&lock), FALSE);
    KeReleaseInStackQueuedSpinLock(&handle);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(word(lock), 0u);
}

TEST_F(QueuedSpinLock, AtDpcLevelFormsDoNotChangeTheIrql) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    KLOCK_QUEUE_HANDLE handle;
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&lock, &handle);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(lock), reinterpret_cast<KSPIN_LOCK>(&handle.LockQueue));
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&handle);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(lock), 0u);
    KeLowerIrql(old);
}

TEST_F(QueuedSpinLock, AWaiterBecomesTheTailAndIsLinkedBehindTheOwner) {
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KLOCK_QUEUE_HANDLE owner;
    KLOCK_QUEUE_HANDLE waiter_handle;
    KeAcquireInStackQueuedSpinLock(&lock, &owner);
    Watchdog dog("AWaiterBecomesTheTailAndIsLinkedBehindTheOwner");
    std::thread waiter([&] {
        NdislockBindCurrentThread(1);
        KeAcquireInStackQueuedSpinLock(&lock, &waiter_handle);
        KeReleaseInStackQueuedSpinLock(&waiter_handle);
    });
    ASSERT_TRUE(eventually([&] { return word(lock) == reinterpret_cast<KSPIN_LOCK>(&waiter_handle.LockQueue); }));
    ASSERT_TRUE(eventually(
        [&] { return __atomic_load_n(&owner.LockQueue.Next, __ATOMIC_ACQUIRE) == &waiter_handle.LockQueue; }));
    const auto waiting =
        reinterpret_cast<std::uintptr_t>(__atomic_load_n(&waiter_handle.LockQueue.Lock, __ATOMIC_ACQUIRE));
    EXPECT_EQ(waiting & ~std::uintptr_t{7}, reinterpret_cast<std::uintptr_t>(&lock));
    EXPECT_EQ(waiting & LOCK_QUEUE_WAIT, std::uintptr_t{LOCK_QUEUE_WAIT}) << "a waiting entry has the wait bit";
    KeReleaseInStackQueuedSpinLock(&owner);
    waiter.join();
    EXPECT_EQ(word(lock), 0u);
}

// A waiter that sleeps (its spin spent behind a long hold) is granted while asleep; its acquire
// still returns with the entry exactly as an owner's reads (lock address | 2): the marks of the
// sleep, ndislock's own bit 4 in entry.Lock, are gone by then.
TEST_F(QueuedSpinLock, AWaiterGrantedInItsSleepReturnsWithTheOwnersExactValue) {
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KLOCK_QUEUE_HANDLE owner;
    KLOCK_QUEUE_HANDLE waiter_handle;
    std::atomic<std::uintptr_t> while_owned{0};
    KeAcquireInStackQueuedSpinLock(&lock, &owner);
    Watchdog dog("AWaiterGrantedInItsSleepReturnsWithTheOwnersExactValue");
    std::thread waiter([&] {
        NdislockBindCurrentThread(1);
        KeAcquireInStackQueuedSpinLock(&lock, &waiter_handle);
        while_owned =
            reinterpret_cast<std::uintptr_t>(__atomic_load_n(&waiter_handle.LockQueue.Lock, __ATOMIC_RELAXED));
        KeReleaseInStackQueuedSpinLock(&waiter_handle);
    });
    constexpr std::uintptr_t kAsleep = 4;
    ASSERT_TRUE(eventually([&] {
        return word(lock) == reinterpret_cast<KSPIN_LOCK>(&waiter_handle.LockQueue) &&
               (reinterpret_cast<std::uintptr_t>(__atomic_load_n(&waiter_handle.LockQueue.Lock, __ATOMIC_ACQUIRE)) &
                kAsleep) != 0;
    })) << "the waiter sleeps once its spin (microseconds) is spent";
    KeReleaseInStackQueuedSpinLock(&owner);
    waiter.join();
    EXPECT_EQ(while_owned.load(), owner_value(lock));
    EXPECT_EQ(word(lock), 0u);
}

TEST_F(QueuedSpinLock, WaitersAreGrantedInArrivalOrder) {
    constexpr int kWaiters = 6;
    ASSERT_EQ(NdislockSetProcessorCount(kWaiters + 1), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KLOCK_QUEUE_HANDLE owner;
    KeAcquireInStackQueuedSpinLock(&lock, &owner);
    KLOCK_QUEUE_HANDLE handles[kWaiters];
    int order[kWaiters];
    std::atomic<int> next_slot{0};
    std::vector<std::thread> waiters;
    Watchdog dog("WaitersAreGrantedInArrivalOrder");
    for (int i = 0; i < kWaiters; ++i) {
        waiters.emplace_back([&, i] {
            NdislockBindCurrentThread(static_cast<ULONG>(i + 1));
            KeAcquireInStackQueuedSpinLock(&lock, &handles[i]);
            order[next_slot.fetch_add(1)] = i;
            KeReleaseInStackQueuedSpinLock(&handles[i]);
        });
        // Let waiter i join the queue before starting the next one.
        ASSERT_TRUE(eventually([&] { return word(lock) == reinterpret_cast<KSPIN_LOCK>(&handles[i].LockQueue); }));
    }
    KeReleaseInStackQueuedSpinLock(&owner);
    for (auto &t : waiters)
        t.join();
    for (int i = 0; i < kWaiters; ++i)
        EXPECT_EQ(order[i], i) << "position " << i;
}

TEST_F(QueuedSpinLock, FunctionSpellingsBehaveAsTheMacros) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KLOCK_QUEUE_HANDLE handle;
    (KeAcquireInStackQueuedSpinLock)(&lock, &handle);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    (KeReleaseInStackQueuedSpinLockFromDpcLevel)(&handle);
    (KeAcquireInStackQueuedSpinLockAtDpcLevel)(&lock, &handle);
    handle.OldIrql = PASSIVE_LEVEL;
    (KeReleaseInStackQueuedSpinLock)(&handle);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

using QueuedSpinLockDeathTest = QueuedSpinLock;

TEST_F(QueuedSpinLockDeathTest, ReleasingAHandleThatOwnsNothingEndsWithADiagnostic) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KLOCK_QUEUE_HANDLE handle;
    KeAcquireInStackQueuedSpinLock(&lock, &handle);
    KeReleaseInStackQueuedSpinLock(&handle);
    EXPECT_DEATH(KeReleaseInStackQueuedSpinLock(&handle), "ReleaseNotHeld.*KLOCK_QUEUE_HANDLE");
}

TEST_F(QueuedSpinLockDeathTest, AQueuedAcquireOfAnOrdinarilyHeldLockEndsWithADiagnostic) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    EXPECT_DEATH(
        {
            KIRQL old;
            KeAcquireSpinLock(&lock, &old);
            KLOCK_QUEUE_HANDLE handle;
            KeAcquireInStackQueuedSpinLockAtDpcLevel(&lock, &handle);
        },
        "QueuedAndPlainMixed");
}
