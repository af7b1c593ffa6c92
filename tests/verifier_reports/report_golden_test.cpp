// Golden tests of the verifier's report text: each scenario of scenarios.c breaks one rule; the
// report it produces (NDISLOCK_FINDING.Message, the exact text printed on stderr) must match
// golden/<Rule>.txt line by line (golden_match.h), the finding must point at the scenario's
// marked lines, and the scenario must report exactly the rules listed. Terminal rules end the
// process, so their test is a death test matching the block in the child's stderr.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "golden_match.h"
#include "ndislock/ndis.h"
#include "ndislock/verifier.h"
#include "scenarios.h"

namespace {

const std::string kSourceDir = VR_SOURCE_DIR;
const std::string kRepoRoot = VR_REPO_ROOT;

std::string golden_path(const std::string &rule) { return kSourceDir + "/golden/" + rule + ".txt"; }

// Line of scenarios.c carrying the comment "/* <tag> */" (tag is "at:Rule" or "other:Rule"), 0 if none.
int marked_line(const std::string &tag) {
    std::ifstream in(kSourceDir + "/scenarios.c");
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
        if (line.find("/* " + tag + " */") != std::string::npos) return n;
    return 0;
}

// Compares a report with the golden file (or writes it, when updating).
void expect_golden(const std::string &rule, const std::string &text) {
    if (golden::updating()) {
        std::ofstream(golden_path(rule)) << golden::templatize(text, kRepoRoot);
        std::printf("wrote %s\n", golden_path(rule).c_str());
        return;
    }
    const std::string templ = golden::read_file(golden_path(rule));
    ASSERT_FALSE(templ.empty()) << "no golden file " << golden_path(rule) << " (NDISLOCK_UPDATE_GOLDEN=1 writes it)";
    const std::string diff = golden::mismatch(templ, text);
    EXPECT_TRUE(diff.empty()) << rule << ": the report does not match " << golden_path(rule) << "\n" << diff;
}

// Runs a scenario with the findings reset; checks the rules it reported (in order) and the
// golden text and source lines of the finding of `rule`.
void check(const std::string &rule, void (*scenario)(void), const std::vector<std::string> &expected_rules) {
    NdislockVerifierResetFindings();
    scenario();
    NDISLOCK_FINDING f[16];
    const ULONG n = std::min<ULONG>(NdislockVerifierGetFindings(f, 16), 16);
    std::vector<std::string> rules;
    std::string all;
    for (ULONG i = 0; i < n; ++i) {
        rules.emplace_back(f[i].RuleId);
        all += f[i].Message;
    }
    EXPECT_EQ(rules, expected_rules) << "all reports:\n" << all;
    const auto it = std::find(rules.begin(), rules.end(), rule);
    ASSERT_NE(it, rules.end()) << "no " << rule << " finding; all reports:\n" << all;
    const NDISLOCK_FINDING &mine = f[it - rules.begin()];
    expect_golden(rule, mine.Message);
    ASSERT_NE(mine.File, nullptr);
    EXPECT_TRUE(std::string(mine.File).ends_with("/tests/verifier_reports/scenarios.c")) << mine.File;
    EXPECT_EQ(mine.Line, marked_line("at:" + rule)) << mine.Message;
    const int other = marked_line("other:" + rule);
    if (other != 0) {
        ASSERT_NE(mine.OtherFile, nullptr) << mine.Message;
        EXPECT_EQ(mine.OtherLine, other) << mine.Message;
    } else {
        EXPECT_EQ(mine.OtherFile, nullptr) << mine.Message;
    }
    EXPECT_EQ(mine.Count, 1u);
    NdislockVerifierResetFindings();
}

// A death test's stderr: the rule's report block must match its golden file.
// check() for a scenario that leaves its thread holding a lock in the verifier's view (one
// re-initialized or freed while held: the hold stays, so IrqlDroppedWhileHoldingLock follows) on a
// thread of its own. When the binary runs whole (one process, not ctest's process per test), the
// later scenarios on the main thread would otherwise still hold that lock: a RecursiveAcquire, and
// "2 spin locks still held" in their reports. The thread's end reports ThreadExitHoldingLock, which
// is dropped with the findings after the join.
void check_on_own_thread(const std::string &rule, void (*scenario)(void), const std::vector<std::string> &expected) {
    std::thread([&] { check(rule, scenario, expected); }).join();
    NdislockVerifierResetFindings();
}

MATCHER_P(HasGoldenReport, rule, "contains the " + std::string(rule) + " report of golden/" + rule + ".txt") {
    const std::string block = golden::block_of(arg, rule);
    if (block.empty()) {
        *result_listener << "no \"ndislock verifier: ...: " << rule << "\" report in the child's stderr";
        return false;
    }
    if (golden::updating()) {
        std::ofstream(golden_path(rule)) << golden::templatize(block, kRepoRoot);
        return true;
    }
    const std::string diff = golden::mismatch(golden::read_file(golden_path(rule)), block);
    *result_listener << diff;
    return diff.empty();
}

} // namespace

// ---- terminal ----------------------------------------------------------------------------

TEST(GoldenReportDeathTest, RecursiveAcquire) {
    EXPECT_DEATH(ScenarioRecursiveAcquire(), HasGoldenReport("RecursiveAcquire"));
    // The location lines of the report, checked against the markers (the golden file has {LINE}).
    const std::string at = ":" + std::to_string(marked_line("at:RecursiveAcquire")) + " in ScenarioRecursiveAcquire";
    const std::string other =
        ":" + std::to_string(marked_line("other:RecursiveAcquire")) + " in ScenarioRecursiveAcquire";
    EXPECT_DEATH(
        ScenarioRecursiveAcquire(),
        ::testing::AllOf(::testing::HasSubstr("  at " + kRepoRoot + "/tests/verifier_reports/scenarios.c" + at),
                         ::testing::HasSubstr("  already acquired at " + kRepoRoot +
                                              "/tests/verifier_reports/scenarios.c" + other)));
}

// ---- the rules the brief names -------------------------------------------------------------

TEST(GoldenReport, ReleaseVariantEquivalent) {
    NdislockVerifierResetFindings();
    ScenarioReleaseVariantEquivalent();
    NDISLOCK_FINDING f[4];
    ASSERT_EQ(NdislockVerifierGetFindings(f, 4), 1u);
    EXPECT_STREQ(f[0].RuleId, "ReleaseVariantEquivalent");
    expect_golden("ReleaseVariantEquivalent", f[0].Message);
    EXPECT_EQ(f[0].Line, marked_line("at:ReleaseVariantEquivalent"));
    EXPECT_EQ(f[0].OtherLine, marked_line("other:ReleaseVariantEquivalent"));
    EXPECT_EQ(f[0].Severity, NDISLOCK_SEVERITY_NOTE);
    EXPECT_EQ(f[0].Count, 1000u) << "one finding for the site, counted";
    EXPECT_EQ(NdislockVerifierErrorCount(), 0u) << "a note is no error: the exit status stays 0";
    NdislockVerifierResetFindings();
}

TEST(GoldenReport, ReleaseVariantMismatch) {
    check("ReleaseVariantMismatch", ScenarioReleaseVariantMismatch, {"ReleaseVariantMismatch"});
}
TEST(GoldenReport, WrongOldIrql) { check("WrongOldIrql", ScenarioWrongOldIrql, {"WrongOldIrql"}); }
TEST(GoldenReport, LockOrderInversion) {
    check("LockOrderInversion", ScenarioLockOrderInversion, {"LockOrderInversion"});
}
TEST(GoldenReport, IrqlDroppedWhileHoldingLock) {
    // The documented trap: Acquire(A), Acquire(B), Release(A), Release(B). The second release then
    // runs at PASSIVE_LEVEL and raises back to the DISPATCH_LEVEL its acquire saved.
    check("IrqlDroppedWhileHoldingLock", ScenarioIrqlDroppedWhileHoldingLock,
          {"IrqlDroppedWhileHoldingLock", "ReleaseNotAtDispatch"});
}
TEST(GoldenReport, ReleaseByNonOwner) { check("ReleaseByNonOwner", ScenarioReleaseByNonOwner, {"ReleaseByNonOwner"}); }
TEST(GoldenReport, LockNotInitialized) {
    check("LockNotInitialized", ScenarioLockNotInitialized, {"LockNotInitialized"});
}
TEST(GoldenReport, AcquireAboveDispatch) {
    check("AcquireAboveDispatch", ScenarioAcquireAboveDispatch, {"AcquireAboveDispatch", "ReleaseNotAtDispatch"});
}

// ---- the other rules in scope ----------------------------------------------------------------

TEST(GoldenReport, ReleaseNotHeld) { check("ReleaseNotHeld", ScenarioReleaseNotHeld, {"ReleaseNotHeld"}); }
TEST(GoldenReport, LockUsedAfterFree) { check("LockUsedAfterFree", ScenarioLockUsedAfterFree, {"LockUsedAfterFree"}); }
TEST(GoldenReport, LockReinitialized) {
    check_on_own_thread("LockReinitialized", ScenarioLockReinitialized,
                        {"LockReinitialized", "IrqlDroppedWhileHoldingLock"});
}
TEST(GoldenReport, LockFreedWhileHeld) {
    check_on_own_thread("LockFreedWhileHeld", ScenarioLockFreedWhileHeld,
                        {"LockFreedWhileHeld", "IrqlDroppedWhileHoldingLock"});
}
TEST(GoldenReport, DprAcquireBelowDispatch) {
    check("DprAcquireBelowDispatch", ScenarioDprAcquireBelowDispatch, {"DprAcquireBelowDispatch"});
}
TEST(GoldenReport, ReleaseNotAtDispatch) {
    check("ReleaseNotAtDispatch", ScenarioReleaseNotAtDispatch,
          {"IrqlDroppedWhileHoldingLock", "ReleaseNotAtDispatch"});
}
TEST(GoldenReport, IrqlInvalidRaise) { check("IrqlInvalidRaise", ScenarioIrqlInvalidRaise, {"IrqlInvalidRaise"}); }
TEST(GoldenReport, IrqlInvalidLower) { check("IrqlInvalidLower", ScenarioIrqlInvalidLower, {"IrqlInvalidLower"}); }
TEST(GoldenReport, QueuedAndPlainMixed) {
    check("QueuedAndPlainMixed", ScenarioQueuedAndPlainMixed, {"QueuedAndPlainMixed"});
}
TEST(GoldenReport, QueueHandleReused) { check("QueueHandleReused", ScenarioQueueHandleReused, {"QueueHandleReused"}); }
TEST(GoldenReport, ThreadExitHoldingLock) {
    check("ThreadExitHoldingLock", ScenarioThreadExitHoldingLock, {"ThreadExitHoldingLock"});
}
TEST(GoldenReport, BlockingAtDispatch) {
    check("BlockingAtDispatch", ScenarioBlockingAtDispatch, {"BlockingAtDispatch"});
}
TEST(GoldenReport, NdisCallWhileHoldingLock) {
    check("NdisCallWhileHoldingLock", ScenarioNdisCallWhileHoldingLock, {"NdisCallWhileHoldingLock"});
}
TEST(GoldenReport, LockHeldTooLong) {
    check("LockHeldTooLong",
          [] { ASSERT_NE(ScenarioLockHeldTooLong(), 0) << "no LockHeldTooLong in 4000 tries and 20 s"; },
          {"LockHeldTooLong"});
}

int main(int argc, char **argv) {
    ::testing::InitGoogleTest(&argc, argv);
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    if (NdislockVerifierGetMode() == NDISLOCK_VERIFIER_OFF) NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    if (NdislockSetProcessorCount(4) != NDISLOCK_OK || NdislockBindCurrentThread(0) != NDISLOCK_OK) {
        std::fprintf(stderr, "cannot set up the virtual processors\n");
        return 2;
    }
    NdislockVerifierSetExitCode(0); // the findings are provoked on purpose
    // A 1 s hold budget: these tests are about the text of other rules, and a scenario's first
    // holds include one-time verifier work (see the LockHeldTooLong test, which sets 10 us).
    NdislockVerifierSetHoldBudget(1000ull * 1000 * 1000);
    return RUN_ALL_TESTS();
}
