// The timer rules (ndislock/wdk_timers.h, docs/verifier.md), through the public API only, each with
// cases that must report and cases that must not:
//   TimerFreedWhileActive      NdisFreeTimerObject of a set one-shot timer, of one whose routine is
//                              queued, of one whose routine runs on another processor; not of a
//                              fired and flushed one, nor from the routine freeing its own timer
//   PeriodicTimerNotCancelled  a periodic timer still set at NdisFreeTimerObject, after
//                              MiniportHaltEx returned (at the line that set it), and at process
//                              exit (a death test's exit status); not once cancelled
//   TimerUsedAfterFree         set, cancel and free on a freed handle
//   BlockingAtDispatch         a periodic timer's cancel (it flushes the DPCs) at DISPATCH_LEVEL
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "ndislock/device.h"
#include "ndislock/wdk.h"
#include "ndislock/verifier.h"
#include "verifier_support.h"

using namespace vt;
using ndislock_test::eventually;
using ndislock_test::Watchdog;

namespace {

constexpr LONGLONG kMs = 10'000;
constexpr LONGLONG kHour = 3600'000 * kMs;
constexpr std::chrono::seconds kLimit{60};

LARGE_INTEGER relative(LONGLONG units) {
    LARGE_INTEGER due;
    due.QuadPart = -units;
    return due;
}

// The findings so far, forgotten (each check sees only what came after the previous one).
std::vector<Got> findings() {
    std::vector<Got> got = take();
    NdislockVerifierResetFindings();
    return got;
}

std::vector<Got> of_rule(const std::vector<Got> &got, const char *rule) {
    std::vector<Got> out;
    for (const Got &g : got)
        if (g.rule == rule) out.push_back(g);
    return out;
}

std::atomic<int> g_runs{0};
std::atomic<bool> g_entered{false}, g_release{false};
std::atomic<NDIS_HANDLE> g_self{nullptr};

void Count(PVOID, PVOID, PVOID, PVOID) { g_runs.fetch_add(1); }

// Runs until released (bounded: 20 s), so the test can free the timer while it runs.
void Hold(PVOID, PVOID, PVOID, PVOID) {
    g_entered.store(true);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!g_release.load() && std::chrono::steady_clock::now() < end) {
    }
}

// Frees its own one-shot timer: allowed (nothing of it is used after the routine returns).
void FreeSelf(PVOID, PVOID, PVOID, PVOID) {
    NdisFreeTimerObject(g_self.load());
    g_runs.fetch_add(1);
}

NDIS_HANDLE allocate(PNDIS_TIMER_FUNCTION function, NDIS_HANDLE ndis_handle = nullptr) {
    NDIS_TIMER_CHARACTERISTICS c{};
    c.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
    c.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
    c.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
    c.AllocationTag = 0x74736554;
    c.TimerFunction = function;
    NDIS_HANDLE handle = nullptr;
    EXPECT_EQ(NdisAllocateTimerObject(ndis_handle, &c, &handle), NDIS_STATUS_SUCCESS);
    return handle;
}

class TimerRules : public ::testing::Test {
protected:
    void SetUp() override {
        findings();
        g_runs.store(0);
        g_entered.store(false);
        g_release.store(false);
    }
    void TearDown() override {
        findings();
        EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    }
};

TEST_F(TimerRules, FreeingASetOneShotTimerIsTimerFreedWhileActiveAndCancelsIt) {
    NDIS_HANDLE timer = allocate(Count);
    NdisSetTimerObject(timer, relative(kHour), 0, nullptr);
    const int line = __LINE__ + 1;
    NdisFreeTimerObject(timer);
    const auto got = findings();
    expect_exactly(got, "TimerFreedWhileActive", __FILE__, line);
    EXPECT_NE(got[0].message.find("which is set"), std::string::npos) << got[0].message;
    KeFlushQueuedDpcs();
    EXPECT_EQ(g_runs.load(), 0);
}

// The timer expires while this thread holds its processor at DISPATCH_LEVEL, so its routine stays
// queued there: the free finds it queued (and removes it).
TEST_F(TimerRules, FreeingATimerWhoseRoutineIsQueuedIsTimerFreedWhileActive) {
    Watchdog dog("routine queued", kLimit);
    NDIS_HANDLE timer = allocate(Count);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    LARGE_INTEGER past;
    past.QuadPart = 0; // absolute, in 1601: expires at once
    NdisSetTimerObject(timer, past, 0, nullptr);
    // A sentinel due no earlier: timers expire in due-time order, each into its DPC queue in the
    // same step, so once the sentinel is signalled the routine is queued on this processor.
    KTIMER sentinel;
    KeInitializeTimer(&sentinel);
    KeSetTimer(&sentinel, past, nullptr);
    ASSERT_TRUE(eventually([&] { return KeReadStateTimer(&sentinel) == TRUE; }));
    const int line = __LINE__ + 1;
    NdisFreeTimerObject(timer);
    KeLowerIrql(old);
    const auto got = findings();
    expect_exactly(got, "TimerFreedWhileActive", __FILE__, line);
    EXPECT_NE(got[0].message.find("queued"), std::string::npos) << got[0].message;
    KeFlushQueuedDpcs();
    EXPECT_EQ(g_runs.load(), 0) << "the queued routine was removed";
}

TEST_F(TimerRules, FreeingATimerWhoseRoutineRunsElsewhereIsTimerFreedWhileActive) {
    Watchdog dog("routine running", kLimit);
    // The routine is held on purpose until the free is done: on a loaded machine that may take
    // longer than the 2 s after which the watchdog ends a DPC that never returns.
    NdislockVerifierSetWatchdog(30'000);
    NDIS_HANDLE timer = allocate(Hold);
    NdislockBindCurrentThread(0);
    std::thread setter([&] {
        NdislockBindCurrentThread(1); // the routine runs on processor 1
        NdisSetTimerObject(timer, relative(kMs), 0, nullptr);
    });
    setter.join();
    ASSERT_TRUE(eventually([] { return g_entered.load(); }));
    const int line = __LINE__ + 1;
    NdisFreeTimerObject(timer);
    g_release.store(true);
    KeFlushQueuedDpcs();
    const auto got = of_rule(findings(), "TimerFreedWhileActive");
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].line, line);
    EXPECT_NE(got[0].message.find("running on another processor"), std::string::npos) << got[0].message;
    NdislockVerifierSetWatchdog(0); // the default again
}

TEST_F(TimerRules, AFiredFlushedTimerIsFreedCleanlyAndARoutineMayFreeItsOwnOneShotTimer) {
    Watchdog dog("clean frees", kLimit);
    NDIS_HANDLE timer = allocate(Count);
    NdisSetTimerObject(timer, relative(kMs), 0, nullptr);
    ASSERT_TRUE(eventually([] { return g_runs.load() == 1; }));
    NdisCancelTimerObject(timer);
    KeFlushQueuedDpcs();
    NdisFreeTimerObject(timer);
    g_self.store(allocate(FreeSelf));
    NdisSetTimerObject(g_self.load(), relative(kMs), 0, nullptr);
    ASSERT_TRUE(eventually([] { return g_runs.load() == 2; }));
    KeFlushQueuedDpcs();
    const auto got = findings();
    EXPECT_TRUE(got.empty()) << dump(got);
}

TEST_F(TimerRules, FreeingASetPeriodicTimerIsPeriodicTimerNotCancelled) {
    NDIS_HANDLE timer = allocate(Count);
    NdisSetTimerObject(timer, relative(kHour), 1000, nullptr);
    const int line = __LINE__ + 1;
    NdisFreeTimerObject(timer);
    expect_exactly(findings(), "PeriodicTimerNotCancelled", __FILE__, line);
}

TEST_F(TimerRules, ACallOnAFreedTimerHandleIsTimerUsedAfterFree) {
    NDIS_HANDLE timer = allocate(Count);
    NdisFreeTimerObject(timer);
    int line = __LINE__ + 1;
    EXPECT_EQ(NdisSetTimerObject(timer, relative(kMs), 0, nullptr), FALSE);
    expect_exactly(findings(), "TimerUsedAfterFree", __FILE__, line);
    line = __LINE__ + 1;
    EXPECT_EQ(NdisCancelTimerObject(timer), FALSE);
    expect_exactly(findings(), "TimerUsedAfterFree", __FILE__, line);
    line = __LINE__ + 1;
    NdisFreeTimerObject(timer);
    expect_exactly(findings(), "TimerUsedAfterFree", __FILE__, line);
    KeFlushQueuedDpcs();
    EXPECT_EQ(g_runs.load(), 0);
}

TEST_F(TimerRules, CancellingAPeriodicTimerAtDispatchLevelIsBlockingAtDispatch) {
    NDIS_HANDLE timer = allocate(Count);
    NdisSetTimerObject(timer, relative(kHour), 1000, nullptr);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    const int line = __LINE__ + 1;
    EXPECT_EQ(NdisCancelTimerObject(timer), TRUE);
    KeLowerIrql(old);
    expect_exactly(findings(), "BlockingAtDispatch", __FILE__, line);
    NdisFreeTimerObject(timer);
    EXPECT_TRUE(findings().empty());
}

// ---- At halt ----------------------------------------------------------------------------------

struct Miniport {
    NDIS_HANDLE timer = nullptr;
    bool cancel_in_halt = false;
    int set_line = 0;
};

NDIS_STATUS Initialize(NDIS_HANDLE adapter, NDIS_HANDLE context, PNDIS_MINIPORT_INIT_PARAMETERS) {
    auto &m = *static_cast<Miniport *>(context);
    m.timer = allocate(Count, adapter);
    m.set_line = __LINE__ + 1;
    NdisSetTimerObject(m.timer, relative(kHour), 1000, nullptr);
    return NDIS_STATUS_SUCCESS;
}

VOID Halt(NDIS_HANDLE context, NDIS_HALT_ACTION) {
    auto &m = *static_cast<Miniport *>(context);
    if (m.cancel_in_halt) {
        NdisCancelTimerObject(m.timer);
        NdisFreeTimerObject(m.timer);
    }
}

TEST_F(TimerRules, APeriodicTimerStillSetAfterMiniportHaltExIsPeriodicTimerNotCancelled) {
    Miniport m;
    NDIS_HANDLE adapter = nullptr;
    ASSERT_EQ(NdislockMiniportInitialize(Initialize, &m, &adapter), NDIS_STATUS_SUCCESS);
    NdislockMiniportHalt(adapter, Halt, &m);
    expect_exactly(findings(), "PeriodicTimerNotCancelled", __FILE__, m.set_line);
    NdisCancelTimerObject(m.timer);
    NdisFreeTimerObject(m.timer);
    EXPECT_TRUE(findings().empty());

    Miniport clean;
    clean.cancel_in_halt = true;
    ASSERT_EQ(NdislockMiniportInitialize(Initialize, &clean, &adapter), NDIS_STATUS_SUCCESS);
    NdislockMiniportHalt(adapter, Halt, &clean);
    const auto got = findings();
    EXPECT_TRUE(got.empty()) << dump(got);
}

// Said at the halt, the same timer is not said again as the process exits: one bug, one report.
TEST_F(TimerRules, APeriodicTimerReportedAtHaltIsNotReportedAgainAtExit) {
    EXPECT_EXIT(
        {
            static Miniport m;
            NdislockVerifierSetExitCode(86);
            NDIS_HANDLE adapter = nullptr;
            if (NdislockMiniportInitialize(Initialize, &m, &adapter) != NDIS_STATUS_SUCCESS) std::_Exit(2);
            NdislockMiniportHalt(adapter, Halt, &m);
            std::exit(0);
        },
        ::testing::ExitedWithCode(86), "PeriodicTimerNotCancelled(.|\n)*verifier: 1 error finding reported");
}

// ---- Timers in freed memory ---------------------------------------------------------------------

// A driver frees (and the heap reuses) the memory of a KTIMER that is still set: the timer queue
// meets memory that is no timer any more and says so (bug check 0xC7), instead of following its
// overwritten links into a crash without a word.
TEST_F(TimerRules, ASetTimerWhoseMemoryIsOverwrittenIsABugCheckNotACrash) {
    EXPECT_DEATH(
        {
            struct Context {
                KTIMER timer;
                KDPC dpc;
            };
            auto *c = new Context;
            KeInitializeTimer(&c->timer);
            KeInitializeDpc(
                &c->dpc, [](PKDPC, PVOID, PVOID, PVOID) {}, nullptr);
            KeSetTimerEx(&c->timer, relative(20 * kMs), 5, &c->dpc);
            std::memset(static_cast<void *>(c), 0x5a, sizeof *c); // freed and reused: no KeCancelTimer before
            Watchdog dog("overwritten timer", std::chrono::seconds(20));
            for (int i = 0; i < 400; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            std::fprintf(stderr, "the timer queue never looked\n");
            std::_Exit(0);
        },
        "BugCheck(.|\n)*no longer holds a timer(.|\n)*0xC7 TIMER_OR_DPC_INVALID");
}

// The usual driver layout: the KTIMER inside a context the driver frees while the timer is set,
// and the heap reuses the memory without touching the timer's header: its queue links point
// anywhere. The queue checks every link against the timers it holds: a BugCheck, not a crash.
TEST_F(TimerRules, ASetTimerWhoseLinksAreOverwrittenIsABugCheckNotACrash) {
    EXPECT_DEATH(
        {
            struct Context {
                KTIMER timer;
                KDPC dpc;
            };
            static KTIMER later; // set behind it, so its links lead somewhere real
            auto *c = new Context;
            KeInitializeTimer(&later);
            KeInitializeTimer(&c->timer);
            KeInitializeDpc(
                &c->dpc, [](PKDPC, PVOID, PVOID, PVOID) {}, nullptr);
            KeSetTimer(&later, relative(kHour), nullptr);
            KeSetTimerEx(&c->timer, relative(20 * kMs), 5, &c->dpc);
            std::memset(static_cast<void *>(&c->timer.TimerListEntry), 0x5a, sizeof c->timer.TimerListEntry);
            Watchdog dog("overwritten timer links", std::chrono::seconds(20));
            for (int i = 0; i < 400; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            std::fprintf(stderr, "the timer queue never looked\n");
            std::_Exit(0);
        },
        "BugCheck(.|\n)*timer queue's links are broken \\(the KTIMER at 0x[0-9a-f]+\\)(.|\n)*"
        "0xC7 TIMER_OR_DPC_INVALID");
}

// ---- At exit ----------------------------------------------------------------------------------

void Tick(PKDPC, PVOID, PVOID, PVOID) {}

TEST_F(TimerRules, APeriodicKernelTimerStillSetAtExitIsPeriodicTimerNotCancelled) {
    EXPECT_EXIT(
        {
            static KTIMER timer;
            static KDPC dpc;
            NdislockVerifierSetExitCode(86);
            KeInitializeTimer(&timer);
            KeInitializeDpc(&dpc, Tick, nullptr);
            KeSetTimerEx(&timer, relative(kHour), 1000, &dpc);
            std::exit(0);
        },
        ::testing::ExitedWithCode(86), "PeriodicTimerNotCancelled");
}

TEST_F(TimerRules, ACancelledPeriodicKernelTimerIsNothingAtExit) {
    EXPECT_EXIT(
        {
            static KTIMER timer;
            static KDPC dpc;
            NdislockVerifierSetExitCode(86);
            KeInitializeTimer(&timer);
            KeInitializeDpc(&dpc, Tick, nullptr);
            KeSetTimerEx(&timer, relative(kHour), 1000, &dpc);
            KeCancelTimer(&timer);
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

} // namespace
