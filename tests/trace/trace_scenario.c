/* A fixed scenario for the timeline test (check_trace.py): what it does, the trace must show,
 * event for event. Usage: trace_scenario PATH [overflow]
 *   - 100 holds of "trace.A" from PASSIVE_LEVEL (NdisAcquireSpinLock: the IRQL goes to
 *     DISPATCH_LEVEL and back each time);
 *   - one KeRaiseIrql / KeLowerIrql pair;
 *   - 5 interrupts asserted toward processor 1, each run to its DPC before the next;
 *   - one pattern the verifier notes (ReleaseVariantEquivalent on "trace.B"), when it is on;
 *   - with "overflow": 40000 more holds of "trace.A", more than a thread's ring keeps.
 * The trace is bracketed by NdislockTraceStart / NdislockTraceStop. */
#include <stdio.h>
#include <string.h>

#include "one_line_device.h"

int main(int argc, char **argv) {
    NDIS_SPIN_LOCK A;
    KSPIN_LOCK B;
    NDIS_HANDLE Adapter = NULL;
    KIRQL Old;
    const int Overflow = argc > 2 && strcmp(argv[2], "overflow") == 0;
    if (argc < 2) return 2;
    NdislockSetProcessorCount(2);
    NdislockBindCurrentThread(0);
    if (NdislockMiniportInitialize(Initialize, NULL, &Adapter) != NDIS_STATUS_SUCCESS) return 1;
    NdisAllocateSpinLock(&A);
    NdislockSetLockName(&A, "trace.A");
    KeInitializeSpinLock(&B);
    NdislockSetLockName(&B, "trace.B");

    if (NdislockTraceStart(argv[1]) != NDISLOCK_OK) return 1;
    for (int i = 0; i < 100; ++i) {
        NdisAcquireSpinLock(&A);
        NdisReleaseSpinLock(&A);
    }
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    KeLowerIrql(Old);
    for (LONG i = 0; i < 5; ++i) {
        if (NdislockAssertInterrupt(Interrupt, 1) != NDISLOCK_OK) return 1;
        while (__atomic_load_n(&DpcRuns, __ATOMIC_SEQ_CST) <= i)
            NdisMSleep(100); /* bounded by ctest's timeout */
    }
    KeRaiseIrql(DISPATCH_LEVEL, &Old);
    KeAcquireSpinLockAtDpcLevel(&B);
    KeReleaseSpinLock(&B, DISPATCH_LEVEL); /* the IRQL it "restores" is the current one: a note */
    KeLowerIrql(Old);
    for (int i = 0; Overflow && i < 40000; ++i) {
        NdisAcquireSpinLock(&A);
        NdisReleaseSpinLock(&A);
    }
    if (NdislockTraceStop() != NDISLOCK_OK) return 1;

    NdisFreeSpinLock(&A);
    NdislockMiniportHalt(Adapter, Halt, NULL);
    printf("trace written to %s\n", argv[1]);
    return 0;
}
