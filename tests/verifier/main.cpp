// The verifier self-tests' main: threadsafe death tests (each re-runs the binary for its test,
// safe with the threads ndislock's tests start), four virtual processors with this thread on
// processor 0 (threads of a test bind to the others), and, for the clean corpus, the listener
// that fails a test on any finding.
#include <gtest/gtest.h>

#include "ndislock/gtest.h"
#include "ndislock/ndis.h"

int main(int argc, char **argv) {
    ::testing::InitGoogleTest(&argc, argv);
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    if (NdislockVerifierGetMode() == NDISLOCK_VERIFIER_OFF) NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    if (NdislockSetProcessorCount(4) != NDISLOCK_OK || NdislockBindCurrentThread(0) != NDISLOCK_OK) {
        std::fprintf(stderr, "cannot set up the virtual processors\n");
        return 2;
    }
    // The rule tests provoke errors on purpose and forget them after each test; this keeps a
    // finding left over by a failing test from turning the exit status into 86 on top.
    NdislockVerifierSetExitCode(0);
#ifdef VT_INSTALL_LISTENER
    ndislock::testing::InstallVerifierListener();
#endif
    return RUN_ALL_TESTS();
}
