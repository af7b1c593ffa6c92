/* A finding at a call whose __FILE__ is relative (this file is compiled with
 * -fmacro-prefix-map=<its directory>/=, as a driver built with relative paths has it): the SARIF
 * log must still name the file where it is, not relative to the directory the program runs in.
 *   relative_site <sarif path>   writes the log there, exits 0 if it was written */
#include "ndislock/ndis.h"
#include "ndislock/verifier.h"

int main(int argc, char **argv) {
    static NDIS_SPIN_LOCK lock;
    int written;
    if (argc != 2) return 2;
    NdisAllocateSpinLock(&lock);
    NdisReleaseSpinLock(&lock); /* ReleaseNotHeld */
    NdisFreeSpinLock(&lock);
    written = NdislockVerifierWriteSarif(argv[1]) == 0;
    NdislockVerifierResetFindings(); /* the log is the result: exit 0 */
    return written ? 0 : 1;
}
