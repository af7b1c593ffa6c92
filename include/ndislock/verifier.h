/*
 * ndislock/verifier.h: the verifier, which checks every documented spin-lock rule at run time and
 * reports each broken one by its stable rule ID, with the
 * offending call's location, the other party's, the lock, processor, thread and IRQL, and the
 * Windows signal a driver author knows. Clean C11 and C++. docs/verifier.md has the catalog with
 * an example report per rule. A driver's own code needs none of it: ndislock/ndis.h does not
 * include this header; a test harness or main() that sets or reads the verifier includes it.
 *
 * Configuration, read when the library loads (each also settable with the calls below):
 *   NDISLOCK_VERIFIER=off|on|fatal   default on. on: report every finding, end the process only on
 *                                     terminal rules (RecursiveAcquire, Deadlock). fatal: end it
 *                                     at the first error. off: no checking; the lock calls pay one
 *                                     predictable branch.
 *   NDISLOCK_SUPPRESSIONS=<file>      "RuleId:pattern" lines (# comments) of findings not to
 *                                     report (NdislockVerifierAddSuppression); a file that cannot
 *                                     be read or has a malformed line ends the process at once.
 *   NDISLOCK_SARIF=<path>             write a SARIF 2.1.0 log of the findings there at exit; a
 *                                     path that cannot be written is an error on stderr at the
 *                                     first call, and the exit status is then the exit code.
 *                                     "%p" in the file name becomes the process ID, one log per
 *                                     process (here and in NdislockVerifierWriteSarif).
 *   NDISLOCK_HOLD_BUDGET_US=<n>       LockHeldTooLong budget, default 25.
 *   NDISLOCK_HOLD_SAMPLE=<n>          time one spin-lock hold in n on each thread, default 16;
 *                                     1 times every hold (see NdislockVerifierSetHoldSampling).
 *   NDISLOCK_ISR_BUDGET_US=<n>        IsrTooLong budget (MiniportInterrupt, synchronize functions,
 *                                     MiniportEnable/DisableInterruptEx), default 25.
 *   NDISLOCK_DPC_BUDGET_US=<n>        DpcTooLong budget (MiniportInterruptDPC, KDPC routines),
 *                                     default 100.
 *   NDISLOCK_WATCHDOG_MS=<n>          a wait longer than this is a Deadlock, default 2000.
 *   NDISLOCK_VERIFIER_EXITCODE=<n>    exit status of a process that reported errors, default 86;
 *                                     0 leaves the status alone.
 *
 * Exit: like the sanitizers, a process that reported errors (not warnings) exits with
 * NDISLOCK_VERIFIER_EXITCODE when it exits normally, so CI sees the failure; terminal findings
 * end the process at once with abort() after their report.
 *
 * Turning the verifier on after locks were allocated is allowed: locks it has not seen allocated
 * are adopted at their first use instead of being reported as LockNotInitialized.
 */
#ifndef NDISLOCK_VERIFIER_H
#define NDISLOCK_VERIFIER_H

#include "ndislock/verifier_stats.h"
#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum NDISLOCK_VERIFIER_MODE {
    NDISLOCK_VERIFIER_OFF = 0,
    NDISLOCK_VERIFIER_ON = 1,
    NDISLOCK_VERIFIER_FATAL = 2
} NDISLOCK_VERIFIER_MODE;

#define NDISLOCK_VERIFIER_EXITCODE_DEFAULT 86

/* The calls below are ndislock's own (no Windows counterpart, so no Microsoft page). Each may be
 * called at any IRQL, from any thread, including ISRs and DPCs; the ones that read or reset
 * findings take an internal mutex during which no emulated interrupt stops the caller, so none
 * can deadlock against an ISR. Settings take effect for calls that start afterwards. */

/* Any IRQL; takes effect for calls that start afterwards; switches are serialized. Switching off
 * and on again is allowed with locks held: what the verifier learned (lock classes, lock order,
 * findings) stays, and what it could not see is not held against the program (each thread's held
 * locks start afresh; a lock released while it was off is not held; the release of a lock
 * acquired while it was off is checked for its IRQL only; a lock allocated while it was off is
 * adopted at its first use; memory freed before the switch may hold a new lock after it). */
NDISLOCK_API void NdislockVerifierSetMode(NDISLOCK_VERIFIER_MODE Mode);
NDISLOCK_API NDISLOCK_VERIFIER_MODE NdislockVerifierGetMode(void);

/* The LockHeldTooLong budget in nanoseconds (0 = the default 25 us), and the watchdog limit in
 * milliseconds (0 = the default 2000). */
NDISLOCK_API void NdislockVerifierSetHoldBudget(ULONG64 BudgetNs);
NDISLOCK_API void NdislockVerifierSetWatchdog(ULONG Milliseconds);

/* Hold-time sampling: each thread times one spin-lock hold in EveryNth on average, at random gaps
 * of 1 to 2*EveryNth-1 acquires (0 = the default 16; 1 = every hold; at most 1000000), for
 * LockHeldTooLong and the hold-time histograms. Every hold is still checked for every other
 * rule. A timed hold costs two clock reads, about half a verified lock pair more (and its random
 * branch a misprediction now and then), hence the default. A class whose holds keep overrunning
 * the budget is reported after about EveryNth times as many holds; a single long hold among
 * short ones may go unseen (it is not reported even when timed: LockHeldTooLong wants three in a
 * row). Set 1 for exact histograms. Any IRQL; applies from the next acquire on. Inside an
 * exploration's schedule every hold is timed, in virtual time, and the first over budget is
 * reported (docs/explore.md, "Virtual time"). */
#define NDISLOCK_HOLD_SAMPLE_DEFAULT 16
NDISLOCK_API void NdislockVerifierSetHoldSampling(ULONG EveryNth);

/* The callback budgets in nanoseconds of the routine's own running time: IsrNs for IsrTooLong
 * (MiniportInterrupt, synchronize functions, MiniportEnable/DisableInterruptEx; 0 = the default
 * 25 us), DpcNs for DpcTooLong (MiniportInterruptDPC and KDPC routines; 0 = the default 100 us).
 * Either is reported when the same routine overran it three runs in a row, or once by 10x; in an
 * exploration's schedule, the first run over it in virtual time (docs/explore.md). */
NDISLOCK_API void NdislockVerifierSetCallbackBudgets(ULONG64 IsrNs, ULONG64 DpcNs);

/* Exit status for a process that reported errors; 0 leaves the status as the program set it. */
NDISLOCK_API void NdislockVerifierSetExitCode(int ExitCode);

/* Where SARIF is written at exit (NULL: nowhere). The string is copied. */
NDISLOCK_API void NdislockVerifierSetSarifPath(const char *Path);

/* Writes the SARIF 2.1.0 log of the current findings to Path now. Returns 0 on success. */
NDISLOCK_API int NdislockVerifierWriteSarif(const char *Path);

/* ERROR: breaks on Windows or Driver Verifier reports it (changes the exit status). WARNING: NDIS
 * guidance broken (a time budget). NOTE: the documented pairing broken in a way Windows behaves
 * identically for (reported once per site, never changes the exit status). */
typedef enum NDISLOCK_SEVERITY {
    NDISLOCK_SEVERITY_ERROR = 0,
    NDISLOCK_SEVERITY_WARNING = 1,
    NDISLOCK_SEVERITY_NOTE = 2
} NDISLOCK_SEVERITY;

/* One distinct finding: a (rule, location) pair, with how often it happened. Strings point into
 * ndislock's own storage and stay valid until NdislockVerifierResetFindings. */
typedef struct NDISLOCK_FINDING {
    const char *RuleId; /* the catalog's stable ID, e.g. "RecursiveAcquire" */
    NDISLOCK_SEVERITY Severity;
    BOOLEAN Terminal;
    const char *Message; /* the whole human-readable report */
    const char *File;    /* the offending call; NULL if only ReturnAddress is known */
    int Line;
    const char *Function;
    const void *ReturnAddress;
    const char *OtherFile; /* the other party (acquire, holder, first edge), or NULL */
    int OtherLine;
    const char *OtherFunction;
    const void *Lock;      /* the lock, or NULL */
    const char *LockClass; /* its class: a given name or the allocation site */
    ULONG Processor;
    int ThreadId;
    KIRQL Irql;
    ULONG64 Count; /* occurrences of this (rule, location) */
} NDISLOCK_FINDING;

/* The number of distinct findings so far, and of those with error severity. */
NDISLOCK_API ULONG NdislockVerifierFindingCount(void);
NDISLOCK_API ULONG NdislockVerifierErrorCount(void);

/* Copies up to Max findings, oldest first; returns how many there are. */
NDISLOCK_API ULONG NdislockVerifierGetFindings(NDISLOCK_FINDING *Out, ULONG Max);

/* Adds one suppression, "RuleId:pattern" as in an NDISLOCK_SUPPRESSIONS file: RuleId is a catalog
 * ID or *, pattern a glob matched against a finding's source file (whole path or base name), its
 * function and its lock class's name. Returns 0, or -1 if the line is malformed (an unknown rule, a
 * terminal rule, no ':' or no pattern; the reason is written to stderr). A suppressed finding is
 * not printed, returned or counted as an error; NdislockVerifierSuppressedCount counts it, the exit
 * summary says how many there were, and the SARIF log keeps it with a "suppressions" entry (kind
 * "external"). */
NDISLOCK_API int NdislockVerifierAddSuppression(const char *Line);
NDISLOCK_API ULONG NdislockVerifierSuppressedCount(void);

/* Forgets every finding (so a test harness can check one test at a time). */
NDISLOCK_API void NdislockVerifierResetFindings(void);

/* Copies the hold-time histograms of up to Max lock classes that have timed holds; returns how
 * many classes have them. */
NDISLOCK_API ULONG NdislockVerifierGetHoldTimes(NDISLOCK_CLASS_HOLD_TIMES *Out, ULONG Max);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_VERIFIER_H */
