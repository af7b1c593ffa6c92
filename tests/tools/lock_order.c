/*
 * tools.tsan.lock_order.<kind>: ThreadSanitizer's deadlock detector (detect_deadlocks=1) sees the
 * order in which ndislock locks are taken.
 *
 *   lock_order spin|queued|rwex|try
 *
 * spin, queued, rwex: one thread takes A then B, later B then A, with two locks of that kind
 * (NDIS_SPIN_LOCK with NdisAcquireSpinLock and the Dpr form inside; the in-stack queued lock and
 * its AtDpcLevel form; NDIS_RW_LOCK_EX for writing). No deadlock happens (one thread), but the
 * order is inverted: TSan must report a lock-order-inversion naming both acquires.
 *
 * try: a try-acquire is announced with TSan's try flag, and a try cannot wait, so it adds no order:
 * A, then B by KeTryToAcquireSpinLockAtDpcLevel, then C while both are held (ATryBThenC); later B
 * then A (BThenA: no inversion, since the try added no A->B order); then C then B (CThenB: an
 * inversion with ATryBThenC's B->C, which exists only because the try's hold was announced). TSan
 * must report the B/C cycle and nothing about A and B.
 */
#include <stdio.h>
#include <string.h>

#include "ndislock/ndis.h"
#include "ndislock/rw_lock.h"

static int Kind; /* 0 spin, 1 queued, 2 rwex */
static NDIS_SPIN_LOCK LockA, LockB;
static KSPIN_LOCK QueuedA, QueuedB, KeA, KeB, KeC;
static PNDIS_RW_LOCK_EX RwA, RwB;

/* Takes First, then Second inside it, and releases both: one order of the two. */
static void TakeBoth(int FirstIsA) {
    switch (Kind) {
    case 0: {
        PNDIS_SPIN_LOCK First = FirstIsA ? &LockA : &LockB, Second = FirstIsA ? &LockB : &LockA;
        NdisAcquireSpinLock(First);
        NdisDprAcquireSpinLock(Second);
        NdisDprReleaseSpinLock(Second);
        NdisReleaseSpinLock(First);
        break;
    }
    case 1: {
        KLOCK_QUEUE_HANDLE h1, h2;
        KeAcquireInStackQueuedSpinLock(FirstIsA ? &QueuedA : &QueuedB, &h1);
        KeAcquireInStackQueuedSpinLockAtDpcLevel(FirstIsA ? &QueuedB : &QueuedA, &h2);
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&h2);
        KeReleaseInStackQueuedSpinLock(&h1);
        break;
    }
    default: {
        LOCK_STATE_EX s1, s2;
        PNDIS_RW_LOCK_EX First = FirstIsA ? RwA : RwB, Second = FirstIsA ? RwB : RwA;
        NdisAcquireRWLockWrite(First, &s1, 0);
        NdisAcquireRWLockWrite(Second, &s2, NDIS_RWL_AT_DISPATCH_LEVEL);
        NdisReleaseRWLock(Second, &s2);
        NdisReleaseRWLock(First, &s1);
        break;
    }
    }
}

static void AThenB(void) { TakeBoth(1); /* ORDER A->B */ }
static void BThenA(void) { TakeBoth(0); /* ORDER B->A */ }

/* The try variant's three steps (see the top). */
static int ATryBThenC(void) {
    KIRQL Old;
    KeAcquireSpinLock(&KeA, &Old);
    if (!KeTryToAcquireSpinLockAtDpcLevel(&KeB)) { /* nobody else holds it: cannot fail */
        KeReleaseSpinLock(&KeA, Old);
        return 0;
    }
    KeAcquireSpinLockAtDpcLevel(&KeC); /* ORDER A->C, B->C */
    KeReleaseSpinLockFromDpcLevel(&KeC);
    KeReleaseSpinLockFromDpcLevel(&KeB);
    KeReleaseSpinLock(&KeA, Old);
    return 1;
}
static void TakeTwo(PKSPIN_LOCK First, PKSPIN_LOCK Second) {
    KIRQL Old;
    KeAcquireSpinLock(First, &Old);
    KeAcquireSpinLockAtDpcLevel(Second);
    KeReleaseSpinLockFromDpcLevel(Second);
    KeReleaseSpinLock(First, Old);
}
static void KeBThenA(void) { TakeTwo(&KeB, &KeA); /* ORDER B->A: no inversion */ }
static void CThenB(void) { TakeTwo(&KeC, &KeB); /* ORDER C->B: inverts B->C */ }

int main(int argc, char **argv) {
    static const char *const Kinds[] = {"spin", "queued", "rwex", "try"};
    int Which = argc < 2 ? 0 : -1;
    for (int i = 0; i < 4 && argc == 2; i++)
        if (strcmp(argv[1], Kinds[i]) == 0) Which = i;
    if (Which < 0) {
        fprintf(stderr, "usage: %s [spin|queued|rwex|try]\n", argv[0]);
        return 2;
    }
    if (Which == 3) {
        KeInitializeSpinLock(&KeA);
        KeInitializeSpinLock(&KeB);
        KeInitializeSpinLock(&KeC);
        if (!ATryBThenC()) return 1;
        KeBThenA();
        CThenB();
        printf("done\n");
        return 0;
    }
    Kind = Which;
    NdisAllocateSpinLock(&LockA);
    NdisAllocateSpinLock(&LockB);
    KeInitializeSpinLock(&QueuedA);
    KeInitializeSpinLock(&QueuedB);
    RwA = NdisAllocateRWLock(NULL);
    RwB = NdisAllocateRWLock(NULL);
    AThenB();
    BThenA();
    NdisFreeRWLock(RwB);
    NdisFreeRWLock(RwA);
    NdisFreeSpinLock(&LockB);
    NdisFreeSpinLock(&LockA);
    printf("done\n");
    return 0;
}
