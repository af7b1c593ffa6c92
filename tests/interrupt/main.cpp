#include <gtest/gtest.h>

#include "ndislock/gtest.h"

int main(int argc, char **argv) {
    ::testing::InitGoogleTest(&argc, argv);
    GTEST_FLAG_SET(death_test_style, "threadsafe");
#ifdef NDISLOCK_TESTS_UNDER_SANITIZER
    NdislockVerifierSetHoldBudget(1'000'000);
    NdislockVerifierSetCallbackBudgets(1'000'000, 4'000'000); // ISRs and DPCs likewise
#endif
    if (NdislockVerifierGetMode() != NDISLOCK_VERIFIER_OFF) ndislock::testing::InstallVerifierListener();
    return RUN_ALL_TESTS();
}
