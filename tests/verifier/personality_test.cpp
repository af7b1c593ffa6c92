// The two personalities of docs/verifier.md ("Two personalities"), call by call: with the
// verifier off ndislock is a free x64 kernel (misuse it tolerates goes on as there), with it on
// Driver Verifier (reported; fatal mode ends at the first error). Each test runs its scenario in
// both and checks what the program sees (return values, the IRQL, the lock word) and what is
// reported.
#include "ndislock/rw_lock.h"
#include "ndislock/verifier.h"

#include "verifier_support.h"

using namespace vt;

namespace {

std::string site_regex(int line) { return std::string(basename_of(__FILE__)) + ":" + std::to_string(line); }

PEX_SPIN_LOCK fresh_ex() { return static_cast<PEX_SPIN_LOCK>(fresh_storage()); }

// One finding of this rule, not terminal, and nothing else.
void expect_one_non_terminal(const char *rule) {
    const std::vector<Got> got = take();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, rule);
    EXPECT_FALSE(got[0].terminal) << got[0].message;
    EXPECT_EQ(got[0].severity, NDISLOCK_SEVERITY_ERROR);
}

// ---- Part 3: a try-acquire never ends the process ---------------------------------------------

// A try of a lock the caller holds returns FALSE, as on Windows (a try never spins); with the
// verifier on it is RecursiveAcquire, an error, but not terminal.
void try_own_ke_lock(bool verifier) {
    NdislockVerifierSetMode(verifier ? NDISLOCK_VERIFIER_ON : NDISLOCK_VERIFIER_OFF);
    Slot s;
    KeInitializeSpinLock(s.word());
    KIRQL old = 0;
    KeAcquireSpinLock(s.word(), &old);
    EXPECT_FALSE(KeTryToAcquireSpinLockAtDpcLevel(s.word()));
    EXPECT_TRUE(KeTestSpinLock(s.word()) == FALSE) << "still held by the first acquire";
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseSpinLock(s.word(), old);
    EXPECT_TRUE(KeTestSpinLock(s.word()) != FALSE);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
}

TEST_F(VerifierTest, TryOfOwnLock_VerifierOffReturnsFalseSilently) {
    try_own_ke_lock(false);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

TEST_F(VerifierTest, TryOfOwnLock_VerifierOnIsANonTerminalRecursiveAcquire) {
    try_own_ke_lock(true);
    expect_one_non_terminal("RecursiveAcquire");
}

TEST_F(VerifierTest, TryOfOwnLock_ReportNamesTheTryAndBothSites) {
    Slot s;
    NdisAllocateSpinLock(s.l);
    NdisAcquireSpinLock(s.l);
    const int held_line = __LINE__ - 1;
    EXPECT_FALSE(KeTryToAcquireSpinLockAtDpcLevel(s.word()));
    const int try_line = __LINE__ - 1;
    NdisReleaseSpinLock(s.l);
    const std::vector<Got> got = take();
    expect_exactly(got, "RecursiveAcquire", __FILE__, try_line);
    if (got.size() != 1) return;
    EXPECT_EQ(got[0].other_line, held_line);
    EXPECT_FALSE(got[0].terminal);
    EXPECT_NE(got[0].message.find("RecursiveAcquire\n"), std::string::npos) << "no \"(terminal)\": " << got[0].message;
    EXPECT_NE(got[0].message.find("returns FALSE"), std::string::npos) << got[0].message;
}

// A try of a lock another acquire of the caller holds is still an error in fatal mode.
TEST_F(VerifierTest, TryOfOwnLock_FatalModeEndsAtTheError) {
    EXPECT_DEATH(
        {
            NdislockVerifierSetMode(NDISLOCK_VERIFIER_FATAL);
            Slot s;
            KeInitializeSpinLock(s.word());
            KIRQL old = 0;
            KeAcquireSpinLock(s.word(), &old);
            KeTryToAcquireSpinLockAtDpcLevel(s.word());
        },
        "error: RecursiveAcquire\n(.|\n)*" + site_regex(__LINE__ - 2) + "(.|\n)*an error in fatal mode");
}

// The untried form stays terminal: it would spin forever.
TEST_F(VerifierTest, TryOfOwnLock_TheWaitingFormStaysTerminal) {
    EXPECT_DEATH(
        {
            Slot s;
            KeInitializeSpinLock(s.word());
            KIRQL old = 0;
            KeAcquireSpinLock(s.word(), &old);
            KeAcquireSpinLockAtDpcLevel(s.word());
        },
        "RecursiveAcquire \\(terminal\\).*" + site_regex(__LINE__ - 2));
}

// EX_SPIN_LOCK: the try forms return what the lock word allows; their recursion is reported, not
// terminal.
struct ExTryCase {
    const char *name;
    bool first_exclusive, try_exclusive;
    LOGICAL expected;
    const char *rule;
};

void run_ex_try(const ExTryCase &c, bool verifier) {
    NdislockVerifierSetMode(verifier ? NDISLOCK_VERIFIER_ON : NDISLOCK_VERIFIER_OFF);
    PEX_SPIN_LOCK l = fresh_ex();
    const KIRQL old = c.first_exclusive ? ExAcquireSpinLockExclusive(l) : ExAcquireSpinLockShared(l);
    const LOGICAL got =
        c.try_exclusive ? ExTryAcquireSpinLockExclusiveAtDpcLevel(l) : ExTryAcquireSpinLockSharedAtDpcLevel(l);
    EXPECT_EQ(got != FALSE, c.expected != FALSE) << c.name;
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    if (got) ExReleaseSpinLockSharedFromDpcLevel(l); // only the shared try can succeed
    if (c.first_exclusive)
        ExReleaseSpinLockExclusive(l, old);
    else
        ExReleaseSpinLockShared(l, old);
    EXPECT_EQ(*l, 0) << c.name << ": the lock word is free again";
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
}

const ExTryCase kExTries[] = {
    {"exclusive then try exclusive", true, true, FALSE, "RwLockRecursion"},
    {"exclusive then try shared", true, false, FALSE, "RwLockRecursion"},
    {"shared then try exclusive", false, true, FALSE, "RwLockWriteWhileRead"},
    {"shared then try shared", false, false, TRUE, "RwLockRecursion"},
};

TEST_F(VerifierTest, ExTryOfOwnLock_VerifierOffReturnsWhatTheWordAllows) {
    for (const ExTryCase &c : kExTries)
        run_ex_try(c, false);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

TEST_F(VerifierTest, ExTryOfOwnLock_VerifierOnReportsANonTerminalError) {
    for (const ExTryCase &c : kExTries) {
        SCOPED_TRACE(c.name);
        run_ex_try(c, true);
        expect_one_non_terminal(c.rule);
        NdislockVerifierResetFindings();
    }
}

// ---- Part 2: a raising reader/writer acquire above DISPATCH_LEVEL ------------------------------

// As a raising spin-lock acquire: verifier off (a free build), the lock is held at DISPATCH_LEVEL
// and the release puts the saved IRQL back; on, AcquireAboveDispatch and the IRQL stays.
KIRQL rw_write_at_high(bool verifier, std::vector<Got> *got) {
    NdislockVerifierSetMode(verifier ? NDISLOCK_VERIFIER_ON : NDISLOCK_VERIFIER_OFF);
    PNDIS_RW_LOCK_EX l = NdisAllocateRWLock(nullptr);
    KIRQL old = 0;
    KeRaiseIrql(HIGH_LEVEL, &old);
    LOCK_STATE_EX state;
    NdisAcquireRWLockWrite(l, &state, 0);
    const KIRQL held_at = KeGetCurrentIrql();
    *got = take();
    EXPECT_EQ(state.OldIrql, HIGH_LEVEL);
    NdisReleaseRWLock(l, &state);
    EXPECT_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    KeLowerIrql(old);
    NdisFreeRWLock(l);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdislockVerifierResetFindings(); // what the release at HIGH_LEVEL adds is not under test
    return held_at;
}

TEST_F(VerifierTest, RwAcquireAboveDispatch_VerifierOffHoldsAtDispatch) {
    std::vector<Got> got;
    EXPECT_EQ(rw_write_at_high(false, &got), DISPATCH_LEVEL);
    EXPECT_TRUE(got.empty()) << dump(got);
}

TEST_F(VerifierTest, RwAcquireAboveDispatch_VerifierOnReportsAndKeepsTheIrql) {
    std::vector<Got> got;
    EXPECT_EQ(rw_write_at_high(true, &got), HIGH_LEVEL);
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "AcquireAboveDispatch");
}

} // namespace
