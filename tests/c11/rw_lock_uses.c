/*
 * c11.header_only_compile: <ndislock/rw_lock.h> compiles as strict C11 (and, through
 * header_only.cpp, as C++20), every call spelled as driver code spells it: the site macros and
 * the plain functions. Compile only. Included by header_only.c.
 */
#include <ndislock/rw_lock.h>
#include <ndislock/rw_lock.h> /* include guards */

typedef struct RW_ADAPTER {
    PNDIS_RW_LOCK_EX ListLock;
    NDIS_RW_LOCK OldLock;
    EX_SPIN_LOCK TableLock;
} RW_ADAPTER;

void header_only_uses_every_rw_call(RW_ADAPTER *a);

void header_only_uses_every_rw_call(RW_ADAPTER *a) {
    LOCK_STATE_EX state;
    LOCK_STATE old_state;
    KIRQL irql;
    void (*release)(PNDIS_RW_LOCK_EX, PLOCK_STATE_EX) = (NdisReleaseRWLock);

    a->ListLock = NdisAllocateRWLock(NULL);
    NdisAcquireRWLockRead(a->ListLock, &state, 0);
    NdisReleaseRWLock(a->ListLock, &state);
    NdisAcquireRWLockWrite(a->ListLock, &state, NDIS_RWL_AT_DISPATCH_LEVEL);
    release(a->ListLock, &state);
    (NdisAcquireRWLockRead)(a->ListLock, &state, 0);
    (NdisReleaseRWLock)(a->ListLock, &state);
    NdisFreeRWLock(a->ListLock);

    NdisInitializeReadWriteLock(&a->OldLock);
    NdisAcquireReadWriteLock(&a->OldLock, TRUE, &old_state);
    NdisReleaseReadWriteLock(&a->OldLock, &old_state);
    NdisDprAcquireReadWriteLock(&a->OldLock, FALSE, &old_state);
    NdisDprReleaseReadWriteLock(&a->OldLock, &old_state);
    a->OldLock.RefCount[0].RefCount = 0;
    (void)a->OldLock.SpinLock;

    a->TableLock = 0;
    irql = ExAcquireSpinLockShared(&a->TableLock);
    if (ExTryConvertSharedSpinLockExclusive(&a->TableLock))
        ExReleaseSpinLockExclusive(&a->TableLock, irql);
    else
        ExReleaseSpinLockShared(&a->TableLock, irql);
    irql = ExAcquireSpinLockExclusive(&a->TableLock);
    ExReleaseSpinLockExclusive(&a->TableLock, irql);
    ExAcquireSpinLockSharedAtDpcLevel(&a->TableLock);
    ExReleaseSpinLockSharedFromDpcLevel(&a->TableLock);
    ExAcquireSpinLockExclusiveAtDpcLevel(&a->TableLock);
    ExReleaseSpinLockExclusiveFromDpcLevel(&a->TableLock);
    if (ExTryAcquireSpinLockSharedAtDpcLevel(&a->TableLock)) ExReleaseSpinLockSharedFromDpcLevel(&a->TableLock);
    if (ExTryAcquireSpinLockExclusiveAtDpcLevel(&a->TableLock)) ExReleaseSpinLockExclusiveFromDpcLevel(&a->TableLock);
    (void)(ExAcquireSpinLockShared)(&a->TableLock);
}
