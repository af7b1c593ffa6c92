/*
 * tools.tsan.lock_order: one thread takes A then B (NdisAcquireSpinLock, then the Dpr form inside),
 * later B then A. No deadlock happens (one thread), but the order is inverted: ThreadSanitizer's
 * deadlock detector (detect_deadlocks=1) must report a lock-order-inversion naming both acquires.
 */
#include <stdio.h>

#include "ndislock/ndis.h"

static NDIS_SPIN_LOCK LockA, LockB;

static void AThenB(void) {
    NdisAcquireSpinLock(&LockA);
    NdisDprAcquireSpinLock(&LockB); /* ORDER A->B */
    NdisDprReleaseSpinLock(&LockB);
    NdisReleaseSpinLock(&LockA);
}

static void BThenA(void) {
    NdisAcquireSpinLock(&LockB);
    NdisDprAcquireSpinLock(&LockA); /* ORDER B->A */
    NdisDprReleaseSpinLock(&LockA);
    NdisReleaseSpinLock(&LockB);
}

int main(void) {
    NdisAllocateSpinLock(&LockA);
    NdisAllocateSpinLock(&LockB);
    AThenB();
    BThenA();
    NdisFreeSpinLock(&LockB);
    NdisFreeSpinLock(&LockA);
    printf("done\n");
    return 0;
}
