// Kernel timers and NDIS timer objects against the documented semantics (ndislock/wdk_timers.h,
// docs/timers.md), and the DPC extras (KeSetImportanceDpc, KeSetTargetProcessorDpcEx,
// KeQueryDpcWatchdogInformation). Suites "Timer" and "DpcExtras": run with the verifier on (a
// clean corpus: any finding fails the test) and off (tests/interrupt/CMakeLists.txt).
//
// Nothing here asserts a timing. "It fired" waits, bounded, until it did; "it no longer runs"
// is logic: after a cancel and KeFlushQueuedDpcs (or a periodic NdisCancelTimerObject) the count
// is read, a later one-shot sentinel timer is let fire, and the count must not have moved.
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>

#include <gtest/gtest.h>

#include "interrupt_support.h"
#include "ndislock/wdk.h"

namespace {

using ndislock_test::eventually;
using ndislock_test::Watchdog;

constexpr std::chrono::seconds kLimit{60};
constexpr LONGLONG kMs = 10'000; // 100 ns units per millisecond
constexpr LONGLONG kHour = 3600'000 * kMs;

LARGE_INTEGER relative(LONGLONG units) {
    LARGE_INTEGER due;
    due.QuadPart = -units;
    return due;
}

// System time as the WDK counts it: 100 ns units since 1601, from CLOCK_REALTIME.
LONGLONG system_time_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<LONGLONG>(ts.tv_sec) * 10'000'000 + ts.tv_nsec / 100 + 116'444'736'000'000'000LL;
}

// What one DPC routine saw.
struct Runs {
    std::atomic<int> count{0};
    std::atomic<int> irql_wrong{0}; // runs not at DISPATCH_LEVEL
    std::atomic<int> processor{-1}; // the last run's processor
    std::atomic<void *> context{nullptr};
    std::atomic<void *> argument1{nullptr};
};

void Counting(PKDPC, PVOID context, PVOID argument1, PVOID) {
    auto &r = *static_cast<Runs *>(context);
    if (KeGetCurrentIrql() != DISPATCH_LEVEL) r.irql_wrong.fetch_add(1);
    r.processor.store(static_cast<int>(KeGetCurrentProcessorNumberEx(nullptr)));
    r.argument1.store(argument1);
    r.count.fetch_add(1, std::memory_order_release);
}

// A one-shot sentinel set after the timer under test was stopped: once it has fired and the DPCs
// are flushed, a stopped timer that would still fire had every chance to.
void let_a_later_timer_fire() {
    KTIMER sentinel;
    KDPC dpc;
    Runs runs;
    KeInitializeTimer(&sentinel);
    KeInitializeDpc(&dpc, Counting, &runs);
    KeSetTimer(&sentinel, relative(20 * kMs), &dpc);
    ASSERT_TRUE(eventually([&] { return runs.count.load() == 1; }));
    KeFlushQueuedDpcs();
}

class Timer : public ndislock_test::ModelTest {};

TEST_F(Timer, InitializeMakesANotificationOrSynchronizationTimerNotSignalledAndNotQueued) {
    KTIMER timer;
    std::memset(&timer, 0xAB, sizeof timer);
    KeInitializeTimer(&timer);
    EXPECT_EQ(timer.Header.Type, TimerNotificationObject);
    EXPECT_EQ(timer.Header.SignalState, 0);
    EXPECT_EQ(timer.Header.Size, sizeof(KTIMER) / sizeof(LONG));
    EXPECT_EQ(timer.Dpc, nullptr);
    EXPECT_EQ(timer.Period, 0u);
    EXPECT_EQ(KeReadStateTimer(&timer), FALSE);
    EXPECT_EQ(KeCancelTimer(&timer), FALSE);
    KeInitializeTimerEx(&timer, SynchronizationTimer);
    EXPECT_EQ(timer.Header.Type, TimerSynchronizationObject);
    KeInitializeTimerEx(&timer, NotificationTimer);
    EXPECT_EQ(timer.Header.Type, TimerNotificationObject);
}

TEST_F(Timer, ARelativeOneShotTimerFiresOnceAsADpcAtDispatchLevelOnAVirtualProcessor) {
    Watchdog dog("relative one-shot", kLimit);
    KTIMER timer;
    KDPC dpc;
    Runs runs;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, Counting, &runs);
    EXPECT_EQ(KeSetTimer(&timer, relative(5 * kMs), &dpc), FALSE);
    ASSERT_TRUE(eventually([&] { return runs.count.load() == 1; }));
    EXPECT_EQ(runs.irql_wrong.load(), 0);
    EXPECT_GE(runs.processor.load(), 0);
    EXPECT_LT(runs.processor.load(), static_cast<int>(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS)));
    EXPECT_EQ(KeReadStateTimer(&timer), TRUE);
    EXPECT_EQ(KeCancelTimer(&timer), FALSE) << "a one-shot timer leaves the queue as it expires";
    let_a_later_timer_fire();
    EXPECT_EQ(runs.count.load(), 1) << "a one-shot timer fires once";
}

TEST_F(Timer, AnAbsoluteDueTimeFiresAndOneInThePastFiresAtOnce) {
    Watchdog dog("absolute", kLimit);
    KTIMER soon, past;
    KDPC soon_dpc, past_dpc;
    Runs soon_runs, past_runs;
    KeInitializeTimer(&soon);
    KeInitializeTimer(&past);
    KeInitializeDpc(&soon_dpc, Counting, &soon_runs);
    KeInitializeDpc(&past_dpc, Counting, &past_runs);
    LARGE_INTEGER at;
    at.QuadPart = system_time_now() + 10 * kMs;
    KeSetTimer(&soon, at, &soon_dpc);
    at.QuadPart = system_time_now() - kHour;
    KeSetTimer(&past, at, &past_dpc);
    ASSERT_TRUE(eventually([&] { return soon_runs.count.load() == 1 && past_runs.count.load() == 1; }));
    EXPECT_EQ(KeReadStateTimer(&soon), TRUE);
    EXPECT_EQ(KeReadStateTimer(&past), TRUE);
    // The DPC's system arguments carry the expiry's system time (low 32 bits first).
    EXPECT_NE(past_runs.argument1.load(), nullptr);
}

TEST_F(Timer, AFarTimerCancelledBeforeItsDueTimeNeverRunsAndCancelSaysItWasQueued) {
    KTIMER timer;
    KDPC dpc;
    Runs runs;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, Counting, &runs);
    EXPECT_EQ(KeSetTimer(&timer, relative(kHour), &dpc), FALSE);
    EXPECT_EQ(KeReadStateTimer(&timer), FALSE);
    EXPECT_EQ(KeCancelTimer(&timer), TRUE);
    EXPECT_EQ(KeCancelTimer(&timer), FALSE);
    KeFlushQueuedDpcs();
    EXPECT_EQ(runs.count.load(), 0);
}

TEST_F(Timer, SettingAQueuedTimerAgainReturnsTrueAndResetsItsState) {
    Watchdog dog("set again", kLimit);
    KTIMER timer;
    KDPC dpc;
    Runs runs;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, Counting, &runs);
    EXPECT_EQ(KeSetTimer(&timer, relative(kMs), &dpc), FALSE);
    ASSERT_TRUE(eventually([&] { return KeReadStateTimer(&timer) == TRUE; }));
    EXPECT_EQ(KeSetTimer(&timer, relative(kHour), &dpc), FALSE) << "it had expired: not in the queue";
    EXPECT_EQ(KeReadStateTimer(&timer), FALSE) << "setting a timer makes it not signalled";
    EXPECT_EQ(KeSetTimerEx(&timer, relative(kHour), 0, &dpc), TRUE) << "still queued: set again";
    EXPECT_EQ(KeCancelTimer(&timer), TRUE);
    KeFlushQueuedDpcs();
    EXPECT_EQ(runs.count.load(), 1);
}

TEST_F(Timer, APeriodicTimerFiresRepeatedlyUntilCancelledAndNotAfterTheFlush) {
    Watchdog dog("periodic", kLimit);
    KTIMER timer;
    KDPC dpc;
    Runs runs;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, Counting, &runs);
    EXPECT_EQ(KeSetTimerEx(&timer, relative(kMs), 1, &dpc), FALSE);
    ASSERT_TRUE(eventually([&] { return runs.count.load() >= 3; }));
    EXPECT_EQ(KeCancelTimer(&timer), TRUE) << "a periodic timer is always in the queue";
    KeFlushQueuedDpcs();
    const int after = runs.count.load();
    let_a_later_timer_fire();
    EXPECT_EQ(runs.count.load(), after) << "the routine ran after the cancel and the flush";
    EXPECT_EQ(runs.irql_wrong.load(), 0);
}

TEST_F(Timer, TheDpcRunsOnTheProcessorThatSetTheTimerOrOnItsTarget) {
    Watchdog dog("processor", kLimit);
    if (KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS) < 2) GTEST_SKIP() << "needs 2 processors";
    KTIMER timer;
    KDPC dpc;
    Runs runs;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, Counting, &runs);
    ndislock_test::on_processor(1, [&] { KeSetTimer(&timer, relative(kMs), &dpc); });
    ASSERT_TRUE(eventually([&] { return runs.count.load() == 1; }));
    EXPECT_EQ(runs.processor.load(), 1);
    KeSetTargetProcessorDpc(&dpc, 0);
    ndislock_test::on_processor(1, [&] { KeSetTimer(&timer, relative(kMs), &dpc); });
    ASSERT_TRUE(eventually([&] { return runs.count.load() == 2; }));
    EXPECT_EQ(runs.processor.load(), 0);
    KeFlushQueuedDpcs();
}

TEST_F(Timer, ATimerWithoutADpcIsSignalledAtItsDueTime) {
    Watchdog dog("no dpc", kLimit);
    KTIMER timer;
    KeInitializeTimerEx(&timer, SynchronizationTimer);
    KeSetTimer(&timer, relative(kMs), nullptr);
    ASSERT_TRUE(eventually([&] { return KeReadStateTimer(&timer) == TRUE; }));
}

// ---- NDIS timer objects ---------------------------------------------------------------------

struct ObjectRuns {
    std::atomic<int> count{0};
    std::atomic<int> irql_wrong{0};
    std::atomic<void *> context{nullptr};
};
ObjectRuns g_object_runs;

void NetTimer(PVOID, PVOID context, PVOID, PVOID) {
    if (KeGetCurrentIrql() != DISPATCH_LEVEL) g_object_runs.irql_wrong.fetch_add(1);
    g_object_runs.context.store(context);
    g_object_runs.count.fetch_add(1, std::memory_order_release);
}

NDIS_TIMER_CHARACTERISTICS characteristics(void *default_context) {
    NDIS_TIMER_CHARACTERISTICS c{};
    c.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
    c.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
    c.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
    c.AllocationTag = 0x74736554; // 'tseT'
    c.TimerFunction = NetTimer;
    c.FunctionContext = default_context;
    return c;
}

class TimerObject : public ndislock_test::ModelTest {
protected:
    void SetUp() override {
        ModelTest::SetUp();
        g_object_runs.count.store(0);
        g_object_runs.irql_wrong.store(0);
        g_object_runs.context.store(nullptr);
    }
};

TEST_F(TimerObject, AllocateChecksTheCharacteristics) {
    NDIS_HANDLE handle = nullptr;
    int context = 0;
    NDIS_TIMER_CHARACTERISTICS c = characteristics(&context);
    c.Header.Type = 0x84;
    EXPECT_EQ(NdisAllocateTimerObject(nullptr, &c, &handle), NDIS_STATUS_INVALID_PARAMETER);
    c = characteristics(&context);
    c.TimerFunction = nullptr;
    EXPECT_EQ(NdisAllocateTimerObject(nullptr, &c, &handle), NDIS_STATUS_INVALID_PARAMETER);
    EXPECT_EQ(NdisAllocateTimerObject(nullptr, nullptr, &handle), NDIS_STATUS_INVALID_PARAMETER);
    c = characteristics(&context);
    ASSERT_EQ(NdisAllocateTimerObject(nullptr, &c, &handle), NDIS_STATUS_SUCCESS);
    EXPECT_NE(handle, nullptr);
    NdisFreeTimerObject(handle);
}

TEST_F(TimerObject, AOneShotTimerFiresOnceWithTheSetsContextOrTheDefault) {
    Watchdog dog("object one-shot", kLimit);
    int default_context = 0, set_context = 0;
    NDIS_TIMER_CHARACTERISTICS c = characteristics(&default_context);
    NDIS_HANDLE timer = nullptr;
    ASSERT_EQ(NdisAllocateTimerObject(nullptr, &c, &timer), NDIS_STATUS_SUCCESS);
    EXPECT_EQ(NdisSetTimerObject(timer, relative(kMs), 0, &set_context), FALSE);
    ASSERT_TRUE(eventually([&] { return g_object_runs.count.load() == 1; }));
    EXPECT_EQ(g_object_runs.context.load(), &set_context);
    EXPECT_EQ(NdisCancelTimerObject(timer), FALSE) << "it fired: no longer in the queue";
    EXPECT_EQ(NdisSetTimerObject(timer, relative(kMs), 0, nullptr), FALSE);
    ASSERT_TRUE(eventually([&] { return g_object_runs.count.load() == 2; }));
    EXPECT_EQ(g_object_runs.context.load(), &default_context) << "NULL FunctionContext: the characteristics' one";
    EXPECT_EQ(g_object_runs.irql_wrong.load(), 0);
    KeFlushQueuedDpcs();
    NdisFreeTimerObject(timer);
    let_a_later_timer_fire();
    EXPECT_EQ(g_object_runs.count.load(), 2);
}

TEST_F(TimerObject, SetAgainAndCancelSayWhetherItWasQueued) {
    NDIS_TIMER_CHARACTERISTICS c = characteristics(nullptr);
    NDIS_HANDLE timer = nullptr;
    ASSERT_EQ(NdisAllocateTimerObject(nullptr, &c, &timer), NDIS_STATUS_SUCCESS);
    EXPECT_EQ(NdisSetTimerObject(timer, relative(kHour), 0, nullptr), FALSE);
    EXPECT_EQ(NdisSetTimerObject(timer, relative(kHour), 0, nullptr), TRUE);
    EXPECT_EQ(NdisCancelTimerObject(timer), TRUE);
    EXPECT_EQ(NdisCancelTimerObject(timer), FALSE);
    NdisFreeTimerObject(timer);
    EXPECT_EQ(g_object_runs.count.load(), 0);
}

TEST_F(TimerObject, APeriodicTimerFiresUntilCancelAndNeverAfterCancelReturns) {
    Watchdog dog("object periodic", kLimit);
    NDIS_TIMER_CHARACTERISTICS c = characteristics(nullptr);
    NDIS_HANDLE timer = nullptr;
    ASSERT_EQ(NdisAllocateTimerObject(nullptr, &c, &timer), NDIS_STATUS_SUCCESS);
    EXPECT_EQ(NdisSetTimerObject(timer, relative(kMs), 1, nullptr), FALSE);
    ASSERT_TRUE(eventually([&] { return g_object_runs.count.load() >= 3; }));
    // A periodic timer's cancel flushes the DPCs itself: no KeFlushQueuedDpcs here.
    EXPECT_EQ(NdisCancelTimerObject(timer), TRUE);
    const int after = g_object_runs.count.load();
    let_a_later_timer_fire();
    EXPECT_EQ(g_object_runs.count.load(), after);
    EXPECT_EQ(g_object_runs.irql_wrong.load(), 0);
    NdisFreeTimerObject(timer);
}

// ---- DPC extras -------------------------------------------------------------------------------

std::atomic<int> g_order[8];
std::atomic<int> g_order_next{0};

void Ordered(PKDPC, PVOID context, PVOID, PVOID) {
    g_order[g_order_next.fetch_add(1) % 8].store(static_cast<int>(reinterpret_cast<std::intptr_t>(context)));
}

class DpcExtras : public ndislock_test::ModelTest {};

// Queued while this thread holds its processor at DISPATCH_LEVEL, so none runs before all are in.
TEST_F(DpcExtras, AHighImportanceDpcGoesToTheHeadOfTheQueueTheOthersToTheTail) {
    Watchdog dog("importance", kLimit);
    g_order_next.store(0);
    KDPC medium, low, high, medium_high;
    KeInitializeDpc(&medium, Ordered, reinterpret_cast<PVOID>(1));
    KeInitializeDpc(&low, Ordered, reinterpret_cast<PVOID>(2));
    KeInitializeDpc(&high, Ordered, reinterpret_cast<PVOID>(3));
    KeInitializeDpc(&medium_high, Ordered, reinterpret_cast<PVOID>(4));
    KeSetImportanceDpc(&low, LowImportance);
    KeSetImportanceDpc(&high, HighImportance);
    KeSetImportanceDpc(&medium_high, MediumHighImportance);
    EXPECT_EQ(high.Importance, HighImportance);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeInsertQueueDpc(&medium, nullptr, nullptr);
    KeInsertQueueDpc(&low, nullptr, nullptr);
    KeInsertQueueDpc(&high, nullptr, nullptr);
    KeInsertQueueDpc(&medium_high, nullptr, nullptr);
    KeLowerIrql(old);
    KeFlushQueuedDpcs();
    ASSERT_EQ(g_order_next.load(), 4);
    EXPECT_EQ(g_order[0].load(), 3) << "HighImportance runs first";
    EXPECT_EQ(g_order[1].load(), 1);
    EXPECT_EQ(g_order[2].load(), 2);
    EXPECT_EQ(g_order[3].load(), 4);
}

TEST_F(DpcExtras, SetTargetProcessorDpcExTakesGroupZeroAndAnExistingProcessor) {
    Watchdog dog("target ex", kLimit);
    KDPC dpc;
    Runs runs;
    KeInitializeDpc(&dpc, Counting, &runs);
    PROCESSOR_NUMBER number{};
    number.Group = 1;
    EXPECT_EQ(KeSetTargetProcessorDpcEx(&dpc, &number), STATUS_INVALID_PARAMETER);
    number.Group = 0;
    number.Number = static_cast<UCHAR>(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS));
    EXPECT_EQ(KeSetTargetProcessorDpcEx(&dpc, &number), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(KeSetTargetProcessorDpcEx(&dpc, nullptr), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(dpc.Number, 0) << "a refused target leaves the DPC as it was";
    number.Number = static_cast<UCHAR>(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS) - 1);
    EXPECT_EQ(KeSetTargetProcessorDpcEx(&dpc, &number), STATUS_SUCCESS);
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    KeFlushQueuedDpcs();
    EXPECT_EQ(runs.count.load(), 1);
    EXPECT_EQ(runs.processor.load(), static_cast<int>(number.Number));
}

struct WatchdogSeen {
    std::atomic<NTSTATUS> status{-1};
    KDPC_WATCHDOG_INFORMATION info{};
    std::atomic<bool> done{false};
};

void Query(PKDPC, PVOID context, PVOID, PVOID) {
    auto &seen = *static_cast<WatchdogSeen *>(context);
    seen.status.store(KeQueryDpcWatchdogInformation(&seen.info));
    seen.done.store(true, std::memory_order_release);
}

TEST_F(DpcExtras, QueryDpcWatchdogInformationAnswersInsideADpcOnly) {
    Watchdog dog("dpc watchdog", kLimit);
    KDPC_WATCHDOG_INFORMATION info;
    std::memset(&info, 0xAB, sizeof info);
    EXPECT_EQ(KeQueryDpcWatchdogInformation(&info), STATUS_UNSUCCESSFUL);
    EXPECT_EQ(info.DpcTimeLimit, 0u);
    EXPECT_EQ(info.DpcWatchdogLimit, 0u);

    NdislockSetDpcWatchdogLimits(5'000'000'000ull, 30'000'000'000ull);
    WatchdogSeen seen;
    KDPC dpc;
    KeInitializeDpc(&dpc, Query, &seen);
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    KeFlushQueuedDpcs();
    ASSERT_TRUE(seen.done.load(std::memory_order_acquire));
    EXPECT_EQ(seen.status.load(), STATUS_SUCCESS);
    EXPECT_EQ(seen.info.DpcTimeLimit, 5'000'000u) << "microseconds";
    EXPECT_EQ(seen.info.DpcWatchdogLimit, 30'000'000u);
    EXPECT_GT(seen.info.DpcTimeCount, 0u);
    EXPECT_LE(seen.info.DpcTimeCount, seen.info.DpcTimeLimit);
    EXPECT_GT(seen.info.DpcWatchdogCount, 0u);
    EXPECT_LE(seen.info.DpcWatchdogCount, seen.info.DpcWatchdogLimit);

    NdislockSetDpcWatchdogLimits(0, 0); // the defaults: cumulative = 6 x single
    WatchdogSeen defaults;
    KeInitializeDpc(&dpc, Query, &defaults);
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    KeFlushQueuedDpcs();
    ASSERT_TRUE(defaults.done.load(std::memory_order_acquire));
    EXPECT_GT(defaults.info.DpcTimeLimit, 0u);
    EXPECT_EQ(defaults.info.DpcWatchdogLimit, 6 * defaults.info.DpcTimeLimit);
}

TEST_F(DpcExtras, ATimersRoutineCanQueryTheWatchdogToo) {
    Watchdog dog("timer dpc watchdog", kLimit);
    WatchdogSeen seen;
    KTIMER timer;
    KDPC dpc;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, Query, &seen);
    KeSetTimer(&timer, relative(kMs), &dpc);
    ASSERT_TRUE(eventually([&] { return seen.done.load(std::memory_order_acquire); }));
    EXPECT_EQ(seen.status.load(), STATUS_SUCCESS);
    KeFlushQueuedDpcs();
}

} // namespace
