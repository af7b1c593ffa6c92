/*
 * demo/report.c: number formatting and the per-lock statistics table of ndislock-demo.
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
