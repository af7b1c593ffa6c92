// Fast mutexes and executive resources against their documented semantics
// (ndislock/wdk_dispatcher.h): the fast mutex's APC_LEVEL and the IRQL it gives back, its try
// form, exclusion under contention; the resource's shared and exclusive access, recursion, the
// Wait FALSE answers, exclusive waiters keeping new readers (but not recursive ones) out, and the
// ExIsResourceAcquired queries. Every thread test is bounded by a Watchdog.
#include <atomic>
#include <thread>

#include "ndislock/wdk.h"
#include "test_support.h"

using ndislock_test::eventually;
using ndislock_test::ModelTest;
using ndislock_test::Watchdog;

namespace {

using ExecutiveLocks = ModelTest;

TEST_F(ExecutiveLocks, AFastMutexRaisesToApcLevelAndReleasingGivesTheIrqlBack) {
    FAST_MUTEX m;
    ExInitializeFastMutex(&m);
    EXPECT_EQ(m.Count, FM_LOCK_BIT);
    ExAcquireFastMutex(&m);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    EXPECT_EQ(m.Count, 0);
    ExReleaseFastMutex(&m);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    // From APC_LEVEL it stays there and gives APC_LEVEL back.
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    ExAcquireFastMutex(&m);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    ExReleaseFastMutex(&m);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(old);
}

TEST_F(ExecutiveLocks, TryToAcquireFailsAtOnceOnAnOwnedFastMutexAndLeavesTheIrql) {
    Watchdog dog("fast mutex try", std::chrono::seconds(30));
    FAST_MUTEX m;
    ExInitializeFastMutex(&m);
    ASSERT_TRUE(ExTryToAcquireFastMutex(&m));
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    std::atomic<int> other{-1};
    std::atomic<KIRQL> other_irql{99};
    std::thread t([&] {
        other.store(ExTryToAcquireFastMutex(&m) ? 1 : 0);
        other_irql.store(KeGetCurrentIrql());
    });
    t.join();
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(other_irql.load(), PASSIVE_LEVEL);
    ExReleaseFastMutex(&m);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(ExecutiveLocks, FastMutexesExcludeEachOtherUnderContention) {
    FAST_MUTEX m;
    ExInitializeFastMutex(&m);
    long counter = 0; // guarded by m only
    ndislock_test::run_threads(
        4,
        [&](int) {
            for (int i = 0; i < 1000; ++i) {
                ExAcquireFastMutex(&m);
                ++counter;
                ExReleaseFastMutex(&m);
            }
            EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        },
        "fast mutex counter", std::chrono::seconds(60));
    EXPECT_EQ(counter, 4000);
}

// A guarded mutex enters a guarded region (all APCs off) instead of raising the IRQL; its try
// fails at once on an owned one and leaves no region behind; they exclude each other as fast
// mutexes do.
TEST_F(ExecutiveLocks, AGuardedMutexEntersAGuardedRegionAndLeavesTheIrql) {
    Watchdog dog("guarded mutex", std::chrono::seconds(30));
    KGUARDED_MUTEX m;
    KeInitializeGuardedMutex(&m);
    KeAcquireGuardedMutex(&m);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_TRUE(KeAreAllApcsDisabled());
    std::atomic<int> other{-1};
    std::atomic<bool> other_in_region{true};
    std::thread t([&] {
        other.store(KeTryToAcquireGuardedMutex(&m) ? 1 : 0);
        other_in_region.store(KeAreAllApcsDisabled() != FALSE);
    });
    t.join();
    EXPECT_EQ(other.load(), 0);
    EXPECT_FALSE(other_in_region.load());
    KeReleaseGuardedMutex(&m);
    EXPECT_FALSE(KeAreAllApcsDisabled());
    long counter = 0; // guarded by m only
    ndislock_test::run_threads(
        4,
        [&](int) {
            for (int i = 0; i < 1000; ++i) {
                KeAcquireGuardedMutex(&m);
                ++counter;
                KeReleaseGuardedMutex(&m);
            }
            EXPECT_FALSE(KeAreAllApcsDisabled());
        },
        "guarded mutex counter", std::chrono::seconds(60));
    EXPECT_EQ(counter, 4000);
}

// The Unsafe forms take the mutex alone: the caller turned APCs off itself (a critical region, a
// guarded region), and the IRQL stays where it was.
TEST_F(ExecutiveLocks, TheUnsafeFormsLeaveTheIrqlAndTheRegionsToTheCaller) {
    Watchdog dog("unsafe fast and guarded mutex", std::chrono::seconds(30));
    FAST_MUTEX fast;
    ExInitializeFastMutex(&fast);
    KeEnterCriticalRegion();
    ExAcquireFastMutexUnsafe(&fast);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    std::atomic<int> other{-1};
    std::thread([&] { other.store(ExTryToAcquireFastMutex(&fast) ? 1 : 0); }).join();
    EXPECT_EQ(other.load(), 0);
    ExReleaseFastMutexUnsafe(&fast);
    KeLeaveCriticalRegion();
    EXPECT_TRUE(ExTryToAcquireFastMutex(&fast));
    ExReleaseFastMutex(&fast);

    KGUARDED_MUTEX guarded;
    KeInitializeGuardedMutex(&guarded);
    KeEnterGuardedRegion();
    KeAcquireGuardedMutexUnsafe(&guarded);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KeReleaseGuardedMutexUnsafe(&guarded);
    EXPECT_TRUE(KeAreAllApcsDisabled()); // the caller's region, not the mutex's
    KeLeaveGuardedRegion();
    EXPECT_FALSE(KeAreAllApcsDisabled());
}

// KeWaitForMutexObject is the WDK's other name for KeWaitForSingleObject.
TEST_F(ExecutiveLocks, KeWaitForMutexObjectTakesAKernelMutex) {
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    EXPECT_EQ(KeWaitForMutexObject(&m, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateMutex(&m), 0);
    KeReleaseMutex(&m, FALSE);
    EXPECT_EQ(KeReadStateMutex(&m), 1);
}

TEST_F(ExecutiveLocks, AResourceIsSharedByReadersAndExclusiveForOneWriter) {
    Watchdog dog("resource readers and writer", std::chrono::seconds(30));
    ERESOURCE r;
    ASSERT_EQ(ExInitializeResourceLite(&r), STATUS_SUCCESS);
    KeEnterCriticalRegion();
    ASSERT_TRUE(ExAcquireResourceSharedLite(&r, TRUE));
    EXPECT_EQ(ExIsResourceAcquiredSharedLite(&r), 1u);
    EXPECT_FALSE(ExIsResourceAcquiredExclusiveLite(&r));
    std::atomic<int> reader{-1}, writer{-1};
    std::thread t([&] {
        KeEnterCriticalRegion();
        reader.store(ExAcquireResourceSharedLite(&r, FALSE) ? 1 : 0); // shared with shared: at once
        if (reader.load() == 1) ExReleaseResourceLite(&r);
        writer.store(ExAcquireResourceExclusiveLite(&r, FALSE) ? 1 : 0); // exclusive with a reader in: no
        KeLeaveCriticalRegion();
    });
    t.join();
    EXPECT_EQ(reader.load(), 1);
    EXPECT_EQ(writer.load(), 0);
    ExReleaseResourceLite(&r);
    ASSERT_TRUE(ExAcquireResourceExclusiveLite(&r, FALSE));
    EXPECT_TRUE(ExIsResourceAcquiredExclusiveLite(&r));
    EXPECT_TRUE(ExAcquireResourceExclusiveLite(&r, TRUE)); // recursive
    EXPECT_TRUE(ExAcquireResourceSharedLite(&r, TRUE));    // the exclusive owner may read too
    EXPECT_EQ(r.ActiveCount, 3);
    std::thread u([&] {
        KeEnterCriticalRegion();
        reader.store(ExAcquireResourceSharedLite(&r, FALSE) ? 1 : 0);
        KeLeaveCriticalRegion();
    });
    u.join();
    EXPECT_EQ(reader.load(), 0);
    ExReleaseResourceLite(&r);
    ExReleaseResourceLite(&r);
    ExReleaseResourceLite(&r);
    EXPECT_EQ(r.ActiveCount, 0);
    EXPECT_FALSE(ExIsResourceAcquiredExclusiveLite(&r));
    KeLeaveCriticalRegion();
    EXPECT_EQ(ExDeleteResourceLite(&r), STATUS_SUCCESS);
}

TEST_F(ExecutiveLocks, AnExclusiveWaiterKeepsNewReadersOutButNotRecursiveOnes) {
    Watchdog dog("resource writer priority", std::chrono::seconds(30));
    ERESOURCE r;
    ExInitializeResourceLite(&r);
    KeEnterCriticalRegion();
    ASSERT_TRUE(ExAcquireResourceSharedLite(&r, TRUE));
    std::atomic<bool> writer_in{false};
    std::thread writer([&] {
        KeEnterCriticalRegion();
        EXPECT_TRUE(ExAcquireResourceExclusiveLite(&r, TRUE));
        writer_in.store(true);
        ExReleaseResourceLite(&r);
        KeLeaveCriticalRegion();
    });
    ASSERT_TRUE(eventually([&] { return std::atomic_ref<ULONG>(r.NumberOfExclusiveWaiters).load() == 1; }));
    std::atomic<int> new_reader{-1};
    std::thread late([&] {
        KeEnterCriticalRegion();
        new_reader.store(ExAcquireResourceSharedLite(&r, FALSE) ? 1 : 0);
        KeLeaveCriticalRegion();
    });
    late.join();
    EXPECT_EQ(new_reader.load(), 0);                     // behind the waiting writer
    EXPECT_TRUE(ExAcquireResourceSharedLite(&r, FALSE)); // a reader already in gets it again
    EXPECT_EQ(ExIsResourceAcquiredSharedLite(&r), 2u);
    EXPECT_FALSE(writer_in.load());
    ExReleaseResourceLite(&r);
    ExReleaseResourceLite(&r);
    writer.join();
    EXPECT_TRUE(writer_in.load());
    KeLeaveCriticalRegion();
}

TEST_F(ExecutiveLocks, ResourcesExcludeWritersUnderContention) {
    ERESOURCE r;
    ExInitializeResourceLite(&r);
    long counter = 0; // written under exclusive access, read under shared
    ndislock_test::run_threads(
        4,
        [&](int id) {
            KeEnterCriticalRegion();
            for (int i = 0; i < 500; ++i) {
                if (id % 2 == 0) {
                    ExAcquireResourceExclusiveLite(&r, TRUE);
                    ++counter;
                } else {
                    ExAcquireResourceSharedLite(&r, TRUE);
                    EXPECT_GE(counter, 0);
                }
                ExReleaseResourceLite(&r);
            }
            KeLeaveCriticalRegion();
        },
        "resource counter", std::chrono::seconds(60));
    EXPECT_EQ(counter, 1000);
}

} // namespace
