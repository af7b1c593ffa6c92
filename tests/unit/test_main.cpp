#include <gtest/gtest.h>

#include "ndislock/gtest.h"

int main(int argc, char **argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // Death tests fork a process that re-runs the test alone: safe with the threads ndislock's
    // tests start.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // Under NDISLOCK_VERIFIER=on (the clean-corpus registration), any finding fails its test.
    if (NdislockVerifierGetMode() != NDISLOCK_VERIFIER_OFF) ndislock::testing::InstallVerifierListener();
    return RUN_ALL_TESTS();
}
