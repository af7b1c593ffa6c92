#include <gtest/gtest.h>

#include "ndislock/gtest.h"

int main(int argc, char **argv) {
    ::testing::InitGoogleTest(&argc, argv);
    GTEST_FLAG_SET(death_test_style, "threadsafe");
#ifdef NDISLOCK_TESTS_UNDER_SANITIZER
    NdislockVerifierSetHoldBudget(1'000'000);
#endif
    if (NdislockVerifierGetMode() != NDISLOCK_VERIFIER_OFF) ndislock::testing::InstallVerifierListener();
    return RUN_ALL_TESTS();
}
