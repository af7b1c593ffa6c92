// The verifier's reader/writer lock rules (ndislock/rw_lock.h): each new rule reported by its ID
// at the driver's line, the spin-lock rules that apply unchanged, and the lock-order graph with
// read/write locks in it (an inversion against a spin lock reported, two reads in opposite
// orders not).
#include "ndislock/rw_lock.h"
#include "ndislock/verifier.h"
#include <thread>

#include "verifier_support.h"

using namespace vt;

namespace {

std::string site_regex(int line) { return std::string(basename_of(__FILE__)) + ":" + std::to_string(line); }

// A fresh NDIS 5 lock per scenario (never at an address the verifier saw before).
NDIS_RW_LOCK *fresh_ndis5() {
    static_assert(sizeof(NDIS_RW_LOCK) <= 64 * 17, "fits 17 slots");
    auto *l = static_cast<NDIS_RW_LOCK *>(fresh_storage());
    for (int i = 0; i < 16; ++i)
        fresh_storage(); // the rest of its 1040 bytes
    return l;
}
PEX_SPIN_LOCK fresh_ex() { return static_cast<PEX_SPIN_LOCK>(fresh_storage()); }

// ---- RwLockWriteWhileRead (terminal) ---------------------------------------------------------

TEST_F(VerifierTest, RwLockWriteWhileRead_NdisRwLockEx) {
    EXPECT_DEATH(
        {
            PNDIS_RW_LOCK_EX l = NdisAllocateRWLock(nullptr);
            LOCK_STATE_EX r;
            LOCK_STATE_EX w;
            NdisAcquireRWLockRead(l, &r, 0);
            NdisAcquireRWLockWrite(l, &w, NDIS_RWL_AT_DISPATCH_LEVEL);
        },
        "RwLockWriteWhileRead \\(terminal\\).*rw_lock_rules_test.cpp:[0-9]+.*already acquired at [^ ]*"
        "rw_lock_rules_test.cpp:[0-9]+");
}

TEST_F(VerifierTest, RwLockWriteWhileRead_ExSpinLock) {
    EXPECT_DEATH(
        {
            PEX_SPIN_LOCK l = fresh_ex();
            ExAcquireSpinLockShared(l);
            ExAcquireSpinLockExclusiveAtDpcLevel(l);
        },
        "RwLockWriteWhileRead \\(terminal\\).*" + site_regex(__LINE__ - 2));
}

// ---- RwLockRecursion (terminal): EX_SPIN_LOCK allows none --------------------------------------

TEST_F(VerifierTest, RwLockRecursion_ExSharedTwice) {
    EXPECT_DEATH(
        {
            PEX_SPIN_LOCK l = fresh_ex();
            ExAcquireSpinLockShared(l);
            ExAcquireSpinLockSharedAtDpcLevel(l);
        },
        "RwLockRecursion \\(terminal\\).*" + site_regex(__LINE__ - 2));
}

TEST_F(VerifierTest, RwLockRecursion_ExExclusiveTwice) {
    EXPECT_DEATH(
        {
            PEX_SPIN_LOCK l = fresh_ex();
            ExAcquireSpinLockExclusive(l);
            ExAcquireSpinLockSharedAtDpcLevel(l); // the try form is not terminal: personality_test.cpp
        },
        "RwLockRecursion \\(terminal\\).*" + site_regex(__LINE__ - 2));
}

// What the NDIS locks allow is not reported.
TEST_F(VerifierTest, RwLockRecursion_NdisAllowedNestingIsClean) {
    PNDIS_RW_LOCK_EX ex = NdisAllocateRWLock(nullptr);
    NDIS_RW_LOCK *l5 = fresh_ndis5();
    NdisInitializeReadWriteLock(l5);
    LOCK_STATE_EX a, b, c;
    NdisAcquireRWLockRead(ex, &a, 0);
    NdisAcquireRWLockRead(ex, &b, NDIS_RWL_AT_DISPATCH_LEVEL);
    NdisReleaseRWLock(ex, &b);
    NdisReleaseRWLock(ex, &a);
    NdisAcquireRWLockWrite(ex, &a, 0);
    NdisAcquireRWLockWrite(ex, &b, NDIS_RWL_AT_DISPATCH_LEVEL);
    NdisAcquireRWLockRead(ex, &c, NDIS_RWL_AT_DISPATCH_LEVEL);
    NdisReleaseRWLock(ex, &c);
    NdisReleaseRWLock(ex, &b);
    NdisReleaseRWLock(ex, &a);
    LOCK_STATE x, y;
    NdisAcquireReadWriteLock(l5, FALSE, &x);
    NdisAcquireReadWriteLock(l5, TRUE, &y);
    NdisReleaseReadWriteLock(l5, &y);
    NdisReleaseReadWriteLock(l5, &x);
    NdisFreeRWLock(ex);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// The plain function forms (a return address for a site) keep their lock states like the macros.
TEST_F(VerifierTest, RwLock_FunctionFormsNestCleanly) {
    PNDIS_RW_LOCK_EX l = (NdisAllocateRWLock)(nullptr);
    LOCK_STATE_EX a, b;
    (NdisAcquireRWLockRead)(l, &a, 0);
    (NdisAcquireRWLockRead)(l, &b, NDIS_RWL_AT_DISPATCH_LEVEL);
    (NdisReleaseRWLock)(l, &b);
    (NdisReleaseRWLock)(l, &a);
    (NdisFreeRWLock)(l);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// ---- RwLockStateMismatch ---------------------------------------------------------------------

TEST_F(VerifierTest, RwLockStateMismatch_SwappedStates) {
    PNDIS_RW_LOCK_EX a = NdisAllocateRWLock(nullptr), b = NdisAllocateRWLock(nullptr);
    LOCK_STATE_EX sa, sb;
    NdisAcquireRWLockRead(a, &sa, 0);
    NdisAcquireRWLockRead(b, &sb, 0);
    const int line = AT(NdisReleaseRWLock(a, &sb));
    const std::vector<Got> got = take();
    expect_exactly(got, "RwLockStateMismatch", __FILE__, line);
    NdisReleaseRWLock(b, &sa);       // the second half of the swap: reported too
    NdislockVerifierResetFindings(); // what follows from the misuse is not under test
    to_passive();
    NdisFreeRWLock(a);
    NdisFreeRWLock(b);
}

TEST_F(VerifierTest, RwLockStateMismatch_StateReleasedTwice) {
    PNDIS_RW_LOCK_EX l = NdisAllocateRWLock(nullptr);
    LOCK_STATE_EX s;
    NdisAcquireRWLockWrite(l, &s, 0);
    NdisReleaseRWLock(l, &s);
    const int line = AT(NdisReleaseRWLock(l, &s));
    expect_exactly(take(), "RwLockStateMismatch", __FILE__, line);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    NdisFreeRWLock(l);
}

TEST_F(VerifierTest, RwLockStateMismatch_Ndis5) {
    NDIS_RW_LOCK *a = fresh_ndis5(), *b = fresh_ndis5();
    NdisInitializeReadWriteLock(a);
    NdisInitializeReadWriteLock(b);
    LOCK_STATE sa, sb;
    NdisAcquireReadWriteLock(a, FALSE, &sa);
    NdisAcquireReadWriteLock(b, FALSE, &sb);
    const int line = AT(NdisReleaseReadWriteLock(a, &sb));
    expect_exactly(take(), "RwLockStateMismatch", __FILE__, line);
    NdisReleaseReadWriteLock(b, &sa);
    NdislockVerifierResetFindings(); // what follows from the misuse is not under test
    to_passive();
}

// ---- RwLockStateReused -----------------------------------------------------------------------

TEST_F(VerifierTest, RwLockStateReused_WhileItsAcquisitionIsLive) {
    PNDIS_RW_LOCK_EX a = NdisAllocateRWLock(nullptr), b = NdisAllocateRWLock(nullptr);
    LOCK_STATE_EX s, keep_a;
    NdisAcquireRWLockRead(a, &s, 0);
    keep_a = s;
    const int line = AT(NdisAcquireRWLockRead(b, &s, NDIS_RWL_AT_DISPATCH_LEVEL));
    expect_exactly(take(), "RwLockStateReused", __FILE__, line);
    NdisReleaseRWLock(b, &s);
    NdisReleaseRWLock(a, &keep_a);   // a copy is another state: reported as a mismatch
    NdislockVerifierResetFindings(); // what follows from the misuse is not under test
    to_passive();
    NdisFreeRWLock(a);
    NdisFreeRWLock(b);
}

// ---- RwLockDispatchFlagWrongIrql ---------------------------------------------------------------

TEST_F(VerifierTest, RwLockDispatchFlagWrongIrql_FlagAtPassive) {
    PNDIS_RW_LOCK_EX l = NdisAllocateRWLock(nullptr);
    LOCK_STATE_EX s;
    const int line = AT(NdisAcquireRWLockRead(l, &s, NDIS_RWL_AT_DISPATCH_LEVEL));
    std::vector<Got> got = take();
    expect_exactly(got, "RwLockDispatchFlagWrongIrql", __FILE__, line);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL) << "the flag skips the raise";
    NdisReleaseRWLock(l, &s);        // ReleaseNotAtDispatch (not the rule under test)
    NdislockVerifierResetFindings(); // what follows from the misuse is not under test
    NdisFreeRWLock(l);
}

TEST_F(VerifierTest, RwLockDispatchFlagWrongIrql_DprAndAtDpcLevelForms) {
    NDIS_RW_LOCK *l = fresh_ndis5();
    NdisInitializeReadWriteLock(l);
    LOCK_STATE s;
    int line = AT(NdisDprAcquireReadWriteLock(l, TRUE, &s));
    expect_exactly(take(), "RwLockDispatchFlagWrongIrql", __FILE__, line);
    NdisDprReleaseReadWriteLock(l, &s); // ReleaseNotAtDispatch, not the rule under test
    NdislockVerifierResetFindings();
    PEX_SPIN_LOCK e = fresh_ex();
    line = AT(ExAcquireSpinLockSharedAtDpcLevel(e));
    expect_exactly(take(), "RwLockDispatchFlagWrongIrql", __FILE__, line);
    ExReleaseSpinLockSharedFromDpcLevel(e);
    NdislockVerifierResetFindings(); // what follows from the misuse is not under test
}

// ---- above DISPATCH_LEVEL ---------------------------------------------------------------------

// The Ex AtDpcLevel forms are documented for any IRQL >= DISPATCH_LEVEL: legal above it on a lock
// used only there (the lock class's IRQL consistency checks them, as it checks the Ke AtDpcLevel
// forms).
TEST_F(VerifierTest, RwLock_ExAtDpcLevelFormsAboveDispatchAreLegal) {
    PEX_SPIN_LOCK l = fresh_ex();
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    ExAcquireSpinLockExclusiveAtDpcLevel(l);
    ExReleaseSpinLockExclusiveFromDpcLevel(l);
    ExAcquireSpinLockSharedAtDpcLevel(l);
    ExReleaseSpinLockSharedFromDpcLevel(l);
    EXPECT_TRUE(ExTryAcquireSpinLockExclusiveAtDpcLevel(l));
    ExReleaseSpinLockExclusiveFromDpcLevel(l);
    KeLowerIrql(old);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// The raising Ex forms are documented for IRQL <= DISPATCH_LEVEL: above it the report gives the
// kernel's cures (the AtDpcLevel form, KeSynchronizeExecution), not NDIS's.
TEST_F(VerifierTest, RwLock_ExRaisingFormAboveDispatchNamesItsAtDpcLevelForm) {
    PEX_SPIN_LOCK l = fresh_ex();
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    KIRQL saved = 0;
    const int line = AT(saved = ExAcquireSpinLockExclusive(l));
    const std::vector<Got> got = take();
    EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL) << "Driver Verifier leaves the IRQL where it was";
    ExReleaseSpinLockExclusive(l, saved);
    KeLowerIrql(old);
    expect_exactly(got, "AcquireAboveDispatch", __FILE__, line);
    if (got.size() != 1) return;
    EXPECT_NE(got[0].message.find("take it with ExAcquireSpinLockExclusiveAtDpcLevel"), std::string::npos)
        << got[0].message;
    EXPECT_NE(got[0].message.find("KeSynchronizeExecution"), std::string::npos) << got[0].message;
    EXPECT_EQ(got[0].message.find("NdisMSynchronizeWithInterruptEx"), std::string::npos) << got[0].message;
}

// ---- spin-lock rules that apply unchanged ----------------------------------------------------

TEST_F(VerifierTest, RwLock_FreedWhileHeld) {
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_FATAL);
    EXPECT_DEATH(
        {
            PNDIS_RW_LOCK_EX l = NdisAllocateRWLock(nullptr);
            LOCK_STATE_EX s;
            NdisAcquireRWLockRead(l, &s, 0);
            NdisFreeRWLock(l);
        },
        "LockFreedWhileHeld.*" + site_regex(__LINE__ - 2));
}

TEST_F(VerifierTest, RwLock_ExReleaseOfOtherModeIsVariantMismatch) {
    PEX_SPIN_LOCK l = fresh_ex();
    const KIRQL old = ExAcquireSpinLockShared(l);
    const int line = AT(ExReleaseSpinLockExclusive(l, old));
    std::vector<Got> got = take();
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0].rule, "ReleaseVariantMismatch") << dump(got);
    EXPECT_EQ(got[0].line, line);
    to_passive();
}

TEST_F(VerifierTest, RwLock_ExWrongOldIrql) {
    PEX_SPIN_LOCK l = fresh_ex();
    KIRQL old = ExAcquireSpinLockExclusive(l);
    const int line = AT(ExReleaseSpinLockExclusive(l, static_cast<KIRQL>(old + 1)));
    expect_exactly(take(), "WrongOldIrql", __FILE__, line);
    to_passive();
}

TEST_F(VerifierTest, RwLock_HeldTooLong) {
    PNDIS_RW_LOCK_EX l = NdisAllocateRWLock(nullptr);
    NdislockSetLockName(l, "rw too long");
    NdislockVerifierSetHoldBudget(20'000);
    std::vector<Got> got;
    int line = 0;
    for (int i = 0; i < 100 && got.empty(); ++i) {
        LOCK_STATE_EX s;
        NdisAcquireRWLockWrite(l, &s, 0);
        busy_wait_ns(200'000);
        line = AT(NdisReleaseRWLock(l, &s));
        got = take();
    }
    NdislockVerifierSetHoldBudget(0);
    expect_exactly(got, "LockHeldTooLong", __FILE__, line);
    NdisFreeRWLock(l);
}

// ---- lock order --------------------------------------------------------------------------------

TEST_F(VerifierTest, RwLock_OrderInversionWithSpinLock) {
    PNDIS_RW_LOCK_EX rw = NdisAllocateRWLock(nullptr);
    NdislockSetLockName(rw, "filter list");
    Slot spin;
    NdislockSetLockName(spin.l, "stats lock");
    NdisAllocateSpinLock(spin.l);
    LOCK_STATE_EX s;
    NdisAcquireRWLockRead(rw, &s, 0); // list, then stats
    NdisDprAcquireSpinLock(spin.l);
    NdisDprReleaseSpinLock(spin.l);
    NdisReleaseRWLock(rw, &s);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    NdisAcquireSpinLock(spin.l); // stats, then list: inverted
    const int line = AT(NdisAcquireRWLockWrite(rw, &s, NDIS_RWL_AT_DISPATCH_LEVEL));
    NdisReleaseRWLock(rw, &s);
    NdisReleaseSpinLock(spin.l);
    expect_exactly(take(), "LockOrderInversion", __FILE__, line);
    NdisFreeRWLock(rw);
}

TEST_F(VerifierTest, RwLock_ReadUnderReadInBothOrdersIsNoInversion) {
    // Not about hold times: under sanitizers the first holds of new classes run long (TearDown
    // restores the budget).
    NdislockVerifierSetHoldBudget(1'000'000'000);
    PNDIS_RW_LOCK_EX a = NdisAllocateRWLock(nullptr), b = NdisAllocateRWLock(nullptr);
    NdislockSetLockName(a, "rr.a");
    NdislockSetLockName(b, "rr.b");
    LOCK_STATE_EX sa, sb;
    NdisAcquireRWLockRead(a, &sa, 0);
    NdisAcquireRWLockRead(b, &sb, NDIS_RWL_AT_DISPATCH_LEVEL);
    NdisReleaseRWLock(b, &sb);
    NdisReleaseRWLock(a, &sa);
    NdisAcquireRWLockRead(b, &sb, 0);
    NdisAcquireRWLockRead(a, &sa, NDIS_RWL_AT_DISPATCH_LEVEL);
    NdisReleaseRWLock(a, &sa);
    NdisReleaseRWLock(b, &sb);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    // The same two locks for write in the second order are an inversion of the first reads? No:
    // read-under-read added no edge. A write under a read does.
    NdisAcquireRWLockWrite(a, &sa, 0);
    NdisAcquireRWLockWrite(b, &sb, NDIS_RWL_AT_DISPATCH_LEVEL);
    NdisReleaseRWLock(b, &sb);
    NdisReleaseRWLock(a, &sa);
    NdisAcquireRWLockRead(b, &sb, 0);
    const int line = AT(NdisAcquireRWLockRead(a, &sa, NDIS_RWL_AT_DISPATCH_LEVEL));
    NdisReleaseRWLock(a, &sa);
    NdisReleaseRWLock(b, &sb);
    std::vector<Got> got = take();
    EXPECT_EQ(got.size(), 0u) << "read under read is never checked: " << dump(got);
    (void)line;
    NdisFreeRWLock(a);
    NdisFreeRWLock(b);
}

// ---- Deadlock: a writer that waits for a reader that never leaves ------------------------------

TEST_F(VerifierTest, RwLock_WriterWaitingForeverIsDeadlock) {
    EXPECT_DEATH(
        {
            NdislockSetProcessorCount(2);
            NdislockVerifierSetWatchdog(300);
            PNDIS_RW_LOCK_EX l = NdisAllocateRWLock(nullptr);
            std::atomic<bool> held{false};
            std::thread reader([&] {
                NdislockBindCurrentThread(1);
                LOCK_STATE_EX s;
                NdisAcquireRWLockRead(l, &s, 0);
                held.store(true);
                for (;;)
                    std::this_thread::sleep_for(std::chrono::seconds(1)); // never releases
            });
            reader.detach();
            while (!held.load())
                std::this_thread::yield();
            NdislockBindCurrentThread(0);
            LOCK_STATE_EX w;
            NdisAcquireRWLockWrite(l, &w, 0);
        },
        "Deadlock");
}

} // namespace
