// The verifier's rules for waits and the executive locks (ndislock/wdk_dispatcher.h), each with
// its rule ID at the offending call's line:
//   BlockingAtDispatch            a KeWaitFor* with a non-zero timeout, KeDelayExecutionThread,
//                                 ExAcquireFastMutex at DISPATCH_LEVEL or with a spin lock held (a
//                                 poll at DISPATCH_LEVEL is allowed)
//   MutexNotOwned                 KeReleaseMutex by a thread that does not own it (owned by
//                                 another, or free); nothing is released
//   ResourceOutsideCriticalRegion ExAcquireResource*Lite at PASSIVE_LEVEL outside a critical
//                                 region (not inside one, not at APC_LEVEL)
//   FastMutexRecursion            terminal (death test)
//   SemaphoreMisuse               KeReleaseSemaphore past the limit or with a negative adjustment
//                                 (the count is left as it was), KeInitializeSemaphore with a count
//                                 outside 0..Limit
//   Deadlock                      two threads in an AB/BA deadlock over two KMUTEXes, and a wait
//                                 for an event nobody sets, end within the watchdog limit (300 ms
//                                 in the child) with a report naming every waiting thread and the
//                                 mutexes' owners; a timed wait longer than the limit is not one
// Every child and thread test is bounded by its own watchdog.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "model/thread_state.h"
#include "ndislock/wdk.h"
#include "ndislock/verifier.h"
#include "../unit/busy_workers.h"
#include "verifier_support.h"
#include "wait_support.h"

using namespace vt;
using ndislock_test::eventually;
using ndislock_test::Watchdog;

namespace {

NDIS_SPIN_LOCK *new_spin_lock() {
    auto *l = static_cast<NDIS_SPIN_LOCK *>(fresh_storage());
    NdisAllocateSpinLock(l);
    return l;
}

// ---- BlockingAtDispatch ------------------------------------------------------------------------

TEST_F(VerifierTest, BlockingAtDispatch_KeWaitForSingleObjectWithATimeoutAtDispatch) {
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, TRUE); // signalled: the wait returns at once
    LARGE_INTEGER ten_ms;
    ten_ms.QuadPart = -100'000;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS status = -1;
    const int line = AT(status = KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &ten_ms));
    KeLowerIrql(old);
    EXPECT_EQ(status, STATUS_SUCCESS);
    const std::vector<Got> got = take();
    expect_exactly(got, "BlockingAtDispatch", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("KeWaitForSingleObject"), std::string::npos) << got[0].message;
    }
}

TEST_F(VerifierTest, BlockingAtDispatch_KeWaitForMultipleObjectsWithoutTimeoutHoldingASpinLock) {
    KEVENT a, b;
    KeInitializeEvent(&a, NotificationEvent, TRUE);
    KeInitializeEvent(&b, NotificationEvent, TRUE);
    PVOID objects[2] = {&a, &b};
    NDIS_SPIN_LOCK *l = new_spin_lock();
    NdisAcquireSpinLock(l);
    const int line = AT(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, nullptr, nullptr));
    NdisReleaseSpinLock(l);
    expect_exactly(take(), "BlockingAtDispatch", __FILE__, line);
}

TEST_F(VerifierTest, BlockingAtDispatch_NotForAPollAtDispatch) {
    KEVENT e;
    KeInitializeEvent(&e, SynchronizationEvent, FALSE);
    LARGE_INTEGER zero;
    zero.QuadPart = 0;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero), STATUS_TIMEOUT);
    KeSetEvent(&e, 0, FALSE); // allowed at DISPATCH_LEVEL
    KeLowerIrql(old);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// The guarded-mutex and Unsafe fast-mutex acquires name the driver's line, as ExAcquireFastMutex
// does: each taken under a spin lock is BlockingAtDispatch at its own call.
TEST_F(VerifierTest, BlockingAtDispatch_GuardedAndUnsafeMutexAcquiresAtTheirLines) {
    KGUARDED_MUTEX guarded;
    KeInitializeGuardedMutex(&guarded);
    FAST_MUTEX fast;
    ExInitializeFastMutex(&fast);
    NDIS_SPIN_LOCK *l = new_spin_lock();
    NdisAcquireSpinLock(l);
    const int guarded_line = AT(KeAcquireGuardedMutex(&guarded));
    KeReleaseGuardedMutex(&guarded);
    const int guarded_unsafe_line = AT(KeAcquireGuardedMutexUnsafe(&guarded));
    KeReleaseGuardedMutexUnsafe(&guarded);
    const int fast_unsafe_line = AT(ExAcquireFastMutexUnsafe(&fast));
    ExReleaseFastMutexUnsafe(&fast);
    NdisReleaseSpinLock(l);
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 3u) << dump(got);
    const int lines[] = {guarded_line, guarded_unsafe_line, fast_unsafe_line};
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(got[i].rule, "BlockingAtDispatch") << dump(got);
        EXPECT_EQ(got[i].line, lines[i]) << dump(got);
        EXPECT_TRUE(ends_with(got[i].file, "waits_rules_test.cpp")) << dump(got);
    }
}

TEST_F(VerifierTest, BlockingAtDispatch_KeDelayExecutionThreadAndExAcquireFastMutexAtDispatch) {
    LARGE_INTEGER one_us;
    one_us.QuadPart = -10;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    const int line = AT(KeDelayExecutionThread(KernelMode, FALSE, &one_us));
    KeLowerIrql(old);
    expect_exactly(take(), "BlockingAtDispatch", __FILE__, line);
    NdislockVerifierResetFindings();
    FAST_MUTEX m;
    ExInitializeFastMutex(&m);
    NDIS_SPIN_LOCK *l = new_spin_lock();
    NdisAcquireSpinLock(l);
    const int acquire_line = AT(ExAcquireFastMutex(&m));
    ExReleaseFastMutex(&m); // back to DISPATCH_LEVEL, where the acquire found the thread
    NdisReleaseSpinLock(l);
    expect_exactly(take(), "BlockingAtDispatch", __FILE__, acquire_line);
}

// ---- MutexNotOwned -------------------------------------------------------------------------------

// Calls documented for IRQL <= DISPATCH_LEVEL made at DIRQL, as an ISR would make them, and
// KeSetEvent with Wait TRUE (APC_LEVEL at most) at DISPATCH_LEVEL: IrqlTooHighForCall at each.
// The same calls at their own limit are silent.
TEST_F(VerifierTest, IrqlTooHighForCall_EventTimerAndWorkItemCallsAboveTheirLevel) {
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    NDIS_EVENT ndis_event;
    NdisInitializeEvent(&ndis_event);
    KTIMER timer;
    KeInitializeTimer(&timer);
    LARGE_INTEGER due;
    due.QuadPart = -10'000'000; // 1 s: cancelled long before
    KIRQL passive = 0, dispatch = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &passive);
    KeSetEvent(&event, IO_NO_INCREMENT, FALSE);
    KeResetEvent(&event);
    NdisSetEvent(&ndis_event);
    NdisResetEvent(&ndis_event);
    KeSetTimer(&timer, due, nullptr);
    KeCancelTimer(&timer);
    ASSERT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    const int wait_true = AT(KeSetEvent(&event, IO_NO_INCREMENT, TRUE));
    KeRaiseIrql(5, &dispatch); // a device IRQL: what an ISR runs at
    const int set = AT(KeSetEvent(&event, IO_NO_INCREMENT, FALSE));
    const int clear = AT(KeClearEvent(&event));
    const int ndis_set = AT(NdisSetEvent(&ndis_event));
    const int timer_set = AT(KeSetTimer(&timer, due, nullptr));
    const int timer_cancel = AT(KeCancelTimer(&timer));
    KeLowerIrql(dispatch);
    KeLowerIrql(passive);
    KeCancelTimer(&timer);
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 6u) << dump(got);
    for (const int line : {wait_true, set, clear, ndis_set, timer_set, timer_cancel}) {
        bool found = false;
        for (const Got &g : got)
            found |= g.rule == "IrqlTooHighForCall" && g.line == line && ends_with(g.file, "waits_rules_test.cpp");
        EXPECT_TRUE(found) << "line " << line << "\n" << dump(got);
    }
}

// PASSIVE_LEVEL-only calls at APC_LEVEL (inside a fast mutex): NdisWaitEvent and NdisMSleep are
// IrqlTooHighForCall there, once each (at DISPATCH_LEVEL they are BlockingAtDispatch alone), and
// NdisInitializeEvent too. At PASSIVE_LEVEL all three are silent.
TEST_F(VerifierTest, IrqlTooHighForCall_PassiveOnlyCallsInsideAFastMutex) {
    NDIS_EVENT event;
    NdisInitializeEvent(&event);
    NdisSetEvent(&event);
    EXPECT_TRUE(NdisWaitEvent(&event, 1));
    NdisMSleep(1);
    ASSERT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    FAST_MUTEX m;
    ExInitializeFastMutex(&m);
    ExAcquireFastMutex(&m); // APC_LEVEL
    const int wait = AT(NdisWaitEvent(&event, 1));
    const int sleep = AT(NdisMSleep(1));
    const int init = AT(NdisInitializeEvent(&event));
    ExReleaseFastMutex(&m);
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 3u) << dump(got);
    for (const int line : {wait, sleep, init}) {
        bool found = false;
        for (const Got &g : got)
            found |= g.rule == "IrqlTooHighForCall" && g.line == line;
        EXPECT_TRUE(found) << "line " << line << "\n" << dump(got);
    }
}

TEST_F(VerifierTest, MutexNotOwned_ReleasedByAnotherThreadThanItsOwner) {
    Watchdog dog("mutex released by a non-owner", std::chrono::seconds(30));
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    std::atomic<int> stage{0};
    std::thread owner([&] {
        EXPECT_EQ(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
        stage.store(1);
        while (stage.load() != 2)
            std::this_thread::yield();
        EXPECT_EQ(KeReleaseMutex(&m, FALSE), 0);
    });
    while (stage.load() != 1)
        std::this_thread::yield();
    const int line = AT(KeReleaseMutex(&m, FALSE));
    EXPECT_EQ(KeReadStateMutex(&m), 0) << "a non-owner's release changes nothing";
    stage.store(2);
    owner.join();
    EXPECT_EQ(KeReadStateMutex(&m), 1);
    const std::vector<Got> got = take();
    expect_exactly(got, "MutexNotOwned", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("its owner is thread"), std::string::npos) << got[0].message;
    }
}

TEST_F(VerifierTest, MutexNotOwned_AFreeMutexReleased) {
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    const int line = AT(KeReleaseMutex(&m, FALSE));
    EXPECT_EQ(KeReadStateMutex(&m), 1);
    expect_exactly(take(), "MutexNotOwned", __FILE__, line);
}

TEST_F(VerifierTest, MutexNotOwned_NotForTheOwnersRecursiveReleases) {
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    NDIS_WAIT_FOR_MUTEX(&m);
    NDIS_WAIT_FOR_MUTEX(&m);
    NDIS_RELEASE_MUTEX(&m);
    NDIS_RELEASE_MUTEX(&m);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// ---- ResourceOutsideCriticalRegion -----------------------------------------------------------------

TEST_F(VerifierTest, ResourceOutsideCriticalRegion_ExclusiveAndShared) {
    ERESOURCE r;
    ExInitializeResourceLite(&r);
    const int line = AT(ExAcquireResourceExclusiveLite(&r, TRUE));
    ExReleaseResourceLite(&r);
    expect_exactly(take(), "ResourceOutsideCriticalRegion", __FILE__, line);
    NdislockVerifierResetFindings();
    const int shared_line = AT(ExAcquireResourceSharedLite(&r, TRUE));
    ExReleaseResourceLite(&r);
    expect_exactly(take(), "ResourceOutsideCriticalRegion", __FILE__, shared_line);
}

TEST_F(VerifierTest, ResourceOutsideCriticalRegion_NotInsideOneNorAtApcLevelNorUnderAMutex) {
    ERESOURCE r;
    ExInitializeResourceLite(&r);
    KeEnterCriticalRegion();
    ExAcquireResourceExclusiveLite(&r, TRUE);
    ExReleaseResourceLite(&r);
    KeLeaveCriticalRegion();
    FAST_MUTEX f;
    ExInitializeFastMutex(&f);
    ExAcquireFastMutex(&f); // APC_LEVEL
    ExAcquireResourceSharedLite(&r, TRUE);
    ExReleaseResourceLite(&r);
    ExReleaseFastMutex(&f);
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, nullptr); // a mutex enters a region
    ExAcquireResourceSharedLite(&r, TRUE);
    ExReleaseResourceLite(&r);
    KeReleaseMutex(&m, FALSE);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    const int line = AT(ExAcquireResourceSharedLite(&r, TRUE)); // the mutex's region ended with it
    ExReleaseResourceLite(&r);
    expect_exactly(take(), "ResourceOutsideCriticalRegion", __FILE__, line);
}

// ---- FastMutexRecursion -----------------------------------------------------------------------------

[[noreturn]] void acquire_fast_mutex_twice(int *line) {
    static FAST_MUTEX m;
    ExInitializeFastMutex(&m);
    ExAcquireFastMutex(&m);
    *line = __LINE__ + 1;
    ExAcquireFastMutex(&m);
    std::fprintf(stderr, "the recursive acquire returned\n");
    std::_Exit(0);
}

TEST_F(VerifierTest, FastMutexRecursion_IsTerminal) {
    int line = 0;
    EXPECT_DEATH(acquire_fast_mutex_twice(&line), "error: FastMutexRecursion \\(terminal\\).*not recursive.*"
                                                  "waits_rules_test\\.cpp");
}

// ---- Work items ---------------------------------------------------------------------------------------

using ndislock_test::BusyWorkers;

void Count(PVOID context, NDIS_HANDLE) { static_cast<std::atomic<int> *>(context)->fetch_add(1); }

TEST_F(VerifierTest, WorkItemMisuse_QueuedWhileStillQueued) {
    Watchdog dog("work item queued twice", std::chrono::seconds(30));
    BusyWorkers busy;
    busy.occupy();
    std::atomic<int> runs{0};
    NDIS_HANDLE item = NdisAllocateIoWorkItem(&busy.adapter);
    NdisQueueIoWorkItem(item, Count, &runs);
    const int line = AT(NdisQueueIoWorkItem(item, Count, &runs));
    busy.let_go();
    ASSERT_TRUE(eventually([&] { return runs.load() == 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(runs.load(), 1) << "queued once";
    const std::vector<Got> got = take();
    expect_exactly(got, "WorkItemMisuse", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("still queued"), std::string::npos) << got[0].message;
    }
}

TEST_F(VerifierTest, WorkItemMisuse_FreedWhileQueuedOrRunning) {
    Watchdog dog("work item freed while busy", std::chrono::seconds(30));
    BusyWorkers busy;
    busy.occupy();
    std::atomic<int> runs{0};
    PIO_WORKITEM item = IoAllocateWorkItem(reinterpret_cast<PDEVICE_OBJECT>(&busy.adapter));
    IoQueueWorkItem(
        item, [](PDEVICE_OBJECT, PVOID c) { static_cast<std::atomic<int> *>(c)->fetch_add(1); }, DelayedWorkQueue,
        &runs);
    const int queued_line = AT(IoFreeWorkItem(item));
    const int running_line = AT(NdisFreeIoWorkItem(busy.items[0])); // its routine waits for `go`
    busy.let_go();
    ASSERT_TRUE(eventually([&] { return runs.load() == 1; })) << "a freed queued item still runs, then is freed";
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 2u) << dump(got);
    EXPECT_EQ(got[0].rule, "WorkItemMisuse");
    EXPECT_EQ(got[0].line, queued_line);
    EXPECT_EQ(got[1].rule, "WorkItemMisuse");
    EXPECT_EQ(got[1].line, running_line);
}

void ReturnsAtDispatch(PVOID, NDIS_HANDLE) {
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
}

TEST_F(VerifierTest, LockHeldAtCallbackReturn_AWorkItemRoutineReturningAtDispatch) {
    Watchdog dog("work item returning raised", std::chrono::seconds(30));
    int adapter = 0;
    NDIS_HANDLE item = NdisAllocateIoWorkItem(&adapter);
    NdisQueueIoWorkItem(item, ReturnsAtDispatch, nullptr);
    ASSERT_TRUE(eventually([&] { return NdislockVerifierFindingCount() == 1; }));
    const std::vector<Got> got = take();
    expect_exactly(got, "LockHeldAtCallbackReturn", __FILE__, 0, false);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("work item routine"), std::string::npos) << got[0].message;
    }
}

// A work item routine that returns inside the critical region it entered (Windows: bug check 0x1
// APC_INDEX_MISMATCH), or owning the kernel mutex it took (the worker keeps it for every later
// item): reported at its return, as the spin-lock and IRQL cases are.
constexpr int kCriticalRegionRoutineLine = __LINE__ + 1;
void ReturnsInACriticalRegion(PVOID, NDIS_HANDLE) { KeEnterCriticalRegion(); }
KMUTEX g_kept_mutex;
void ReturnsOwningAMutex(PVOID, NDIS_HANDLE) {
    KeWaitForSingleObject(&g_kept_mutex, Executive, KernelMode, FALSE, nullptr);
}

[[noreturn]] void queue_a_routine_returning_in_a_critical_region() {
    Watchdog dog("work item returning in a critical region", std::chrono::seconds(20));
    static int adapter = 0;
    NDIS_HANDLE item = NdisAllocateIoWorkItem(&adapter);
    NdisQueueIoWorkItem(item, ReturnsInACriticalRegion, nullptr);
    std::this_thread::sleep_for(std::chrono::seconds(10)); // the bug check ends the process first
    std::fprintf(stderr, "no bug check\n");
    std::_Exit(0);
}

TEST(WorkItemReturns, InsideACriticalRegionIsABugCheckAtTheRoutine) {
    EXPECT_DEATH(queue_a_routine_returning_in_a_critical_region(),
                 "error: BugCheck \\(terminal\\)\n[^\n]*work item routine \\(0x[0-9a-f]+\\) returns inside a critical "
                 "region[^\n]*"
                 "APC_INDEX_MISMATCH.*\n  at [^\n]*waits_rules_test\\.cpp:" +
                     std::to_string(kCriticalRegionRoutineLine));
}

// Owning the kernel mutex it took, the routine is still inside the critical region the acquire
// entered: what it holds is said (LockHeldAtCallbackReturn), then the bug check ends the process.
[[noreturn]] void queue_a_routine_returning_owning_a_mutex() {
    Watchdog dog("work item returning owning a mutex", std::chrono::seconds(20));
    KeInitializeMutex(&g_kept_mutex, 0);
    static int adapter = 0;
    NDIS_HANDLE item = NdisAllocateIoWorkItem(&adapter);
    NdisQueueIoWorkItem(item, ReturnsOwningAMutex, nullptr);
    std::this_thread::sleep_for(std::chrono::seconds(10)); // the bug check ends the process first
    std::fprintf(stderr, "no bug check\n");
    std::_Exit(0);
}

TEST(WorkItemReturns, OwningAKernelMutexIsLockHeldAtCallbackReturnThenABugCheck) {
    EXPECT_DEATH(queue_a_routine_returning_owning_a_mutex(),
                 "error: LockHeldAtCallbackReturn\n[^\n]*returns holding 1 mutex(.|\n)*error: BugCheck "
                 "\\(terminal\\)(.|\n)*APC_INDEX_MISMATCH");
}

TEST_F(VerifierTest, WorkItemMisuse_NotForARoutineFreeingItsOwnItem) {
    Watchdog dog("work item freeing itself", std::chrono::seconds(30));
    int adapter = 0;
    std::atomic<int> done{0};
    NDIS_HANDLE item = NdisAllocateIoWorkItem(&adapter);
    NdisQueueIoWorkItem(
        item,
        [](PVOID c, NDIS_HANDLE self) {
            NdisFreeIoWorkItem(self);
            static_cast<std::atomic<int> *>(c)->store(1);
        },
        &done);
    ASSERT_TRUE(eventually([&] { return done.load() == 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// ---- Fast and guarded mutexes released by a non-owner, tried above their level -------------------

// Another thread's fast or guarded mutex released, or a free one: MutexNotOwned at the release's
// line, and the owner keeps it (its exclusion holds); the releaser's IRQL and region are as they were.
TEST_F(VerifierTest, MutexNotOwned_FastAndGuardedMutexesReleasedByANonOwner) {
    Watchdog dog("fast mutex released by a non-owner", std::chrono::seconds(30));
    FAST_MUTEX fast;
    ExInitializeFastMutex(&fast);
    KGUARDED_MUTEX guarded;
    KeInitializeGuardedMutex(&guarded);
    const int free_line = AT(ExReleaseFastMutex(&fast)); // free: nothing to release
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    std::atomic<int> step{0};
    int fast_line = 0, guarded_line = 0;
    std::thread owner([&] {
        ExAcquireFastMutex(&fast);
        KeAcquireGuardedMutex(&guarded);
        step.store(1);
        while (step.load() != 2)
            std::this_thread::yield();
        KeReleaseGuardedMutex(&guarded);
        ExReleaseFastMutex(&fast);
    });
    ASSERT_TRUE(eventually([&] { return step.load() == 1; }));
    fast_line = AT(ExReleaseFastMutexUnsafe(&fast));
    KeEnterGuardedRegion();
    guarded_line = AT(KeReleaseGuardedMutex(&guarded));
    EXPECT_TRUE(KeAreAllApcsDisabled()); // still in its own guarded region
    KeLeaveGuardedRegion();
    EXPECT_FALSE(ExTryToAcquireFastMutex(&fast)); // still the owner's
    EXPECT_FALSE(KeTryToAcquireGuardedMutex(&guarded));
    step.store(2);
    owner.join();
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 3u) << dump(got);
    const int lines[] = {free_line, fast_line, guarded_line};
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(got[i].rule, "MutexNotOwned") << dump(got);
        EXPECT_EQ(got[i].line, lines[i]) << dump(got);
    }
    EXPECT_NE(got[0].message.find("it is free"), std::string::npos) << got[0].message;
    EXPECT_NE(got[1].message.find("its owner is thread"), std::string::npos) << got[1].message;
}

// The try forms are for IRQL <= APC_LEVEL, as the waiting ones (Driver Verifier's IrqlExApcLte1).
TEST_F(VerifierTest, IrqlTooHighForCall_TryAcquiresOfFastAndGuardedMutexesAtDispatchLevel) {
    FAST_MUTEX fast;
    ExInitializeFastMutex(&fast);
    KGUARDED_MUTEX guarded;
    KeInitializeGuardedMutex(&guarded);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    BOOLEAN took_fast = FALSE, took_guarded = FALSE;
    const int fast_line = AT(took_fast = ExTryToAcquireFastMutex(&fast));
    const int guarded_line = AT(took_guarded = KeTryToAcquireGuardedMutex(&guarded));
    if (took_guarded) KeReleaseGuardedMutex(&guarded);
    if (took_fast) ExReleaseFastMutex(&fast);
    KeLowerIrql(old);
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 2u) << dump(got);
    EXPECT_EQ(got[0].rule, "IrqlTooHighForCall");
    EXPECT_EQ(got[0].line, fast_line);
    EXPECT_EQ(got[1].rule, "IrqlTooHighForCall");
    EXPECT_EQ(got[1].line, guarded_line);
}

// ---- SemaphoreMisuse -----------------------------------------------------------------------------

// A release past the limit or by a negative adjustment leaves the count as it was; a semaphore made
// with a count outside 0..Limit is named at its KeInitializeSemaphore. Each at its own line.
TEST_F(VerifierTest, SemaphoreMisuse_PastTheLimitANegativeAdjustmentAndABadInitialCount) {
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 1, 2);
    EXPECT_EQ(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE), 1); // to the limit: fine
    ASSERT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    const int past = AT(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE));
    EXPECT_EQ(KeReadStateSemaphore(&s), 2);
    const int negative = AT(KeReleaseSemaphore(&s, IO_NO_INCREMENT, -1, FALSE));
    EXPECT_EQ(KeReadStateSemaphore(&s), 2);
    KSEMAPHORE bad;
    const int above = AT(KeInitializeSemaphore(&bad, 3, 2));
    KSEMAPHORE no_limit;
    const int zero_limit = AT(KeInitializeSemaphore(&no_limit, 0, 0));
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 4u) << dump(got);
    const int lines[] = {past, negative, above, zero_limit};
    const char *texts[] = {"count would pass the limit", "adjustment must not be negative", "count is above the limit",
                           "limit must be at least 1"};
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(got[i].rule, "SemaphoreMisuse") << dump(got);
        EXPECT_EQ(got[i].line, lines[i]) << dump(got);
        EXPECT_NE(got[i].message.find(texts[i]), std::string::npos) << got[i].message;
    }
}

// KeReleaseSemaphore from an ISR (at DIRQL) is IrqlTooHighForCall; at DISPATCH_LEVEL it is allowed,
// and with Wait TRUE it is allowed up to APC_LEVEL only.
TEST_F(VerifierTest, IrqlTooHighForCall_KeReleaseSemaphoreAboveItsLevel) {
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 0, 100);
    KIRQL passive = 0, dispatch = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &passive);
    KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE);
    ASSERT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    const int wait_true = AT(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, TRUE));
    KeRaiseIrql(5, &dispatch);
    const int isr = AT(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE));
    KeLowerIrql(dispatch);
    KeLowerIrql(passive);
    EXPECT_EQ(KeReadStateSemaphore(&s), 3); // each release still counted
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 2u) << dump(got);
    EXPECT_EQ(got[0].rule, "IrqlTooHighForCall");
    EXPECT_EQ(got[0].line, wait_true);
    EXPECT_EQ(got[1].rule, "IrqlTooHighForCall");
    EXPECT_EQ(got[1].line, isr);
}

// ---- Deadlock -----------------------------------------------------------------------------------------

// KMUTEX AB/BA: tests/verifier/wait_order_test.cpp (WaitOrderDeadlock), with the lines it names.

[[noreturn]] void wait_for_an_event_nobody_sets() {
    NdislockVerifierSetWatchdog(300);
    static KEVENT e;
    KeInitializeEvent(&e, SynchronizationEvent, FALSE);
    Watchdog dog("event wait child", std::chrono::seconds(20));
    KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, nullptr);
    std::fprintf(stderr, "the wait ended\n");
    std::_Exit(0);
}

TEST(WaitsDeadlock, AnEventNobodySetsEndsWithADeadlockReport) {
    EXPECT_DEATH(wait_for_an_event_nobody_sets(), "error: Deadlock \\(terminal\\).*for event 0x[0-9a-f]+");
}

[[noreturn]] void wait_for_a_semaphore_nobody_releases() {
    NdislockVerifierSetWatchdog(300);
    static KSEMAPHORE s;
    KeInitializeSemaphore(&s, 0, 1);
    Watchdog dog("semaphore wait child", std::chrono::seconds(20));
    KeWaitForSingleObject(&s, Executive, KernelMode, FALSE, nullptr);
    std::fprintf(stderr, "the wait ended\n");
    std::_Exit(0);
}

TEST(WaitsDeadlock, ASemaphoreNobodyReleasesEndsWithADeadlockReportNamingIt) {
    EXPECT_DEATH(wait_for_a_semaphore_nobody_releases(),
                 "error: Deadlock \\(terminal\\).*for semaphore 0x[0-9a-f]+ \\(its count is 0: it waits for a "
                 "KeReleaseSemaphore\\)");
}

// A WaitAll that lacks one object (the event is set, the semaphore is at 0): the report names what
// it lacks, not the first object of the array.
[[noreturn]] void wait_all_for_a_set_event_and_an_empty_semaphore() {
    NdislockVerifierSetWatchdog(300);
    static KEVENT e;
    static KSEMAPHORE s;
    KeInitializeEvent(&e, NotificationEvent, TRUE);
    KeInitializeSemaphore(&s, 0, 1);
    PVOID both[2] = {&e, &s};
    Watchdog dog("WaitAll child", std::chrono::seconds(20));
    KeWaitForMultipleObjects(2, both, WaitAll, Executive, KernelMode, FALSE, nullptr, nullptr);
    std::fprintf(stderr, "the wait ended\n");
    std::_Exit(0);
}

TEST(WaitsDeadlock, AWaitAllNamesTheObjectItLacks) {
    EXPECT_DEATH(wait_all_for_a_set_event_and_an_empty_semaphore(),
                 "error: Deadlock \\(terminal\\).*for semaphore 0x[0-9a-f]+ \\(its count is 0");
}

TEST_F(VerifierTest, Deadlock_NotForATimedWaitLongerThanTheWatchdogLimit) {
    Watchdog dog("timed wait past the limit", std::chrono::seconds(30));
    NdislockVerifierSetWatchdog(100);
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    LARGE_INTEGER long_wait;
    long_wait.QuadPart = -3'000'000; // 300 ms: three watchdog limits
    EXPECT_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &long_wait), STATUS_TIMEOUT);
    NdislockVerifierSetWatchdog(2000);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

} // namespace
