// The verifier on the Ke calls of issue #25 part 6: the threaded-DPC (ForDpc) and RaiseToSynch
// lock forms are seen like the other variants (their misuse reported by rule ID at the call, their
// correct pairs not at all), the critical-region and bug-check calls report BugCheck at the line.
#include "ndislock/wdk.h"
#include "verifier_support.h"

using namespace vt;

namespace {

std::string site_regex(int line) { return std::string(vt::basename_of(__FILE__)) + ":" + std::to_string(line); }

// ---- ForDpc -------------------------------------------------------------------------------------

// The documented pair, and KeReleaseSpinLock (the same raising family) on a ForDpc acquire: the
// IRQL goes back either way, so neither is a variant mismatch.
TEST_F(VerifierTest, ForDpc_ItsPairsReportNothing) {
    auto *lock = static_cast<PKSPIN_LOCK>(fresh_storage());
    KeInitializeSpinLock(lock);
    KIRQL old = KeAcquireSpinLockForDpc(lock);
    KeReleaseSpinLockForDpc(lock, old);
    old = KeAcquireSpinLockForDpc(lock);
    KeReleaseSpinLock(lock, old);
    auto *queued = static_cast<PKSPIN_LOCK>(fresh_storage());
    KeInitializeSpinLock(queued);
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLockForDpc(queued, &h);
    KeReleaseInStackQueuedSpinLockForDpc(&h);
    KeAcquireInStackQueuedSpinLockForDpc(queued, &h);
    KeReleaseInStackQueuedSpinLock(&h);
    EXPECT_TRUE(take().empty()) << dump(take());
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(VerifierTest, ForDpc_ReleasedFromDpcLevelNeverRestoresTheIrql) {
    auto *lock = static_cast<PKSPIN_LOCK>(fresh_storage());
    KeInitializeSpinLock(lock);
    const int acquired_at = AT(KeAcquireSpinLockForDpc(lock));
    const int line = AT(KeReleaseSpinLockFromDpcLevel(lock));
    const std::vector<Got> got = take();
    to_passive();
    expect_exactly(got, "ReleaseVariantMismatch", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].other_line, acquired_at);
        EXPECT_NE(got[0].message.find("KeAcquireSpinLockForDpc"), std::string::npos) << got[0].message;
        EXPECT_NE(got[0].message.find("KeReleaseSpinLockForDpc"), std::string::npos) << got[0].message;
    }
}

TEST_F(VerifierTest, ForDpc_AWrongOldIrqlIsReported) {
    auto *lock = static_cast<PKSPIN_LOCK>(fresh_storage());
    KeInitializeSpinLock(lock);
    (void)KeAcquireSpinLockForDpc(lock); // from PASSIVE_LEVEL
    const int line = AT(KeReleaseSpinLockForDpc(lock, APC_LEVEL));
    const std::vector<Got> got = take();
    to_passive();
    expect_exactly(got, "WrongOldIrql", __FILE__, line);
}

TEST_F(VerifierTest, ForDpc_AboveDispatchIsAcquireAboveDispatch) {
    auto *lock = static_cast<PKSPIN_LOCK>(fresh_storage());
    KeInitializeSpinLock(lock);
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    KLOCK_QUEUE_HANDLE h;
    const int line = AT(KeAcquireInStackQueuedSpinLockForDpc(lock, &h));
    const std::vector<Got> got = take();
    EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL) << "Driver Verifier leaves the IRQL where it was";
    KeLowerIrql(DISPATCH_LEVEL);
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&h);
    to_passive();
    expect_exactly(got, "AcquireAboveDispatch", __FILE__, line);
}

// ---- RaiseToSynch -------------------------------------------------------------------------------

// Held at SYNCH_LEVEL and released there, from any IRQL up to SYNCH_LEVEL: nothing to report.
TEST_F(VerifierTest, RaiseToSynch_ReleasedAtSynchLevelReportsNothing) {
    auto *lock = static_cast<PKSPIN_LOCK>(fresh_storage());
    KeInitializeSpinLock(lock);
    for (const KIRQL start : {KIRQL{PASSIVE_LEVEL}, KIRQL{DISPATCH_LEVEL}, KIRQL{SYNCH_LEVEL}}) {
        KIRQL entry = PASSIVE_LEVEL;
        if (start != PASSIVE_LEVEL) KeRaiseIrql(start, &entry);
        const KIRQL old = KeAcquireSpinLockRaiseToSynch(lock);
        EXPECT_EQ(KeGetCurrentIrql(), SYNCH_LEVEL);
        KeReleaseSpinLock(lock, old);
        EXPECT_EQ(KeGetCurrentIrql(), start);
        to_passive();
    }
    EXPECT_TRUE(take().empty()) << dump(take());
}

TEST_F(VerifierTest, RaiseToSynch_ReleasedBelowSynchLevelIsReleaseNotAtDispatch) {
    auto *lock = static_cast<PKSPIN_LOCK>(fresh_storage());
    KeInitializeSpinLock(lock);
    const KIRQL old = KeAcquireSpinLockRaiseToSynch(lock);
    KeLowerIrql(DISPATCH_LEVEL);
    const int line = AT(KeReleaseSpinLock(lock, old));
    const std::vector<Got> got = take();
    to_passive();
    expect_exactly(got, "ReleaseNotAtDispatch", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("SYNCH_LEVEL"), std::string::npos) << got[0].message;
    }
}

TEST_F(VerifierTest, RaiseToSynch_AboveSynchLevelIsIrqlInvalidRaise) {
    auto *lock = static_cast<PKSPIN_LOCK>(fresh_storage());
    KeInitializeSpinLock(lock);
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    const int line = AT(KeAcquireSpinLockRaiseToSynch(lock));
    const std::vector<Got> got = take();
    EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL) << "Driver Verifier leaves the IRQL where it was";
    KeLowerIrql(SYNCH_LEVEL);
    KeReleaseSpinLock(lock, SYNCH_LEVEL);
    to_passive();
    expect_exactly(got, "IrqlInvalidRaise", __FILE__, line);
}

// ---- Bug checks ---------------------------------------------------------------------------------

TEST_F(VerifierTest, BugCheck_KeBugCheckExIsReportedAtItsLineAndEnds) {
    const int line = __LINE__ + 1; // the call's line
    EXPECT_DEATH(KeBugCheckEx(0x9F, 3, 0xABC, 0, 0),
                 "error: BugCheck(.|\n)*bug check 0x0000009F \\(0x3, 0xabc, 0x0, 0x0\\)(.|\n)*" + site_regex(line));
}

TEST_F(VerifierTest, BugCheck_AnUnbalancedKeLeaveCriticalRegionIsReportedAtItsLine) {
    EXPECT_DEATH(KeLeaveCriticalRegion(), "error: BugCheck(.|\n)*APC_INDEX_MISMATCH(.|\n)*" + site_regex(__LINE__));
}

} // namespace
