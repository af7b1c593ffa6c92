/*
 * tools.tsan.wrong_lock.<kind>: a counter meant to be guarded by one ndislock lock is written by
 * one thread under LockA and by another under LockB, two locks of the same kind. ThreadSanitizer
 * must report the race and name both locks as held ("mutexes: write M..") with where each was
 * created or first acquired: it can only if ndislock announces its locks (observe/tool_annotations).
 *
 *   wrong_lock spin|queued|rwex|rw|ex|rwex-read
 *
 * rwex-read holds each NDIS_RW_LOCK_EX for reading (a shared hold, "mutexes: read M.."): reading
 * is no guard for a write, and two different locks order nothing anyway.
 *
 * Each thread runs on its own virtual processor: sharing one, the processor's hand-over would
 * order the two writes and hide the race. The writes overlap in time: the first thread holds LockA
 * until the second has written under LockB and raised a relaxed flag (which orders nothing for the
 * tools), so nothing the library does after a release can order them either, and the report is
 * deterministic. Run with the verifier off (its tables synchronize).
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ndislock/ndis.h"
#include "ndislock/rw_lock.h"

static int Kind;                      /* 0 spin, 1 queued, 2 rwex, 3 rw, 4 ex, 5 rwex-read */
static NDIS_SPIN_LOCK SpinA, SpinB;   /* spin: NdisAllocateSpinLock */
static KSPIN_LOCK QueuedA, QueuedB;   /* queued: KeInitializeSpinLock */
static PNDIS_RW_LOCK_EX RwExA, RwExB; /* NDIS_RW_LOCK_EX */
static NDIS_RW_LOCK RwA, RwB;         /* NDIS 5 NDIS_RW_LOCK */
static EX_SPIN_LOCK ExA, ExB;         /* zeroed: EX_SPIN_LOCK has no initialization call */
static int Counter;                   /* the state guarded by the "wrong" lock */
static int SecondDone;                /* relaxed atomics only: no synchronization */

/* Holding the first lock: wait for the second thread's write (bounded: 10 s). */
static void WaitForSecond(int UseB) {
    if (UseB) {
        __atomic_store_n(&SecondDone, 1, __ATOMIC_RELAXED);
        return;
    }
    const struct timespec Tick = {0, 1000 * 1000};
    for (int i = 0; i < 10000 && !__atomic_load_n(&SecondDone, __ATOMIC_RELAXED); i++)
        nanosleep(&Tick, NULL);
}

static void IncrementUnder(int UseB) {
    switch (Kind) {
    case 0: {
        PNDIS_SPIN_LOCK l = UseB ? &SpinB : &SpinA;
        NdisAcquireSpinLock(l);
        Counter++; /* RACE: line named in the report */
        WaitForSecond(UseB);
        NdisReleaseSpinLock(l);
        break;
    }
    case 1: {
        KLOCK_QUEUE_HANDLE h;
        KeAcquireInStackQueuedSpinLock(UseB ? &QueuedB : &QueuedA, &h);
        Counter++;
        WaitForSecond(UseB);
        KeReleaseInStackQueuedSpinLock(&h);
        break;
    }
    case 2: {
        LOCK_STATE_EX s;
        NdisAcquireRWLockWrite(UseB ? RwExB : RwExA, &s, 0);
        Counter++;
        WaitForSecond(UseB);
        NdisReleaseRWLock(UseB ? RwExB : RwExA, &s);
        break;
    }
    case 3: {
        LOCK_STATE s;
        NdisAcquireReadWriteLock(UseB ? &RwB : &RwA, TRUE, &s);
        Counter++;
        WaitForSecond(UseB);
        NdisReleaseReadWriteLock(UseB ? &RwB : &RwA, &s);
        break;
    }
    case 5: {
        LOCK_STATE_EX s;
        NdisAcquireRWLockRead(UseB ? RwExB : RwExA, &s, 0);
        Counter++;
        WaitForSecond(UseB);
        NdisReleaseRWLock(UseB ? RwExB : RwExA, &s);
        break;
    }
    default: {
        PEX_SPIN_LOCK l = UseB ? &ExB : &ExA;
        KIRQL old = ExAcquireSpinLockExclusive(l);
        Counter++;
        WaitForSecond(UseB);
        ExReleaseSpinLockExclusive(l, old);
        break;
    }
    }
}

static void *Writer(void *Arg) {
    const int UseB = Arg != NULL;
    if (NdislockBindCurrentThread(UseB ? 1 : 0) != NDISLOCK_OK) fprintf(stderr, "bind failed\n");
    if (UseB) {
        const struct timespec Delay = {0, 100 * 1000 * 1000};
        nanosleep(&Delay, NULL);
    }
    IncrementUnder(UseB);
    return NULL;
}

int main(int argc, char **argv) {
    static const char *const Kinds[] = {"spin", "queued", "rwex", "rw", "ex", "rwex-read"};
    Kind = -1;
    for (int i = 0; i < 6; i++)
        if (argc == 2 && strcmp(argv[1], Kinds[i]) == 0) Kind = i;
    if (Kind < 0) {
        fprintf(stderr, "usage: %s spin|queued|rwex|rw|ex|rwex-read\n", argv[0]);
        return 2;
    }
    if (NdislockSetProcessorCount(2) != NDISLOCK_OK) return 2;
    NdisAllocateSpinLock(&SpinA);
    NdisAllocateSpinLock(&SpinB);
    KeInitializeSpinLock(&QueuedA);
    KeInitializeSpinLock(&QueuedB);
    RwExA = NdisAllocateRWLock(NULL);
    RwExB = NdisAllocateRWLock(NULL);
    NdisInitializeReadWriteLock(&RwA);
    NdisInitializeReadWriteLock(&RwB);
    pthread_t a, b;
    pthread_create(&a, NULL, Writer, NULL);
    pthread_create(&b, NULL, Writer, &b);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    NdisFreeRWLock(RwExA);
    NdisFreeRWLock(RwExB);
    NdisFreeSpinLock(&SpinA);
    NdisFreeSpinLock(&SpinB);
    printf("counter %d\n", Counter);
    return 0;
}
