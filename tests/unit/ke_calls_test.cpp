// The Ke calls of issue #25 part 6, against their documented semantics: the threaded-DPC lock forms
// (ForDpc), the RaiseToSynch forms, KeQueryActiveProcessors, the thread-affinity calls mapped onto
// processor binding, the critical and guarded regions with the APC-state queries, and the bug
// checks. Suite KeCalls runs with the verifier off and again on (a clean corpus); KeCallsMisuse
// holds the death tests. Also the thread identity calls (KeGetCurrentThread, PsGetCurrentThread*).
#include <unistd.h>

#include <cstdint>
#include <thread>

#include "ndislock/wdk.h"
#include "test_support.h"

using namespace ndislock_test;

namespace {

class KeCalls : public ModelTest {};

// ---- ForDpc -------------------------------------------------------------------------------------

TEST_F(KeCalls, ForDpcRaisesFromPassiveAndRestoresOnRelease) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    const KIRQL old = KeAcquireSpinLockForDpc(&lock);
    EXPECT_EQ(old, PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(KeTestSpinLock(&lock), FALSE);
    EXPECT_NE(lock, 0u);
    KeReleaseSpinLockForDpc(&lock, old);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(lock, 0u);
    EXPECT_EQ(KeTestSpinLock(&lock), TRUE);
}

TEST_F(KeCalls, ForDpcAtDispatchLeavesTheIrqlAsItIs) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL entry = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &entry);
    const KIRQL old = KeAcquireSpinLockForDpc(&lock);
    EXPECT_EQ(old, DISPATCH_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseSpinLockForDpc(&lock, old);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(lock, 0u);
    KeLowerIrql(entry);
}

TEST_F(KeCalls, QueuedForDpcFromApcLevelKeepsTheOldIrqlInTheHandle) {
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL entry = 0;
    KeRaiseIrql(APC_LEVEL, &entry);
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLockForDpc(&lock, &h);
    EXPECT_EQ(h.OldIrql, APC_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(lock, reinterpret_cast<KSPIN_LOCK>(&h.LockQueue)); // the queue's tail: this handle
    EXPECT_EQ(KeTestSpinLock(&lock), FALSE);
    KeReleaseInStackQueuedSpinLockForDpc(&h);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    EXPECT_EQ(lock, 0u);
    KeLowerIrql(entry);
}

// Two threads per form, each form on its own lock (queued and ordinary acquires never mix).
TEST_F(KeCalls, ForDpcLocksExcludeEachOtherAcrossThreads) {
    KSPIN_LOCK plain, queued;
    KeInitializeSpinLock(&plain);
    KeInitializeSpinLock(&queued);
    long plain_count = 0, queued_count = 0;
    run_threads(
        4,
        [&](int i) {
            for (int n = 0; n < 20000; ++n) {
                if (i % 2 == 0) {
                    const KIRQL old = KeAcquireSpinLockForDpc(&plain);
                    ++plain_count;
                    KeReleaseSpinLockForDpc(&plain, old);
                } else {
                    KLOCK_QUEUE_HANDLE h;
                    KeAcquireInStackQueuedSpinLockForDpc(&queued, &h);
                    ++queued_count;
                    KeReleaseInStackQueuedSpinLockForDpc(&h);
                }
            }
        },
        "ForDpc threads");
    EXPECT_EQ(plain_count, 2 * 20000);
    EXPECT_EQ(queued_count, 2 * 20000);
}

// ---- RaiseToSynch -------------------------------------------------------------------------------

TEST_F(KeCalls, RaiseToSynchHoldsTheLockAtSynchLevel) {
    EXPECT_EQ(SYNCH_LEVEL, 12);
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    const KIRQL old = KeAcquireSpinLockRaiseToSynch(&lock);
    EXPECT_EQ(old, PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), SYNCH_LEVEL);
    EXPECT_EQ(KeTestSpinLock(&lock), FALSE);
    KeReleaseSpinLock(&lock, old);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(lock, 0u);

    KSPIN_LOCK queued; // queued and ordinary acquires never mix on one lock
    KeInitializeSpinLock(&queued);
    KIRQL entry = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &entry);
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLockRaiseToSynch(&queued, &h);
    EXPECT_EQ(h.OldIrql, DISPATCH_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), SYNCH_LEVEL);
    EXPECT_EQ(queued, reinterpret_cast<KSPIN_LOCK>(&h.LockQueue));
    KeReleaseInStackQueuedSpinLock(&h);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(queued, 0u);
    KeLowerIrql(entry);
}

// ---- Processors and affinity --------------------------------------------------------------------

TEST_F(KeCalls, QueryActiveProcessorsIsTheMaskOfTheVirtualProcessors) {
    ASSERT_EQ(NdislockSetProcessorCount(5), NDISLOCK_OK);
    EXPECT_EQ(KeQueryActiveProcessors(), KAFFINITY{0x1F});
    KAFFINITY mask = 0;
    KeQueryActiveProcessorCount(&mask);
    EXPECT_EQ(KeQueryActiveProcessors(), mask);
}

TEST_F(KeCalls, SystemAffinityMovesTheThreadAndRevertRestoresItsBinding) {
    ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
    EXPECT_EQ(KeSetSystemAffinityThreadEx(KAFFINITY{1} << 3), KAFFINITY{0}) << "no system affinity before";
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 3u);
    // A mask with the current processor keeps it; nested sets return the previous system affinity.
    EXPECT_EQ(KeSetSystemAffinityThreadEx(0b1100), KAFFINITY{0b1000});
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 3u);
    EXPECT_EQ(KeSetSystemAffinityThreadEx(0b0101), KAFFINITY{0b1100});
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 0u) << "the lowest processor of the mask";
    KeRevertToUserAffinityThreadEx(0b1100); // back to the previous system affinity
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 2u);
    KeRevertToUserAffinityThreadEx(0); // back to the thread's own binding
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 1u);
    KeRevertToUserAffinityThreadEx(0b0100); // no set before it: no effect
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 1u);
}

TEST_F(KeCalls, AnInvalidAffinityChangesNothing) {
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
    EXPECT_EQ(KeSetSystemAffinityThreadEx(0), KAFFINITY{0});
    EXPECT_EQ(KeSetSystemAffinityThreadEx(0b100), KAFFINITY{0}) << "processor 2 does not exist";
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 1u);
    GROUP_AFFINITY other_group{0b1, 1, {0, 0, 0}};
    GROUP_AFFINITY previous{~KAFFINITY{0}, 7, {0, 0, 0}};
    KeSetSystemGroupAffinityThread(&other_group, &previous);
    EXPECT_EQ(previous.Mask, KAFFINITY{0});
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 1u);
}

TEST_F(KeCalls, GroupAffinityRoundTrips) {
    ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
    GROUP_AFFINITY first{0b0100, 0, {0, 0, 0}}, second{0b1000, 0, {0, 0, 0}};
    GROUP_AFFINITY user{}, inner{};
    KeSetSystemGroupAffinityThread(&first, &user);
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 2u);
    KeSetSystemGroupAffinityThread(&second, &inner);
    EXPECT_EQ(inner.Mask, KAFFINITY{0b0100});
    EXPECT_EQ(inner.Group, 0);
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 3u);
    KeRevertToUserGroupAffinityThread(&inner);
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 2u);
    KeRevertToUserGroupAffinityThread(&user);
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 0u);
}

// At DISPATCH_LEVEL the move waits for the drop, as documented.
TEST_F(KeCalls, AtDispatchTheMoveIsDeferredToTheDrop) {
    ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_EQ(KeSetSystemAffinityThreadEx(0b1000), KAFFINITY{0});
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 1u) << "moved while at DISPATCH_LEVEL";
    KeLowerIrql(old);
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 3u);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 3u); // raised on the new processor
    KeRevertToUserAffinityThreadEx(0);
    KeLowerIrql(old);
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 1u);
}

// The system affinity is the thread's own: another thread is not moved.
TEST_F(KeCalls, AffinityIsPerThread) {
    ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(2), NDISLOCK_OK);
    std::thread other([] {
        ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
        EXPECT_EQ(KeSetSystemAffinityThreadEx(0b0010), KAFFINITY{0});
        EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 1u);
        KeRevertToUserAffinityThreadEx(0);
        EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 0u);
    });
    other.join();
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 2u);
    EXPECT_EQ(KeSetSystemAffinityThreadEx(0b0001), KAFFINITY{0}) << "the other thread's affinity is not ours";
    KeRevertToUserAffinityThreadEx(0);
}

// ---- APC state ----------------------------------------------------------------------------------

TEST_F(KeCalls, CriticalRegionsDisableNormalApcsAndNest) {
    EXPECT_EQ(KeAreApcsDisabled(), FALSE);
    EXPECT_EQ(KeAreAllApcsDisabled(), FALSE);
    KeEnterCriticalRegion();
    KeEnterCriticalRegion();
    EXPECT_EQ(KeAreApcsDisabled(), TRUE);
    EXPECT_EQ(KeAreAllApcsDisabled(), FALSE) << "a critical region leaves special kernel APCs on";
    KeLeaveCriticalRegion();
    EXPECT_EQ(KeAreApcsDisabled(), TRUE) << "still one region deep";
    KeLeaveCriticalRegion();
    EXPECT_EQ(KeAreApcsDisabled(), FALSE);
}

TEST_F(KeCalls, GuardedRegionsDisableAllApcs) {
    KeEnterGuardedRegion();
    EXPECT_EQ(KeAreApcsDisabled(), TRUE);
    EXPECT_EQ(KeAreAllApcsDisabled(), TRUE);
    KeLeaveGuardedRegion();
    EXPECT_EQ(KeAreApcsDisabled(), FALSE);
    EXPECT_EQ(KeAreAllApcsDisabled(), FALSE);
}

TEST_F(KeCalls, ApcLevelAndAboveDisableAllApcsButNoRegionIsEntered) {
    KIRQL old = 0;
    KeRaiseIrql(APC_LEVEL, &old);
    EXPECT_EQ(KeAreAllApcsDisabled(), TRUE);
    EXPECT_EQ(KeAreApcsDisabled(), FALSE) << "documented: critical or guarded region only";
    KeLowerIrql(old);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_EQ(KeAreAllApcsDisabled(), TRUE);
    KeLowerIrql(old);
    EXPECT_EQ(KeAreAllApcsDisabled(), FALSE);
}

TEST_F(KeCalls, RegionsArePerThread) {
    KeEnterCriticalRegion();
    std::thread other([] { EXPECT_EQ(KeAreApcsDisabled(), FALSE); });
    other.join();
    KeLeaveCriticalRegion();
}

// ---- Misuse -------------------------------------------------------------------------------------

// The thread's identity: one object per thread, for its life, and the one a KMUTEX it owns names.
TEST_F(KeCalls, KeGetCurrentThreadIsPerThreadStableAndTheMutexOwner) {
    const PKTHREAD self = KeGetCurrentThread();
    ASSERT_NE(self, nullptr);
    EXPECT_EQ(KeGetCurrentThread(), self);
    EXPECT_EQ(reinterpret_cast<void *>(PsGetCurrentThread()), reinterpret_cast<void *>(self));
    EXPECT_EQ(PsGetCurrentThreadId(), reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(gettid())));
    EXPECT_EQ(PsGetCurrentProcessId(), reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(getpid())));
    PKTHREAD other = nullptr;
    HANDLE other_id = nullptr;
    std::thread([&] {
        other = KeGetCurrentThread();
        other_id = PsGetCurrentThreadId();
    }).join();
    EXPECT_NE(other, self);
    EXPECT_NE(other_id, PsGetCurrentThreadId());
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    ASSERT_EQ(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(m.OwnerThread, self);
    KeReleaseMutex(&m, FALSE);
    EXPECT_EQ(m.OwnerThread, nullptr);
}

TEST(KeCallsMisuse, LeavingACriticalRegionNotEnteredIsABugCheck) {
    EXPECT_DEATH(KeLeaveCriticalRegion(), "BugCheck(.|\n)*KeLeaveCriticalRegion without a matching "
                                          "KeEnterCriticalRegion(.|\n)*APC_INDEX_MISMATCH");
}

TEST(KeCallsMisuse, LeavingAGuardedRegionNotEnteredIsABugCheck) {
    EXPECT_DEATH(
        {
            KeEnterCriticalRegion(); // the other kind does not balance it
            KeLeaveGuardedRegion();
        },
        "BugCheck(.|\n)*KeLeaveGuardedRegion without a matching KeEnterGuardedRegion");
}

TEST(KeCallsMisuse, KeBugCheckExReportsTheCodeAndItsParametersAndEnds) {
    EXPECT_DEATH(KeBugCheckEx(0xDEADBEEF, 1, 0x22, 0x333, 0x4444),
                 "BugCheck(.|\n)*bug check 0xDEADBEEF \\(0x1, 0x22, 0x333, 0x4444\\)");
}

TEST(KeCallsMisuse, KeBugCheckEndsWithZeroParameters) {
    EXPECT_DEATH(KeBugCheck(0x000000E2), "BugCheck(.|\n)*bug check 0x000000E2 \\(0x0, 0x0, 0x0, 0x0\\)");
}

TEST(KeCallsMisuse, AGroupAffinityPointerMustNotBeNull) {
    EXPECT_DEATH(KeSetSystemGroupAffinityThread(nullptr, nullptr), "KeSetSystemGroupAffinityThread: Affinity is NULL");
}

} // namespace
