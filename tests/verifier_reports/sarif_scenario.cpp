// Helper for the SARIF tests: runs ScenarioSarifMix (three errors, two with an other party, and a
// warning), then
//   sarif_scenario write PATH   writes the log with NdislockVerifierWriteSarif(PATH); exit 0 on
//                               success (the verifier's exit status is turned off here);
//   sarif_scenario env          just returns from main: NDISLOCK_SARIF=<path> in the environment
//                               must make the library write the log at exit, and the errors must
//                               make the exit status 86 (NDISLOCK_VERIFIER_EXITCODE's default);
//   sarif_scenario note         runs ScenarioReleaseVariantEquivalent alone and returns: a note
//                               only, so the exit status must stay 0.
#include <cstdio>
#include <cstring>

#include "ndislock/ndis.h"
#include "ndislock/verifier.h"
#include "scenarios.h"

int main(int argc, char **argv) {
    const bool write = argc == 3 && std::strcmp(argv[1], "write") == 0;
    const bool note = argc == 2 && std::strcmp(argv[1], "note") == 0;
    if (!write && !note && !(argc == 2 && std::strcmp(argv[1], "env") == 0)) {
        std::fprintf(stderr, "usage: sarif_scenario write PATH | sarif_scenario env | sarif_scenario note\n");
        return 2;
    }
    if (NdislockVerifierGetMode() == NDISLOCK_VERIFIER_OFF) {
        std::fprintf(stderr, "sarif_scenario: the verifier is off (NDISLOCK_VERIFIER=off?)\n");
        return 2;
    }
    if (NdislockSetProcessorCount(4) != NDISLOCK_OK || NdislockBindCurrentThread(0) != NDISLOCK_OK) {
        std::fprintf(stderr, "sarif_scenario: cannot set up the virtual processors\n");
        return 2;
    }
    // No LockHeldTooLong in this mix: the first holds of a class include one-time verifier work
    // (and the verifier's own reporting of another finding in the same release), which can put
    // two consecutive holds over 25 us on a slow machine. The rule has its own golden test.
    NdislockVerifierSetHoldBudget(1000ull * 1000 * 1000);
    if (note) {
        ScenarioReleaseVariantEquivalent();
        return 0;
    }
    ScenarioSarifMix();
    std::fprintf(stderr, "sarif_scenario: %lu findings, %lu errors\n", (unsigned long)NdislockVerifierFindingCount(),
                 (unsigned long)NdislockVerifierErrorCount());
    if (!write) return 0;
    NdislockVerifierSetExitCode(0);
    if (NdislockVerifierWriteSarif(argv[2]) != 0) {
        std::fprintf(stderr, "sarif_scenario: NdislockVerifierWriteSarif(%s) failed\n", argv[2]);
        return 1;
    }
    return 0;
}
