/*
 * demo/report.c: number formatting, the per-lock statistics table and the interrupt table of
 * ndislock-demo.
 */
#include "report.h"

#define DEMO_TABLE_MAX_ROWS 16u

const char *DemoFormatRate(double PerSecond, char *Out, size_t Size) {
    if (PerSecond >= 1e6)
        snprintf(Out, Size, "%.2fM", PerSecond / 1e6);
    else if (PerSecond >= 1e4)
        snprintf(Out, Size, "%.0fk", PerSecond / 1e3);
    else
        snprintf(Out, Size, "%.0f", PerSecond);
    return Out;
}

const char *DemoFormatNs(ULONG64 Ns, char *Out, size_t Size) {
    if (Ns < 1000)
        snprintf(Out, Size, "%llu ns", (unsigned long long)Ns);
    else if (Ns < 1000000)
        snprintf(Out, Size, "%.1f us", (double)Ns / 1e3);
    else
        snprintf(Out, Size, "%.2f ms", (double)Ns / 1e6);
    return Out;
}

ULONG DemoPrintLockTable(FILE *Out, ULONG64 BudgetNs) {
    NDISLOCK_LOCK_STATS Locks[DEMO_TABLE_MAX_ROWS];
    char Budget[48], Name[32], P50[16], P99[16], Max[16], Contended[16];

    if (BudgetNs == 0) BudgetNs = NDISLOCK_HOLD_BUDGET_NS_DEFAULT;
    ULONG Tracked = NdislockStatsCollect(Locks, DEMO_TABLE_MAX_ROWS);
    ULONG Rows = Tracked < DEMO_TABLE_MAX_ROWS ? Tracked : DEMO_TABLE_MAX_ROWS;

    if (BudgetNs % 1000 == 0)
        snprintf(Budget, sizeof(Budget), "over %llu us budget", (unsigned long long)(BudgetNs / 1000));
    else
        snprintf(Budget, sizeof(Budget), "over %s budget", DemoFormatNs(BudgetNs, P50, sizeof(P50)));

    fprintf(Out, "%-16s %14s %10s %10s %10s %10s %18s %12s\n", "lock", "acquisitions", "contended", "hold p50",
            "hold p99", "hold max", Budget, "descheduled");
    for (ULONG i = 0; i < Rows; i++) {
        const NDISLOCK_LOCK_STATS *L = &Locks[i];
        if (L->Name != NULL)
            snprintf(Name, sizeof(Name), "%s", L->Name);
        else
            snprintf(Name, sizeof(Name), "%p", L->Lock);
        if (L->Acquisitions != 0)
            snprintf(Contended, sizeof(Contended), "%.2f%%", 100.0 * (double)L->Contended / (double)L->Acquisitions);
        else
            snprintf(Contended, sizeof(Contended), "-");
        fprintf(Out, "%-16s %14llu %10s %10s %10s %10s %18llu %12llu\n", Name, (unsigned long long)L->Acquisitions,
                Contended, DemoFormatNs(L->HoldP50Ns, P50, sizeof(P50)), DemoFormatNs(L->HoldP99Ns, P99, sizeof(P99)),
                DemoFormatNs(L->HoldMaxNs, Max, sizeof(Max)), (unsigned long long)L->OverBudget,
                (unsigned long long)L->Descheduled);
    }
    if (Tracked > Rows) fprintf(Out, "(%lu more locks not shown)\n", (unsigned long)(Tracked - Rows));
    fprintf(Out, "hold: the holder's own running time from acquire to release.\n"
                 "descheduled: holds during which the OS took the holder off the CPU (impossible at DISPATCH_LEVEL on\n"
                 "  Windows): not timed and never counted against the budget.\n"
                 "contended: acquires that found the lock held and had to wait.\n");
    return Rows;
}

/* One row: timed count, runs a second (PerSecond < 0: "-"), p50 / p99 / max, budget and whether
 * p99 is within it (BudgetNs 0: "-"). */
static void DemoPrintInterruptRow(FILE *Out, const char *What, const NDISLOCK_LATENCY *L, double PerSecond,
                                  ULONG64 BudgetNs) {
    char Rate[32], P50[16], P99[16], Max[16], Budget[16];

    if (PerSecond >= 0)
        DemoFormatRate(PerSecond, Rate, sizeof(Rate));
    else
        snprintf(Rate, sizeof(Rate), "-");
    if (BudgetNs != 0 && BudgetNs % 1000 == 0)
        snprintf(Budget, sizeof(Budget), "%llu us", (unsigned long long)(BudgetNs / 1000));
    else if (BudgetNs != 0)
        DemoFormatNs(BudgetNs, Budget, sizeof(Budget));
    else
        snprintf(Budget, sizeof(Budget), "-");
    const char *Within = BudgetNs == 0 ? "-" : L->Count == 0 ? "-" : L->P99Ns <= BudgetNs ? "yes" : "NO";
    fprintf(Out, "%-18s %12llu %10s %10s %10s %10s %10s %11s\n", What, (unsigned long long)L->Count, Rate,
            DemoFormatNs(L->P50Ns, P50, sizeof(P50)), DemoFormatNs(L->P99Ns, P99, sizeof(P99)),
            DemoFormatNs(L->MaxNs, Max, sizeof(Max)), Budget, Within);
}

void DemoPrintInterruptTable(FILE *Out, const NDISLOCK_INTERRUPT_STATS *Stats, double Seconds, ULONG Messages) {
    char Interrupts[32], Dpcs[32];
    const double Claimed = Stats->Delivered != 0 ? 100.0 * (double)Stats->Claimed / (double)Stats->Delivered : 0.0;

    DemoFormatRate(Seconds > 0 ? (double)Stats->Delivered / Seconds : 0.0, Interrupts, sizeof(Interrupts));
    DemoFormatRate(Seconds > 0 ? (double)Stats->DpcsRun / Seconds : 0.0, Dpcs, sizeof(Dpcs));
    if (Messages == 0)
        fprintf(Out, "interrupts/s %s, DPCs/s %s over %.2f s (line-based, DIRQL %d)\n", Interrupts, Dpcs, Seconds,
                NDISLOCK_DEVICE_IRQL);
    else /* the counts cover every message; ndislock keeps the durations and latencies of message 0 */
        fprintf(Out,
                "interrupts/s %s, DPCs/s %s over %.2f s (MSI-X, %lu messages, DIRQL %d; durations and latencies: "
                "message 0)\n",
                Interrupts, Dpcs, Seconds, (unsigned long)Messages, NDISLOCK_DEVICE_IRQL);
    fprintf(Out,
            "  asserted %llu, coalesced %llu, ISR runs %llu, claimed %llu (%.1f%%); preempted %llu, held "
            "pending %llu\n",
            (unsigned long long)Stats->Asserted, (unsigned long long)Stats->Coalesced,
            (unsigned long long)Stats->Delivered, (unsigned long long)Stats->Claimed, Claimed,
            (unsigned long long)Stats->Preempted, (unsigned long long)Stats->HeldPending);
    fprintf(Out, "  DPCs queued %llu, run %llu; synchronize functions %llu\n", (unsigned long long)Stats->DpcsQueued,
            (unsigned long long)Stats->DpcsRun, (unsigned long long)Stats->Synchronized);
    fprintf(Out, "%-18s %12s %10s %10s %10s %10s %10s %11s\n", "interrupt", "count", "per s", "p50", "p99", "max",
            "budget", "p99 within");
    const double Isrs = Seconds > 0 ? (double)Stats->Delivered / Seconds : 0.0;
    const double DpcRuns = Seconds > 0 ? (double)Stats->DpcsRun / Seconds : 0.0;
    DemoPrintInterruptRow(Out, "ISR duration", &Stats->IsrDuration, Isrs, DEMO_ISR_BUDGET_NS);
    DemoPrintInterruptRow(Out, "DPC duration", &Stats->DpcDuration, DpcRuns, DEMO_DPC_BUDGET_NS);
    DemoPrintInterruptRow(Out, "delivery latency", &Stats->DeliveryLatency, -1.0, 0);
    DemoPrintInterruptRow(Out, "DPC latency", &Stats->DpcLatency, -1.0, 0);
    fprintf(Out,
            "ISR / DPC duration: MiniportInterrupt / MiniportInterruptDPC, entry to return, in the routine's own\n"
            "  running time (NDIS asks for under 25 us / 100 us); count: runs timed (a run the OS descheduled is\n"
            "  not). delivery latency: line asserted to ISR entry. DPC latency: DPC queued to DPC entry.\n"
            "  Percentiles within 1/16 of the value; per s: ISR runs and DPC runs a second.\n"
            "coalesced: asserts merged into an interrupt still pending. claimed: ISR runs that returned TRUE.\n"
            "preempted: deliveries that stopped code running at DISPATCH_LEVEL or below; held pending: deliveries\n"
            "  that waited for the processor's IRQL to drop below the DIRQL.\n");
}
