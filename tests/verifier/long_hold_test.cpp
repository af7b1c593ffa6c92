// Long holds and long driver routines reported the first time they happen (verifier/long_holds.h):
// a single hold or ISR or DPC run far over its budget, with the default hold sampling, in every
// round; and nothing for holders that the OS deschedules, with threads outnumbering cores.
#include <ctime>
#include <sys/mman.h>
#include <string>
#include <chrono>
#include <thread>

#include "ndislock/ndis_interrupt.h"
#include "ndislock/wdk.h"
#include "ndislock/verifier.h"
#include "sentinel_support.h"
#include "verifier_support.h"

using namespace vt;

namespace {

constexpr int kRounds = 50;
constexpr int kTries = 10;                   // rounds of a one-hold test, until one where the sentinel had a processor
constexpr std::uint64_t kLongNs = 2'000'000; // 80x the 25 us hold and ISR budgets, 20x the DPC's

class LongHolds : public VerifierTest {
protected:
    void SetUp() override {
        VerifierTest::SetUp();
        NdislockVerifierSetHoldSampling(0);    // the default: one hold in 16 is timed
        NdislockVerifierSetHoldBudget(25'000); // the default, sanitized or not
        // The sentinel starts with the verifier: let it take its first looks before the first
        // round (bounded; it looks every 20 ms at least, napping).
        const std::uint64_t looks = ndislock::verifier::sentinel_looks();
        const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (ndislock::verifier::sentinel_looks() < looks + 2 && std::chrono::steady_clock::now() < limit)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ASSERT_GE(ndislock::verifier::sentinel_looks(), looks + 2) << "the long-hold sentinel never looked";
    }
};

} // namespace

// One 2 ms hold a round, reported every round; with fault_first the holder first writes to a page
// it never touched (a page fault makes the timed path leave the hold untimed: the sentinel, which
// reads the holder's CPU clock, must still report it).
static void expect_a_2ms_hold_reported_in_every_round(const char *name, bool fault_first) {
    int reported = 0, unfair = 0;
    for (int round = 0; reported < kRounds && round < 2 * kRounds; ++round) {
        NdislockVerifierResetFindings();
        Slot s;
        NdislockSetLockName(s.l, keep(std::string(name) + std::to_string(round) + "/"));
        NdisAllocateSpinLock(s.l);
        void *fresh = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ASSERT_NE(fresh, MAP_FAILED);
        const std::uint64_t looks = ndislock::verifier::sentinel_looks();
        NdisAcquireSpinLock(s.l);
        if (fault_first) *static_cast<volatile char *>(fresh) = 1; // its first touch: a page fault
        const std::uint64_t not_run = busy_own_ns(kLongNs);
        const int line = __LINE__ + 1;
        NdisReleaseSpinLock(s.l);
        // Fair: the sentinel had a processor, and so did the holder for most of the 2 ms (beside
        // other busy threads that outnumber the cores, the OS switches it out for much of it, and
        // stretches it was switched out late in count nothing: verifier/long_holds.h).
        const bool fair = sentinel_had_a_processor(looks) && not_run <= kLongNs / 4;
        const std::vector<Got> got = take();
        NdisFreeSpinLock(s.l);
        munmap(fresh, 4096);
        if (got.size() == 1 && got[0].rule == "LockHeldTooLong" && got[0].line == line &&
            ends_with(got[0].file, "long_hold_test.cpp"))
            ++reported;
        else if (!fair && got.empty())
            ++unfair;
        else
            ADD_FAILURE() << "round " << round << ": " << dump(got);
        // Quiet between rounds: the sentinel naps, and the next first acquire must wake it.
        if (round % 10 == 9) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(reported, kRounds) << unfair << " round(s) where the sentinel had no processor";
    ::testing::Test::RecordProperty("rounds_without_sentinel", unfair);
}

TEST_F(LongHolds, OneHoldOf2msIsReportedInEveryRound) {
    expect_a_2ms_hold_reported_in_every_round("long.once.", false);
}

TEST_F(LongHolds, OneHoldOf2msWithAPageFaultInItIsReportedInEveryRound) {
    expect_a_2ms_hold_reported_in_every_round("long.fault.", true);
}

// The documented factor (verifier.md, "Far over budget"): a hold of 10x the budget, reported the
// first time, whenever the sentinel was on time.
TEST_F(LongHolds, AHoldOfTenTimesTheBudgetIsReportedTheFirstTime) {
    int reported = 0, unfair = 0;
    for (int round = 0; reported < kRounds && round < 4 * kRounds; ++round) {
        Slot s;
        NdislockSetLockName(s.l, keep("long.ten." + std::to_string(round) + "/"));
        NdisAllocateSpinLock(s.l);
        const std::uint64_t looks = ndislock::verifier::sentinel_looks();
        NdisAcquireSpinLock(s.l);
        const std::uint64_t not_run = busy_own_ns(10 * 25'000);
        NdisReleaseSpinLock(s.l);
        const std::uint64_t seen = ndislock::verifier::sentinel_looks() - looks;
        const std::vector<Got> got = take();
        NdisFreeSpinLock(s.l);
        if (got.size() == 1 && got[0].rule == "LockHeldTooLong") ++reported;
        // 250 us: 6 looks or more when the sentinel is on time. The 10x margin also assumes the
        // holder ran throughout: time the OS or the host took it away (a busy machine, another
        // test beside this one) is not counted (verifier/long_holds.h), so such a round is
        // retried, as is one with few looks. Under a sanitizer a beat waits for the holder's next
        // intercepted call (verifier.md), and 10x is not promised: a miss is retried there too.
        // The test asks for 50 reports in 200 rounds.
        else if (got.empty() && (seen < 6 || not_run > 25'000 || kSanitized))
            ++unfair;
        else
            ADD_FAILURE() << "round " << round << ", " << seen << " looks, " << not_run / 1000
                          << " us not run: " << dump(got);
    }
    EXPECT_EQ(reported, kRounds) << unfair << " round(s) where the sentinel had no processor";
}

TEST_F(LongHolds, TheReportSaysHowLongAtLeastAndTheBudget) {
    Slot s;
    NdislockSetLockName(s.l, "long.text/");
    NdisAllocateSpinLock(s.l);
    std::vector<Got> got;
    for (int tries = 0; tries < kTries && got.empty(); ++tries) { // again if the sentinel had no processor
        const std::uint64_t looks = ndislock::verifier::sentinel_looks();
        KIRQL old;
        KeAcquireSpinLock(&s.l->SpinLock, &old);
        busy_own_ns(kLongNs);
        KeReleaseSpinLock(&s.l->SpinLock, old);
        got = take();
        if (sentinel_had_a_processor(looks)) break;
    }
    NdisFreeSpinLock(s.l);
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "LockHeldTooLong");
    EXPECT_EQ(got[0].severity, NDISLOCK_SEVERITY_WARNING);
    EXPECT_NE(got[0].message.find("held for at least"), std::string::npos) << got[0].message;
    EXPECT_NE(got[0].message.find("over the 25.0 us budget"), std::string::npos) << got[0].message;
}

TEST_F(LongHolds, AnInnerLongHoldIsChargedToTheOuterLockFirstTaken) {
    // The sentinel watches the lock held longest; the inner lock is held as long as the outer
    // one here, and the report names the outer one's release.
    Slot a, b;
    NdislockSetLockName(a.l, "long.outer/");
    NdislockSetLockName(b.l, "long.inner/");
    NdisAllocateSpinLock(a.l);
    NdisAllocateSpinLock(b.l);
    std::vector<Got> got;
    int line = 0;
    for (int tries = 0; tries < kTries && got.empty(); ++tries) { // again if the sentinel had no processor
        const std::uint64_t looks = ndislock::verifier::sentinel_looks();
        NdisAcquireSpinLock(a.l);
        NdisDprAcquireSpinLock(b.l);
        busy_own_ns(kLongNs);
        NdisDprReleaseSpinLock(b.l);
        line = __LINE__ + 1;
        NdisReleaseSpinLock(a.l);
        got = take();
        if (sentinel_had_a_processor(looks)) break;
    }
    NdisFreeSpinLock(a.l);
    NdisFreeSpinLock(b.l);
    ASSERT_GE(got.size(), 1u) << dump(got);
    bool outer = false;
    for (const Got &g : got) {
        EXPECT_EQ(g.rule, "LockHeldTooLong") << dump(got);
        outer = outer || (g.line == line && g.lock_class.find("long.outer/") != std::string::npos);
    }
    EXPECT_TRUE(outer) << dump(got);
}

TEST_F(LongHolds, AHolderThatSleepsIsNotCharged) {
    // Descheduled while holding (a holder at DISPATCH_LEVEL on Windows never is): the sentinel
    // sees the hold twice, but the holder's CPU clock stands still.
    Slot s;
    NdislockSetLockName(s.l, "long.sleeper/");
    NdisAllocateSpinLock(s.l);
    for (int i = 0; i < 5; ++i) {
        NdisAcquireSpinLock(s.l);
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        NdisReleaseSpinLock(s.l);
    }
    NdisFreeSpinLock(s.l);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// A driver's first DPC queued and first timer set under its spin lock start ndislock's processor
// and timer threads inside the hold (thread creation, then the new threads' first run: 0.35-28 ms
// on a loaded machine). That is ndislock's time, not the hold's: nothing is reported, with every
// hold timed and the sentinel looking.
TEST_F(LongHolds, StartingTheDpcAndTimerThreadsInsideAHoldIsNotChargedToIt) {
    NdislockVerifierSetHoldSampling(1);
    Slot s;
    NdislockSetLockName(s.l, "long.first-dpc/");
    NdisAllocateSpinLock(s.l);
    static std::atomic<int> ran{0};
    static KDPC dpc;
    KeInitializeDpc(
        &dpc, [](PKDPC, PVOID, PVOID, PVOID) { ran.fetch_add(1); }, nullptr);
    KeSetTargetProcessorDpc(&dpc, 1);
    static KTIMER timer;
    KeInitializeTimer(&timer);
    NdisAcquireSpinLock(s.l);
    EXPECT_TRUE(KeInsertQueueDpc(&dpc, nullptr, nullptr));
    LARGE_INTEGER due;
    due.QuadPart = -10'000'000; // 1 s from now: cancelled before it expires
    KeSetTimer(&timer, due, nullptr);
    NdisReleaseSpinLock(s.l);
    KeCancelTimer(&timer);
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ran.load() == 0 && std::chrono::steady_clock::now() < limit)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(ran.load(), 1);
    NdisFreeSpinLock(s.l);
    NdislockVerifierSetHoldSampling(0);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}
