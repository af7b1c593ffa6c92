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

#include <ndislock/device.h>
#include <ndislock/ndis.h>

static NDIS_HANDLE Interrupt;
static volatile LONG DpcRuns;

static BOOLEAN Isr(NDIS_HANDLE Context, PBOOLEAN QueueDpc, PULONG Targets) {
    (void)Context;
    (void)Targets;
    *QueueDpc = TRUE;
    return TRUE;
}

static VOID Dpc(NDIS_HANDLE Context, PVOID DpcContext, PVOID Arg1, PVOID Arg2) {
    (void)Context;
    (void)DpcContext;
    (void)Arg1;
    (void)Arg2;
    __atomic_add_fetch(&DpcRuns, 1, __ATOMIC_SEQ_CST);
}

static NDIS_STATUS Initialize(NDIS_HANDLE Adapter, NDIS_HANDLE DriverContext, PNDIS_MINIPORT_INIT_PARAMETERS Params) {
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS c;
    (void)DriverContext;
    (void)Params;
    memset(&c, 0, sizeof c);
    c.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
    c.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
    c.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
    c.InterruptHandler = Isr;
    c.InterruptDpcHandler = Dpc;
    c.InterruptType = NDIS_CONNECT_LINE_BASED;
    return NdisMRegisterInterruptEx(Adapter, NULL, &c, &Interrupt);
}

static VOID Halt(NDIS_HANDLE Context, NDIS_HALT_ACTION Action) {
    (void)Context;
    (void)Action;
    NdisMDeregisterInterruptEx(Interrupt);
}

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
        while (__atomic_load_n(&DpcRuns, __ATOMIC_SEQ_CST) <= i) NdisMSleep(100); /* bounded by ctest's timeout */
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
