/*
 * ndislock/ext.h: ndislock's own calls, which play the parts Windows and NDIS play around a
 * driver: how many processors there are, which processor a thread runs on, what a lock is called,
 * and what the locks did (statistics). Nothing here exists in the WDK; driver code that should
 * still build for Windows keeps these calls in its test harness. Clean C11 and C++.
 *
 * Included by ndislock/ndis.h.
 */
#ifndef NDISLOCK_EXT_H
#define NDISLOCK_EXT_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Results of the calls below. */
typedef enum NDISLOCK_STATUS {
    NDISLOCK_OK = 0,
    NDISLOCK_INVALID_ARGUMENT = 1, /* a processor index or count out of range */
    NDISLOCK_BUSY = 2,             /* refused while a thread is at DISPATCH_LEVEL or above */
    NDISLOCK_WRONG_IRQL = 3,       /* the caller is at DISPATCH_LEVEL or above */
    NDISLOCK_IO_ERROR = 4          /* a file could not be written (NdislockTrace*, NdislockReport*) */
} NDISLOCK_STATUS;

#define NDISLOCK_MAX_PROCESSORS 64

/* ---- Processors ------------------------------------------------------------------------
 *
 * The count is fixed at the first call into ndislock from NDISLOCK_PROCESSORS (an integer 1..64)
 * or, when that is unset, from the machine's hardware threads. It is not tied to real CPUs: 8
 * virtual processors on a 2-core machine are fine, and are how tests make 8-way concurrency
 * happen (the OS time-slices them).
 */

/* Makes Count virtual processors (1..NDISLOCK_MAX_PROCESSORS). Threads already bound keep their
 * binding modulo the new count. IRQL: the caller below DISPATCH_LEVEL. Returns NDISLOCK_BUSY while
 * any thread is at DISPATCH_LEVEL or above (a processor cannot vanish under running code). */
NDISLOCK_API NDISLOCK_STATUS NdislockSetProcessorCount(ULONG Count);

/* Binds the calling thread to virtual processor Processor for the rest of its life (or until it
 * binds again). IRQL: below DISPATCH_LEVEL, as a Windows thread cannot change processor at
 * DISPATCH_LEVEL (NDISLOCK_WRONG_IRQL otherwise). Unbound threads are placed round-robin, in the
 * order of their first call into ndislock. */
NDISLOCK_API NDISLOCK_STATUS NdislockBindCurrentThread(ULONG Processor);

/* ---- Lock names ------------------------------------------------------------------------
 *
 * A name for a lock (an NDIS_SPIN_LOCK or a KSPIN_LOCK, by address; or an NDIS_RW_LOCK_EX,
 * NDIS_RW_LOCK, KMUTEX, FAST_MUTEX or ERESOURCE), shown in statistics, timelines and diagnostics
 * and used as the lock's class by the verifier (locks of one name are one class in the lock
 * order). Name must be a string that outlives the program's use of it (a literal); NULL removes
 * the lock's name. Any IRQL.
 *
 * A name belongs to one lock, not to its address: memory is reused (a stack frame, a freed
 * adapter context), and a later lock there that inherited the name would join the old lock's
 * class and its order, so two unrelated locks taken in turn would be reported as an inversion.
 * So the name ends with its lock:
 *   - NdisFreeSpinLock, NdisFreeRWLock and ExDeleteResourceLite drop it (and the C++ types of
 *     ndislock/ndislock.hpp when they are destroyed);
 *   - a name set before the lock's initialization (NdisAllocateSpinLock, KeInitializeSpinLock,
 *     NdisAllocateRWLock, NdisInitializeReadWriteLock, KeInitializeMutex, ExInitializeFastMutex,
 *     ExInitializeResourceLite) names the lock that initialization makes; a name set after it
 *     names that lock. Either way the next initialization at the same address is a new lock
 *     (a KSPIN_LOCK has no free call) and starts without a name: name it again. "After" means the
 *     naming thread initialized this address among its last 64 lock initializations and has not
 *     named it since (initialize, then name, as the C++ types do, or initialize a context's locks,
 *     then name them); any other name counts as set before the next initialization.
 * Statistics and timelines keep showing a freed lock's name for what it did (until another lock
 * is initialized at its address).
 */
NDISLOCK_API void NdislockSetLockName(const void *Lock, const char *Name);

/* ---- Lock statistics -------------------------------------------------------------------
 *
 * Off by default, and then free. When on, every acquire and release through the calls of
 * ndislock/ndis.h is counted per lock: acquisitions, how many had to wait, and hold time. Hold
 * time is the holder's own running time: a Windows holder at DISPATCH_LEVEL is never descheduled,
 * so time the OS spent running other threads must not count against the 25 us budget. ndislock
 * measures wall time (CLOCK_MONOTONIC) and proves the holder stayed on the CPU with the kernel's
 * per-thread scheduling witness (a perf task-clock page, one file descriptor per timed thread);
 * a hold during which the holder was descheduled is counted in Descheduled and not timed. Where
 * perf events are unavailable, the thread CPU clock is read instead (exact, but a system call).
 * Up to NDISLOCK_STATS_MAX_LOCKS distinct locks are tracked, the first ones seen: each lock has a
 * short window of 16 slots in the table, so once the table is nearly full a new lock whose window
 * is taken is not counted even if other slots are free (looking it up stays cheap).
 */

#define NDISLOCK_STATS_MAX_LOCKS 256
#define NDISLOCK_HOLD_BUDGET_NS_DEFAULT 25000u

typedef struct NDISLOCK_LOCK_STATS {
    const void *Lock;     /* the lock's address */
    const char *Name;     /* NdislockSetLockName's name, or NULL */
    ULONG64 Acquisitions; /* completed acquires, try-acquires that succeeded included */
    ULONG64 Contended;    /* acquires that found the lock held and had to wait */
    ULONG64 HoldP50Ns;    /* hold time percentiles, nanoseconds (within 1/16 of the value) */
    ULONG64 HoldP99Ns;
    ULONG64 HoldMaxNs;   /* exact */
    ULONG64 OverBudget;  /* timed holds longer than the budget */
    ULONG64 Descheduled; /* holds the OS interrupted: not timed, never charged to the budget */
} NDISLOCK_LOCK_STATS;

/* The three statistics calls: any IRQL, any thread (ndislock's own, so no Windows page).
 *
 * Turns statistics on or off for all threads; BudgetNs is the hold budget (0 = the default
 * 25 us). Takes effect for acquisitions that start afterwards. */
NDISLOCK_API void NdislockStatsEnable(BOOLEAN Enable, ULONG64 BudgetNs);

/* Copies up to MaxLocks entries, busiest first, into Out and returns how many locks are tracked.
 * Safe while other threads use the locks (figures may be a few operations apart). */
NDISLOCK_API ULONG NdislockStatsCollect(NDISLOCK_LOCK_STATS *Out, ULONG MaxLocks);

/* Forgets every figure and tracked lock. Call while no statistics-enabled lock is held. */
NDISLOCK_API void NdislockStatsReset(void);

/* ---- Timeline ----------------------------------------------------------------------------
 *
 * A Chrome trace / Perfetto JSON file (open it in ui.perfetto.dev or chrome://tracing) of what
 * happened over time: every lock hold and wait per thread (named by NdislockSetLockName), each
 * virtual processor's IRQL, ISR and DPC runs, each interrupt's assertion with an arrow to its
 * ISR, and the verifier's findings as instant events. Set NDISLOCK_TRACE=<path> to record the
 * whole run (the file is written at exit), or bracket a part of it with the two calls below.
 * Events go to a ring per thread (32768 events); the oldest are overwritten when it is full, and
 * the file says how many were dropped (otherData.dropped_events). Tracing makes every lock call
 * take the observed path (like the verifier or the statistics): use it to look, not to measure.
 * Docs: docs/tools.md, "Timelines".
 *
 * NdislockTraceStart: PASSIVE_LEVEL (it creates the file). Starts recording into Path, created or
 * truncated now: NDISLOCK_IO_ERROR (and a message on stderr) if it cannot be written,
 * NDISLOCK_INVALID_ARGUMENT for NULL. A trace already running is written and stopped first. */
NDISLOCK_API NDISLOCK_STATUS NdislockTraceStart(const char *Path);

/* NdislockTraceStop: PASSIVE_LEVEL. Stops recording and writes the file; NDISLOCK_IO_ERROR if
 * no trace was running or the file could not be written. */
NDISLOCK_API NDISLOCK_STATUS NdislockTraceStop(void);

/* ---- The modelled DPC watchdog --------------------------------------------------------------
 *
 * The limits KeQueryDpcWatchdogInformation reports (ndislock/ndis_interrupt.h; docs/interrupts.md,
 * "The DPC watchdog"): the single-DPC limit (one DPC routine) and the cumulative limit (one run of
 * back-to-back DPCs on a processor). Set them with NDISLOCK_DPC_TIME_LIMIT_MS and
 * NDISLOCK_DPC_WATCHDOG_LIMIT_MS, or with the call below. Defaults: the single-DPC limit is the
 * watchdog limit (NDISLOCK_WATCHDOG_MS, 2000 ms: a DPC still running then is ended with a Deadlock
 * report), the cumulative limit six times the single one. They are reported, not enforced: what
 * ends a DPC is the watchdog limit, what warns of a long one the verifier's DpcTooLong budget.
 *
 * NdislockSetDpcWatchdogLimits: any IRQL. 0 for either restores its default. */
NDISLOCK_API void NdislockSetDpcWatchdogLimits(ULONG64 SingleDpcLimitNs, ULONG64 CumulativeLimitNs);

/* ---- Report ------------------------------------------------------------------------------
 *
 * One self-contained HTML page (inline CSS and SVG: it opens from the file, with no network and
 * no script) to look at after a run: the busiest locks' hold-time histograms against the hold
 * budget (25 us unless NDISLOCK_HOLD_BUDGET_US says otherwise) and each one's acquisitions and
 * contended acquisitions over time, the ISR and DPC run-time histograms against their budgets
 * (NDISLOCK_ISR_BUDGET_US, NDISLOCK_DPC_BUDGET_US), and the verifier's findings with their source
 * lines. At most the 12 busiest locks are drawn (the page says how many were tracked); the
 * contention chart keeps the last 120 buckets of 50 ms. Set NDISLOCK_REPORT=<path>.html to write
 * one at exit, or use the calls below. A report turns the lock statistics on (NdislockStatsEnable),
 * with their cost: use it to look, not to measure. Docs: docs/tools.md, "Report".
 *
 * NdislockReportStart: PASSIVE_LEVEL (it creates the file). Turns the lock statistics and the
 * report's sampling on and creates or truncates Path now; the page is written there by
 * NdislockReportStop or, if the program does not call it, at exit (after the verifier's last
 * checks, so a lock still held at exit is in it; also before a terminal finding ends the process).
 * NDISLOCK_IO_ERROR (and a message on stderr) if Path cannot be written, NDISLOCK_INVALID_ARGUMENT
 * for NULL. A report already running is replaced (its page is not written). */
NDISLOCK_API NDISLOCK_STATUS NdislockReportStart(const char *Path);

/* NdislockReportStop: PASSIVE_LEVEL. Writes the running report's page and ends the report (its
 * sampling stops; the lock statistics stay on until NdislockStatsEnable turns them off).
 * NDISLOCK_IO_ERROR if no report was running or the page could not be written. */
NDISLOCK_API NDISLOCK_STATUS NdislockReportStop(void);

/* NdislockReportWrite: PASSIVE_LEVEL. Writes a page of the figures so far to Path (NULL: the
 * running report's path) and changes nothing else: a snapshot, with or without a running report
 * (without one, only what the statistics and the verifier gathered). NDISLOCK_IO_ERROR if the page
 * could not be written, NDISLOCK_INVALID_ARGUMENT for NULL with no report running. */
NDISLOCK_API NDISLOCK_STATUS NdislockReportWrite(const char *Path);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_EXT_H */
