/* A fixed scenario for the timeline test (check_trace.py): what it does, the trace must show,
 * event for event. Usage: trace_scenario PATH [overflow|threads]
 *   - 100 holds of "trace.A" from PASSIVE_LEVEL (NdisAcquireSpinLock: the IRQL goes to
 *     DISPATCH_LEVEL and back each time);
 *   - one KeRaiseIrql / KeLowerIrql pair;
 *   - 5 interrupts asserted toward processor 1, each run to its DPC before the next;
 *   - one pattern the verifier notes (ReleaseVariantEquivalent on "trace.B"), when it is on;
 *   - exactly one wait for "trace.W": a thread on processor 1 acquires it while this one holds it
 *     (WaitForW);
 *   - with "overflow": 40000 more holds of "trace.A", more than a thread's ring keeps;
 *   - with "threads": 200 threads one after the other, each holding "trace.T" 10 times and
 *     ending: their rings are retired and reused, and their holds are still in the file.
 * The trace is bracketed by NdislockTraceStart / NdislockTraceStop. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "one_line_device.h"

static NDIS_SPIN_LOCK W, T;
static int Trying; /* the waiter is about to acquire W */

static void *AcquireW(void *Arg) {
    (void)Arg;
    NdislockBindCurrentThread(1);
    __atomic_store_n(&Trying, 1, __ATOMIC_SEQ_CST);
    NdisAcquireSpinLock(&W);
    NdisReleaseSpinLock(&W);
    return NULL;
}

static ULONG64 ContendedW(void) {
    NDISLOCK_LOCK_STATS Stats[16];
    const ULONG n = NdislockStatsCollect(Stats, 16);
    for (ULONG i = 0; i < n && i < 16; ++i)
        if (Stats[i].Lock == (const void *)&W) return Stats[i].Contended;
    return 0;
}

/* One wait for W, exactly: this thread holds W while a thread on the other processor acquires
 * it. Whether that thread tried before the release is up to the OS's scheduling, so a round
 * whose acquire did not wait (the lock statistics say) is run again: at most 100 rounds, each
 * holding W for 2 ms after the other thread said it is about to try. Returns 0 on success. */
static int WaitForW(void) {
    const struct timespec Tick = {0, 2 * 1000 * 1000};
    for (int Round = 0; Round < 100; ++Round) {
        pthread_t Waiter;
        __atomic_store_n(&Trying, 0, __ATOMIC_SEQ_CST);
        NdisAcquireSpinLock(&W);
        if (pthread_create(&Waiter, NULL, AcquireW, NULL) != 0) return 1;
        for (int i = 0; i < 5000 && !__atomic_load_n(&Trying, __ATOMIC_SEQ_CST); ++i)
            nanosleep(&Tick, NULL); /* a plain sleep: no NDIS call at DISPATCH_LEVEL */
        nanosleep(&Tick, NULL);
        NdisReleaseSpinLock(&W);
        pthread_join(Waiter, NULL);
        if (ContendedW() == 1) return 0;
        if (ContendedW() > 1) return 1;
    }
    return 1;
}

static void *HoldT(void *Arg) {
    (void)Arg;
    for (int i = 0; i < 10; ++i) {
        NdisAcquireSpinLock(&T);
        NdisReleaseSpinLock(&T);
    }
    return NULL;
}

int main(int argc, char **argv) {
    NDIS_SPIN_LOCK A;
    KSPIN_LOCK B;
    NDIS_HANDLE Adapter = NULL;
    KIRQL Old;
    const int Overflow = argc > 2 && strcmp(argv[2], "overflow") == 0;
    const int Threads = argc > 2 && strcmp(argv[2], "threads") == 0;
    if (argc < 2) return 2;
    NdislockSetProcessorCount(2);
    NdislockBindCurrentThread(0);
    if (NdislockMiniportInitialize(Initialize, NULL, &Adapter) != NDIS_STATUS_SUCCESS) return 1;
    NdisAllocateSpinLock(&A);
    NdislockSetLockName(&A, "trace.A");
    KeInitializeSpinLock(&B);
    NdislockSetLockName(&B, "trace.B");
    NdisAllocateSpinLock(&W);
    NdislockSetLockName(&W, "trace.W");
    NdisAllocateSpinLock(&T);
    NdislockSetLockName(&T, "trace.T");
    NdislockStatsEnable(TRUE, 0); /* WaitForW counts its lock's contended acquisitions */

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
    if (WaitForW() != 0) {
        fprintf(stderr, "trace_scenario: no round of WaitForW waited exactly once\n");
        return 1;
    }
    for (int i = 0; Threads && i < 200; ++i) {
        pthread_t Holder;
        if (pthread_create(&Holder, NULL, HoldT, NULL) != 0) return 1;
        pthread_join(Holder, NULL);
    }
    for (int i = 0; Overflow && i < 40000; ++i) {
        NdisAcquireSpinLock(&A);
        NdisReleaseSpinLock(&A);
    }
    if (NdislockTraceStop() != NDISLOCK_OK) return 1;

    NdisFreeSpinLock(&A);
    NdisFreeSpinLock(&W);
    NdisFreeSpinLock(&T);
    NdislockMiniportHalt(Adapter, Halt, NULL);
    printf("trace written to %s\n", argv[1]);
    return 0;
}
