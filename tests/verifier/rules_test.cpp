// The verifier's self-tests, in the manner of lockdep's: for every rule in scope and every API
// family it applies to, a small misuse that must report exactly that rule ID, at the offending
// call's file:line, and nothing else. Findings are read right after the offending call; whatever
// the cleanup of a broken state reports afterwards is forgotten with the rest at the end of each
// test. Terminal rules and fatal mode are death tests.
#include <chrono>
#include <mutex>
#include <new>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "ndislock/ndislock.hpp"
#include "verifier/settings.h"
#include "verifier/suppressions.h"
#include "verifier_support.h"

using namespace vt;
using ndislock_test::Flag;
using ndislock_test::Watchdog;

// Every acquire and release of the family table reports this line.
VT_DEFINE_FAMILIES()
constexpr int kFamilyLine = __LINE__ - 1;

namespace {

bool verifier_on_since_start() { return ndislock::verifier::g_settings.on_since_start.load(); }

// Checks the site of a finding from a family's call: exact for the macros, symbolized for the
// function forms.
void expect_family_finding(const std::vector<Got> &got, const char *rule, const Family &f, int line) {
    expect_exactly(got, rule, __FILE__, line, !f.function_form);
    if (f.function_form && got.size() == 1) {
        EXPECT_EQ(got[0].line, line) << "the return address should symbolize to the calling line\n" << dump(got);
    }
}

std::string site_regex(int line) { return std::string(vt::basename_of(__FILE__)) + ":" + std::to_string(line); }

bool is_raising(const Family &f) { return f.raising; }
bool is_not_raising(const Family &f) { return !f.raising; }
bool is_blocking(const Family &f) { return !f.is_try; }

// Sets what a release will restore to DISPATCH_LEVEL, for releases of locks whose acquire did not
// save an IRQL (so the release leaves the IRQL where it is).
void saved_irql_is_dispatch(Slot &s) {
    s.l->OldIrql = DISPATCH_LEVEL;
    s.old = DISPATCH_LEVEL;
    s.h.OldIrql = DISPATCH_LEVEL;
}

} // namespace

// ============================================================================================
// Lifecycle: LockNotInitialized, LockReinitialized, LockFreedWhileHeld, LockUsedAfterFree
// ============================================================================================

using LockNotInitialized = VerifierParamTest<Family>;
TEST_P(LockNotInitialized, AcquireOfAZeroedLock) {
    if (!verifier_on_since_start())
        GTEST_SKIP() << "needs NDISLOCK_VERIFIER=on from the start (else locks are adopted)";
    const Family &f = GetParam();
    Slot s; // zeroed, never allocated or initialized
    std::vector<Got> got;
    int line = 0;
    {
        Enter e(f);
        line = f.acquire(s);
        got = take();
        f.release(s);
    }
    expect_family_finding(got, "LockNotInitialized", f, line);
}
INSTANTIATE_TEST_SUITE_P(All, LockNotInitialized, ::testing::ValuesIn(families()), family_name);

TEST_F(VerifierTest, LockNotInitialized_FreeOfANeverAllocatedLock) {
    if (!verifier_on_since_start()) GTEST_SKIP() << "needs NDISLOCK_VERIFIER=on from the start";
    Slot s;
    const int line = AT(NdisFreeSpinLock(s.l));
    expect_exactly(take(), "LockNotInitialized", __FILE__, line);
}

using LockReinitialized = VerifierParamTest<Family>;
TEST_P(LockReinitialized, InitializeWhileHeld) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    std::vector<Got> got;
    int line = 0, acquired_at = 0;
    {
        Enter e(f);
        acquired_at = f.acquire(s);
        line = f.ndis ? AT(NdisAllocateSpinLock(s.l)) : AT(KeInitializeSpinLock(s.word()));
        got = take();
        // The word was zeroed under the holder; give a queued holder its queue back to release.
        if (f.queued) s.l->SpinLock = reinterpret_cast<KSPIN_LOCK>(&s.h.LockQueue);
        f.release(s);
    }
    expect_exactly(got, "LockReinitialized", __FILE__, line);
    if (got.size() == 1 && !f.function_form) {
        EXPECT_EQ(got[0].other_line, acquired_at) << dump(got);
    }
    EXPECT_EQ(NdislockVerifierFindingCount(), 1u) << "the holder's release after the re-initialization is fine\n"
                                                  << dump(take());
}
INSTANTIATE_TEST_SUITE_P(All, LockReinitialized, ::testing::ValuesIn(families()), family_name);

using LockFreedWhileHeld = VerifierParamTest<Family>;
TEST_P(LockFreedWhileHeld, FreeWhileHeld) {
    const Family &f = GetParam();
    Slot s;
    NdisAllocateSpinLock(s.l);
    std::vector<Got> got;
    int line = 0, acquired_at = 0;
    {
        Enter e(f);
        acquired_at = f.acquire(s);
        line = AT(NdisFreeSpinLock(s.l));
        got = take();
        f.release(s); // a use after free: forgotten below
    }
    expect_exactly(got, "LockFreedWhileHeld", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_TRUE(ends_with(got[0].other_file, basename_of(__FILE__))) << dump(got);
        EXPECT_EQ(got[0].other_line, acquired_at) << "held since: the acquire\n" << dump(got);
    }
}
INSTANTIATE_TEST_SUITE_P(All, LockFreedWhileHeld, ::testing::ValuesIn(families()), family_name);

using LockUsedAfterFree = VerifierParamTest<Family>;
TEST_P(LockUsedAfterFree, AcquireAfterFree) {
    const Family &f = GetParam();
    Slot s;
    NdisAllocateSpinLock(s.l);
    NdisFreeSpinLock(s.l);
    ASSERT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    std::vector<Got> got;
    int line = 0;
    {
        Enter e(f);
        line = f.acquire(s);
        got = take();
        f.release(s);
    }
    expect_family_finding(got, "LockUsedAfterFree", f, line);
}
INSTANTIATE_TEST_SUITE_P(All, LockUsedAfterFree, ::testing::ValuesIn(families()), family_name);

TEST_F(VerifierTest, LockUsedAfterFree_DoubleFree) {
    Slot s;
    NdisAllocateSpinLock(s.l);
    NdisFreeSpinLock(s.l);
    const int line = AT(NdisFreeSpinLock(s.l));
    expect_exactly(take(), "LockUsedAfterFree", __FILE__, line);
}

TEST_F(VerifierTest, LockUsedAfterFree_NotReportedAfterANewAllocate) {
    Slot s;
    NdisAllocateSpinLock(s.l);
    NdisFreeSpinLock(s.l);
    NdisAllocateSpinLock(s.l); // the same memory: a new lock
    NdisAcquireSpinLock(s.l);
    NdisReleaseSpinLock(s.l);
    NdisFreeSpinLock(s.l);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// ============================================================================================
// IRQL of acquires and releases: AcquireAboveDispatch, DprAcquireBelowDispatch, ReleaseNotAtDispatch
// ============================================================================================

// The Ke forms documented for any IRQL >= DISPATCH_LEVEL (KeAcquireSpinLockAtDpcLevel,
// KeTryToAcquireSpinLockAtDpcLevel, KeAcquireInStackQueuedSpinLockAtDpcLevel): legal above it on a
// lock used only there; the lock class's IRQL consistency checks them (LockClassIrql below).
bool documented_above_dispatch(const Family &f) { return std::string(f.name).find("AtDpcLevel") != std::string::npos; }
bool documented_at_most_dispatch(const Family &f) { return !documented_above_dispatch(f); }

using AcquireAboveDispatch = VerifierParamTest<Family>;
TEST_P(AcquireAboveDispatch, AtHighLevel) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    const int line = f.acquire(s);
    const std::vector<Got> got = take();
    f.release(s);
    to_passive();
    expect_family_finding(got, "AcquireAboveDispatch", f, line);
    if (got.size() != 1) return;
    const std::string &text = got[0].message;
    // The cure of the call's own family: NDIS's for an NDIS call, the kernel's for a Ke call.
    if (f.ndis) {
        EXPECT_NE(text.find("NdisMSynchronizeWithInterruptEx"), std::string::npos) << text;
        EXPECT_EQ(text.find("KeSynchronizeExecution"), std::string::npos) << text;
    } else {
        EXPECT_NE(text.find("KeSynchronizeExecution"), std::string::npos) << text;
        EXPECT_NE(text.find(f.queued ? "take it with KeAcquireInStackQueuedSpinLockAtDpcLevel"
                                     : "take it with KeAcquireSpinLockAtDpcLevel"),
                  std::string::npos)
            << text;
        EXPECT_EQ(text.find("MiniportInterrupt"), std::string::npos) << text;
        EXPECT_EQ(text.find("NdisMSynchronizeWithInterruptEx"), std::string::npos) << text;
    }
}
INSTANTIATE_TEST_SUITE_P(All, AcquireAboveDispatch, ::testing::ValuesIn(families_where(documented_at_most_dispatch)),
                         family_name);

// ---- LockClassIrqlInconsistent: a class taken above DISPATCH_LEVEL and held at or below it ----

using LockClassIrql = VerifierParamTest<Family>;
// Alone above DISPATCH_LEVEL, a form documented there is legal: nothing to report.
TEST_P(LockClassIrql, AloneAboveDispatchIsLegal) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s, keep(std::string("class_irql.alone.") + f.name));
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    f.acquire(s);
    f.release(s);
    const std::vector<Got> got = take();
    KeLowerIrql(old);
    EXPECT_TRUE(got.empty()) << dump(got);
}
// Held at DISPATCH_LEVEL first, then taken at a DIRQL: reported at the second, naming the first.
TEST_P(LockClassIrql, HeldAtDispatchThenTakenAboveIsReportedNamingBothSites) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s, keep(std::string("class_irql.low_first.") + f.name));
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    const int low_line = f.acquire(s);
    f.release(s);
    EXPECT_TRUE(take().empty());
    KIRQL dirql = 0;
    KeRaiseIrql(DISPATCH_LEVEL + 3, &dirql);
    const int high_line = f.acquire(s);
    f.release(s);
    const std::vector<Got> got = take();
    KeLowerIrql(dirql);
    KeLowerIrql(old);
    expect_family_finding(got, "LockClassIrqlInconsistent", f, high_line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].other_line, low_line) << dump(got);
        EXPECT_NE(got[0].message.find("also held at IRQL 2"), std::string::npos) << got[0].message;
    }
    // Once per class: the same uses again report nothing.
    NdislockVerifierResetFindings();
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    f.acquire(s);
    f.release(s);
    KeLowerIrql(old);
    EXPECT_TRUE(take().empty());
}
INSTANTIATE_TEST_SUITE_P(All, LockClassIrql, ::testing::ValuesIn(families_where(documented_above_dispatch)),
                         family_name);

// Taken at a DIRQL first (with a form documented there), then held at DISPATCH_LEVEL by a raising
// NDIS acquire: reported at the hold, naming the acquire above DISPATCH_LEVEL.
TEST_F(VerifierTest, LockClassIrql_TakenAboveThenHeldAtDispatchIsReportedAtTheHold) {
    Slot s;
    NdislockSetLockName(s.l, "class_irql.high_first");
    NdisAllocateSpinLock(s.l);
    KIRQL dirql = 0;
    KeRaiseIrql(DISPATCH_LEVEL + 3, &dirql);
    const int high_line = AT(KeAcquireSpinLockAtDpcLevel(&s.l->SpinLock));
    KeReleaseSpinLockFromDpcLevel(&s.l->SpinLock);
    KeLowerIrql(dirql);
    EXPECT_TRUE(take().empty());
    const int low_line = AT(NdisAcquireSpinLock(s.l));
    NdisReleaseSpinLock(s.l);
    const std::vector<Got> got = take();
    expect_exactly(got, "LockClassIrqlInconsistent", __FILE__, low_line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].other_line, high_line) << dump(got);
        EXPECT_NE(got[0].message.find("NdisAcquireSpinLock holds lock class \"class_irql.high_first\" at IRQL 2"),
                  std::string::npos)
            << got[0].message;
    }
}

// Two levels both above DISPATCH_LEVEL (two DIRQLs): the higher interrupts a holder at the lower,
// the same hazard one level up. Reported at the second use, naming the first, whichever comes
// first; one level used from two sites is legal.
TEST_F(VerifierTest, LockClassIrql_TwoLevelsAboveDispatchAreReportedEitherWay) {
    for (const bool lower_first : {true, false}) {
        SCOPED_TRACE(lower_first ? "lower first" : "higher first");
        Slot s;
        NdislockSetLockName(s.l,
                            lower_first ? "class_irql.two_dirqls.lower_first" : "class_irql.two_dirqls.higher_first");
        if (lower_first) // a lock's class is where it is initialized: one line for each order
            NdisAllocateSpinLock(s.l);
        else
            NdisAllocateSpinLock(s.l);
        const KIRQL first_level = lower_first ? DISPATCH_LEVEL + 1 : DISPATCH_LEVEL + 5;
        const KIRQL second_level = lower_first ? DISPATCH_LEVEL + 5 : DISPATCH_LEVEL + 1;
        KIRQL old = 0;
        KeRaiseIrql(first_level, &old);
        const int first_line = AT(KeAcquireSpinLockAtDpcLevel(&s.l->SpinLock));
        KeReleaseSpinLockFromDpcLevel(&s.l->SpinLock);
        KeAcquireSpinLockAtDpcLevel(&s.l->SpinLock); // the same level from another site: nothing new
        KeReleaseSpinLockFromDpcLevel(&s.l->SpinLock);
        KeLowerIrql(old);
        EXPECT_TRUE(take().empty());
        KeRaiseIrql(second_level, &old);
        const int second_line = AT(KeAcquireSpinLockAtDpcLevel(&s.l->SpinLock));
        KeReleaseSpinLockFromDpcLevel(&s.l->SpinLock);
        const std::vector<Got> got = take();
        KeLowerIrql(old);
        expect_exactly(got, "LockClassIrqlInconsistent", __FILE__, second_line);
        if (got.size() == 1) {
            EXPECT_EQ(got[0].other_line, first_line) << dump(got);
            const std::string expected = lower_first ? "which is also held at IRQL 3: an interrupt at IRQL 7"
                                                     : "at IRQL 3, and it is also taken at IRQL 7";
            EXPECT_NE(got[0].message.find(expected), std::string::npos) << got[0].message;
        }
        NdislockVerifierResetFindings();
    }
}

// Two locks of different classes, one at each level: nothing (the rule is per class).
TEST_F(VerifierTest, LockClassIrql_DifferentClassesAtEachLevelAreLegal) {
    Slot low, high;
    NdislockSetLockName(low.l, "class_irql.only_low");
    NdislockSetLockName(high.l, "class_irql.only_high");
    NdisAllocateSpinLock(low.l);
    NdisAllocateSpinLock(high.l);
    NdisAcquireSpinLock(low.l);
    NdisReleaseSpinLock(low.l);
    KIRQL dirql = 0;
    KeRaiseIrql(DISPATCH_LEVEL + 3, &dirql);
    KeAcquireSpinLockAtDpcLevel(&high.l->SpinLock);
    KeReleaseSpinLockFromDpcLevel(&high.l->SpinLock);
    KeLowerIrql(dirql);
    const std::vector<Got> got = take();
    EXPECT_TRUE(got.empty()) << dump(got);
}

TEST_F(VerifierTest, AcquireAboveDispatch_AtDeviceIrql) {
    Slot s;
    NdisAllocateSpinLock(s.l);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL + 3, &old); // a DIRQL, as in MiniportInterrupt
    const int line = AT(NdisDprAcquireSpinLock(s.l));
    const std::vector<Got> got = take();
    NdisDprReleaseSpinLock(s.l);
    KeLowerIrql(old);
    expect_exactly(got, "AcquireAboveDispatch", __FILE__, line);
}

using DprAcquireBelowDispatch = VerifierParamTest<Family>;
TEST_P(DprAcquireBelowDispatch, AtPassiveLevel) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    const int line = f.acquire(s);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    f.release(s);
    KeLowerIrql(old);
    // Taken once the lock is free: collecting the findings is not part of the hold (on a loaded
    // machine it could make the hold itself a LockHeldTooLong finding).
    const std::vector<Got> got = take();
    expect_family_finding(got, "DprAcquireBelowDispatch", f, line);
    EXPECT_EQ(NdislockVerifierFindingCount(), 1u) << dump(take());
}
TEST_P(DprAcquireBelowDispatch, AtApcLevel) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    KIRQL old = 0;
    KeRaiseIrql(APC_LEVEL, &old);
    const int line = f.acquire(s);
    KIRQL apc = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &apc);
    f.release(s);
    KeLowerIrql(old);
    const std::vector<Got> got = take(); // once the lock is free, as above
    expect_family_finding(got, "DprAcquireBelowDispatch", f, line);
}
INSTANTIATE_TEST_SUITE_P(NonRaising, DprAcquireBelowDispatch, ::testing::ValuesIn(families_where(is_not_raising)),
                         family_name);

using ReleaseNotAtDispatch = VerifierParamTest<Family>;
TEST_P(ReleaseNotAtDispatch, ReleaseAtHighLevel) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    std::vector<Got> got;
    int line = 0;
    {
        Enter e(f);
        f.acquire(s);
        KIRQL dispatch = 0;
        KeRaiseIrql(HIGH_LEVEL, &dispatch);
        line = f.release(s);
        got = take();
    }
    to_passive();
    // KeReleaseSpinLockFromDpcLevel and KeReleaseInStackQueuedSpinLockFromDpcLevel are documented
    // for any IRQL >= DISPATCH_LEVEL: legal there.
    if (documented_above_dispatch(f))
        EXPECT_TRUE(got.empty()) << dump(got);
    else
        expect_family_finding(got, "ReleaseNotAtDispatch", f, line);
}
INSTANTIATE_TEST_SUITE_P(All, ReleaseNotAtDispatch, ::testing::ValuesIn(families()), family_name);

// ============================================================================================
// KeRaiseIrql / KeLowerIrql: IrqlInvalidRaise, IrqlInvalidLower
// ============================================================================================

TEST_F(VerifierTest, IrqlInvalidRaise_BelowTheCurrentIrql) {
    KIRQL old = 0, ignored = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    const int line = AT(KeRaiseIrql(PASSIVE_LEVEL, &ignored));
    const std::vector<Got> got = take();
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL) << "the IRQL is left unchanged";
    KeLowerIrql(old);
    expect_exactly(got, "IrqlInvalidRaise", __FILE__, line);
}

TEST_F(VerifierTest, IrqlInvalidRaise_AboveHighLevel) {
    KIRQL ignored = 0;
    const int line = AT(KeRaiseIrql(HIGH_LEVEL + 1, &ignored));
    const std::vector<Got> got = take();
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    expect_exactly(got, "IrqlInvalidRaise", __FILE__, line);
}

TEST_F(VerifierTest, IrqlInvalidRaise_RaiseToDpcLevelFromHighLevel) {
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    const int line = AT(KeRaiseIrqlToDpcLevel());
    const std::vector<Got> got = take();
    KeLowerIrql(old);
    expect_exactly(got, "IrqlInvalidRaise", __FILE__, line);
}

TEST_F(VerifierTest, IrqlInvalidRaise_FunctionForm) {
    KIRQL old = 0, ignored = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    const int line = AT((KeRaiseIrql)(APC_LEVEL, &ignored));
    const std::vector<Got> got = take();
    KeLowerIrql(old);
    expect_exactly(got, "IrqlInvalidRaise", __FILE__, line, false);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].line, line) << dump(got);
    }
}

TEST_F(VerifierTest, IrqlInvalidRaise_CppRaisedIrql) {
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    std::vector<Got> got;
    int line = 0;
    {
        line = __LINE__ + 1;
        ndislock::RaisedIrql lower_is_not_a_raise(APC_LEVEL);
        got = take();
    }
    KeLowerIrql(old);
    expect_exactly(got, "IrqlInvalidRaise", __FILE__, line);
}

TEST_F(VerifierTest, IrqlInvalidLower_AboveTheCurrentIrql) {
    const int line = AT(KeLowerIrql(DISPATCH_LEVEL));
    const std::vector<Got> got = take();
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL) << "the IRQL is left unchanged";
    expect_exactly(got, "IrqlInvalidLower", __FILE__, line);
}

TEST_F(VerifierTest, IrqlInvalidLower_FromDispatchToHigh) {
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    const int line = AT(KeLowerIrql(HIGH_LEVEL));
    const std::vector<Got> got = take();
    KeLowerIrql(old);
    expect_exactly(got, "IrqlInvalidLower", __FILE__, line);
}

TEST_F(VerifierTest, IrqlInvalidLower_FunctionForm) {
    const int line = AT((KeLowerIrql)(APC_LEVEL));
    const std::vector<Got> got = take();
    expect_exactly(got, "IrqlInvalidLower", __FILE__, line, false);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].line, line) << dump(got);
    }
}

// ============================================================================================
// RecursiveAcquire (terminal): death tests
// ============================================================================================

using RecursiveAcquire = VerifierParamTest<Family>;
TEST_P(RecursiveAcquire, SecondAcquireOfAHeldLockEndsTheProcess) {
    const Family &f = GetParam();
    EXPECT_DEATH(
        {
            Slot s;
            init_lock(f, s);
            Enter e(f);
            f.acquire(s);
            f.acquire(s);
        },
        "RecursiveAcquire \\(terminal\\).*at [^ ]*" + site_regex(kFamilyLine) + ".*already acquired at [^ ]*" +
            site_regex(kFamilyLine) + ".*RecursiveAcquire is terminal");
}
// The try families are not terminal: they return FALSE (RecursiveAcquireOfATry below).
INSTANTIATE_TEST_SUITE_P(All, RecursiveAcquire,
                         ::testing::ValuesIn(families_where([](const Family &f) { return !f.is_try; })), family_name);

using RecursiveAcquireOfATry = VerifierParamTest<Family>;
TEST_P(RecursiveAcquireOfATry, ReturnsFalseAndIsAnErrorThatLetsTheProgramGoOn) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    Enter e(f);
    f.acquire(s);
    const int line = f.acquire(s); // the try of a lock this thread holds: FALSE, nothing taken
    EXPECT_FALSE(KeTestSpinLock(s.word())) << "still held once";
    const std::vector<Got> got = take();
    f.release(s);
    EXPECT_TRUE(KeTestSpinLock(s.word())) << "one release frees it: the try took nothing";
    expect_family_finding(got, "RecursiveAcquire", f, line);
    if (got.size() == 1) {
        EXPECT_FALSE(got[0].terminal);
    }
}
INSTANTIATE_TEST_SUITE_P(All, RecursiveAcquireOfATry,
                         ::testing::ValuesIn(families_where([](const Family &f) { return f.is_try; })), family_name);

// A try never spins: it returns FALSE, and the finding is an error that lets the program go on
// (personality_test.cpp has the rest).
TEST_F(VerifierTest, RecursiveAcquire_TryAcquireOfALockHeldByAnOrdinaryAcquire) {
    Slot s;
    KeInitializeSpinLock(s.word());
    KIRQL old = 0;
    KeAcquireSpinLock(s.word(), &old);
    EXPECT_FALSE(KeTryToAcquireSpinLockAtDpcLevel(s.word()));
    const int line = __LINE__ - 1;
    KeReleaseSpinLock(s.word(), old);
    const std::vector<Got> got = take();
    expect_exactly(got, "RecursiveAcquire", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_FALSE(got[0].terminal);
    }
}

TEST_F(VerifierTest, RecursiveAcquire_NotReportedInOnModeForOtherErrors) {
    // A non-terminal error in ON mode is reported and the program goes on.
    Slot s;
    NdisAllocateSpinLock(s.l);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprReleaseSpinLock(s.l); // ReleaseNotHeld
    KeLowerIrql(old);
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "ReleaseNotHeld");
    EXPECT_FALSE(got[0].terminal);
}

// ============================================================================================
// Releases: ReleaseNotHeld, ReleaseByNonOwner, ReleaseVariantMismatch, WrongOldIrql
// ============================================================================================

using ReleaseNotHeld = VerifierParamTest<Family>;
TEST_P(ReleaseNotHeld, ReleaseOfAFreeLock) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    saved_irql_is_dispatch(s);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old); // a release at the right IRQL, of a lock nobody holds
    const int line = f.release(s);
    const std::vector<Got> got = take();
    to_passive();
    expect_family_finding(got, "ReleaseNotHeld", f, line);
}
TEST_P(ReleaseNotHeld, ReleasedTwice) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    std::vector<Got> got;
    int line = 0;
    {
        Enter e(f);
        f.acquire(s);
        f.release(s);
        KIRQL old = 0;
        if (f.raising) {
            KeRaiseIrql(DISPATCH_LEVEL, &old);
            saved_irql_is_dispatch(s);
        }
        line = f.release(s);
        got = take();
        if (f.raising) KeLowerIrql(old);
    }
    to_passive();
    expect_family_finding(got, "ReleaseNotHeld", f, line);
}
TEST_P(ReleaseNotHeld, ReleaseOfAFreeLockBelowDispatchIsOneFinding) {
    // At PASSIVE_LEVEL the release's IRQL is wrong too, but it follows from the one mistake (no
    // acquire): one report, ReleaseNotHeld, not an IRQL complaint ahead of it.
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    saved_irql_is_dispatch(s);
    const int line = f.release(s);
    const std::vector<Got> got = take();
    to_passive();
    expect_family_finding(got, "ReleaseNotHeld", f, line);
}
INSTANTIATE_TEST_SUITE_P(All, ReleaseNotHeld, ::testing::ValuesIn(families()), family_name);

using ReleaseByNonOwner = VerifierParamTest<Family>;
TEST_P(ReleaseByNonOwner, ReleaseOfALockAnotherThreadHolds) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    Flag held, go;
    int acquired_at = 0, line = 0;
    std::vector<Got> got;
    {
        Watchdog dog("ReleaseByNonOwner", std::chrono::seconds(60));
        std::thread owner([&] {
            ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
            {
                Enter e(f);
                acquired_at = f.acquire(s);
                held.set();
                go.wait();
                f.release(s); // its lock was released under it: whatever this reports is forgotten
            }
            to_passive();
        });
        held.wait();
        KIRQL old = 0;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        line = f.release(s);
        got = take();
        to_passive();
        go.set();
        owner.join();
    }
    expect_family_finding(got, "ReleaseByNonOwner", f, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].other_line, acquired_at) << "held since: the owner's acquire\n" << dump(got);
    }
}
INSTANTIATE_TEST_SUITE_P(All, ReleaseByNonOwner, ::testing::ValuesIn(families()), family_name);

struct Pair {
    const char *first, *second;
};
void PrintTo(const Pair &p, std::ostream *os) { *os << p.first << " then " << p.second; }
std::string pair_name(const ::testing::TestParamInfo<Pair> &info) {
    return std::string(info.param.first) + "_then_" + info.param.second;
}

using ReleaseVariantMismatch = VerifierParamTest<Pair>;
TEST_P(ReleaseVariantMismatch, AcquiredWithOneFormReleasedWithAnother) {
    const Family &acq = family(GetParam().first), &rel = family(GetParam().second);
    Slot s;
    init_lock(acq, s);
    std::vector<Got> got;
    int line = 0, acquired_at = 0;
    {
        Enter e(acq);
        acquired_at = acq.acquire(s);
        if (!acq.raising) saved_irql_is_dispatch(s); // a raising release then stays at DISPATCH_LEVEL
        line = rel.release(s);
        got = take();
    }
    to_passive();
    // A non-raising acquire at DISPATCH_LEVEL released by a raising release that restores
    // DISPATCH_LEVEL behaves on Windows exactly as the matching release: a note, not an error.
    const bool equivalent = !acq.raising && rel.raising && !acq.queued && !rel.queued;
    expect_family_finding(got, equivalent ? "ReleaseVariantEquivalent" : "ReleaseVariantMismatch", rel, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].severity, equivalent ? NDISLOCK_SEVERITY_NOTE : NDISLOCK_SEVERITY_ERROR) << dump(got);
        if (!acq.function_form) {
            EXPECT_EQ(got[0].other_line, acquired_at) << dump(got);
        }
    }
}

// The same pairs made at DISPATCH_LEVEL the other way round: a raising acquire made at
// DISPATCH_LEVEL (it saves DISPATCH_LEVEL) released without restoring leaves the IRQL where the
// matching release would: a note.
TEST_F(VerifierTest, ReleaseVariantEquivalent_ARaisingAcquireAtDispatchReleasedWithoutRestoring) {
    Slot s;
    KeInitializeSpinLock(s.word());
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KIRQL saved;
    const int acquired_at = AT(KeAcquireSpinLock(s.word(), &saved));
    const int line = AT(KeReleaseSpinLockFromDpcLevel(s.word()));
    const std::vector<Got> got = take();
    KeLowerIrql(old);
    EXPECT_EQ(saved, DISPATCH_LEVEL);
    expect_exactly(got, "ReleaseVariantEquivalent", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].severity, NDISLOCK_SEVERITY_NOTE);
        EXPECT_EQ(got[0].other_line, acquired_at);
    }
    EXPECT_EQ(NdislockVerifierErrorCount(), 0u);
}

// Hand-over-hand with the Ke forms: the first node's lock taken with KeAcquireSpinLock, the next
// ones with KeAcquireSpinLockAtDpcLevel, each previous one released with
// KeReleaseSpinLockFromDpcLevel while the next is held, the last one with KeReleaseSpinLock(old).
// The IRQL is right at every step and Windows runs it as written: two notes (the two mixed
// releases), no error, and the IRQL back where it was.
TEST_F(VerifierTest, ReleaseVariantEquivalent_HandOverHandWithTheKeForms) {
    Slot a, b, c;
    KeInitializeSpinLock(a.word());
    KeInitializeSpinLock(b.word());
    KeInitializeSpinLock(c.word());
    KIRQL old;
    const int first_acquired_at = AT(KeAcquireSpinLock(a.word(), &old));
    KeAcquireSpinLockAtDpcLevel(b.word());
    const int handed_at = AT(KeReleaseSpinLockFromDpcLevel(a.word()));
    KeAcquireSpinLockAtDpcLevel(c.word());
    KeReleaseSpinLockFromDpcLevel(b.word()); // a matching pair
    const int restored_at = AT(KeReleaseSpinLock(c.word(), old));
    const std::vector<Got> got = take();
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    to_passive();
    ASSERT_EQ(got.size(), 2u) << dump(got);
    EXPECT_EQ(got[0].rule, "ReleaseVariantEquivalent");
    EXPECT_EQ(got[0].line, handed_at);
    EXPECT_EQ(got[0].other_line, first_acquired_at);
    EXPECT_EQ(got[1].rule, "ReleaseVariantEquivalent");
    EXPECT_EQ(got[1].line, restored_at);
    for (const Got &g : got)
        EXPECT_EQ(g.severity, NDISLOCK_SEVERITY_NOTE);
    EXPECT_EQ(NdislockVerifierErrorCount(), 0u);
}

// The first half alone, with no later lock held: the IRQL the acquire raised is left raised, as
// the message says; that stays the error.
TEST_F(VerifierTest, ReleaseVariantMismatch_ARaisingAcquireReleasedFromDpcLevelWithNothingElseHeld) {
    Slot a;
    KeInitializeSpinLock(a.word());
    KIRQL old;
    KeAcquireSpinLock(a.word(), &old);
    const int line = AT(KeReleaseSpinLockFromDpcLevel(a.word()));
    const std::vector<Got> got = take();
    KeLowerIrql(old);
    expect_exactly(got, "ReleaseVariantMismatch", __FILE__, line);
}

// Not equivalent: an AtDpcLevel acquire released with KeReleaseSpinLock to PASSIVE_LEVEL drops
// the IRQL the caller was at; that stays the error.
TEST_F(VerifierTest, ReleaseVariantMismatch_ARaisingReleaseThatLowersIsStillAnError) {
    Slot s;
    KeInitializeSpinLock(s.word());
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireSpinLockAtDpcLevel(s.word());
    const int line = AT(KeReleaseSpinLock(s.word(), PASSIVE_LEVEL));
    const std::vector<Got> got = take();
    to_passive();
    expect_exactly(got, "ReleaseVariantMismatch", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].severity, NDISLOCK_SEVERITY_ERROR);
    }
}
INSTANTIATE_TEST_SUITE_P(Pairs, ReleaseVariantMismatch,
                         ::testing::Values(Pair{"Ndis", "NdisDpr"}, Pair{"NdisDpr", "Ndis"}, Pair{"Ke", "KeAtDpcLevel"},
                                           Pair{"KeAtDpcLevel", "Ke"}, Pair{"KeRaiseToDpc", "KeAtDpcLevel"},
                                           Pair{"KeTryAtDpcLevel", "Ke"},
                                           Pair{"InStackQueued", "InStackQueuedAtDpcLevel"},
                                           Pair{"InStackQueuedAtDpcLevel", "InStackQueued"},
                                           Pair{"InStackQueued", "Ke"}, Pair{"InStackQueuedAtDpcLevel", "KeAtDpcLevel"},
                                           Pair{"NdisFn", "NdisDprFn"}, Pair{"KeFn", "KeAtDpcLevelFn"},
                                           Pair{"InStackQueuedFn", "KeFn"}),
                         pair_name);

// With the lock statistics observing too, every observed call goes to both observers in turn
// (with the verifier alone it goes straight to it: observe/hooks.h); either way the verifier sees
// the acquire taken at once and the release, and the statistics count both pairs.
TEST_F(VerifierTest, ReleaseVariantMismatch_WithTheStatisticsObservingToo) {
    for (const bool statistics : {true, false}) {
        SCOPED_TRACE(statistics ? "verifier and statistics" : "verifier alone");
        NdislockStatsReset();
        NdislockStatsEnable(statistics ? TRUE : FALSE, 0);
        NDIS_SPIN_LOCK lock;
        NdisAllocateSpinLock(&lock);
        NdisAcquireSpinLock(&lock);
        NdisReleaseSpinLock(&lock);
        const int acquired_at = __LINE__ + 1;
        NdisAcquireSpinLock(&lock);
        const int line = __LINE__ + 1;
        NdisDprReleaseSpinLock(&lock); // the IRQL stays at DISPATCH_LEVEL: a mismatch, reported
        const std::vector<Got> got = take();
        KeLowerIrql(PASSIVE_LEVEL);
        NdisFreeSpinLock(&lock);
        NDISLOCK_LOCK_STATS stats[NDISLOCK_STATS_MAX_LOCKS];
        const ULONG tracked = NdislockStatsCollect(stats, NDISLOCK_STATS_MAX_LOCKS);
        NdislockStatsEnable(FALSE, 0);
        NdislockStatsReset();
        NdislockVerifierResetFindings();
        expect_exactly(got, "ReleaseVariantMismatch", __FILE__, line);
        if (got.size() == 1) {
            EXPECT_EQ(got[0].other_line, acquired_at) << dump(got);
        }
        ULONG64 acquisitions = 0;
        for (ULONG i = 0; i < tracked; ++i)
            if (stats[i].Lock == &lock) acquisitions = stats[i].Acquisitions;
        EXPECT_EQ(acquisitions, statistics ? 2u : 0u);
    }
}

using WrongOldIrql = VerifierParamTest<Family>;
TEST_P(WrongOldIrql, ReleaseRestoresAnotherIrqlThanItsAcquireSaved) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    f.acquire(s);
    s.l->OldIrql = APC_LEVEL; // what the release will restore: not the PASSIVE_LEVEL the acquire saved
    s.old = APC_LEVEL;
    s.h.OldIrql = APC_LEVEL;
    const int line = f.release(s);
    const std::vector<Got> got = take();
    to_passive();
    expect_family_finding(got, "WrongOldIrql", f, line);
}
INSTANTIATE_TEST_SUITE_P(Raising, WrongOldIrql, ::testing::ValuesIn(families_where(is_raising)), family_name);

TEST_F(VerifierTest, WrongOldIrql_OneOldIrqlSlotForTwoLocks) {
    Slot a, b;
    KeInitializeSpinLock(a.word());
    KeInitializeSpinLock(b.word());
    KIRQL old = 0;
    KeAcquireSpinLock(a.word(), &old);
    KeAcquireSpinLock(b.word(), &old); // overwrites a's saved PASSIVE_LEVEL with DISPATCH_LEVEL
    KeReleaseSpinLock(b.word(), old);
    const int line = AT(KeReleaseSpinLock(a.word(), old));
    const std::vector<Got> got = take();
    to_passive();
    expect_exactly(got, "WrongOldIrql", __FILE__, line);
}

// ============================================================================================
// Queued: QueuedAndPlainMixed, QueueHandleReused
// ============================================================================================

using QueuedAndPlainMixed = VerifierParamTest<Pair>;
TEST_P(QueuedAndPlainMixed, SecondFormOnALockUsedWithTheOther) {
    const Family &first = family(GetParam().first), &second = family(GetParam().second);
    Slot s;
    init_lock(first, s);
    {
        Enter e(first);
        first.acquire(s);
        first.release(s);
    }
    ASSERT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    std::vector<Got> got;
    int line = 0;
    {
        Enter e(second);
        line = second.acquire(s);
        got = take();
        second.release(s);
    }
    expect_family_finding(got, "QueuedAndPlainMixed", second, line);
}
std::vector<Pair> mixed_pairs() {
    std::vector<Pair> out;
    for (const char *plain : {"Ndis", "NdisDpr", "Ke", "KeAtDpcLevel", "KeTryAtDpcLevel"})
        for (const char *queued : {"InStackQueued", "InStackQueuedAtDpcLevel"}) {
            out.push_back({plain, queued});
            out.push_back({queued, plain});
        }
    out.push_back({"KeFn", "InStackQueuedFn"});
    out.push_back({"InStackQueuedAtDpcLevelFn", "KeAtDpcLevelFn"});
    return out;
}
INSTANTIATE_TEST_SUITE_P(Pairs, QueuedAndPlainMixed, ::testing::ValuesIn(mixed_pairs()), pair_name);

// One handle for two live acquisitions. The second acquire rewrites the handle, so the cleanup
// releases the first lock through a copy made before (and gives that lock word the copy).
void handle_reused(bool first_raising, bool second_raising) {
    Slot a, b;
    KeInitializeSpinLock(a.word());
    KeInitializeSpinLock(b.word());
    KLOCK_QUEUE_HANDLE h{}, copy{};
    KIRQL old = 0;
    const bool raise = !first_raising;
    if (raise) KeRaiseIrql(DISPATCH_LEVEL, &old);
    if (first_raising)
        KeAcquireInStackQueuedSpinLock(a.word(), &h);
    else
        KeAcquireInStackQueuedSpinLockAtDpcLevel(a.word(), &h);
    copy = h;
    const int line = second_raising ? AT(KeAcquireInStackQueuedSpinLock(b.word(), &h))
                                    : AT(KeAcquireInStackQueuedSpinLockAtDpcLevel(b.word(), &h));
    const std::vector<Got> got = take();
    if (second_raising)
        KeReleaseInStackQueuedSpinLock(&h);
    else
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&h);
    *a.word() = reinterpret_cast<KSPIN_LOCK>(&copy.LockQueue);
    if (first_raising)
        KeReleaseInStackQueuedSpinLock(&copy);
    else
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&copy);
    if (raise) KeLowerIrql(old);
    expect_exactly(got, "QueueHandleReused", __FILE__, line);
    EXPECT_EQ(NdislockVerifierFindingCount(), 1u) << "the cleanup is correct\n" << dump(take());
}
TEST_F(VerifierTest, QueueHandleReused_InStackQueued) { handle_reused(true, true); }
TEST_F(VerifierTest, QueueHandleReused_InStackQueuedAtDpcLevel) { handle_reused(false, false); }
TEST_F(VerifierTest, QueueHandleReused_RaisingThenAtDpcLevel) { handle_reused(true, false); }

// ============================================================================================
// IrqlDroppedWhileHoldingLock
// ============================================================================================

using IrqlDroppedWhileHoldingLock = VerifierParamTest<Family>;
TEST_P(IrqlDroppedWhileHoldingLock, OutOfOrderRelease) {
    // Acquire A, Acquire B, Release A: A's release restores PASSIVE_LEVEL with B still held.
    const Family &f = GetParam();
    Slot a, b;
    init_lock(f, a);
    init_lock(f, b);
    f.acquire(a);
    const int b_at = f.acquire(b);
    const int line = f.release(a);
    const std::vector<Got> got = take();
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL) << "as on Windows, the code between the releases runs at PASSIVE";
    f.release(b); // ends at DISPATCH_LEVEL, as on Windows
    to_passive();
    expect_family_finding(got, "IrqlDroppedWhileHoldingLock", f, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].other_line, b_at) << "still held: B\n" << dump(got);
    }
}
INSTANTIATE_TEST_SUITE_P(Raising, IrqlDroppedWhileHoldingLock, ::testing::ValuesIn(families_where(is_raising)),
                         family_name);

using IrqlDroppedByKeLowerIrql = VerifierParamTest<Family>;
TEST_P(IrqlDroppedByKeLowerIrql, LowerToPassiveWhileHolding) {
    const Family &f = GetParam();
    Slot a;
    init_lock(f, a);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    f.acquire(a);
    const int line = AT(KeLowerIrql(PASSIVE_LEVEL));
    const std::vector<Got> got = take();
    KIRQL passive = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &passive);
    saved_irql_is_dispatch(a);
    f.release(a);
    to_passive();
    expect_exactly(got, "IrqlDroppedWhileHoldingLock", __FILE__, line);
    EXPECT_EQ(NdislockVerifierFindingCount(), 1u) << dump(take());
}
INSTANTIATE_TEST_SUITE_P(All, IrqlDroppedByKeLowerIrql, ::testing::ValuesIn(families()), family_name);

// ============================================================================================
// ThreadExitHoldingLock
// ============================================================================================

using ThreadExitHoldingLock = VerifierParamTest<Family>;
TEST_P(ThreadExitHoldingLock, ThreadEndsHoldingALock) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s);
    int line = 0;
    {
        Watchdog dog("ThreadExitHoldingLock", std::chrono::seconds(60));
        std::thread([&] {
            ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
            KIRQL old = 0;
            if (!f.raising) KeRaiseIrql(DISPATCH_LEVEL, &old);
            line = f.acquire(s);
        }).join();
    }
    expect_family_finding(take(), "ThreadExitHoldingLock", f, line);
}
INSTANTIATE_TEST_SUITE_P(All, ThreadExitHoldingLock, ::testing::ValuesIn(families()), family_name);

// The thread that ends the process (a return from main, exit()) gets no thread-exit destructor;
// the verifier's exit handler checks it, before it writes the SARIF log and picks the status.
TEST_F(VerifierTest, ThreadExitHoldingLock_TheProcessEndsWithALockHeld) {
    static NDIS_SPIN_LOCK lock;
    const int line = __LINE__ + 5;
    EXPECT_EXIT(
        {
            NdislockVerifierSetExitCode(86);
            NdisAllocateSpinLock(&lock);
            NdisAcquireSpinLock(&lock);
            std::exit(0);
        },
        ::testing::ExitedWithCode(86),
        "ThreadExitHoldingLock.*ends the process \\(a return from main, or exit\\) holding 1 spin lock.*" +
            site_regex(line));
}

TEST_F(VerifierTest, ThreadExitHoldingLock_TheProcessEndsAtDispatchLevel) {
    const int line = __LINE__ + 5;
    EXPECT_EXIT(
        {
            NdislockVerifierSetExitCode(86);
            KIRQL old = 0;
            KeRaiseIrql(DISPATCH_LEVEL, &old);
            std::exit(0);
        },
        ::testing::ExitedWithCode(86),
        "ThreadExitHoldingLock.*ends the process .* at IRQL 2.*raised here, never lowered.*" + site_regex(line));
}

// A thread that ends at DISPATCH_LEVEL holding nothing is reported where it went up: its
// KeRaiseIrql, or the acquire whose release did not lower (NdisAcquireSpinLock released with
// NdisDprReleaseSpinLock), not at "(unknown)".
TEST_F(VerifierTest, ThreadExitHoldingLock_AThreadEndingAtDispatchLevelIsReportedWhereItWentUp) {
    int raise_line = 0, acquire_line = 0;
    {
        Watchdog dog("ThreadExitHoldingLock at DISPATCH_LEVEL", std::chrono::seconds(60));
        std::thread([&] {
            KIRQL old = 0;
            raise_line = AT(KeRaiseIrql(DISPATCH_LEVEL, &old));
        }).join();
    }
    expect_exactly(take(), "ThreadExitHoldingLock", __FILE__, raise_line);
    static NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    {
        Watchdog dog("ThreadExitHoldingLock after a release that did not lower", std::chrono::seconds(60));
        std::thread([&] {
            acquire_line = AT(NdisAcquireSpinLock(&lock));
            NdisDprReleaseSpinLock(&lock); // ReleaseVariantMismatch: the IRQL stays at DISPATCH_LEVEL
        }).join();
    }
    const std::vector<Got> got = take();
    NdisFreeSpinLock(&lock);
    bool exit_at_acquire = false;
    for (const Got &g : got)
        exit_at_acquire |= g.rule == "ThreadExitHoldingLock" && g.line == acquire_line;
    EXPECT_TRUE(exit_at_acquire) << dump(got);
}

TEST_F(VerifierTest, ThreadExitHoldingLock_NotReportedWhenTheProcessEndsCleanly) {
    static NDIS_SPIN_LOCK lock;
    EXPECT_EXIT(
        {
            NdislockVerifierSetExitCode(86);
            NdisAllocateSpinLock(&lock);
            NdisAcquireSpinLock(&lock);
            NdisReleaseSpinLock(&lock);
            std::fprintf(stderr, "clean end\n");
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "^clean end\n$");
}

TEST_F(VerifierTest, ThreadExitHoldingLock_ThreadEndsAtDispatchLevel) {
    std::thread([] {
        ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
        KIRQL old = 0;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
    }).join();
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "ThreadExitHoldingLock");
    // The processor was given back: this thread can run at DISPATCH_LEVEL there.
    ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeLowerIrql(old);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
}

// ============================================================================================
// LockOrderInversion, and try-acquires that create none
// ============================================================================================

using LockOrderInversion = VerifierParamTest<Family>;
TEST_P(LockOrderInversion, BothOrdersOnOneThread) {
    const Family &f = GetParam();
    Slot a, b;
    init_lock(f, a, keep(std::string("inversion.A.") + f.name));
    init_lock(f, b, keep(std::string("inversion.B.") + f.name));
    std::vector<Got> got;
    int line = 0;
    {
        Enter e(f);
        f.acquire(a);
        f.acquire(b); // A -> B
        f.release(b);
        f.release(a);
        ASSERT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
        f.acquire(b);
        line = f.acquire(a); // B -> A
        got = take();
        f.release(a);
        f.release(b);
    }
    expect_family_finding(got, "LockOrderInversion", f, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("inversion.A."), std::string::npos) << got[0].message;
        EXPECT_NE(got[0].message.find("inversion.B."), std::string::npos) << got[0].message;
        EXPECT_EQ(got[0].other_line, kFamilyLine) << "the earlier order's acquire\n" << dump(got);
    }
}
INSTANTIATE_TEST_SUITE_P(Blocking, LockOrderInversion, ::testing::ValuesIn(families_where(is_blocking)), family_name);

TEST_F(VerifierTest, LockOrderInversion_AcrossThreadsAndFamilies) {
    Slot a, b;
    NdislockSetLockName(a.l, "inversion.threads.A");
    NdislockSetLockName(b.l, "inversion.threads.B");
    NdisAllocateSpinLock(a.l);
    NdisAllocateSpinLock(b.l);
    std::thread([&] {
        NdisAcquireSpinLock(a.l);
        NdisDprAcquireSpinLock(b.l);
        NdisDprReleaseSpinLock(b.l);
        NdisReleaseSpinLock(a.l);
    }).join();
    KIRQL old = 0;
    KeAcquireSpinLock(&b.l->SpinLock, &old);
    const int line = AT(KeAcquireSpinLockAtDpcLevel(&a.l->SpinLock));
    const std::vector<Got> got = take();
    KeReleaseSpinLockFromDpcLevel(&a.l->SpinLock);
    KeReleaseSpinLock(&b.l->SpinLock, old);
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
}

// A driver's own helper that allocates every lock (one line of NdisAllocateSpinLock for all):
// each place that calls it makes a class of its own, as a direct call there would. noinline, and
// work after the call so that it is no tail call: the helper keeps a frame of its own.
[[gnu::noinline]] void mp_init_lock(PNDIS_SPIN_LOCK lock) {
    NdisAllocateSpinLock(lock);
    asm volatile("" ::: "memory");
}

// Tx -> Global -> Rx, with Tx and Rx allocated by the one helper: a consistent order of three
// locks, no inversion (with one class for both, Tx -> Global and Global -> Rx looked like one).
TEST_F(VerifierTest, LockClasses_AHelperCalledFromTwoPlacesMakesTwoClasses) {
    Slot tx, rx, global;
    mp_init_lock(tx.l);
    mp_init_lock(rx.l);
    NdisAllocateSpinLock(global.l);
    NdisAcquireSpinLock(global.l);
    NdisDprAcquireSpinLock(rx.l);
    NdisDprReleaseSpinLock(rx.l);
    NdisReleaseSpinLock(global.l);
    NdisAcquireSpinLock(tx.l);
    NdisDprAcquireSpinLock(global.l);
    NdisDprReleaseSpinLock(global.l);
    NdisReleaseSpinLock(tx.l);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// The two helper-made locks in both orders: reported, each class named by its allocation in the
// helper and the call that made it.
TEST_F(VerifierTest, LockOrderInversion_BetweenTwoLocksOfOneHelperNamesTheirCallers) {
    Slot tx, rx;
    const int tx_made_at = AT(mp_init_lock(tx.l));
    const int rx_made_at = AT(mp_init_lock(rx.l));
    NdisAcquireSpinLock(tx.l);
    NdisDprAcquireSpinLock(rx.l);
    NdisDprReleaseSpinLock(rx.l);
    NdisReleaseSpinLock(tx.l);
    NdisAcquireSpinLock(rx.l);
    const int line = AT(NdisDprAcquireSpinLock(tx.l));
    const std::vector<Got> got = take();
    NdisDprReleaseSpinLock(tx.l);
    NdisReleaseSpinLock(rx.l);
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("called from "), std::string::npos) << dump(got);
        EXPECT_NE(got[0].message.find(site_regex(tx_made_at)), std::string::npos) << dump(got);
        EXPECT_NE(got[0].message.find(site_regex(rx_made_at)), std::string::npos) << dump(got);
    }
}

// A -> B, B -> C, then C -> A: no two classes in both orders, but a cycle of three. The report
// names every step of it.
TEST_F(VerifierTest, LockOrderInversion_ACycleOfThreeClassesNamesEachStep) {
    Slot a, b, c;
    NdislockSetLockName(a.l, "cycle3.A");
    NdislockSetLockName(b.l, "cycle3.B");
    NdislockSetLockName(c.l, "cycle3.C");
    NdisAllocateSpinLock(a.l);
    NdisAllocateSpinLock(b.l);
    NdisAllocateSpinLock(c.l);
    const auto take_two = [](PNDIS_SPIN_LOCK x, PNDIS_SPIN_LOCK y) {
        NdisAcquireSpinLock(x);
        const int line = AT(NdisDprAcquireSpinLock(y));
        NdisDprReleaseSpinLock(y);
        NdisReleaseSpinLock(x);
        return line;
    };
    take_two(a.l, b.l);
    take_two(b.l, c.l);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    const int line = take_two(c.l, a.l);
    const std::vector<Got> got = take();
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("\"cycle3.A\" was taken before \"cycle3.B\", \"cycle3.B\" before \"cycle3.C\""),
                  std::string::npos)
            << got[0].message;
        EXPECT_NE(got[0].message.find("a cycle of 3 lock classes"), std::string::npos) << got[0].message;
    }
}

// Locks of one class (one allocation line) taken in both orders: the class graph has no edge for
// a class nested in itself (hand over hand is correct), so the two locks' own order is checked.
TEST_F(VerifierTest, LockOrderInversion_TwoLocksOfOneClassInBothOrders) {
    static NDIS_SPIN_LOCK q[2];
    for (NDIS_SPIN_LOCK &l : q)
        NdisAllocateSpinLock(&l);
    std::thread([&] {
        NdisAcquireSpinLock(&q[0]);
        NdisDprAcquireSpinLock(&q[1]);
        NdisDprReleaseSpinLock(&q[1]);
        NdisReleaseSpinLock(&q[0]);
    }).join();
    NdisAcquireSpinLock(&q[1]);
    const int line = AT(NdisDprAcquireSpinLock(&q[0]));
    const std::vector<Got> got = take();
    NdisDprReleaseSpinLock(&q[0]);
    NdisReleaseSpinLock(&q[1]);
    for (NDIS_SPIN_LOCK &l : q)
        NdisFreeSpinLock(&l);
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_NE(got[0].message.find("both of class"), std::string::npos) << dump(got);
    }
}

// The same class walked hand over hand, always in one order, many times: nothing. Then the locks
// freed and new ones allocated at the same addresses, taken in the other order: new locks, no
// inversion with the old ones' order.
TEST_F(VerifierTest, LockOrderInversion_NotForOneClassInOneOrderNorForNewLocksAtTheSameAddresses) {
    static NDIS_SPIN_LOCK chain[4];
    for (NDIS_SPIN_LOCK &l : chain)
        NdisAllocateSpinLock(&l);
    for (int round = 0; round < 3; ++round) {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old); // NDIS's hand over hand: the Dpr forms at DISPATCH_LEVEL
        NdisDprAcquireSpinLock(&chain[0]);
        for (int i = 1; i < 4; ++i) {
            NdisDprAcquireSpinLock(&chain[i]);
            NdisDprReleaseSpinLock(&chain[i - 1]); // the hand-over: the previous one goes first
        }
        NdisDprReleaseSpinLock(&chain[3]);
        KeLowerIrql(old);
    }
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    for (NDIS_SPIN_LOCK &l : chain)
        NdisFreeSpinLock(&l);
    for (NDIS_SPIN_LOCK &l : chain)
        NdisAllocateSpinLock(&l);
    NdisAcquireSpinLock(&chain[1]);
    NdisDprAcquireSpinLock(&chain[0]); // the reverse of the freed locks' order
    NdisDprReleaseSpinLock(&chain[0]);
    NdisReleaseSpinLock(&chain[1]);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    for (NDIS_SPIN_LOCK &l : chain)
        NdisFreeSpinLock(&l);
}

// Takes `first` then `second`, then `second` then `first` (the reverse): the reverse's line and
// what the verifier found by then.
std::vector<Got> both_orders(NDIS_SPIN_LOCK &first, NDIS_SPIN_LOCK &second, int *reverse_line) {
    NdisAcquireSpinLock(&first);
    NdisDprAcquireSpinLock(&second);
    NdisDprReleaseSpinLock(&second);
    NdisReleaseSpinLock(&first);
    NdisAcquireSpinLock(&second);
    *reverse_line = AT(NdisDprAcquireSpinLock(&first));
    std::vector<Got> got = take();
    NdisDprReleaseSpinLock(&first);
    NdisReleaseSpinLock(&second);
    return got;
}

// A lock pair nested, then freed, over and over (locks allocated per object, taken hand over hand,
// freed with the object): each forgotten pair leaves room for the next, so after more of them than
// the verifier keeps at once, two locks of one class in both orders are still reported.
TEST_F(VerifierTest, LockOrderInversion_StillFoundAfterManyPairsWereFreed) {
    static NDIS_SPIN_LOCK q[2];
    for (int round = 0; round < 10'000; ++round) {
        for (NDIS_SPIN_LOCK &l : q)
            NdisAllocateSpinLock(&l);
        NdisAcquireSpinLock(&q[round % 2]);
        NdisDprAcquireSpinLock(&q[1 - round % 2]); // both orders, but never for the same two locks
        NdisDprReleaseSpinLock(&q[1 - round % 2]);
        NdisReleaseSpinLock(&q[round % 2]);
        for (NDIS_SPIN_LOCK &l : q)
            NdisFreeSpinLock(&l);
    }
    ASSERT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    for (NDIS_SPIN_LOCK &l : q)
        NdisAllocateSpinLock(&l);
    int line = 0;
    const std::vector<Got> got = both_orders(q[0], q[1], &line);
    for (NDIS_SPIN_LOCK &l : q)
        NdisFreeSpinLock(&l);
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
}

// Threads walking their own lists of one class hand over hand, allocating and freeing them as they
// go, while the others do the same (more threads than cores): one order each, no report, and the
// pairs recorded and forgotten concurrently stay consistent (run under ThreadSanitizer too).
TEST_F(VerifierTest, LockOrderInversion_NotForConcurrentWalksOfListsAllocatedAndFreed) {
    constexpr int kThreads = 4, kRounds = 1'500, kNodes = 3;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([] {
            std::vector<NDIS_SPIN_LOCK> list(kNodes);
            for (int round = 0; round < kRounds; ++round) {
                for (NDIS_SPIN_LOCK &l : list)
                    NdisAllocateSpinLock(&l);
                KIRQL old;
                KeRaiseIrql(DISPATCH_LEVEL, &old);
                NdisDprAcquireSpinLock(&list[0]);
                for (int i = 1; i < kNodes; ++i) {
                    NdisDprAcquireSpinLock(&list[i]);
                    NdisDprReleaseSpinLock(&list[i - 1]);
                }
                NdisDprReleaseSpinLock(&list[kNodes - 1]);
                KeLowerIrql(old);
                for (NDIS_SPIN_LOCK &l : list)
                    NdisFreeSpinLock(&l);
            }
        });
    for (std::thread &t : threads)
        t.join();
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// More same-class pairs live at once than the verifier keeps (a table of 200 locks of one class,
// every pair nested once): the oldest are forgotten, the newest still checked.
TEST_F(VerifierTest, LockOrderInversion_TheNewestPairsAreCheckedWhenMoreAreLiveThanKept) {
    constexpr int kLocks = 200; // 19,900 ordered pairs
    std::vector<NDIS_SPIN_LOCK> locks(kLocks);
    for (NDIS_SPIN_LOCK &l : locks)
        NdisAllocateSpinLock(&l);
    for (int i = 0; i < kLocks; ++i)
        for (int j = i + 1; j < kLocks; ++j) {
            NdisAcquireSpinLock(&locks[i]);
            NdisDprAcquireSpinLock(&locks[j]);
            NdisDprReleaseSpinLock(&locks[j]);
            NdisReleaseSpinLock(&locks[i]);
        }
    ASSERT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
    int line = 0; // the newest pair's order again, then its reverse
    const std::vector<Got> got = both_orders(locks[kLocks - 2], locks[kLocks - 1], &line);
    for (NDIS_SPIN_LOCK &l : locks)
        NdisFreeSpinLock(&l);
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
}

using TryReverseOrder = VerifierParamTest<Family>;
TEST_P(TryReverseOrder, TryAcquireInTheReverseOrderIsNoInversion) {
    // A -> B by blocking acquires (family f), then B held and A only tried: a try never waits.
    const Family &f = GetParam();
    Slot a, b;
    init_lock(f, a, keep(std::string("try.A.") + f.name));
    init_lock(f, b, keep(std::string("try.B.") + f.name));
    {
        Enter e(f);
        f.acquire(a);
        f.acquire(b);
        f.release(b);
        f.release(a);
        f.acquire(b);
        ASSERT_TRUE(KeTryToAcquireSpinLockAtDpcLevel(a.word())); // at DISPATCH_LEVEL here
        KeReleaseSpinLockFromDpcLevel(a.word());
        f.release(b);
    }
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}
INSTANTIATE_TEST_SUITE_P(Blocking, TryReverseOrder, ::testing::ValuesIn(families_where([](const Family &f) {
                             return !f.is_try && !f.queued && !f.function_form;
                         })),
                         family_name);

TEST_F(VerifierTest, TryReverseOrder_BothOrdersTried) {
    Slot a, b;
    KeInitializeSpinLock(a.word());
    KeInitializeSpinLock(b.word());
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (int order = 0; order < 2; ++order) {
        Slot &first = order == 0 ? a : b, &second = order == 0 ? b : a;
        ASSERT_TRUE(KeTryToAcquireSpinLockAtDpcLevel(first.word()));
        ASSERT_TRUE(KeTryToAcquireSpinLockAtDpcLevel(second.word()));
        KeReleaseSpinLockFromDpcLevel(second.word());
        KeReleaseSpinLockFromDpcLevel(first.word());
    }
    KeLowerIrql(old);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// ============================================================================================
// LockHeldTooLong
// ============================================================================================

#if defined(__SANITIZE_THREAD__)
constexpr std::uint64_t kOverrunNs = 2'000'000; // holds are slow under TSan: make the overrun plain
#else
constexpr std::uint64_t kOverrunNs = 200'000;
#endif

using LockHeldTooLong = VerifierParamTest<Family>;
TEST_P(LockHeldTooLong, HeldOverBudgetTwiceInARow) {
    const Family &f = GetParam();
    Slot s;
    init_lock(f, s, keep(std::string("too-long.") + f.name));
    NdislockVerifierSetHoldBudget(20'000);
    int line = 0;
    std::vector<Got> got;
    // Two consecutive timed holds over budget; a hold the OS interrupted is not timed, so retry
    // (on a busy machine most are: up to 1000 tries, 0.2 s).
    for (int i = 0; i < 1000 && got.empty(); ++i) {
        Enter e(f);
        f.acquire(s);
        busy_wait_ns(kOverrunNs);
        line = f.release(s);
        e.leave();
        got = take();
    }
    NdislockVerifierSetHoldBudget(0);
    expect_family_finding(got, "LockHeldTooLong", f, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].severity, NDISLOCK_SEVERITY_WARNING);
    }
}
INSTANTIATE_TEST_SUITE_P(All, LockHeldTooLong, ::testing::ValuesIn(families()), family_name);

TEST_F(VerifierTest, LockHeldTooLong_NotForAHolderThatSleeps) {
    // Descheduled while holding: on Windows a holder at DISPATCH_LEVEL is never descheduled, so
    // this time is not the driver's; it must not count against the budget.
    Slot s;
    NdislockSetLockName(s.l, "too-long.sleeper");
    NdisAllocateSpinLock(s.l);
    NdislockVerifierSetHoldBudget(20'000);
    for (int i = 0; i < 10; ++i) {
        NdisAcquireSpinLock(s.l);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        NdisReleaseSpinLock(s.l);
    }
    NdislockVerifierSetHoldBudget(0);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// The hold times the verifier recorded for the class named `name`.
static NDISLOCK_CLASS_HOLD_TIMES hold_times_of(const std::string &name) {
    std::vector<NDISLOCK_CLASS_HOLD_TIMES> rows(4096);
    const ULONG n = NdislockVerifierGetHoldTimes(rows.data(), static_cast<ULONG>(rows.size()));
    for (ULONG i = 0; i < n && i < rows.size(); ++i)
        if (rows[i].Class != nullptr && std::string(rows[i].Class).find(name) != std::string::npos) return rows[i];
    ADD_FAILURE() << "no hold times for class " << name;
    return {};
}

TEST_F(VerifierTest, LockHeldTooLong_OneOverrunAloneIsNotReported) {
    // over, under, over, under, over: never twice in a row. The rule only means something when
    // every hold was timed and each short hold really was under budget: a short hold the OS
    // interrupted is not timed (so it does not break the streak), and on a loaded machine under
    // TSan even a short hold can overrun. Such a round proves nothing either way; retry it under
    // a fresh class. On a machine loaded far beyond its cores (a Debug suite beside two builds:
    // load 10 on 2 cores) 50 rounds can all be inconclusive: rounds go on for up to 20 s.
    constexpr std::uint64_t kBudgetNs = kOverrunNs / 4;
    int conclusive = 0;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (int attempt = 0; conclusive == 0 && (attempt < 50 || std::chrono::steady_clock::now() < give_up); ++attempt) {
        const std::string name = "too-long.once." + std::to_string(attempt) + "/";
        Slot s;
        NdislockSetLockName(s.l, keep(name));
        NdisAllocateSpinLock(s.l);
        NdislockVerifierSetHoldBudget(kBudgetNs);
        for (int i = 0; i < 5; ++i) {
            NdisAcquireSpinLock(s.l);
            if (i % 2 == 0) busy_wait_ns(kOverrunNs);
            NdisReleaseSpinLock(s.l);
        }
        NdislockVerifierSetHoldBudget(0);
        const NDISLOCK_CLASS_HOLD_TIMES t = hold_times_of(name);
        std::uint64_t under = 0; // holds in buckets wholly below the budget
        for (int b = 0; b + 1 < NDISLOCK_HOLD_BUCKETS; ++b)
            if ((std::uint64_t{1} << (b + 1)) <= kBudgetNs) under += t.Buckets[b];
        const std::vector<Got> got = take();
        NdisFreeSpinLock(s.l);
        if (t.Descheduled != 0 || under != 2) continue; // inconclusive round
        ++conclusive;
        EXPECT_TRUE(got.empty()) << dump(got);
    }
    EXPECT_EQ(conclusive, 1) << "no round with both short holds timed under budget in 20 s";
}

// Takes a fresh lock named `name` (NDISLOCK_HOLD_SAMPLE period `every_nth`, 0 = the default)
// `pairs` times through pair(slot) and returns how many of those holds the verifier timed
// (descheduled ones included: they were sampled).
template <class Pair> std::uint64_t timed_holds(ULONG every_nth, const char *name, int pairs, Pair pair) {
    NdislockVerifierSetHoldSampling(every_nth);
    Slot s;
    NdislockSetLockName(s.l, name);
    NdisAllocateSpinLock(s.l);
    for (int i = 0; i < pairs; ++i)
        pair(s);
    const NDISLOCK_CLASS_HOLD_TIMES t = hold_times_of(name);
    NdisFreeSpinLock(s.l);
    return t.Holds + t.Descheduled;
}

// The default sampling (NDISLOCK_HOLD_SAMPLE, 16) times one hold in sixteen of each thread on
// average, at random gaps of 1 to 31 holds: 16000 holds are 1000 timed ones, give or take ~18
// (one standard deviation of the count).
static_assert(NDISLOCK_HOLD_SAMPLE_DEFAULT == 16, "the bounds below assume the default period");
TEST_F(VerifierTest, HoldSampling_TheDefaultTimesAboutOneHoldInSixteen) {
    const std::uint64_t timed = timed_holds(0, "sampling.default/", 16000, [](Slot &s) {
        NdisAcquireSpinLock(s.l);
        NdisReleaseSpinLock(s.l);
    });
    EXPECT_GE(timed, 850u);
    EXPECT_LE(timed, 1150u);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// Locks taken in a fixed cycle (A, then B inside it, again and again: two acquires a pass) are
// each timed now and then: a sampler that timed every 16th acquire would only ever time B.
TEST_F(VerifierTest, HoldSampling_ALockTakenInACycleIsStillTimed) {
    NdislockVerifierSetHoldSampling(0);
    Slot a, b;
    NdislockSetLockName(a.l, "sampling.cycle.outer/");
    NdislockSetLockName(b.l, "sampling.cycle.inner/");
    NdisAllocateSpinLock(a.l);
    NdisAllocateSpinLock(b.l);
    // A marginal overrun (2x), which only the sampled streak reports: one far over budget would be
    // reported the first time, sampled or not (verifier/long_holds.h). Under a sanitizer the
    // heartbeat moves the scheduler witness of the holds it reaches and can keep the streak from
    // completing: there the overrun is 8x, either way of reporting will do, and what is checked is
    // that the outer lock, not the inner one, is reported.
    NdislockVerifierSetHoldBudget(kSanitized ? kOverrunNs / 8 : kOverrunNs / 2);
    std::vector<Got> got;
    // A descheduled hold is not timed and breaks the streak: on a machine loaded far beyond its
    // cores (the suite beside a build) 4000 passes can go by without three timed holds in a row,
    // so the passes go on for up to 20 s.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (int pass = 0; got.empty() && (pass < 4000 || std::chrono::steady_clock::now() < give_up); ++pass) {
        NdisAcquireSpinLock(a.l);
        NdisDprAcquireSpinLock(b.l);
        NdisDprReleaseSpinLock(b.l);
        busy_wait_ns(kOverrunNs); // only the outer lock overruns
        NdisReleaseSpinLock(a.l);
        got = take();
    }
    NdislockVerifierSetHoldBudget(0);
    ASSERT_EQ(got.size(), 1u) << "the outer lock was never reported";
    EXPECT_EQ(got[0].rule, "LockHeldTooLong");
    EXPECT_NE(got[0].lock_class.find("sampling.cycle.outer/"), std::string::npos) << got[0].lock_class;
    if (!kSanitized) {
        EXPECT_GE(hold_times_of("sampling.cycle.outer/").Holds, 3u);
    }
    NdisFreeSpinLock(a.l);
    NdisFreeSpinLock(b.l);
}

TEST_F(VerifierTest, HoldSampling_OneTimesEveryHold) {
    const std::uint64_t timed = timed_holds(1, "sampling.every/", 13, [](Slot &s) {
        KIRQL old = 0;
        KeAcquireSpinLock(s.word(), &old);
        KeReleaseSpinLock(s.word(), old);
    });
    EXPECT_EQ(timed, 13u);
}

// Sampled, a class whose every hold overruns is still reported (after about 16x as many holds).
TEST_F(VerifierTest, HoldSampling_AClassThatKeepsOverrunningIsStillReported) {
    NdislockVerifierSetHoldSampling(0);
    Slot s;
    NdislockSetLockName(s.l, "sampling.overrun/");
    NdisAllocateSpinLock(s.l);
    // A marginal overrun (2x), which only the sampled streak reports: one far over budget would be
    // reported the first time, sampled or not (verifier/long_holds.h). Under a sanitizer the
    // heartbeat waits for intercepted calls and moves the scheduler witness of the holds it
    // reaches, which can keep the streak from completing: there the overrun is 8x, and either
    // way of reporting it will do.
    NdislockVerifierSetHoldBudget(kSanitized ? kOverrunNs / 8 : kOverrunNs / 2);
    std::vector<Got> got;
    int holds = 0;
    while (holds < 4000 && got.empty()) {
        NdisAcquireSpinLock(s.l);
        busy_wait_ns(kOverrunNs);
        NdisReleaseSpinLock(s.l);
        ++holds;
        got = take();
    }
    NdislockVerifierSetHoldBudget(0);
    ASSERT_EQ(got.size(), 1u) << "holds: " << holds;
    EXPECT_EQ(got[0].rule, "LockHeldTooLong");
    EXPECT_GE(holds, kSanitized ? 1 : 3);
    NdisFreeSpinLock(s.l);
}

// ============================================================================================
// Fatal mode
// ============================================================================================

TEST_F(VerifierTest, FatalMode_EndsTheProcessAtTheFirstError) {
    EXPECT_DEATH(
        {
            NdislockVerifierSetMode(NDISLOCK_VERIFIER_FATAL);
            Slot s;
            NdisAllocateSpinLock(s.l);
            KIRQL old = 0;
            KeRaiseIrql(DISPATCH_LEVEL, &old);
            NdisDprReleaseSpinLock(s.l); // ReleaseNotHeld: an error, not terminal
            std::fprintf(stderr, "still running after the error\n");
            KeLowerIrql(old);
        },
        "error: ReleaseNotHeld.*" + site_regex(__LINE__ - 4) + ".*an error in fatal mode");
}

TEST_F(VerifierTest, FatalMode_AWarningDoesNotEndTheProcess) {
    Slot s;
    NdislockSetLockName(s.l, "fatal.warning");
    NdisAllocateSpinLock(s.l);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_FATAL);
    NdislockVerifierSetHoldBudget(20'000);
    bool warned = false;
    for (int i = 0; i < 100 && !warned; ++i) {
        NdisAcquireSpinLock(s.l);
        busy_wait_ns(kOverrunNs);
        NdisReleaseSpinLock(s.l);
        warned = NdislockVerifierFindingCount() != 0;
    }
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdislockVerifierSetHoldBudget(0);
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "LockHeldTooLong");
}

// ============================================================================================
// The C++ types and guards (ndislock.hpp)
// ============================================================================================

// Inside a macro argument (EXPECT_DEATH's statement) __builtin_LINE() is the macro's line, so the
// C++ misuse runs in functions of its own.
constexpr int kCppGuardOuter = __LINE__ + 3, kCppGuardInner = __LINE__ + 4;
void recursive_lock_guard() {
    ndislock::NdisSpinLock l;
    ndislock::LockGuard<ndislock::NdisSpinLock> outer(l);
    ndislock::LockGuard<ndislock::NdisSpinLock> inner(l);
}
TEST_F(VerifierTest, Cpp_RecursiveAcquire_LockGuard) {
    EXPECT_DEATH(recursive_lock_guard(), "RecursiveAcquire \\(terminal\\).*at [^ ]*" + site_regex(kCppGuardInner) +
                                             ".*already acquired at [^ ]*" + site_regex(kCppGuardOuter));
}

constexpr int kCppQueuedInner = __LINE__ + 4;
void recursive_queued_guard() {
    ndislock::KSpinLock k;
    ndislock::InStackQueuedGuard outer(k);
    ndislock::InStackQueuedGuard inner(k, ndislock::at_dpc_level);
}
TEST_F(VerifierTest, Cpp_RecursiveAcquire_InStackQueuedGuard) {
    EXPECT_DEATH(recursive_queued_guard(), "RecursiveAcquire \\(terminal\\).*at [^ ]*" + site_regex(kCppQueuedInner));
}

constexpr int kCppTryLock = __LINE__ + 4;
void recursive_try_lock() {
    ndislock::KSpinLock k;
    k.lock();
    (void)k.try_lock();
    k.unlock();
}
// try_lock of its own lock: FALSE, an error that is not terminal (a try never spins).
TEST_F(VerifierTest, Cpp_RecursiveAcquire_KSpinLockTryLock) {
    recursive_try_lock();
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "RecursiveAcquire");
    EXPECT_EQ(got[0].line, kCppTryLock);
    EXPECT_FALSE(got[0].terminal);
}

TEST_F(VerifierTest, Cpp_LockOrderInversion) {
    ndislock::NdisSpinLock a("cpp.inversion.A"), b("cpp.inversion.B");
    {
        ndislock::LockGuard<ndislock::NdisSpinLock> ga(a);
        ndislock::LockGuard<ndislock::NdisSpinLock> gb(b);
    }
    std::vector<Got> got;
    int line = 0;
    {
        ndislock::LockGuard<ndislock::NdisSpinLock> gb(b);
        line = __LINE__ + 1;
        ndislock::LockGuard<ndislock::NdisSpinLock> ga(a);
        got = take();
    }
    expect_exactly(got, "LockOrderInversion", __FILE__, line);
}

// The standard library's guards call lock()/unlock() from inside its own headers, where the C++
// API's default location arguments are evaluated: the verifier names the driver's line that made
// the guard instead (std_mutex.h otherwise), for the call and for the other party.
TEST_F(VerifierTest, Cpp_StdLockGuard_ReportsTheDriversLines) {
    ndislock::NdisSpinLock a("cpp.std.A"), b("cpp.std.B");
    int first_order_line = 0;
    {
        std::lock_guard<ndislock::NdisSpinLock> ga(a);
        first_order_line = __LINE__ + 1;
        std::lock_guard<ndislock::NdisSpinLock> gb(b);
    }
    std::vector<Got> got;
    int line = 0;
    {
        std::lock_guard<ndislock::NdisSpinLock> gb(b);
        line = __LINE__ + 1;
        std::lock_guard<ndislock::NdisSpinLock> ga(a);
        got = take();
    }
    expect_exactly(got, "LockOrderInversion", __FILE__, line, false);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].line, line) << dump(got);
        EXPECT_TRUE(ends_with(got[0].other_file, basename_of(__FILE__))) << dump(got);
        EXPECT_EQ(got[0].other_line, first_order_line) << dump(got);
    }
}

TEST_F(VerifierTest, Cpp_StdUniqueLockLeak_ReportsTheDriversLines) {
    std::vector<Got> got;
    int held_since = 0, freed_at = 0;
    {
        auto *l = new (fresh_storage()) ndislock::NdisSpinLock("cpp.std.leak");
        {
            held_since = __LINE__ + 1;
            std::unique_lock<ndislock::NdisSpinLock> u(*l);
            (void)u.release(); // forgets to unlock
        }
        freed_at = AT(l->~NdisSpinLock()); // the destructor frees a lock still held
        got = take();
        // Clean up: a new lock at the address, released by this thread, ends the hold the
        // verifier still counts and gives the IRQL back.
        l = new (l) ndislock::NdisSpinLock("cpp.std.leak.cleanup");
        l->unlock();
        l->~NdisSpinLock();
        EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    }
    NdislockVerifierResetFindings();
    expect_exactly(got, "LockFreedWhileHeld", __FILE__, freed_at, false);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].line, freed_at) << dump(got);
        EXPECT_EQ(got[0].other_line, held_since) << dump(got);
    }
}

TEST_F(VerifierTest, Cpp_ReleaseNotHeld) {
    ndislock::NdisSpinLock l;
    ndislock::RaisedIrql dispatch(DISPATCH_LEVEL);
    const int line = AT(l.unlock_at_dpc());
    expect_exactly(take(), "ReleaseNotHeld", __FILE__, line);
}

TEST_F(VerifierTest, Cpp_ReleaseByNonOwner) {
    ndislock::KSpinLock k;
    Flag held, go;
    int acquired_at = 0, line = 0;
    std::vector<Got> got;
    {
        Watchdog dog("Cpp_ReleaseByNonOwner", std::chrono::seconds(60));
        std::thread owner([&] {
            ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
            acquired_at = AT(k.lock());
            held.set();
            go.wait();
            k.unlock();
        });
        held.wait();
        {
            ndislock::RaisedIrql dispatch(DISPATCH_LEVEL);
            line = AT(k.unlock_from_dpc());
            got = take();
        }
        go.set();
        owner.join();
    }
    expect_exactly(got, "ReleaseByNonOwner", __FILE__, line);
    if (got.size() == 1) {
        EXPECT_EQ(got[0].other_line, acquired_at) << dump(got);
    }
}

TEST_F(VerifierTest, Cpp_DprAcquireBelowDispatch) {
    ndislock::NdisSpinLock l;
    ndislock::KSpinLock k, q;
    struct Case {
        const char *what;
        std::function<int()> misuse, cleanup;
    };
    const Case cases[] = {
        {"DprLockGuard", [&] { return AT(new (fresh_storage()) ndislock::DprLockGuard(l)); },
         [&] {
             ndislock::RaisedIrql r(DISPATCH_LEVEL);
             l.unlock_at_dpc();
             return 0;
         }},
        {"NdisSpinLock::lock_at_dpc", [&] { return AT(l.lock_at_dpc()); },
         [&] {
             ndislock::RaisedIrql r(DISPATCH_LEVEL);
             l.unlock_at_dpc();
             return 0;
         }},
        {"KSpinLock::lock_at_dpc", [&] { return AT(k.lock_at_dpc()); },
         [&] {
             ndislock::RaisedIrql r(DISPATCH_LEVEL);
             k.unlock_from_dpc();
             return 0;
         }},
        {"KSpinLock::try_lock_at_dpc", [&] { return AT(k.try_lock_at_dpc()); },
         [&] {
             ndislock::RaisedIrql r(DISPATCH_LEVEL);
             k.unlock_from_dpc();
             return 0;
         }},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.what);
        NdislockVerifierResetFindings();
        const int line = c.misuse();
        const std::vector<Got> got = take();
        c.cleanup();
        expect_exactly(got, "DprAcquireBelowDispatch", __FILE__, line);
    }
    // InStackQueuedGuard with at_dpc_level, below DISPATCH_LEVEL.
    NdislockVerifierResetFindings();
    alignas(ndislock::InStackQueuedGuard) unsigned char storage[sizeof(ndislock::InStackQueuedGuard)];
    const int line = AT(new (storage) ndislock::InStackQueuedGuard(q, ndislock::at_dpc_level));
    const std::vector<Got> got = take();
    {
        ndislock::RaisedIrql r(DISPATCH_LEVEL);
        std::launder(reinterpret_cast<ndislock::InStackQueuedGuard *>(storage))->~InStackQueuedGuard();
    }
    expect_exactly(got, "DprAcquireBelowDispatch", __FILE__, line);
}

TEST_F(VerifierTest, Cpp_AcquireAboveDispatch_DprAndQueuedGuards) {
    ndislock::NdisSpinLock l;
    ndislock::KSpinLock k;
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    std::vector<Got> got1, got2;
    int line1 = 0, line2 = 0;
    {
        line1 = __LINE__ + 1;
        ndislock::DprLockGuard g(l);
        got1 = take();
    }
    NdislockVerifierResetFindings();
    {
        line2 = __LINE__ + 1;
        ndislock::InStackQueuedGuard g(k, ndislock::at_dpc_level);
        got2 = take();
    }
    KeLowerIrql(old);
    expect_exactly(got1, "AcquireAboveDispatch", __FILE__, line1);
    // KeAcquireInStackQueuedSpinLockAtDpcLevel is documented for any IRQL >= DISPATCH_LEVEL: legal
    // on a lock used only there (LockClassIrql above).
    EXPECT_TRUE(got2.empty()) << dump(got2) << " at line " << line2;
}

TEST_F(VerifierTest, Cpp_AcquireAboveDispatch_LockGuard) {
    ndislock::NdisSpinLock l;
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    std::vector<Got> got;
    int line = 0;
    {
        line = __LINE__ + 1;
        ndislock::LockGuard<ndislock::NdisSpinLock> g(l);
        got = take();
    }
    to_passive();
    // One misuse, one finding: the guard's acquire must not also report IrqlInvalidRaise (a raise
    // to DISPATCH_LEVEL from above it), which would come first and mislead.
    expect_exactly(got, "AcquireAboveDispatch", __FILE__, line);
}

TEST_F(VerifierTest, Cpp_ReleaseNotAtDispatch) {
    ndislock::NdisSpinLock l;
    l.lock();
    KIRQL dispatch = 0;
    KeRaiseIrql(HIGH_LEVEL, &dispatch);
    const int line = AT(l.unlock());
    const std::vector<Got> got = take();
    to_passive();
    expect_exactly(got, "ReleaseNotAtDispatch", __FILE__, line);
}

TEST_F(VerifierTest, Cpp_QueuedAndPlainMixed) {
    ndislock::KSpinLock k;
    { ndislock::LockGuard<ndislock::KSpinLock> g(k); }
    std::vector<Got> got;
    int line = 0;
    {
        line = __LINE__ + 1;
        ndislock::InStackQueuedGuard q(k);
        got = take();
    }
    expect_exactly(got, "QueuedAndPlainMixed", __FILE__, line);
}

TEST_F(VerifierTest, Cpp_LockFreedWhileHeld) {
    auto *l = new (fresh_storage()) ndislock::NdisSpinLock;
    const int acquired_at = AT(l->lock());
    const int freed_at = AT(l->~NdisSpinLock()); // NdisFreeSpinLock in the destructor, lock held
    const std::vector<Got> got = take();
    l->unlock();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "LockFreedWhileHeld");
    // The destructor passes its own site (ndislock.hpp): the report names its caller's line instead.
    EXPECT_TRUE(ends_with(got[0].file, basename_of(__FILE__))) << dump(got);
    EXPECT_EQ(got[0].line, freed_at) << dump(got);
    EXPECT_EQ(got[0].other_file, __FILE__) << dump(got);
    EXPECT_EQ(got[0].other_line, acquired_at) << dump(got);
}

TEST_F(VerifierTest, Cpp_LockUsedAfterFree) {
    auto *l = new (fresh_storage()) ndislock::NdisSpinLock;
    l->~NdisSpinLock();
    const int line = AT(l->lock());
    const std::vector<Got> got = take();
    l->unlock();
    expect_exactly(got, "LockUsedAfterFree", __FILE__, line);
}

TEST_F(VerifierTest, Cpp_ThreadExitHoldingLock) {
    ndislock::KSpinLock k;
    int line = 0;
    std::thread([&] {
        ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
        line = AT(k.lock());
    }).join();
    expect_exactly(take(), "ThreadExitHoldingLock", __FILE__, line);
}

TEST_F(VerifierTest, Cpp_LockHeldTooLong) {
    ndislock::NdisSpinLock l("cpp.too-long");
    NdislockVerifierSetHoldBudget(20'000);
    std::vector<Got> got;
    int line = 0;
    for (int i = 0; i < 100 && got.empty(); ++i) {
        {
            line = __LINE__ + 1;
            ndislock::LockGuard<ndislock::NdisSpinLock> g(l);
            busy_wait_ns(kOverrunNs);
        }
        got = take();
    }
    NdislockVerifierSetHoldBudget(0);
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "LockHeldTooLong");
    EXPECT_EQ(got[0].other_file, __FILE__) << "acquired at: the guard\n" << dump(got);
    EXPECT_EQ(got[0].other_line, line) << dump(got);
    // The release by the guard's destructor is reported at the guard in this file (the guards keep
    // their constructor's site for the release), not inside ndislock.hpp.
    EXPECT_EQ(got[0].file, __FILE__) << "released at: the guard\n" << dump(got);
    EXPECT_EQ(got[0].line, line) << dump(got);
}

// ============================================================================================
// NullLockPointer, LockMisaligned: lock pointers that cannot be a lock
// ============================================================================================

namespace {
constexpr int kNullAcquireLine = __LINE__ + 1;
void AcquireNull() { NdisAcquireSpinLock(static_cast<PNDIS_SPIN_LOCK>(nullptr)); }
constexpr int kNullKeReleaseLine = __LINE__ + 1;
void KeReleaseNull() { KeReleaseSpinLock(static_cast<PKSPIN_LOCK>(nullptr), PASSIVE_LEVEL); }
} // namespace

TEST_F(VerifierTest, NullLockPointer_ReportedAtTheCallThenTheProcessEnds) {
    EXPECT_DEATH(AcquireNull(), "error: NullLockPointer \\(terminal\\).*NdisAcquireSpinLock called with a NULL lock "
                                "pointer.*at [^ ]*" +
                                    site_regex(kNullAcquireLine) + ".*NullLockPointer is terminal");
    EXPECT_DEATH(KeReleaseNull(), "error: NullLockPointer \\(terminal\\).*KeReleaseSpinLock called with a NULL lock "
                                  "pointer.*at [^ ]*" +
                                      site_regex(kNullKeReleaseLine));
}

TEST_F(VerifierTest, NullLockPointer_WithTheVerifierOffStillSaysSoAndEnds) {
    EXPECT_DEATH(
        {
            NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
            KLOCK_QUEUE_HANDLE h;
            KeAcquireInStackQueuedSpinLock(static_cast<PKSPIN_LOCK>(nullptr), &h);
        },
        "NullLockPointer: KeAcquireInStackQueuedSpinLock called with a NULL lock pointer");
}

// UBSan reports the misaligned atomic itself (the same finding); the ASan+UBSan build leaves it out.
#if !defined(__SANITIZE_ADDRESS__)
TEST_F(VerifierTest, LockMisaligned_ReportedAtEachSiteAndTheLockStillWorks) {
    alignas(16) unsigned char storage[32] = {};
    auto *word = reinterpret_cast<PKSPIN_LOCK>(storage + 4); // a KSPIN_LOCK 4 bytes off its alignment
    const int init_line = AT(KeInitializeSpinLock(word));
    KIRQL old = PASSIVE_LEVEL;
    const int acquire_line = AT(KeAcquireSpinLock(word, &old));
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_FALSE(KeTestSpinLock(word)) << "held";
    const int release_line = AT(KeReleaseSpinLock(word, old));
    EXPECT_TRUE(KeTestSpinLock(word)) << "free again";
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 3u) << dump(got);
    const int lines[] = {init_line, acquire_line, release_line};
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(got[i].rule, "LockMisaligned") << dump(got);
        EXPECT_EQ(got[i].line, lines[i]) << dump(got);
        EXPECT_EQ(got[i].severity, NDISLOCK_SEVERITY_ERROR);
    }
    EXPECT_NE(got[0].message.find("not aligned to 8 bytes"), std::string::npos) << got[0].message;
}
#endif

// ============================================================================================
// Suppressions (NdislockVerifierAddSuppression; NDISLOCK_SUPPRESSIONS files are tested in
// tests/verifier_reports: a malformed one refused, a suppressed finding in SARIF)
// ============================================================================================

namespace {
// A ReleaseNotHeld in a function of its own, on a lock named `name`.
void ReleaseUnheldIn(const char *name) {
    Slot s;
    NdislockSetLockName(s.l, name);
    NdisAllocateSpinLock(s.l);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprReleaseSpinLock(s.l);
    KeLowerIrql(old);
}
} // namespace

class Suppressions : public VerifierTest {
protected:
    void TearDown() override {
        ndislock::verifier::clear_suppressions();
        VerifierTest::TearDown();
    }
};

TEST_F(Suppressions, ByFileFunctionOrLockClassAndOnlyThatRule) {
    // Unsuppressed first: it is reported.
    ReleaseUnheldIn("supp.first");
    ASSERT_EQ(NdislockVerifierFindingCount(), 1u) << dump(take());
    NdislockVerifierResetFindings();
    const char *lines[] = {"ReleaseNotHeld:rules_test.cpp", "ReleaseNotHeld:*/tests/verifier/rules_*",
                           "ReleaseNotHeld:*ReleaseUnheldIn*", "ReleaseNotHeld:supp.*", "*:supp.class"};
    for (const char *line : lines) {
        SCOPED_TRACE(line);
        ASSERT_EQ(NdislockVerifierAddSuppression(line), 0);
        ReleaseUnheldIn("supp.class");
        EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
        EXPECT_EQ(NdislockVerifierErrorCount(), 0u);
        EXPECT_EQ(NdislockVerifierSuppressedCount(), 1u);
        NdislockVerifierResetFindings();
        ndislock::verifier::clear_suppressions();
    }
    // Another rule at a suppressed place is still reported.
    ASSERT_EQ(NdislockVerifierAddSuppression("LockOrderInversion:rules_test.cpp"), 0);
    ReleaseUnheldIn("supp.other");
    EXPECT_EQ(NdislockVerifierFindingCount(), 1u);
    EXPECT_EQ(NdislockVerifierSuppressedCount(), 0u);
}

TEST_F(Suppressions, CommentsAndBlankLinesAreAcceptedMalformedLinesAreNot) {
    EXPECT_EQ(NdislockVerifierAddSuppression("# a comment"), 0);
    EXPECT_EQ(NdislockVerifierAddSuppression("   "), 0);
    EXPECT_EQ(NdislockVerifierAddSuppression("ReleaseNotHeld:foo.c  # trailing comment"), 0);
    EXPECT_EQ(NdislockVerifierAddSuppression("ReleaseNotHeld foo.c"), -1) << "no ':'";
    EXPECT_EQ(NdislockVerifierAddSuppression("NoSuchRule:foo.c"), -1) << "not a catalog ID";
    EXPECT_EQ(NdislockVerifierAddSuppression("ReleaseNotHeld:"), -1) << "no pattern";
    EXPECT_EQ(NdislockVerifierAddSuppression("Deadlock:*"), -1) << "terminal rules cannot be suppressed";
    EXPECT_EQ(NdislockVerifierAddSuppression("LockOrderInversion:[abc"), -1) << "an unclosed '[' matches nothing";
    EXPECT_EQ(NdislockVerifierAddSuppression("LockOrderInversion:*[!]x]*"), 0) << "']' first in a set is a member";
    EXPECT_EQ(NdislockVerifierAddSuppression("LockOrderInversion:\\[abc"), 0) << "an escaped '[' is the character";
}
