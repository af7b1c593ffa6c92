/* A fixed scenario for the report tests (check_report.py, check_browser.py). What it does, the
 * page must show. Usage: report_scenario PATH [exit]
 *   - 200 short holds of "report.fast" and 3 holds of "report.slow", each about 40 us of spinning
 *     (over the 25 us budget: red bars, LockHeldTooLong when the verifier samples one);
 *   - 4 interrupts asserted toward processor 1, each run to its DPC before the next;
 *   - one pattern the verifier notes (ReleaseVariantEquivalent on "report.note"), when it is on.
 * Without "exit" the report is bracketed by NdislockReportStart / NdislockReportStop; with it the
 * program starts nothing and NDISLOCK_REPORT=PATH writes the page at exit. */
#include <stdio.h>
#include <string.h>

#include "one_line_device.h"

int main(int argc, char **argv) {
    NDIS_SPIN_LOCK Fast, Slow;
    KSPIN_LOCK Note;
    NDIS_HANDLE Adapter = NULL;
    KIRQL Old;
    const int AtExit = argc > 2 && strcmp(argv[2], "exit") == 0;
    if (argc < 2) return 2;
    NdislockSetProcessorCount(2);
    NdislockBindCurrentThread(0);
    if (!AtExit && NdislockReportStart(argv[1]) != NDISLOCK_OK) return 1;
    if (NdislockMiniportInitialize(Initialize, NULL, &Adapter) != NDIS_STATUS_SUCCESS) return 1;
    NdisAllocateSpinLock(&Fast);
    NdislockSetLockName(&Fast, "report.fast");
    NdisAllocateSpinLock(&Slow);
    NdislockSetLockName(&Slow, "report.slow");
    KeInitializeSpinLock(&Note);
    NdislockSetLockName(&Note, "report.note");

    for (int i = 0; i < 200; ++i) {
        NdisAcquireSpinLock(&Fast);
        NdisReleaseSpinLock(&Fast);
    }
    for (int i = 0; i < 3; ++i) {
        NdisAcquireSpinLock(&Slow);
        NdisStallExecution(40); /* spins: the holder's own time */
        NdisReleaseSpinLock(&Slow);
    }
    for (LONG i = 0; i < 4; ++i) {
        if (NdislockAssertInterrupt(Interrupt, 1) != NDISLOCK_OK) return 1;
        while (__atomic_load_n(&DpcRuns, __ATOMIC_SEQ_CST) <= i)
            NdisMSleep(100); /* bounded by ctest's timeout */
    }
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    KeAcquireSpinLockAtDpcLevel(&Note);
    KeReleaseSpinLock(&Note, DISPATCH_LEVEL); /* the IRQL it "restores" is the current one: a note */
    KeLowerIrql(Old);

    NdisFreeSpinLock(&Fast);
    NdisFreeSpinLock(&Slow);
    NdislockMiniportHalt(Adapter, Halt, NULL);
    if (!AtExit && NdislockReportStop() != NDISLOCK_OK) return 1;
    printf("report %s %s\n", AtExit ? "to be written at exit to" : "written to", argv[1]);
    return 0;
}
