/*
 * demo/report.h: number formatting, the per-lock statistics table and the interrupt table of
 * ndislock-demo.
 */
#ifndef NDISLOCK_DEMO_REPORT_H
#define NDISLOCK_DEMO_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <ndislock/device.h> /* NDISLOCK_INTERRUPT_STATS */
#include <ndislock/ndis.h>

/* A rate in short form: "950", "812k", "4.25M". Returns Out. */
const char *DemoFormatRate(double PerSecond, char *Out, size_t Size);

/* A duration in nanoseconds with its unit: "85 ns", "12.4 us", "1.25 ms". Returns Out. */
const char *DemoFormatNs(ULONG64 Ns, char *Out, size_t Size);

/* Prints the table of NdislockStatsCollect, busiest lock first, with its legend. BudgetNs is the
 * hold budget given to NdislockStatsEnable (0 = the default). Returns the number of rows. */
ULONG DemoPrintLockTable(FILE *Out, ULONG64 BudgetNs);

/* NDIS's guidance for interrupt work: an ISR under 25 us, a DPC under 100 us (the verifier's
 * IsrTooLong and DpcTooLong budgets by default). */
#define DEMO_ISR_BUDGET_NS 25000ull
#define DEMO_DPC_BUDGET_NS 100000ull

/* Prints what the interrupt did (NdislockGetInterruptStats over Seconds of running): rates,
 * counts, and ISR / DPC durations and latencies against the budgets above, with its legend.
 * Messages: 0 for a line-based interrupt, else its MSI-X message count. */
void DemoPrintInterruptTable(FILE *Out, const NDISLOCK_INTERRUPT_STATS *Stats, double Seconds, ULONG Messages);

#endif /* NDISLOCK_DEMO_REPORT_H */
