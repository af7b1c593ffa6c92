// ndislock/gtest.h: GoogleTest integration for the verifier. Header-only; include it in a test
// program that links GoogleTest and ndislock.
//
//   int main(int argc, char **argv) {
//       ::testing::InitGoogleTest(&argc, argv);
//       ndislock::testing::InstallVerifierListener();   // any new finding fails the running test
//       return RUN_ALL_TESTS();
//   }
//
// The listener forgets the findings before each test and, after it, fails the test once per
// finding it produced (rule ID, location and the whole report in the failure message). Findings
// are forgotten after each test, so the process's exit status is GoogleTest's own.
#ifndef NDISLOCK_GTEST_H
#define NDISLOCK_GTEST_H

#include <gtest/gtest.h>

#include "ndislock/verifier.h"

namespace ndislock::testing {

class VerifierListener : public ::testing::EmptyTestEventListener {
public:
    void OnTestStart(const ::testing::TestInfo &) override { NdislockVerifierResetFindings(); }
    void OnTestEnd(const ::testing::TestInfo &) override {
        NDISLOCK_FINDING findings[32];
        const ULONG total = NdislockVerifierGetFindings(findings, 32);
        for (ULONG i = 0; i < total && i < 32; ++i) {
            const NDISLOCK_FINDING &f = findings[i];
            ADD_FAILURE_AT(f.File != nullptr ? f.File : "(unknown file)", f.Line)
                << "ndislock verifier reported " << f.RuleId << " (" << f.Count << "x):\n"
                << f.Message;
        }
        if (total > 32) ADD_FAILURE() << "ndislock verifier: " << total - 32 << " more findings";
        NdislockVerifierResetFindings();
    }
};

// Appends the listener (GoogleTest owns and deletes it).
inline void InstallVerifierListener() { ::testing::UnitTest::GetInstance()->listeners().Append(new VerifierListener); }

} // namespace ndislock::testing

#endif // NDISLOCK_GTEST_H
