/*
 * c11.header_only_compile: the public C header must compile as strict C11 on its own, warning
 * free (-std=c11 -Wall -Wextra -Wpedantic -Werror), with every call spelled as driver code spells
 * it: the site macros, and the plain functions (through parentheses, as taken by address).
 * Compile only: nothing here is linked or run. Also compiled as C++20 (header_only.cpp).
 */
#include <ndislock/ndis.h>
#include <ndislock/ndis.h> /* include guards */

/* A driver-shaped context: the lock lives inside the adapter struct, zeroed with it. */
typedef struct ADAPTER {
    NDIS_SPIN_LOCK Lock;
    KSPIN_LOCK KeLock;
    ULONG Counter;
} ADAPTER;

void header_only_uses_every_call(ADAPTER *adapter);

void header_only_uses_every_call(ADAPTER *adapter) {
    KIRQL old;
    KLOCK_QUEUE_HANDLE handle;
    PROCESSOR_NUMBER number;
    KAFFINITY affinity;
    NDISLOCK_LOCK_STATS stats[4];
    void (*acquire)(PNDIS_SPIN_LOCK) = (NdisAcquireSpinLock); /* the exported function */
    void (*release)(PNDIS_SPIN_LOCK) = &(NdisReleaseSpinLock);

    NdisAllocateSpinLock(&adapter->Lock);
    NdislockSetLockName(&adapter->Lock, "adapter lock");
    NdisAcquireSpinLock(&adapter->Lock);
    adapter->Counter++;
    NdisReleaseSpinLock(&adapter->Lock);
    acquire(&adapter->Lock);
    release(&adapter->Lock);
    (NdisAcquireSpinLock)(&adapter->Lock);
    (NdisReleaseSpinLock)(&adapter->Lock);

    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&adapter->Lock);
    NdisDprReleaseSpinLock(&adapter->Lock);
    KeAcquireSpinLockAtDpcLevel(&adapter->KeLock);
    KeReleaseSpinLockFromDpcLevel(&adapter->KeLock);
    if (KeTryToAcquireSpinLockAtDpcLevel(&adapter->KeLock)) KeReleaseSpinLockFromDpcLevel(&adapter->KeLock);
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&adapter->KeLock, &handle);
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&handle);
    KeLowerIrql(old);

    KeInitializeSpinLock(&adapter->KeLock);
    KeAcquireSpinLock(&adapter->KeLock, &old);
    KeReleaseSpinLock(&adapter->KeLock, old);
    old = KeAcquireSpinLockRaiseToDpc(&adapter->KeLock);
    KeReleaseSpinLock(&adapter->KeLock, old);
    KeAcquireInStackQueuedSpinLock(&adapter->KeLock, &handle);
    KeReleaseInStackQueuedSpinLock(&handle);
    old = KeRaiseIrqlToDpcLevel();
    KeLowerIrql(old);
    (void)KeTestSpinLock(&adapter->KeLock);
    (void)KeGetCurrentIrql();
    (void)KeGetCurrentProcessorNumberEx(&number);
    (void)KeGetCurrentProcessorNumber();
    (void)KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
    (void)KeQueryActiveProcessorCount(&affinity);
    (void)NdislockSetProcessorCount(2);
    (void)NdislockBindCurrentThread(0);
    NdislockStatsEnable(TRUE, 0);
    (void)NdislockStatsCollect(stats, 4);
    NdislockStatsReset();
    NdisFreeSpinLock(&adapter->Lock);
}
#include "rw_lock_uses.c"
