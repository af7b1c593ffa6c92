// Mutexes, fast mutexes and executive resources in the verifier's lock-order graph, and the
// Deadlock reports of waits for them (issue #20, src/verifier/wait_order.h):
//   LockOrderInversion  two KMUTEXes (by their initialization lines, or their names), two FAST_MUTEXes, a mutex and a
//   fast mutex, two resources
//                       (exclusive, and a shared hold against an exclusive want) taken in both
//                       orders; a spin lock taken under a mutex and the mutex waited for under the
//                       spin lock, both ways round: reported at the second order's call, with the
//                       first order's site as the other party
//   no finding          a mutex's recursion by its owner (under another lock too), two shared
//                       resource holds in both orders, a WaitAll over two mutexes then taken one
//                       by one, a poll and a Wait FALSE acquire (they never sleep)
//   Deadlock            two threads in an AB/BA deadlock over KMUTEXes and over FAST_MUTEXes:
//                       the report is at a wait's line and names each thread, the object it waits
//                       for with its initialization site, the call and line of its wait, where it
//                       took what it holds, and the cycle (death tests, watchdog limit 300 ms)
// Every lock is a static object with its own initialization line: its class. Every child and
// thread test is bounded by its own watchdog.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "model/thread_state.h"
#include "ndislock/wdk.h"
#include "ndislock/verifier.h"
#include "verifier_support.h"
#include "wait_support.h"

using namespace vt;
using ndislock_test::Watchdog;

namespace {

LARGE_INTEGER ten_ms() {
    LARGE_INTEGER t;
    t.QuadPart = -100'000;
    return t;
}

NTSTATUS wait_forever(PVOID object) { return KeWaitForSingleObject(object, Executive, KernelMode, FALSE, nullptr); }

const Got *find_rule(const std::vector<Got> &got, const char *rule) {
    for (const Got &g : got)
        if (g.rule == rule) return &g;
    return nullptr;
}

// ---- LockOrderInversion ------------------------------------------------------------------------

TEST_F(VerifierTest, LockOrderInversion_TwoMutexesTakenInBothOrders) {
    static KMUTEX a, b;
    KeInitializeMutex(&a, 0);
    KeInitializeMutex(&b, 0);
    KeWaitForSingleObject(&a, Executive, KernelMode, FALSE, nullptr);
    const int first_b = AT(KeWaitForSingleObject(&b, Executive, KernelMode, FALSE, nullptr));
    KeReleaseMutex(&b, FALSE);
    KeReleaseMutex(&a, FALSE);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    KeWaitForSingleObject(&b, Executive, KernelMode, FALSE, nullptr);
    const int line = AT(KeWaitForSingleObject(&a, Executive, KernelMode, FALSE, nullptr));
    KeReleaseMutex(&a, FALSE);
    KeReleaseMutex(&b, FALSE);
    const std::vector<Got> got = take();
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].other_line, first_b) << dump(got);
        EXPECT_NE(got[0].message.find("KeWaitForSingleObject on mutex"), std::string::npos) << got[0].message;
        EXPECT_EQ(got[0].lock, static_cast<const void *>(&a));
    }
}

TEST_F(VerifierTest, LockOrderInversion_NdisMutexMacrosTakenInBothOrders) {
    static NDIS_MUTEX a, b;
    NDIS_INIT_MUTEX(&a);
    NDIS_INIT_MUTEX(&b);
    NDIS_WAIT_FOR_MUTEX(&a);
    NDIS_WAIT_FOR_MUTEX(&b);
    NDIS_RELEASE_MUTEX(&b);
    NDIS_RELEASE_MUTEX(&a);
    NDIS_WAIT_FOR_MUTEX(&b);
    const int line = AT(NDIS_WAIT_FOR_MUTEX(&a));
    NDIS_RELEASE_MUTEX(&a);
    NDIS_RELEASE_MUTEX(&b);
    expect_exactly(take(), "LockOrderInversion", __FILE__, line);
}

TEST_F(VerifierTest, LockOrderInversion_NamedMutexesAreTheirNamesClasses) {
    static KMUTEX a, b;
    NdislockSetLockName(&a, "config mutex");
    KeInitializeMutex(&a, 0);
    KeInitializeMutex(&b, 0);
    NdislockSetLockName(&b, "stats mutex"); // after the initialization: the same
    wait_forever(&a);
    wait_forever(&b);
    KeReleaseMutex(&b, FALSE);
    KeReleaseMutex(&a, FALSE);
    wait_forever(&b);
    const int line = AT(KeWaitForSingleObject(&a, Executive, KernelMode, FALSE, nullptr));
    KeReleaseMutex(&a, FALSE);
    KeReleaseMutex(&b, FALSE);
    const std::vector<Got> got = take();
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].lock_class.find("config mutex"), std::string::npos) << dump(got);
        EXPECT_NE(got[0].message.find("while holding mutex \"stats mutex\""), std::string::npos) << got[0].message;
    }
}

TEST_F(VerifierTest, LockOrderInversion_TwoFastMutexesTakenInBothOrders) {
    static FAST_MUTEX a, b;
    ExInitializeFastMutex(&a);
    ExInitializeFastMutex(&b);
    ExAcquireFastMutex(&a);
    const int first_b = AT(ExAcquireFastMutex(&b));
    ExReleaseFastMutex(&b);
    ExReleaseFastMutex(&a);
    ExAcquireFastMutex(&b);
    const int line = AT(ExAcquireFastMutex(&a));
    ExReleaseFastMutex(&a);
    ExReleaseFastMutex(&b);
    const std::vector<Got> got = take();
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].other_line, first_b) << dump(got);
        EXPECT_NE(got[0].message.find("ExAcquireFastMutex on fast mutex"), std::string::npos) << got[0].message;
    }
}

TEST_F(VerifierTest, LockOrderInversion_AMutexAndAFastMutexTakenInBothOrders) {
    static KMUTEX m;
    static FAST_MUTEX f;
    KeInitializeMutex(&m, 0);
    ExInitializeFastMutex(&f);
    wait_forever(&m);
    ExAcquireFastMutex(&f);
    ExReleaseFastMutex(&f);
    KeReleaseMutex(&m, FALSE);
    ExAcquireFastMutex(&f); // APC_LEVEL: a mutex may still be waited for
    const int line = AT(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, nullptr));
    KeReleaseMutex(&m, FALSE);
    ExReleaseFastMutex(&f);
    expect_exactly(take(), "LockOrderInversion", __FILE__, line);
}

TEST_F(VerifierTest, LockOrderInversion_ResourcesExclusiveThenASharedHoldWantingExclusive) {
    static ERESOURCE r1, r2;
    ExInitializeResourceLite(&r1);
    ExInitializeResourceLite(&r2);
    KeEnterCriticalRegion();
    ExAcquireResourceExclusiveLite(&r1, TRUE);
    ExAcquireResourceExclusiveLite(&r2, TRUE);
    ExReleaseResourceLite(&r2);
    ExReleaseResourceLite(&r1);
    ExAcquireResourceSharedLite(&r2, TRUE);
    const int line = AT(ExAcquireResourceExclusiveLite(&r1, TRUE));
    ExReleaseResourceLite(&r1);
    ExReleaseResourceLite(&r2);
    KeLeaveCriticalRegion();
    const std::vector<Got> got = take();
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("ExAcquireResourceExclusiveLite on executive resource"), std::string::npos)
            << got[0].message;
    }
}

// A spin lock taken while a mutex is held is an edge mutex -> spin lock (the spin-lock path sees
// the mutex); waiting for the mutex under the spin lock is then an inversion, besides being a
// wait under a spin lock.
TEST_F(VerifierTest, LockOrderInversion_SpinLockUnderAMutexThenTheMutexUnderTheSpinLock) {
    static KMUTEX m;
    KeInitializeMutex(&m, 0);
    auto *s = static_cast<NDIS_SPIN_LOCK *>(fresh_storage());
    NdisAllocateSpinLock(s);
    wait_forever(&m);
    const int first_s = AT(NdisAcquireSpinLock(s));
    NdisReleaseSpinLock(s);
    KeReleaseMutex(&m, FALSE);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    NdisAcquireSpinLock(s);
    LARGE_INTEGER timeout = ten_ms(); // free: satisfied at once
    const int line = AT(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, &timeout));
    KeReleaseMutex(&m, FALSE);
    NdisReleaseSpinLock(s);
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 2u) << dump(got); // and BlockingAtDispatch, at the same line
    const Got *inversion = find_rule(got, "LockOrderInversion");
    ASSERT_NE(inversion, nullptr) << dump(got);
    EXPECT_EQ(inversion->line, line) << dump(got);
    EXPECT_EQ(inversion->other_line, first_s) << dump(got);
    ASSERT_NE(find_rule(got, "BlockingAtDispatch"), nullptr) << dump(got);
}

// The other way round: the mutex waited for under the spin lock first, then the spin lock taken
// under the mutex: the inversion is the spin lock's acquire (checks_order.cpp), which sees the mutex.
TEST_F(VerifierTest, LockOrderInversion_MutexUnderASpinLockThenTheSpinLockUnderTheMutex) {
    static KMUTEX m;
    KeInitializeMutex(&m, 0);
    auto *s = static_cast<NDIS_SPIN_LOCK *>(fresh_storage());
    NdisAllocateSpinLock(s);
    NdisAcquireSpinLock(s);
    LARGE_INTEGER timeout = ten_ms();
    KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, &timeout);
    KeReleaseMutex(&m, FALSE);
    NdisReleaseSpinLock(s);
    std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "BlockingAtDispatch") << dump(got);
    NdislockVerifierResetFindings();
    wait_forever(&m);
    const int line = AT(NdisAcquireSpinLock(s));
    NdisReleaseSpinLock(s);
    KeReleaseMutex(&m, FALSE);
    got = take();
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
}

// ---- what is no inversion ---------------------------------------------------------------------

TEST_F(VerifierTest, LockOrderInversion_NotForAMutexRecursionByItsOwnerUnderAnotherMutex) {
    static KMUTEX a, b;
    KeInitializeMutex(&a, 0);
    KeInitializeMutex(&b, 0);
    wait_forever(&a);
    wait_forever(&b);
    EXPECT_EQ(wait_forever(&a), STATUS_SUCCESS); // a is this thread's: recursion, not b -> a
    KeReleaseMutex(&a, FALSE);
    KeReleaseMutex(&b, FALSE);
    KeReleaseMutex(&a, FALSE);
    EXPECT_EQ(KeReadStateMutex(&a), 1);
    // a is free again: taking it under nothing, then b, is the first order once more.
    wait_forever(&a);
    wait_forever(&b);
    KeReleaseMutex(&b, FALSE);
    KeReleaseMutex(&a, FALSE);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

TEST_F(VerifierTest, LockOrderInversion_NotForTwoSharedResourceHoldsInBothOrders) {
    static ERESOURCE r1, r2;
    ExInitializeResourceLite(&r1);
    ExInitializeResourceLite(&r2);
    KeEnterCriticalRegion();
    ExAcquireResourceSharedLite(&r1, TRUE);
    ExAcquireResourceSharedLite(&r2, TRUE);
    ExReleaseResourceLite(&r2);
    ExReleaseResourceLite(&r1);
    ExAcquireResourceSharedLite(&r2, TRUE);
    ExAcquireResourceSharedLite(&r1, TRUE);
    ExReleaseResourceLite(&r1);
    ExReleaseResourceLite(&r2);
    KeLeaveCriticalRegion();
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

TEST_F(VerifierTest, LockOrderInversion_NotForAWaitAllOverTwoMutexes) {
    static KMUTEX a, b;
    KeInitializeMutex(&a, 0);
    KeInitializeMutex(&b, 0);
    PVOID both[2] = {&b, &a};
    EXPECT_EQ(KeWaitForMultipleObjects(2, both, WaitAll, Executive, KernelMode, FALSE, nullptr, nullptr),
              STATUS_SUCCESS); // taken together: no order between them
    KeReleaseMutex(&a, FALSE);
    KeReleaseMutex(&b, FALSE);
    wait_forever(&a);
    wait_forever(&b);
    KeReleaseMutex(&b, FALSE);
    KeReleaseMutex(&a, FALSE);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

TEST_F(VerifierTest, LockOrderInversion_NotForAPollOrAWaitFalseAcquire) {
    static KMUTEX a, b;
    static ERESOURCE r;
    KeInitializeMutex(&a, 0);
    KeInitializeMutex(&b, 0);
    ExInitializeResourceLite(&r);
    wait_forever(&a);
    wait_forever(&b);
    KeReleaseMutex(&b, FALSE);
    KeReleaseMutex(&a, FALSE);
    KeEnterCriticalRegion();
    ExAcquireResourceExclusiveLite(&r, TRUE);
    wait_forever(&a);
    KeReleaseMutex(&a, FALSE);
    ExReleaseResourceLite(&r);
    // b then a as a poll: it never sleeps, so it cannot deadlock; nor can a Wait FALSE acquire.
    wait_forever(&b);
    LARGE_INTEGER zero;
    zero.QuadPart = 0;
    EXPECT_EQ(KeWaitForSingleObject(&a, Executive, KernelMode, FALSE, &zero), STATUS_SUCCESS);
    EXPECT_TRUE(ExAcquireResourceExclusiveLite(&r, FALSE)); // a -> r was seen: r under a is the same order
    ExReleaseResourceLite(&r);
    KeReleaseMutex(&a, FALSE);
    KeReleaseMutex(&b, FALSE);
    KeLeaveCriticalRegion();
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// ---- Deadlock among waits ---------------------------------------------------------------------

// The lines the deadlock reports must name (kept in one place: the children run these lines).
constexpr int kInitA = __LINE__ + 9;
constexpr int kInitB = kInitA + 1;
constexpr int kOneTakesA = kInitA + 6;
constexpr int kOneWaitsB = kOneTakesA + 5;
constexpr int kTwoTakesB = kOneWaitsB + 3;
constexpr int kTwoWaitsA = kTwoTakesB + 5;
[[noreturn]] void mutex_abba() {
    NdislockVerifierSetWatchdog(60'000); // until both wait
    static KMUTEX a, b;
    KeInitializeMutex(&a, 0);
    KeInitializeMutex(&b, 0);
    Watchdog dog("KMUTEX AB/BA child", std::chrono::seconds(20));
    std::atomic<int> holding{0};
    std::atomic<ndislock::model::ThreadState *> one{nullptr}, two{nullptr};
    std::thread t1([&] {
        KeWaitForSingleObject(&a, Executive, KernelMode, FALSE, nullptr);
        one.store(ndislock::model::tls_thread);
        holding.fetch_add(1);
        while (holding.load() != 2)
            std::this_thread::yield();
        KeWaitForSingleObject(&b, Executive, KernelMode, FALSE, nullptr);
    });
    std::thread t2([&] {
        KeWaitForSingleObject(&b, Executive, KernelMode, FALSE, nullptr);
        two.store(ndislock::model::tls_thread);
        holding.fetch_add(1);
        while (holding.load() != 2)
            std::this_thread::yield();
        KeWaitForSingleObject(&a, Executive, KernelMode, FALSE, nullptr);
    });
    wait_until_waiting(one);
    wait_until_waiting(two);
    NdislockVerifierSetWatchdog(300);
    t1.join();
    t2.join();
    std::fprintf(stderr, "the AB/BA threads ended: no deadlock?\n");
    std::_Exit(0);
}

std::string at(int line) { return "wait_order_test\\.cpp:" + std::to_string(line); }

// One thread's part of the report: what it holds (its class's initialization line, where it took
// it), then the call and line it waits in.
std::string party(int init_held, int took, int waits) {
    return "holds mutex 0x[0-9a-f]+ allocated at [^\n]*" + at(init_held) + "[^\n]*, taken at [^\n]*" + at(took) +
           "[^\n]*\n[^\n]*waits [0-9]+ ms for mutex 0x[0-9a-f]+[^\n]*allocated at [^\n]*[^\n]*, in "
           "KeWaitForSingleObject at [^\n]*" +
           at(waits) + "[^\n]*, held by thread [0-9]+";
}

TEST(WaitOrderDeadlock, TwoMutexesInBothOrdersAreADeadlockAtTheWaitsLineNamingTheCycle) {
    // Reported at one of the two waits (whichever thread the watchdog saw first), with the other
    // thread as its holder, and the cycle through both.
    EXPECT_DEATH(mutex_abba(), "error: Deadlock \\(terminal\\).*the cycle: thread [0-9]+ waits for mutex 0x[0-9a-f]+ "
                               "[^;]*, held by thread [0-9]+; thread [0-9]+ waits for mutex 0x[0-9a-f]+ [^;]*, held by "
                               "thread [0-9]+\n.*at [^\n]*(" +
                                   at(kOneWaitsB) + "|" + at(kTwoWaitsA) + ").*held by its holder since [^\n]*(" +
                                   at(kOneTakesA) + "|" + at(kTwoTakesB) + ")");
}

TEST(WaitOrderDeadlock, TwoMutexesInBothOrdersSayHowLongTheReportedThreadWaitedAndTheLimit) {
    EXPECT_DEATH(mutex_abba(),
                 "error: Deadlock \\(terminal\\).*has waited [0-9]+ ms \\(the watchdog limit is 300 ms\\) "
                 "for mutex 0x[0-9a-f]+");
}

TEST(WaitOrderDeadlock, TwoMutexesInBothOrdersNameEachThreadsHoldAndWait) {
    EXPECT_DEATH(mutex_abba(), "every waiting thread.*" + party(kInitA, kOneTakesA, kOneWaitsB));
    EXPECT_DEATH(mutex_abba(), "every waiting thread.*" + party(kInitB, kTwoTakesB, kTwoWaitsA));
}

// The same with fast mutexes: ExAcquireFastMutex's line is the wait's.
constexpr int kFastOneWaitsB = __LINE__ + 16;
constexpr int kFastTwoWaitsA = kFastOneWaitsB + 8;
[[noreturn]] void fast_mutex_abba() {
    NdislockVerifierSetWatchdog(60'000);
    static FAST_MUTEX a, b;
    ExInitializeFastMutex(&a);
    ExInitializeFastMutex(&b);
    Watchdog dog("FAST_MUTEX AB/BA child", std::chrono::seconds(20));
    std::atomic<int> holding{0};
    std::atomic<ndislock::model::ThreadState *> one{nullptr}, two{nullptr};
    std::thread t1([&] {
        ExAcquireFastMutex(&a);
        one.store(ndislock::model::tls_thread);
        holding.fetch_add(1);
        while (holding.load() != 2)
            std::this_thread::yield();
        ExAcquireFastMutex(&b);
    });
    std::thread t2([&] {
        ExAcquireFastMutex(&b);
        two.store(ndislock::model::tls_thread);
        holding.fetch_add(1);
        while (holding.load() != 2)
            std::this_thread::yield();
        ExAcquireFastMutex(&a);
    });
    wait_until_waiting(one);
    wait_until_waiting(two);
    NdislockVerifierSetWatchdog(300);
    t1.join();
    t2.join();
    std::fprintf(stderr, "the AB/BA threads ended: no deadlock?\n");
    std::_Exit(0);
}

TEST(WaitOrderDeadlock, TwoFastMutexesInBothOrdersAreADeadlockNamingTheCycle) {
    EXPECT_DEATH(fast_mutex_abba(), "error: Deadlock \\(terminal\\).*the cycle: thread [0-9]+ waits for fast mutex "
                                    "0x[0-9a-f]+ [^;]*, held by thread [0-9]+; thread [0-9]+ waits for fast mutex.*at "
                                    "[^\n]*(" +
                                        at(kFastOneWaitsB) + "|" + at(kFastTwoWaitsA) +
                                        ").*holds fast mutex 0x[0-9a-f]+ allocated at.*in ExAcquireFastMutex at");
}

// A wait for an NDIS event nobody sets: reported at the NdisWaitEvent call, as the wait it is.
constexpr int kNdisWaitLine = __LINE__ + 6;
[[noreturn]] void ndis_wait_forever() {
    static NDIS_EVENT never_set;
    NdisInitializeEvent(&never_set);
    Watchdog dog("NdisWaitEvent child", std::chrono::seconds(20));
    NdislockVerifierSetWatchdog(300);
    NdisWaitEvent(&never_set, 0);
    std::fprintf(stderr, "the wait ended: no deadlock?\n");
    std::_Exit(0);
}

TEST(WaitOrderDeadlock, AnNdisWaitEventNobodySetsIsReportedAtItsCall) {
    EXPECT_DEATH(ndis_wait_forever(), "error: Deadlock.*for event 0x[0-9a-f]+ \\(nobody owns it: it waits to be "
                                      "signalled\\).*\n  at [^\n]*" +
                                          at(kNdisWaitLine) + ".*in NdisWaitEvent at [^\n]*" + at(kNdisWaitLine));
}

} // namespace
