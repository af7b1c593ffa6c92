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
    if (NdislockVerifierGetMode() != NDISLOCK_VERIFIER_OFF) ndislock::testing::InstallVerifierListener();
    return RUN_ALL_TESTS();
}
