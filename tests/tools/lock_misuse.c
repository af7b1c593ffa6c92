/*
 * tools.tsan.lock_misuse.<mode>: ThreadSanitizer's own lock checks (report_mutex_bugs,
 * report_destroy_locked) see misuse of ndislock's spin locks, because ndislock announces each
 * initialization, acquire, release and free (observe/tool_annotations). One NDIS_SPIN_LOCK each:
 *
 *   lock_misuse unlock-unlocked|destroy-held|double-lock
 *
 * unlock-unlocked: NdisDprReleaseSpinLock of a lock nobody holds (at DISPATCH_LEVEL, as the call
 *   requires): "unlock of an unlocked mutex (or by a wrong thread)".
 * destroy-held: NdisFreeSpinLock of a lock the thread holds: "destroy of a locked mutex".
 * double-lock: the lock held by two threads at once. A thread re-acquiring a spin lock it holds
 *   spins forever before TSan hears of it (an acquire is announced once the lock is taken), so the
 *   way to a second holder is another misuse: the holder re-initializes the lock
 *   (NdisAllocateSpinLock on a held lock), and a second thread, on the other virtual processor,
 *   then takes it: "double lock of a mutex".
 *
 * Run with the verifier off: it would report each of these by its own rule ID (ReleaseNotHeld,
 * LockFreedWhileHeld, LockReinitialized) and its tables synchronize. The held lock is never
 * released in destroy-held and double-lock (a release would be a second misuse): the thread lowers
 * its IRQL itself.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ndislock/ndis.h"

static NDIS_SPIN_LOCK Lock;

static void *SecondHolder(void *Unused) {
    (void)Unused;
    if (NdislockBindCurrentThread(1) != NDISLOCK_OK) fprintf(stderr, "bind failed\n");
    NdisAcquireSpinLock(&Lock); /* DOUBLE: the holder's re-initialization let it in */
    NdisReleaseSpinLock(&Lock);
    return NULL;
}

int main(int argc, char **argv) {
    const char *Mode = argc == 2 ? argv[1] : "";
    if (NdislockSetProcessorCount(2) != NDISLOCK_OK || NdislockBindCurrentThread(0) != NDISLOCK_OK) return 2;
    NdisAllocateSpinLock(&Lock);
    if (strcmp(Mode, "unlock-unlocked") == 0) {
        KIRQL Old;
        KeRaiseIrql(DISPATCH_LEVEL, &Old);
        NdisDprReleaseSpinLock(&Lock); /* UNLOCK: nobody holds it */
        KeLowerIrql(Old);
    } else if (strcmp(Mode, "destroy-held") == 0) {
        NdisAcquireSpinLock(&Lock);
        const KIRQL Old = Lock.OldIrql;
        NdisFreeSpinLock(&Lock); /* DESTROY: still held */
        KeLowerIrql(Old);
    } else if (strcmp(Mode, "double-lock") == 0) {
        NdisAcquireSpinLock(&Lock);
        const KIRQL Old = Lock.OldIrql;
        NdisAllocateSpinLock(&Lock); /* re-initialized while held: the lock word is free again */
        pthread_t Second;
        pthread_create(&Second, NULL, SecondHolder, NULL);
        pthread_join(Second, NULL);
        KeLowerIrql(Old);
    } else {
        fprintf(stderr, "usage: %s unlock-unlocked|destroy-held|double-lock\n", argv[0]);
        return 2;
    }
    printf("done\n");
    return 0;
}
