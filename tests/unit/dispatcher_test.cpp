// Dispatcher objects and waits against their documented semantics (ndislock/wdk_dispatcher.h):
// event states and KeSetEvent/KeResetEvent return values, wait statuses, poll / relative /
// absolute timeouts, auto-reset of synchronization events, WaitAny's lowest index, WaitAll's
// all-or-nothing, wait blocks, NDIS_EVENT interplay, a header of another type (a timer's) signalled
// by its own code, kernel mutexes (ownership, recursion, exclusion), and the time queries.
// Every thread test is bounded by a Watchdog; nothing asserts how long anything took.
#include <atomic>
#include <ctime>
#include <thread>
#include <vector>

#include "lock/park.h" // a timer-like object signalled as the timers' code does
#include "ndislock/wdk.h"
#include "ndislock/verifier.h"
#include "test_support.h"
#include "wait_probe.h"

using ndislock_test::eventually;
using ndislock_test::Flag;
using ndislock_test::ModelTest;
using ndislock_test::Watchdog;

namespace {

LARGE_INTEGER relative_ms(LONGLONG ms) {
    LARGE_INTEGER t;
    t.QuadPart = -ms * 10'000;
    return t;
}

LARGE_INTEGER zero() {
    LARGE_INTEGER t;
    t.QuadPart = 0;
    return t;
}

NTSTATUS poll(PVOID object) {
    LARGE_INTEGER z = zero();
    return KeWaitForSingleObject(object, Executive, KernelMode, FALSE, &z);
}

using Waits = ModelTest;

TEST_F(Waits, NotificationEventStatesAndReturnValues) {
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    EXPECT_EQ(e.Header.Type, EventNotificationObject);
    EXPECT_EQ(KeReadStateEvent(&e), 0);
    EXPECT_EQ(KeSetEvent(&e, IO_NO_INCREMENT, FALSE), 0); // previous state: not signalled
    EXPECT_EQ(KeSetEvent(&e, IO_NO_INCREMENT, FALSE), 1);
    EXPECT_EQ(KeReadStateEvent(&e), 1);
    EXPECT_EQ(KeResetEvent(&e), 1);
    EXPECT_EQ(KeResetEvent(&e), 0);
    KeSetEvent(&e, EVENT_INCREMENT, FALSE);
    KeClearEvent(&e);
    EXPECT_EQ(KeReadStateEvent(&e), 0);
    KEVENT on;
    KeInitializeEvent(&on, SynchronizationEvent, TRUE);
    EXPECT_EQ(on.Header.Type, EventSynchronizationObject);
    EXPECT_EQ(KeReadStateEvent(&on), 1);
}

TEST_F(Waits, PollReturnsTimeoutOrSuccessAndASatisfiedWaitResetsOnlySynchronizationEvents) {
    KEVENT n, s;
    KeInitializeEvent(&n, NotificationEvent, FALSE);
    KeInitializeEvent(&s, SynchronizationEvent, FALSE);
    EXPECT_EQ(poll(&n), STATUS_TIMEOUT);
    EXPECT_EQ(poll(&s), STATUS_TIMEOUT);
    KeSetEvent(&n, 0, FALSE);
    KeSetEvent(&s, 0, FALSE);
    EXPECT_EQ(poll(&n), STATUS_SUCCESS);
    EXPECT_EQ(poll(&n), STATUS_SUCCESS); // a notification event stays signalled
    EXPECT_EQ(KeReadStateEvent(&n), 1);
    EXPECT_EQ(poll(&s), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateEvent(&s), 0); // auto-reset by the wait it satisfied
    EXPECT_EQ(poll(&s), STATUS_TIMEOUT);
}

TEST_F(Waits, RelativeAndAbsoluteTimeoutsEndWithStatusTimeout) {
    Watchdog dog("timed waits", std::chrono::seconds(30));
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    LARGE_INTEGER rel = relative_ms(20);
    EXPECT_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &rel), STATUS_TIMEOUT);
    LARGE_INTEGER past;
    KeQuerySystemTime(&past);
    past.QuadPart -= 10'000'000; // a second ago: a poll
    EXPECT_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &past), STATUS_TIMEOUT);
    LARGE_INTEGER soon;
    KeQuerySystemTime(&soon);
    soon.QuadPart += 200'000; // 20 ms from now, absolute
    EXPECT_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &soon), STATUS_TIMEOUT);
    KeSetEvent(&e, 0, FALSE);
    EXPECT_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &rel), STATUS_SUCCESS);
}

TEST_F(Waits, AWaitWithoutTimeoutEndsWhenAnotherThreadSetsTheEvent) {
    Watchdog dog("wait forever, set", std::chrono::seconds(30));
    KEVENT e;
    KeInitializeEvent(&e, SynchronizationEvent, FALSE);
    std::atomic<NTSTATUS> status{-1};
    std::atomic<bool> started{false};
    std::thread waiter([&] {
        started.store(true);
        status.store(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, nullptr));
    });
    while (!started.load())
        std::this_thread::yield();
    KeSetEvent(&e, IO_NO_INCREMENT, FALSE);
    waiter.join();
    EXPECT_EQ(status.load(), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateEvent(&e), 0); // consumed by the waiter
}

TEST_F(Waits, ASynchronizationEventReleasesOneWaiterPerSet) {
    Watchdog dog("synchronization event, 3 waiters", std::chrono::seconds(30));
    KEVENT e;
    KeInitializeEvent(&e, SynchronizationEvent, FALSE);
    std::atomic<int> woken{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < 3; ++i)
        waiters.emplace_back([&] {
            EXPECT_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
            woken.fetch_add(1);
        });
    for (int i = 1; i <= 3; ++i) {
        // Each set lets exactly one more through, once the previous one has taken its signal.
        ASSERT_TRUE(eventually([&] { return KeReadStateEvent(&e) == 0; }));
        KeSetEvent(&e, 0, FALSE);
        ASSERT_TRUE(eventually([&] { return woken.load() == i; })) << "set " << i;
        EXPECT_LE(woken.load(), i);
    }
    for (auto &t : waiters)
        t.join();
    EXPECT_EQ(woken.load(), 3);
}

TEST_F(Waits, ANotificationEventReleasesEveryWaiter) {
    Watchdog dog("notification event, 4 waiters", std::chrono::seconds(30));
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    std::atomic<int> woken{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < 4; ++i)
        waiters.emplace_back([&] {
            EXPECT_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
            woken.fetch_add(1);
        });
    KeSetEvent(&e, 0, FALSE);
    for (auto &t : waiters)
        t.join();
    EXPECT_EQ(woken.load(), 4);
    EXPECT_EQ(KeReadStateEvent(&e), 1);
}

TEST_F(Waits, NdisEventsAreKernelEvents) {
    Watchdog dog("NDIS_EVENT and KEVENT", std::chrono::seconds(30));
    NDIS_EVENT e;
    NdisInitializeEvent(&e);
    EXPECT_EQ(poll(&e.Event), STATUS_TIMEOUT);
    std::atomic<NTSTATUS> status{-1};
    std::thread waiter([&] { status.store(KeWaitForSingleObject(&e.Event, Executive, KernelMode, FALSE, nullptr)); });
    NdisSetEvent(&e);
    waiter.join();
    EXPECT_EQ(status.load(), STATUS_SUCCESS);
    NdisResetEvent(&e);
    std::atomic<int> ndis_waited{-1};
    std::thread ndis_waiter([&] { ndis_waited.store(NdisWaitEvent(&e, 0) ? 1 : 0); });
    KeSetEvent(&e.Event, 0, FALSE);
    ndis_waiter.join();
    EXPECT_EQ(ndis_waited.load(), 1);
}

TEST_F(Waits, WaitAnyReturnsTheLowestSignalledIndexAndTakesOnlyThatObject) {
    KEVENT e[3];
    PVOID objects[3];
    for (int i = 0; i < 3; ++i) {
        KeInitializeEvent(&e[i], SynchronizationEvent, FALSE);
        objects[i] = &e[i];
    }
    LARGE_INTEGER z = zero();
    EXPECT_EQ(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE, &z, nullptr), STATUS_TIMEOUT);
    KeSetEvent(&e[2], 0, FALSE);
    EXPECT_EQ(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE, &z, nullptr), STATUS_WAIT_2);
    KeSetEvent(&e[1], 0, FALSE);
    KeSetEvent(&e[2], 0, FALSE);
    EXPECT_EQ(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE, &z, nullptr), STATUS_WAIT_1);
    EXPECT_EQ(KeReadStateEvent(&e[1]), 0);
    EXPECT_EQ(KeReadStateEvent(&e[2]), 1); // not the one that satisfied the wait
}

TEST_F(Waits, WaitAllTakesEveryObjectOrNone) {
    KEVENT a, b;
    KeInitializeEvent(&a, SynchronizationEvent, FALSE);
    KeInitializeEvent(&b, SynchronizationEvent, FALSE);
    PVOID objects[2] = {&a, &b};
    LARGE_INTEGER z = zero();
    KeSetEvent(&a, 0, FALSE);
    EXPECT_EQ(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, &z, nullptr), STATUS_TIMEOUT);
    EXPECT_EQ(KeReadStateEvent(&a), 1); // a failed WaitAll takes nothing
    KeSetEvent(&b, 0, FALSE);
    EXPECT_EQ(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, &z, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateEvent(&a), 0);
    EXPECT_EQ(KeReadStateEvent(&b), 0);
}

TEST_F(Waits, WaitAllBlocksUntilTheLastObjectIsSignalled) {
    Watchdog dog("WaitAll across threads", std::chrono::seconds(30));
    KEVENT a, b;
    KeInitializeEvent(&a, NotificationEvent, FALSE);
    KeInitializeEvent(&b, SynchronizationEvent, FALSE);
    PVOID objects[2] = {&a, &b};
    std::atomic<NTSTATUS> status{-1};
    std::atomic<ndislock::model::ThreadState *> waiter_state{nullptr};
    KeSetEvent(&a, 0, FALSE);
    std::thread waiter([&] {
        waiter_state.store(ndislock_test::current_thread_state());
        status.store(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, nullptr, nullptr));
    });
    // Parked in the wait (its record names the object it lacks), not merely not yet there.
    ASSERT_TRUE(ndislock_test::eventually_waiting_on(waiter_state, &b)) << "the waiter never blocked";
    EXPECT_EQ(status.load(), -1); // one of two is not enough
    KeSetEvent(&b, 0, FALSE);
    waiter.join();
    EXPECT_EQ(status.load(), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateEvent(&b), 0);
    EXPECT_EQ(KeReadStateEvent(&a), 1);
}

TEST_F(Waits, WaitAnyAcrossThreadsOverAWaitBlockArray) {
    Watchdog dog("WaitAny over 8 objects", std::chrono::seconds(30));
    KEVENT e[8];
    PVOID objects[8];
    KWAIT_BLOCK blocks[8];
    for (int i = 0; i < 8; ++i) {
        KeInitializeEvent(&e[i], SynchronizationEvent, FALSE);
        objects[i] = &e[i];
    }
    std::atomic<NTSTATUS> status{-1};
    std::thread waiter([&] {
        status.store(KeWaitForMultipleObjects(8, objects, WaitAny, Executive, KernelMode, FALSE, nullptr, blocks));
    });
    KeSetEvent(&e[6], 0, FALSE);
    waiter.join();
    EXPECT_EQ(status.load(), STATUS_WAIT_0 + 6);
    EXPECT_EQ(blocks[6].Object, &e[6]);
}

// A timer's expiry as issue #20's timers do it: SignalState 1, then lock::unpark_all on it. A
// wait on it alone, and a wait on it with an event, both end (the second at its next re-check).
TEST_F(Waits, AHeaderOfAnotherTypeSignalledByItsOwnCodeEndsBothKindsOfWait) {
    Watchdog dog("timer-like headers", std::chrono::seconds(30));
    for (const UCHAR type : {UCHAR{TimerNotificationObject}, UCHAR{TimerSynchronizationObject}}) {
        for (const bool with_event : {false, true}) {
            DISPATCHER_HEADER timer{};
            timer.Type = type;
            KEVENT other;
            KeInitializeEvent(&other, NotificationEvent, FALSE);
            PVOID objects[2] = {&other, &timer};
            std::atomic<NTSTATUS> status{-1};
            std::atomic<ndislock::model::ThreadState *> waiter_state{nullptr};
            std::thread waiter([&] {
                waiter_state.store(ndislock_test::current_thread_state());
                status.store(with_event ? KeWaitForMultipleObjects(2, objects, WaitAny, Executive, KernelMode, FALSE,
                                                                   nullptr, nullptr)
                                        : KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, nullptr));
            });
            // Parked in the wait (its record names the first object), so the signal below is
            // what ends it, not a check before it parked.
            ASSERT_TRUE(ndislock_test::eventually_waiting_on(waiter_state, objects[with_event ? 0 : 1]))
                << "the waiter never blocked";
            EXPECT_EQ(status.load(), -1);
            std::atomic_ref<LONG>(const_cast<LONG &>(timer.SignalState)).store(1);
            ndislock::lock::unpark_all(const_cast<LONG *>(&timer.SignalState));
            waiter.join();
            EXPECT_EQ(status.load(), with_event ? STATUS_WAIT_1 : STATUS_SUCCESS);
            EXPECT_EQ(timer.SignalState, type == TimerSynchronizationObject ? 0 : 1) << "type " << int(type);
        }
    }
}

// A kernel timer is a dispatcher object: a wait on it alone, and a WaitAny over an event and the
// timer, end when it expires, with the timer's index; a synchronization timer is reset by the
// satisfied wait, a notification timer stays signalled.
TEST_F(Waits, KernelTimersEndWaitsOnThemAloneAndAmongOtherObjects) {
    Watchdog dog("waits on timers", std::chrono::seconds(30));
    KTIMER notification, synchronization;
    KeInitializeTimerEx(&notification, NotificationTimer);
    KeInitializeTimerEx(&synchronization, SynchronizationTimer);
    LARGE_INTEGER due;
    due.QuadPart = -20 * 10'000; // 20 ms, relative
    KeSetTimer(&notification, due, nullptr);
    EXPECT_EQ(KeWaitForSingleObject(&notification, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_TRUE(KeReadStateTimer(&notification)) << "a notification timer stays signalled";

    KEVENT never;
    KeInitializeEvent(&never, NotificationEvent, FALSE);
    PVOID objects[2] = {&never, &synchronization};
    KeSetTimer(&synchronization, due, nullptr);
    EXPECT_EQ(KeWaitForMultipleObjects(2, objects, WaitAny, Executive, KernelMode, FALSE, nullptr, nullptr),
              STATUS_WAIT_0 + 1);
    EXPECT_FALSE(KeReadStateTimer(&synchronization)) << "the satisfied wait resets a synchronization timer";
}

using WaitsDeath = ModelTest;
TEST_F(WaitsDeath, MoreObjectsThanWaitBlocksIsABugCheck) {
    KEVENT e[4];
    PVOID objects[4];
    for (int i = 0; i < 4; ++i) {
        KeInitializeEvent(&e[i], NotificationEvent, TRUE);
        objects[i] = &e[i];
    }
    EXPECT_DEATH(KeWaitForMultipleObjects(4, objects, WaitAny, Executive, KernelMode, FALSE, nullptr, nullptr),
                 "BugCheck.*MAXIMUM_WAIT_OBJECTS_EXCEEDED");
}

// Verifier off, a wait without a timeout that lasts past the watchdog limit is still reported,
// not a silent hang: the watchdog's plain Deadlock report names the thread and what it waits for
// (the verifier, when on, names who holds it too: tests/verifier/waits_rules_test.cpp).
[[noreturn]] void wait_forever_for_an_event() {
    Watchdog dog("endless event wait", std::chrono::seconds(20));
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdislockVerifierSetWatchdog(300);
    static KEVENT e;
    KeInitializeEvent(&e, SynchronizationEvent, FALSE);
    KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, nullptr);
    std::fprintf(stderr, "the wait ended\n");
    std::_Exit(0);
}

TEST_F(WaitsDeath, VerifierOffAnEndlessEventWaitEndsWithAPlainDeadlockReport) {
    EXPECT_DEATH(wait_forever_for_an_event(),
                 "Deadlock: thread [0-9]+ on processor [0-9]+ at IRQL 0 has waited [0-9]+ ms \\(the watchdog limit is "
                 "300 ms\\) for dispatcher object 0x[0-9a-f]+, with no timeout: it will wait forever");
}

// The same for a spin lock held for good by another thread: the report names the lock.
[[noreturn]] void wait_forever_for_a_spin_lock() {
    Watchdog dog("endless spin-lock wait", std::chrono::seconds(20));
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdislockVerifierSetWatchdog(300);
    if (NdislockSetProcessorCount(2) != NDISLOCK_OK) std::_Exit(3);
    static NDIS_SPIN_LOCK lock;
    NdislockSetLockName(&lock, "never.released");
    NdisAllocateSpinLock(&lock);
    std::atomic<bool> held{false};
    std::thread([&] {
        NdislockBindCurrentThread(1);
        NdisAcquireSpinLock(&lock);
        held = true;
        for (;;) // holds it at DISPATCH_LEVEL until the process ends
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }).detach();
    while (!held)
        std::this_thread::yield();
    NdislockBindCurrentThread(0);
    NdisAcquireSpinLock(&lock);
    std::fprintf(stderr, "the wait ended\n");
    std::_Exit(0);
}

TEST_F(WaitsDeath, VerifierOffAnEndlessSpinLockWaitEndsWithAPlainDeadlockReport) {
    EXPECT_DEATH(wait_forever_for_a_spin_lock(),
                 "Deadlock: thread [0-9]+ on processor 0 at IRQL 2 has waited [0-9]+ ms \\(the watchdog limit is 300 "
                 "ms\\) for spin lock 0x[0-9a-f]+ \"never.released\", with no timeout");
}

// ---- Kernel mutexes -----------------------------------------------------------------------------

TEST_F(Waits, AMutexIsOwnedRecursivelyByItsOwnerAndFreedByTheLastRelease) {
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    EXPECT_EQ(m.Header.Type, MutantObject);
    EXPECT_EQ(KeReadStateMutex(&m), 1);
    EXPECT_EQ(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_NE(m.OwnerThread, nullptr);
    EXPECT_EQ(KeReadStateMutex(&m), 0);
    EXPECT_EQ(NDIS_WAIT_FOR_MUTEX(&m), STATUS_SUCCESS); // recursive
    EXPECT_EQ(KeReadStateMutex(&m), -1);
    EXPECT_EQ(KeReleaseMutex(&m, FALSE), -1); // the previous state
    EXPECT_NE(m.OwnerThread, nullptr);
    EXPECT_EQ(KeReleaseMutex(&m, FALSE), 0); // 0: released and now signalled
    EXPECT_EQ(KeReadStateMutex(&m), 1);
    EXPECT_EQ(m.OwnerThread, nullptr);
}

TEST_F(Waits, AnOwnedMutexKeepsOtherThreadsOut) {
    Watchdog dog("mutex between threads", std::chrono::seconds(30));
    NDIS_MUTEX m;
    NDIS_INIT_MUTEX(&m);
    ASSERT_EQ(NDIS_WAIT_FOR_MUTEX(&m), STATUS_SUCCESS);
    std::atomic<NTSTATUS> polled{-1}, waited{-1};
    std::thread other([&] {
        polled.store(poll(&m));
        waited.store(NDIS_WAIT_FOR_MUTEX(&m));
        NDIS_RELEASE_MUTEX(&m);
    });
    ASSERT_TRUE(eventually([&] { return polled.load() != -1; }));
    EXPECT_EQ(polled.load(), STATUS_TIMEOUT);
    NDIS_RELEASE_MUTEX(&m);
    other.join();
    EXPECT_EQ(waited.load(), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateMutex(&m), 1);
}

TEST_F(Waits, MutexesExcludeEachOtherUnderContention) {
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    long counter = 0; // guarded by m only
    ndislock_test::run_threads(
        4,
        [&](int) {
            for (int i = 0; i < 500; ++i) {
                EXPECT_EQ(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
                ++counter;
                KeReleaseMutex(&m, FALSE);
            }
        },
        "mutex counter", std::chrono::seconds(60));
    EXPECT_EQ(counter, 2000);
}

TEST_F(Waits, AMutexAndAnEventInOneWait) {
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    PVOID objects[2] = {&e, &m};
    EXPECT_EQ(KeWaitForMultipleObjects(2, objects, WaitAny, Executive, KernelMode, FALSE, nullptr, nullptr),
              STATUS_WAIT_1); // the free mutex
    EXPECT_EQ(KeReadStateMutex(&m), 0);
    KeSetEvent(&e, 0, FALSE);
    EXPECT_EQ(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, nullptr, nullptr),
              STATUS_SUCCESS); // the owner's mutex is signalled for it
    EXPECT_EQ(KeReadStateMutex(&m), -1);
    KeReleaseMutex(&m, FALSE);
    KeReleaseMutex(&m, FALSE);
    EXPECT_EQ(KeReadStateMutex(&m), 1);
}

// ---- Delays and time ----------------------------------------------------------------------------------

TEST_F(Waits, KeDelayExecutionThreadReturnsSuccess) {
    LARGE_INTEGER d = relative_ms(1);
    EXPECT_EQ(KeDelayExecutionThread(KernelMode, FALSE, &d), STATUS_SUCCESS);
    LARGE_INTEGER past;
    KeQuerySystemTime(&past);
    past.QuadPart -= 1;
    EXPECT_EQ(KeDelayExecutionThread(KernelMode, FALSE, &past), STATUS_SUCCESS);
}

TEST_F(Waits, TimeQueriesUseTheWdkUnits) {
    LARGE_INTEGER frequency;
    const LARGE_INTEGER first = KeQueryPerformanceCounter(&frequency);
    EXPECT_EQ(frequency.QuadPart, 10'000'000);
    EXPECT_GE(KeQueryPerformanceCounter(nullptr).QuadPart, first.QuadPart);
    EXPECT_EQ(KeQueryTimeIncrement(), 156'250u);
    const ULONGLONG interrupt_time = KeQueryInterruptTime();
    LARGE_INTEGER ticks;
    KeQueryTickCount(&ticks);
    EXPECT_GE(ticks.QuadPart, static_cast<LONGLONG>(interrupt_time / KeQueryTimeIncrement()));
    EXPECT_GE(KeQueryInterruptTime(), interrupt_time);
    EXPECT_GE(KeQueryUnbiasedInterruptTime(), interrupt_time);
    LARGE_INTEGER up_ms;
    NdisGetSystemUpTimeEx(&up_ms); // milliseconds: the interrupt time's 100 ns units / 10,000
    EXPECT_GE(up_ms.QuadPart, static_cast<LONGLONG>(interrupt_time / 10'000));
    EXPECT_LE(up_ms.QuadPart, static_cast<LONGLONG>(KeQueryInterruptTime() / 10'000));
    // System time: 100 ns units since 1601-01-01; the Unix epoch is 11644473600 s later.
    LARGE_INTEGER now, precise, ndis;
    KeQuerySystemTime(&now);
    KeQuerySystemTimePrecise(&precise);
    NdisGetCurrentSystemTime(&ndis);
    const LONGLONG unix_seconds = static_cast<LONGLONG>(std::time(nullptr));
    for (const LARGE_INTEGER &t : {now, precise, ndis}) {
        const LONGLONG seconds = t.QuadPart / 10'000'000 - 11'644'473'600LL;
        EXPECT_LE(seconds - unix_seconds, 5);
        EXPECT_GE(seconds - unix_seconds, -5);
    }
    EXPECT_GE(precise.QuadPart, now.QuadPart);
}

} // namespace
