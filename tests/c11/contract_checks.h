/*
 * The contract checks shared by the C11 test (tests/c11, ctest c11.contract) and the programs that
 * consume the installed package (tests/consumer). Plain C11 plus POSIX threads; the only ndislock
 * header used is the public <ndislock/ndis.h>, so this is exactly what a C driver port sees.
 *
 * Every check prints one line, "PASS: ..." or "FAIL: ... (file:line)". Every wait is bounded:
 * polls give up after a few seconds, and a watchdog thread ends the process (naming the section
 * that hung, exit status 124) when one section runs past its limit, so no check can hang ctest.
 *
 * The contract: ../../../shared/spec/ndis-contract.md (layout in section 1, the NDIS calls in 2,
 * the Ke calls and the lock-word encoding in 3, IRQL and processors in 4).
 */
#ifndef NDISLOCK_TESTS_CONTRACT_CHECKS_H
#define NDISLOCK_TESTS_CONTRACT_CHECKS_H

/* Starts the watchdog (WatchdogSeconds per section; the environment variable
 * NDISLOCK_TEST_WATCHDOG_SECONDS overrides it) and makes stdout line buffered. Call first. */
void nlc_begin(unsigned WatchdogSeconds);

/* Prints "N passed, M failed" as the last line, stops the watchdog, and returns the exit status:
 * 0 only if every check passed (and at least one ran). */
int nlc_end(void);

/* The checks, one section each. Call nlc_check_irql_at_start before anything else that calls into
 * ndislock, and nlc_check_processors before the sections that use threads: it makes the process's
 * 2 virtual processors and binds the calling thread to processor 0. */
void nlc_check_layout(void);        /* sizes, offsets, IRQL values of the WDK types */
void nlc_check_irql_at_start(void); /* a new thread runs at PASSIVE_LEVEL */
void nlc_check_processors(void);    /* counts, masks, binding, the processor number */
void nlc_check_ndis_single(void);   /* NdisAcquire/Release, Dpr forms: IRQL, OldIrql, word */
void nlc_check_ke_single(void);     /* Ke acquire/release, AtDpcLevel, try, raise/lower */
void nlc_check_queued_single(void); /* in-stack queued: word = owner entry, Lock = addr|2 */
void nlc_check_held_by_other(void); /* KeTestSpinLock and try-acquire see another's hold */
void nlc_check_queued_fifo(void);   /* waiters queue behind the tail, served in FIFO order */

/* Threads x Iterations increments of one plain counter, through every lock family and the
 * mixed ones; every total must be exact and no two threads may ever be inside at once. */
void nlc_check_counters(unsigned Threads, unsigned Iterations);

/* Threads x Iterations increments, at DISPATCH_LEVEL and without a lock, of a plain counter per
 * virtual processor (KeGetCurrentProcessorNumberEx): exact only if one thread at a time runs at
 * DISPATCH_LEVEL on each processor (contract section 4). */
void nlc_check_per_processor(unsigned Threads, unsigned Iterations);

/* Everything above in order, for a main(): the iteration count comes from argv[1] when given,
 * else from DefaultIterations. Returns nlc_end()'s status. */
int nlc_run_all(int argc, char **argv, unsigned DefaultIterations);

#endif /* NDISLOCK_TESTS_CONTRACT_CHECKS_H */
