// In-stack queued spin locks: encoding, IRQL, FIFO order (ndis-contract.md section 3).
#include <cstdint>

#include "test_support.h"

using namespace ndislock_test;

class QueuedSpinLock : public ModelTest {
protected:
    // The test thread owns lock_ on processor 0, and a thread on processor 1 queues behind it with
    // waiter_: once granted it runs while_owned, then releases. release_owner() lets it in.
    template <class F> void queue_a_waiter_behind_the_owner(F while_owned) {
        ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
        ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
        KeInitializeSpinLock(&lock_);
        KeAcquireInStackQueuedSpinLock(&lock_, &owner_);
        waiter_thread_ = std::thread([this, while_owned] {
            NdislockBindCurrentThread(1);
            KeAcquireInStackQueuedSpinLock(&lock_, &waiter_);
            while_owned();
            KeReleaseInStackQueuedSpinLock(&waiter_);
        });
    }
    void release_owner() {
        KeReleaseInStackQueuedSpinLock(&owner_);
        waiter_thread_.join();
    }
    void TearDown() override {
        if (waiter_thread_.joinable()) release_owner(); // an assertion ended the test early
        ModelTest::TearDown();
    }
    std::uintptr_t waiter_lock_field() const {
        return reinterpret_cast<std::uintptr_t>(__atomic_load_n(&waiter_.LockQueue.Lock, __ATOMIC_ACQUIRE));
    }

    KSPIN_LOCK lock_ = 0;
    KLOCK_QUEUE_HANDLE owner_{};
    KLOCK_QUEUE_HANDLE waiter_{};
    std::thread waiter_thread_;
};

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
    Watchdog dog("AWaiterBecomesTheTailAndIsLinkedBehindTheOwner");
    queue_a_waiter_behind_the_owner([] {});
    ASSERT_TRUE(eventually([&] { return word(lock_) == reinterpret_cast<KSPIN_LOCK>(&waiter_.LockQueue); }));
    ASSERT_TRUE(
        eventually([&] { return __atomic_load_n(&owner_.LockQueue.Next, __ATOMIC_ACQUIRE) == &waiter_.LockQueue; }));
    const std::uintptr_t waiting = waiter_lock_field();
    EXPECT_EQ(waiting & ~std::uintptr_t{7}, reinterpret_cast<std::uintptr_t>(&lock_));
    EXPECT_EQ(waiting & LOCK_QUEUE_WAIT, std::uintptr_t{LOCK_QUEUE_WAIT}) << "a waiting entry has the wait bit";
    release_owner();
    EXPECT_EQ(word(lock_), 0u);
}

// A waiter that sleeps (its spin spent behind a long hold) is granted while asleep; its acquire
// still returns with the entry exactly as an owner's reads (lock address | 2): the marks of the
// sleep, ndislock's own bit 4 in entry.Lock, are gone by then.
TEST_F(QueuedSpinLock, AWaiterGrantedInItsSleepReturnsWithTheOwnersExactValue) {
    Watchdog dog("AWaiterGrantedInItsSleepReturnsWithTheOwnersExactValue");
    std::atomic<std::uintptr_t> while_owned{0};
    queue_a_waiter_behind_the_owner([&] { while_owned = waiter_lock_field(); });
    constexpr std::uintptr_t kAsleep = 4;
    ASSERT_TRUE(eventually([&] {
        return word(lock_) == reinterpret_cast<KSPIN_LOCK>(&waiter_.LockQueue) && (waiter_lock_field() & kAsleep) != 0;
    })) << "the waiter sleeps once its spin (microseconds) is spent";
    release_owner();
    EXPECT_EQ(while_owned.load(), owner_value(lock_));
    EXPECT_EQ(word(lock_), 0u);
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
