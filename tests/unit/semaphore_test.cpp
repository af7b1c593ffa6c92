// Kernel semaphores against their documented semantics (ndislock/wdk_dispatcher.h): the count as
// the signal state, KeReleaseSemaphore's previous count, one unit per satisfied wait, releases
// that wake as many waiters as they add, WaitAny/WaitAll over a semaphore and an event, the limit
// (a release past it ends the process with the verifier off, as the exception Windows raises ends
// a driver) and exclusion of at most Limit holders at once.
// Every thread test is bounded by a Watchdog; nothing asserts how long anything took.
#include <atomic>
#include <thread>
#include <vector>

#include "ndislock/wdk.h"
#include "test_support.h"

using ndislock_test::eventually;
using ndislock_test::ModelTest;
using ndislock_test::Watchdog;

namespace {

NTSTATUS poll(PVOID object) {
    LARGE_INTEGER z;
    z.QuadPart = 0;
    return KeWaitForSingleObject(object, Executive, KernelMode, FALSE, &z);
}

using Semaphores = ModelTest;

TEST_F(Semaphores, TheCountIsTheSignalStateAndEachSatisfiedWaitTakesOne) {
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 2, 3);
    EXPECT_EQ(s.Header.Type, SemaphoreObject);
    EXPECT_EQ(s.Limit, 3);
    EXPECT_EQ(KeReadStateSemaphore(&s), 2);
    EXPECT_EQ(poll(&s), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateSemaphore(&s), 1);
    EXPECT_EQ(poll(&s), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateSemaphore(&s), 0);
    EXPECT_EQ(poll(&s), STATUS_TIMEOUT); // not signalled: nothing taken
    EXPECT_EQ(KeReadStateSemaphore(&s), 0);
    EXPECT_EQ(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 3, FALSE), 0); // previous count 0: was not signalled
    EXPECT_EQ(KeReadStateSemaphore(&s), 3);
    EXPECT_EQ(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 0, FALSE), 3); // nothing added, at the limit
    EXPECT_EQ(KeReadStateSemaphore(&s), 3);
}

TEST_F(Semaphores, AReleaseWakesAsManyWaitersAsItAdds) {
    Watchdog dog("semaphore, 3 waiters", std::chrono::seconds(30));
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 0, 10);
    std::atomic<int> woken{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < 3; ++i)
        waiters.emplace_back([&] {
            EXPECT_EQ(KeWaitForSingleObject(&s, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
            woken.fetch_add(1);
        });
    KeReleaseSemaphore(&s, IO_NO_INCREMENT, 2, FALSE);
    ASSERT_TRUE(eventually([&] { return woken.load() == 2; }));
    // The third stays asleep until one more unit comes (the count is 0 again).
    EXPECT_TRUE(eventually([&] { return KeReadStateSemaphore(&s) == 0; }));
    EXPECT_EQ(woken.load(), 2);
    KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE);
    for (auto &t : waiters)
        t.join();
    EXPECT_EQ(woken.load(), 3);
    EXPECT_EQ(KeReadStateSemaphore(&s), 0);
}

TEST_F(Semaphores, WaitAnyAndWaitAllTakeAUnitOnlyWhenSatisfied) {
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 1, 1);
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    PVOID both[2] = {&e, &s};
    LARGE_INTEGER z;
    z.QuadPart = 0;
    // WaitAll with the event not set: not satisfied, the semaphore keeps its unit.
    EXPECT_EQ(KeWaitForMultipleObjects(2, both, WaitAll, Executive, KernelMode, FALSE, &z, nullptr), STATUS_TIMEOUT);
    EXPECT_EQ(KeReadStateSemaphore(&s), 1);
    // WaitAny: the semaphore (index 1) satisfies it and gives its unit.
    EXPECT_EQ(KeWaitForMultipleObjects(2, both, WaitAny, Executive, KernelMode, FALSE, &z, nullptr), STATUS_WAIT_0 + 1);
    EXPECT_EQ(KeReadStateSemaphore(&s), 0);
    KeSetEvent(&e, IO_NO_INCREMENT, FALSE);
    KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE);
    EXPECT_EQ(KeWaitForMultipleObjects(2, both, WaitAll, Executive, KernelMode, FALSE, &z, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateSemaphore(&s), 0);
    EXPECT_EQ(KeReadStateEvent(&e), 1); // a notification event stays signalled
}

// Signalled only while the count is above 0: a count made negative (misuse, reported with the
// verifier on) satisfies no wait, and WaitAll naming one semaphore twice needs two of its count.
using SemaphoresBadCount = ModelTest; // not in the clean corpus: the negative count is misuse

TEST_F(SemaphoresBadCount, OnlyACountAboveZeroSatisfiesAWait) {
    KSEMAPHORE negative;
    KeInitializeSemaphore(&negative, -1, 1);
    EXPECT_EQ(poll(&negative), STATUS_TIMEOUT);
    EXPECT_EQ(KeReadStateSemaphore(&negative), -1);
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 1, 2);
    PVOID twice[2] = {&s, &s};
    LARGE_INTEGER z;
    z.QuadPart = 0;
    EXPECT_EQ(KeWaitForMultipleObjects(2, twice, WaitAll, Executive, KernelMode, FALSE, &z, nullptr), STATUS_TIMEOUT);
    EXPECT_EQ(KeReadStateSemaphore(&s), 1);
    KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE);
    EXPECT_EQ(KeWaitForMultipleObjects(2, twice, WaitAll, Executive, KernelMode, FALSE, &z, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateSemaphore(&s), 0);
}

TEST_F(Semaphores, AtMostLimitThreadsHoldAUnitAtOnce) {
    Watchdog dog("semaphore exclusion, 4 threads on 2 units", std::chrono::seconds(60));
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 2, 2);
    std::atomic<int> inside{0}, most{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            for (int n = 0; n < 300; ++n) {
                ASSERT_EQ(KeWaitForSingleObject(&s, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
                const int now = inside.fetch_add(1) + 1;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                std::this_thread::yield();
                inside.fetch_sub(1);
                KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE);
            }
        });
    for (auto &t : threads)
        t.join();
    EXPECT_LE(most.load(), 2);
    EXPECT_GE(most.load(), 1);
    EXPECT_EQ(KeReadStateSemaphore(&s), 2);
}

TEST_F(Semaphores, ItCanBeReleasedFromADpcAtDispatchLevel) {
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 0, 1);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_EQ(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE), 0);
    EXPECT_EQ(poll(&s), STATUS_SUCCESS); // a poll is allowed at DISPATCH_LEVEL
    KeLowerIrql(old);
    EXPECT_EQ(KeReadStateSemaphore(&s), 0);
}

using SemaphoresDeath = ModelTest;

TEST_F(SemaphoresDeath, AReleasePastTheLimitEndsTheProcessWithoutTheVerifier) {
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 1, 1);
    EXPECT_DEATH(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE),
                 "SemaphoreMisuse.*KeReleaseSemaphore.*count at 1 of its limit 1.*STATUS_SEMAPHORE_LIMIT_EXCEEDED");
    EXPECT_EQ(KeReadStateSemaphore(&s), 1); // the child died; here nothing changed
}

} // namespace
