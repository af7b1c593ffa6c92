// Deadlocks that really happen end the process with a Deadlock report instead of hanging:
//   - two threads in an AB/BA deadlock, for every blocking API family: the LockOrderInversion that
//     predicted it is reported first (when the second order is taken), then the watchdog (300 ms
//     in the child) reports Deadlock naming both threads, what each holds and where it took it;
//   - a thread at DISPATCH_LEVEL waiting for a lock whose holder runs on the same virtual
//     processor below DISPATCH_LEVEL (it dropped the IRQL while holding the lock): Deadlock at
//     once, without waiting for the watchdog.
// Every child is bounded by its own watchdog (a hang ends it with "WATCHDOG", which fails the
// death test's regex), and the parent checks how long the child took.
#include <chrono>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "ndislock/ndislock.hpp"
#include "model/thread_state.h"
#include "verifier_support.h"
#include "wait_support.h"

using namespace vt;
using ndislock_test::Flag;
using ndislock_test::Watchdog;

VT_DEFINE_FAMILIES()

namespace {

std::string quoted_class(const std::string &name) {
    return "\"" + std::regex_replace(name, std::regex("\\."), "\\.") + "\"";
}

// Both locks named in the report's list of threads, in either order.
std::string both_held(const std::string &a, const std::string &b) {
    return "(holds " + quoted_class(a) + ".*holds " + quoted_class(b) + "|holds " + quoted_class(b) + ".*holds " +
           quoted_class(a) + ")";
}

// The watchdog stays far away until both threads wait, then comes down to 300 ms: the inversion
// (reported by thread 2's acquire, before it waits) always comes first, however long a loaded
// machine keeps thread 2 from reaching that acquire.
void watchdog_at_300_ms_once_both_wait(std::atomic<ndislock::model::ThreadState *> &one,
                                       std::atomic<ndislock::model::ThreadState *> &two) {
    wait_until_waiting(one);
    wait_until_waiting(two);
    NdislockVerifierSetWatchdog(300);
}

// Thread 1 (processor 1) holds A and wants B; thread 2 (processor 2) holds B and wants A. Neither
// wants its second lock before both hold their first, and thread 2 wants A only once thread 1 is
// waiting for B.
[[noreturn]] void abba(const Family &f, const std::string &name_a, const std::string &name_b) {
    NdislockVerifierSetWatchdog(60'000); // until both wait: see watchdog_at_300_ms_once_both_wait
    Slot a1, b1, a2, b2;                 // each thread's view (its own queue handles and OldIrql)
    a2.l = a1.l;
    b2.l = b1.l;
    init_lock(f, a1, keep(name_a));
    init_lock(f, b1, keep(name_b));
    Watchdog dog("AB/BA deadlock child", std::chrono::seconds(20));
    Flag one_holds, two_holds;
    std::atomic<ndislock::model::ThreadState *> one{nullptr}, two{nullptr};
    std::thread t1([&] {
        NdislockBindCurrentThread(1);
        one.store(ndislock::model::tls_thread);
        Enter e(f);
        f.acquire(a1);
        one_holds.set();
        two_holds.wait();
        f.acquire(b1);
    });
    std::thread t2([&] {
        NdislockBindCurrentThread(2);
        two.store(ndislock::model::tls_thread);
        Enter e(f);
        f.acquire(b2);
        two_holds.set();
        one_holds.wait();
        wait_until_waiting(one);
        f.acquire(a2);
    });
    watchdog_at_300_ms_once_both_wait(one, two);
    t1.join();
    t2.join();
    std::fprintf(stderr, "the AB/BA threads ended: no deadlock?\n");
    std::_Exit(0);
}

using AbBaDeadlock = ::testing::TestWithParam<Family>;
TEST_P(AbBaDeadlock, EndsWithinTheWatchdogLimitWithInversionThenDeadlock) {
    const Family &f = GetParam();
    const std::string a = std::string("abba.A.") + f.name, b = std::string("abba.B.") + f.name;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_DEATH(abba(f, a, b), "error: LockOrderInversion.*error: Deadlock \\(terminal\\).*has waited [0-9]+ ms "
                                "\\(the watchdog limit is 300 ms\\).*" +
                                    both_held(a, b) + ".*Deadlock is terminal");
    const auto took = std::chrono::steady_clock::now() - start;
    std::printf("[ AB/BA %s ] child ended after %lld ms\n", f.name,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}
INSTANTIATE_TEST_SUITE_P(Blocking, AbBaDeadlock,
                         ::testing::ValuesIn(families_where([](const Family &f) { return !f.is_try; })), family_name);

[[noreturn]] void abba_cpp() {
    NdislockVerifierSetWatchdog(60'000); // until both wait: see watchdog_at_300_ms_once_both_wait
    ndislock::NdisSpinLock a("abba.cpp.A");
    ndislock::NdisSpinLock b("abba.cpp.B");
    Watchdog dog("AB/BA C++ child", std::chrono::seconds(20));
    Flag one_holds, two_holds;
    std::atomic<ndislock::model::ThreadState *> one{nullptr}, two{nullptr};
    std::thread t1([&] {
        NdislockBindCurrentThread(1);
        one.store(ndislock::model::tls_thread);
        ndislock::LockGuard<ndislock::NdisSpinLock> ga(a);
        one_holds.set();
        two_holds.wait();
        ndislock::LockGuard<ndislock::NdisSpinLock> gb(b);
    });
    std::thread t2([&] {
        NdislockBindCurrentThread(2);
        two.store(ndislock::model::tls_thread);
        ndislock::LockGuard<ndislock::NdisSpinLock> gb(b);
        two_holds.set();
        one_holds.wait();
        wait_until_waiting(one);
        ndislock::LockGuard<ndislock::NdisSpinLock> ga(a);
    });
    watchdog_at_300_ms_once_both_wait(one, two);
    t1.join();
    t2.join();
    std::_Exit(0);
}

TEST(AbBaDeadlockCpp, LockGuardsEndWithInversionThenDeadlock) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_DEATH(abba_cpp(),
                 "error: LockOrderInversion.*error: Deadlock \\(terminal\\).*" + both_held("abba.cpp.A", "abba.cpp.B"));
    std::printf(
        "[ AB/BA C++ ] child ended after %lld ms\n",
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()));
}

// The holder takes the lock at DISPATCH_LEVEL on processor 1, then lowers the IRQL with it held;
// the waiter, on processor 1 too, raises (the processor is free again) and waits for it.
[[noreturn]] void same_processor(const Family &f) {
    NdislockVerifierSetWatchdog(60'000); // far away: only the immediate check can report in time
    Slot held_view, waiter_view;
    waiter_view.l = held_view.l;
    init_lock(f, held_view, keep(std::string("same-vp.") + f.name));
    Watchdog dog("same-processor child", std::chrono::seconds(20));
    Flag dropped;
    std::thread holder([&] {
        NdislockBindCurrentThread(1);
        KIRQL old = 0;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        f.acquire(held_view);
        KeLowerIrql(PASSIVE_LEVEL); // IrqlDroppedWhileHoldingLock: the holder is now preemptible
        dropped.set();
        for (;;)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    });
    std::thread waiter([&] {
        NdislockBindCurrentThread(1);
        dropped.wait();
        Enter e(f);
        f.acquire(waiter_view);
    });
    waiter.join();
    holder.join();
    std::_Exit(0);
}

using SameProcessorDeadlock = ::testing::TestWithParam<Family>;
TEST_P(SameProcessorDeadlock, WaiterAtDispatchOnTheHoldersProcessorIsReportedAtOnce) {
    const Family &f = GetParam();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_DEATH(same_processor(f), "error: IrqlDroppedWhileHoldingLock.*error: Deadlock \\(terminal\\).*waits at "
                                    "DISPATCH_LEVEL on processor 1 .*same processor.*Deadlock is terminal");
    // "At once" is proved by the regex: the child's verifier watchdog is 60 s, its own
    // Watchdog (20 s) ends it without a Deadlock report. No wall-time assertion here.
    std::printf(
        "[ same processor %s ] child ended after %lld ms\n", f.name,
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()));
}
INSTANTIATE_TEST_SUITE_P(Blocking, SameProcessorDeadlock, ::testing::ValuesIn(families_where([](const Family &f) {
                             return !f.is_try && !f.function_form;
                         })),
                         family_name);

// A raising acquire that must wait for its processor: another thread of processor 1 raised to
// DISPATCH_LEVEL and never lowers. The verifier sees the acquire before the wait, so the
// watchdog's Deadlock report points at it.
constexpr int kProcessorWaitAcquireLine = __LINE__ + 18;
[[noreturn]] void processor_wait() {
    NdislockVerifierSetWatchdog(300);
    NDIS_SPIN_LOCK wanted;
    NdisAllocateSpinLock(&wanted);
    Watchdog dog("processor-wait child", std::chrono::seconds(20));
    Flag raised;
    std::thread holder([&] {
        NdislockBindCurrentThread(1);
        KIRQL old = 0;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        raised.set();
        for (;;)
            std::this_thread::sleep_for(std::chrono::milliseconds(10)); // never lowers
    });
    std::thread waiter([&] {
        NdislockBindCurrentThread(1);
        raised.wait();
        NdisAcquireSpinLock(&wanted); // waits for processor 1 forever
    });
    waiter.join();
    holder.join();
    std::_Exit(0);
}

TEST(ProcessorWaitDeadlock, ReportPointsAtTheAcquireThatWaitsForItsProcessor) {
    EXPECT_DEATH(processor_wait(), "error: Deadlock \\(terminal\\).*at [^ ]*" + std::string(basename_of(__FILE__)) +
                                       ":" + std::to_string(kProcessorWaitAcquireLine) + " ");
}

// A DPC that queues itself again on every run (a poll whose exit never comes) keeps its processor
// at DISPATCH_LEVEL for good: the processor's DPC thread waits for it forever. The report names the
// routine that keeps it, and points at it (the DPC thread's own wait has no site).
std::atomic<long> g_storm_runs{0};
constexpr int kStormRoutineLine = __LINE__ + 1; // its first line, or its body's in an optimized build
void RequeuesItself(PKDPC dpc, PVOID, PVOID, PVOID) {
    g_storm_runs.fetch_add(1, std::memory_order_relaxed);
    KeInsertQueueDpc(dpc, nullptr, nullptr);
}
[[noreturn]] void dpc_storm() {
    NdislockVerifierSetWatchdog(300);
    Watchdog dog("DPC storm child", std::chrono::seconds(20));
    static KDPC dpc;
    KeInitializeDpc(&dpc, RequeuesItself, nullptr);
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    for (;;)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

TEST(DpcStormDeadlock, TheReportNamesTheRoutineThatKeepsTheProcessor) {
    EXPECT_DEATH(dpc_storm(), "error: Deadlock \\(terminal\\).*for processor [0-9]+ \\(to run at DISPATCH_LEVEL\\).*"
                              "the processor's holder is thread [0-9]+, running the DPC routine [^\n]*RequeuesItself"
                              ".*\n  at [^ ]*" +
                                  std::string(basename_of(__FILE__)) + ":(" + std::to_string(kStormRoutineLine) + "|" +
                                  std::to_string(kStormRoutineLine + 1) + ") ");
}

} // namespace
