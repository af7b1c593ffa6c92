#include <gtest/gtest.h>

#include "ndislock/gtest.h"

int main(int argc, char **argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // Death tests fork a process that re-runs the test alone: safe with the threads ndislock's
    // tests start.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
#ifdef NDISLOCK_TESTS_UNDER_SANITIZER
    NdislockVerifierSetHoldBudget(1'000'000); // sanitized code runs 5-15x slower: 1 ms, not 25 us
#endif
    // Under NDISLOCK_VERIFIER=on (the clean-corpus registration), any finding fails its test.
    if (NdislockVerifierGetMode() != NDISLOCK_VERIFIER_OFF) {
        // These tests hold locks across waits for other threads on purpose (a writer keeps its
        // lock while a reader tries to get in), milliseconds of the holder's own time spent
        // yielding: real long holds, which a hold over 10x the budget reports the first time
        // (verifier/long_holds.h). What this registration checks is every other rule; the
        // hold-time rules have their own tests (tests/verifier). 5 ms: 10x is 50 ms.
        NdislockVerifierSetHoldBudget(5'000'000);
        ndislock::testing::InstallVerifierListener();
    }
    return RUN_ALL_TESTS();
}
