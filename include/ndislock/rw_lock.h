/*
 * ndislock/rw_lock.h: the WDK's reader/writer spin locks, with the semantics Microsoft documents,
 * for ordinary Linux processes. Clean C11 and C++.
 *
 *   NDIS_RW_LOCK_EX  (NDIS 6.20+): NdisAllocateRWLock, NdisAcquireRWLockRead/Write,
 *                    NdisReleaseRWLock, NdisFreeRWLock; the caller's LOCK_STATE_EX per acquire.
 *   NDIS_RW_LOCK     (NDIS 5, deprecated but common): NdisInitializeReadWriteLock,
 *                    Ndis[Dpr]AcquireReadWriteLock, Ndis[Dpr]ReleaseReadWriteLock; LOCK_STATE.
 *   EX_SPIN_LOCK     (wdm.h): ExAcquireSpinLockShared/Exclusive[AtDpcLevel],
 *                    ExReleaseSpinLockShared/Exclusive[FromDpcLevel], the Try and Convert forms.
 *
 * Pages are under https://learn.microsoft.com/windows-hardware/drivers/ddi/ (ndis/nf-ndis-* and
 * wdm/nf-wdm-*). The IRQL and processor model is ndislock/ndis.h's: every acquire runs its holder
 * at DISPATCH_LEVEL on its virtual processor, so a holder cannot be preempted by a thread of its
 * own processor and a reader's per-processor count is touched by one thread at a time.
 *
 * Writer preference: once a writer waits, new (non-recursive) readers wait behind it, so a stream
 * of readers never starves a writer. Readers of the two NDIS locks count themselves per virtual
 * processor, each count on a cache line of its own (as NDIS does), so readers on different
 * processors never write a shared line; EX_SPIN_LOCK is one 32-bit word, as on Windows.
 *
 * Misuse: with the verifier on (ndislock/verifier.h) each broken rule is reported by its ID, at
 * the driver's line (the names below are function-like macros passing __FILE__/__LINE__; the same
 * names are real exported functions too, as in ndislock/ndis.h). Rules: RwLockWriteWhileRead,
 * RwLockRecursion, RwLockStateMismatch, RwLockStateReused, RwLockDispatchFlagWrongIrql, and the
 * spin-lock rules that apply unchanged (AcquireAboveDispatch, ReleaseNotHeld, ReleaseByNonOwner,
 * ReleaseVariantMismatch, WrongOldIrql, LockFreedWhileHeld, LockOrderInversion, LockHeldTooLong,
 * Deadlock, ...). Read/write locks join the lock-order graph; two read acquisitions in opposite
 * orders are not reported.
 */
#ifndef NDISLOCK_RW_LOCK_H
#define NDISLOCK_RW_LOCK_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define NDISLOCK_ANONYMOUS __extension__ /* the WDK's anonymous members, pedantic-clean in C++ */
#else
#define NDISLOCK_ANONYMOUS
#endif

/* ======================================================================================
 * NDIS_RW_LOCK_EX (ndis.h, NDIS 6.20 and later)
 * ====================================================================================== */

/* Flags of NdisAcquireRWLockRead/Write: the caller is at DISPATCH_LEVEL already. */
#define NDIS_RWL_AT_DISPATCH_LEVEL 0x1

/* Opaque: allocated by NdisAllocateRWLock, never declared by the driver. */
typedef struct _NDIS_RW_LOCK_EX NDIS_RW_LOCK_EX, *PNDIS_RW_LOCK_EX;

/* One per acquisition, owned by the caller (normally a local): the IRQL to restore and the mode
 * held. Filled by the acquire, read by the release; never shared by two live acquisitions
 * (RwLockStateReused), never swapped between them (RwLockStateMismatch). The WDK's layout. */
typedef struct _LOCK_STATE_EX {
    KIRQL OldIrql;
    UCHAR LockState;
    UCHAR Flags;
} LOCK_STATE_EX, *PLOCK_STATE_EX;

/* NdisAllocateRWLock: IRQL <= DISPATCH_LEVEL. A new, free lock, or NULL if memory runs out.
 * NdisHandle (the driver's or adapter's handle) is accepted and not used. Page:
 * ndis/nf-ndis-ndisallocaterwlock. */
NDISLOCK_API PNDIS_RW_LOCK_EX NdisAllocateRWLock(NDIS_HANDLE NdisHandle);

/* NdisFreeRWLock: IRQL <= DISPATCH_LEVEL. Frees a lock NdisAllocateRWLock returned; it must not be
 * held (LockFreedWhileHeld) nor used again. Page: ndis/nf-ndis-ndisfreerwlock. */
NDISLOCK_API void NdisFreeRWLock(PNDIS_RW_LOCK_EX Lock);

/* NdisAcquireRWLockRead: IRQL <= DISPATCH_LEVEL; with Flags = NDIS_RWL_AT_DISPATCH_LEVEL, exactly
 * DISPATCH_LEVEL (else RwLockDispatchFlagWrongIrql). Raises to DISPATCH_LEVEL, takes the lock for
 * read (concurrently with other readers; waits while a writer holds it or waits for it), and
 * fills *LockState (old IRQL, read mode). Recursive read on the same processor is allowed, and so
 * is a read while this thread holds the lock for write. Page: ndis/nf-ndis-ndisacquirerwlockread. */
NDISLOCK_API void NdisAcquireRWLockRead(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX LockState, UCHAR Flags);

/* NdisAcquireRWLockWrite: IRQL <= DISPATCH_LEVEL; with Flags = NDIS_RWL_AT_DISPATCH_LEVEL, exactly
 * DISPATCH_LEVEL (else RwLockDispatchFlagWrongIrql), as the read form. Raises to DISPATCH_LEVEL
 * and takes the lock for write: new readers wait from the moment it starts waiting, and it waits
 * until every reader has left. Recursive write on the same processor is allowed (one release per
 * acquire). A write acquire while this thread holds the lock for read never returns on Windows (no
 * promotion): RwLockWriteWhileRead, terminal. Page: ndis/nf-ndis-ndisacquirerwlockwrite. */
NDISLOCK_API void NdisAcquireRWLockWrite(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX LockState, UCHAR Flags);

/* NdisReleaseRWLock: IRQL == DISPATCH_LEVEL. Releases the acquisition LockState describes (read or
 * write) and sets the IRQL to LockState->OldIrql. LockState must be the one its acquire filled
 * (RwLockStateMismatch); a state that describes no held acquisition releases nothing. Page:
 * ndis/nf-ndis-ndisreleaserwlock. */
NDISLOCK_API void NdisReleaseRWLock(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX LockState);

/* ======================================================================================
 * NDIS_RW_LOCK (ndis.h, NDIS 5; deprecated for NDIS 6.20 and later drivers)
 * ====================================================================================== */

/* A per-processor reader count, 16 bytes as in the WDK. ndislock gives each virtual processor the
 * count 64 bytes after the previous one's, so with up to 16 processors no two readers' counts share
 * a cache line. */
typedef union _NDIS_RW_LOCK_REFCOUNT {
    unsigned int RefCount;
    UCHAR cacheLine[16];
} NDIS_RW_LOCK_REFCOUNT;

/* The WDK's layout (drivers declare it in their own structs). SpinLock is the writer's word (0
 * free), Context its owner; RefCount[] the readers. */
typedef struct _NDIS_RW_LOCK {
    NDISLOCK_ANONYMOUS union {
        NDISLOCK_ANONYMOUS struct {
            KSPIN_LOCK SpinLock;
            PVOID Context;
        };
        UCHAR Reserved[16];
    };
    NDISLOCK_ANONYMOUS union {
        NDIS_RW_LOCK_REFCOUNT RefCount[MAXIMUM_PROCESSORS];
        ULONG RefCountEx[sizeof(NDIS_RW_LOCK_REFCOUNT) / sizeof(ULONG) * MAXIMUM_PROCESSORS];
        NDISLOCK_ANONYMOUS struct {
            KSPIN_LOCK RefCountLock;
            volatile ULONG SharedRefCount;
            volatile BOOLEAN WriterWaiting;
        };
    };
} NDIS_RW_LOCK, *PNDIS_RW_LOCK;

/* One per acquisition, the caller's: the mode held and the IRQL to restore. The WDK's layout. */
typedef struct _LOCK_STATE {
    USHORT LockState;
    KIRQL OldIrql;
} LOCK_STATE, *PLOCK_STATE;

/* NdisInitializeReadWriteLock: any IRQL. Zeroes the lock: free. Page:
 * ndis/nf-ndis-ndisinitializereadwritelock. */
NDISLOCK_API void NdisInitializeReadWriteLock(PNDIS_RW_LOCK Lock);

/* NdisAcquireReadWriteLock: IRQL <= DISPATCH_LEVEL. Raises to DISPATCH_LEVEL and takes the lock for
 * write (fWrite TRUE) or read, filling *LockState. Recursion as NDIS 5 does it: read within read,
 * write within write and read within write by the same thread are allowed; a write within this
 * processor's own read does not wait for that read (it waits for the other processors' readers).
 * Release with NdisReleaseReadWriteLock (ReleaseVariantMismatch otherwise). Page:
 * ndis/nf-ndis-ndisacquirereadwritelock. */
NDISLOCK_API void NdisAcquireReadWriteLock(PNDIS_RW_LOCK Lock, BOOLEAN fWrite, PLOCK_STATE LockState);

/* NdisReleaseReadWriteLock: IRQL == DISPATCH_LEVEL. Releases the acquisition LockState describes
 * and restores LockState->OldIrql. Page: ndis/nf-ndis-ndisreleasereadwritelock. */
NDISLOCK_API void NdisReleaseReadWriteLock(PNDIS_RW_LOCK Lock, PLOCK_STATE LockState);

/* NdisDprAcquireReadWriteLock: IRQL == DISPATCH_LEVEL (RwLockDispatchFlagWrongIrql below it). As
 * NdisAcquireReadWriteLock without the raise. Release with NdisDprReleaseReadWriteLock. Page:
 * ndis/nf-ndis-ndisdpracquirereadwritelock. */
NDISLOCK_API void NdisDprAcquireReadWriteLock(PNDIS_RW_LOCK Lock, BOOLEAN fWrite, PLOCK_STATE LockState);

/* NdisDprReleaseReadWriteLock: IRQL == DISPATCH_LEVEL. Releases a Dpr acquisition; the IRQL does
 * not change. Page: ndis/nf-ndis-ndisdprreleasereadwritelock. */
NDISLOCK_API void NdisDprReleaseReadWriteLock(PNDIS_RW_LOCK Lock, PLOCK_STATE LockState);

/* ======================================================================================
 * EX_SPIN_LOCK (wdm.h): a 32-bit word the driver zeroes; no initialize or free call.
 * ====================================================================================== */

typedef volatile LONG EX_SPIN_LOCK, *PEX_SPIN_LOCK;

/* ExAcquireSpinLockShared: IRQL <= DISPATCH_LEVEL. Raises to DISPATCH_LEVEL, takes the lock shared
 * (waits while it is held or wanted exclusive) and returns the previous IRQL. No recursion of any
 * kind (RwLockRecursion, RwLockWriteWhileRead: terminal, Windows deadlocks). Page:
 * wdm/nf-wdm-exacquirespinlockshared. */
NDISLOCK_API KIRQL ExAcquireSpinLockShared(PEX_SPIN_LOCK SpinLock);

/* ExAcquireSpinLockExclusive: IRQL <= DISPATCH_LEVEL. Raises to DISPATCH_LEVEL, takes the lock
 * exclusive (new shared acquires wait from the moment it waits) and returns the previous IRQL.
 * Page: wdm/nf-wdm-exacquirespinlockexclusive. */
NDISLOCK_API KIRQL ExAcquireSpinLockExclusive(PEX_SPIN_LOCK SpinLock);

/* ExAcquireSpinLockSharedAtDpcLevel / ExAcquireSpinLockExclusiveAtDpcLevel: IRQL >= DISPATCH_LEVEL
 * (below it: RwLockDispatchFlagWrongIrql). No IRQL change. Pages:
 * wdm/nf-wdm-exacquirespinlocksharedatdpclevel, wdm/nf-wdm-exacquirespinlockexclusiveatdpclevel. */
/*@{*/
NDISLOCK_API void ExAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK SpinLock);
NDISLOCK_API void ExAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK SpinLock);
/*@}*/

/* ExReleaseSpinLockShared / ExReleaseSpinLockExclusive: IRQL == DISPATCH_LEVEL. Release, then set
 * the IRQL to OldIrql, the value the acquire returned (WrongOldIrql otherwise). The form must match
 * the mode held (ReleaseVariantMismatch). Pages: wdm/nf-wdm-exreleasespinlockshared,
 * wdm/nf-wdm-exreleasespinlockexclusive. */
/*@{*/
NDISLOCK_API void ExReleaseSpinLockShared(PEX_SPIN_LOCK SpinLock, KIRQL OldIrql);
NDISLOCK_API void ExReleaseSpinLockExclusive(PEX_SPIN_LOCK SpinLock, KIRQL OldIrql);
/*@}*/

/* ExReleaseSpinLockSharedFromDpcLevel / ExReleaseSpinLockExclusiveFromDpcLevel: IRQL >=
 * DISPATCH_LEVEL. Release an AtDpcLevel (or Try) acquisition; no IRQL change. Pages:
 * wdm/nf-wdm-exreleasespinlocksharedfromdpclevel, wdm/nf-wdm-exreleasespinlockexclusivefromdpclevel. */
/*@{*/
NDISLOCK_API void ExReleaseSpinLockSharedFromDpcLevel(PEX_SPIN_LOCK SpinLock);
NDISLOCK_API void ExReleaseSpinLockExclusiveFromDpcLevel(PEX_SPIN_LOCK SpinLock);
/*@}*/

/* ExTryConvertSharedSpinLockExclusive: IRQL == DISPATCH_LEVEL, caller holds the lock shared. TRUE
 * if the caller was the only shared holder: it now holds the lock exclusive (release with the
 * Exclusive form of its acquire's family). FALSE otherwise, still shared. Page:
 * wdm/nf-wdm-extryconvertsharedspinlockexclusive. */
NDISLOCK_API LOGICAL ExTryConvertSharedSpinLockExclusive(PEX_SPIN_LOCK SpinLock);

/* ExTryAcquireSpinLockSharedAtDpcLevel / ExTryAcquireSpinLockExclusiveAtDpcLevel: IRQL >=
 * DISPATCH_LEVEL. TRUE with the lock taken, or FALSE at once; never waits. Release FromDpcLevel.
 * A try of a lock the caller holds returns what the lock word allows (FALSE under an exclusive
 * hold, or for exclusive under its own shared hold) and, with the verifier on, is RwLockRecursion
 * or RwLockWriteWhileRead, errors that are not terminal for a try. Pages:
 * wdm/nf-wdm-extryacquirespinlocksharedatdpclevel, wdm/nf-wdm-extryacquirespinlockexclusiveatdpclevel. */
/*@{*/
NDISLOCK_API LOGICAL ExTryAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK SpinLock);
NDISLOCK_API LOGICAL ExTryAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK SpinLock);
/*@}*/

/* ======================================================================================
 * Site-taking forms (what the macros call).
 * ====================================================================================== */

NDISLOCK_API PNDIS_RW_LOCK_EX ndislock_at_NdisAllocateRWLock(NDIS_HANDLE, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisFreeRWLock(PNDIS_RW_LOCK_EX, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisAcquireRWLockRead(PNDIS_RW_LOCK_EX, PLOCK_STATE_EX, UCHAR, const char *, int,
                                                    const char *);
NDISLOCK_API void ndislock_at_NdisAcquireRWLockWrite(PNDIS_RW_LOCK_EX, PLOCK_STATE_EX, UCHAR, const char *, int,
                                                     const char *);
NDISLOCK_API void ndislock_at_NdisReleaseRWLock(PNDIS_RW_LOCK_EX, PLOCK_STATE_EX, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisInitializeReadWriteLock(PNDIS_RW_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisAcquireReadWriteLock(PNDIS_RW_LOCK, BOOLEAN, PLOCK_STATE, const char *, int,
                                                       const char *);
NDISLOCK_API void ndislock_at_NdisReleaseReadWriteLock(PNDIS_RW_LOCK, PLOCK_STATE, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisDprAcquireReadWriteLock(PNDIS_RW_LOCK, BOOLEAN, PLOCK_STATE, const char *, int,
                                                          const char *);
NDISLOCK_API void ndislock_at_NdisDprReleaseReadWriteLock(PNDIS_RW_LOCK, PLOCK_STATE, const char *, int, const char *);
NDISLOCK_API KIRQL ndislock_at_ExAcquireSpinLockShared(PEX_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API KIRQL ndislock_at_ExAcquireSpinLockExclusive(PEX_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_ExAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_ExAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_ExReleaseSpinLockShared(PEX_SPIN_LOCK, KIRQL, const char *, int, const char *);
NDISLOCK_API void ndislock_at_ExReleaseSpinLockExclusive(PEX_SPIN_LOCK, KIRQL, const char *, int, const char *);
NDISLOCK_API void ndislock_at_ExReleaseSpinLockSharedFromDpcLevel(PEX_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_ExReleaseSpinLockExclusiveFromDpcLevel(PEX_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API LOGICAL ndislock_at_ExTryConvertSharedSpinLockExclusive(PEX_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API LOGICAL ndislock_at_ExTryAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API LOGICAL ndislock_at_ExTryAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK, const char *, int,
                                                                         const char *);

#include "ndislock/fast_path_rw.h" /* the inline read path of NDIS_RW_LOCK_EX */

/* The site-taking form of the NDIS_RW_LOCK_EX read calls: their inline uncontended path when
 * there is one (same semantics, the exported call for everything else). */
#if NDISLOCK_INLINE_FAST_PATH
#define NDISLOCK_RW_READ_CALL(name) ndislock_inline_##name
#else
#define NDISLOCK_RW_READ_CALL(name) ndislock_at_##name
#endif

#ifndef NDISLOCK_NO_SITE_MACROS
#define NDISLOCK_RW_HERE __FILE__, __LINE__, __func__
#define NdisAllocateRWLock(H) ndislock_at_NdisAllocateRWLock((H), NDISLOCK_RW_HERE)
#define NdisFreeRWLock(L) ndislock_at_NdisFreeRWLock((L), NDISLOCK_RW_HERE)
#define NdisAcquireRWLockRead(L, S, F) NDISLOCK_RW_READ_CALL(NdisAcquireRWLockRead)((L), (S), (F), NDISLOCK_RW_HERE)
#define NdisAcquireRWLockWrite(L, S, F) ndislock_at_NdisAcquireRWLockWrite((L), (S), (F), NDISLOCK_RW_HERE)
#define NdisReleaseRWLock(L, S) NDISLOCK_RW_READ_CALL(NdisReleaseRWLock)((L), (S), NDISLOCK_RW_HERE)
#define NdisInitializeReadWriteLock(L) ndislock_at_NdisInitializeReadWriteLock((L), NDISLOCK_RW_HERE)
#define NdisAcquireReadWriteLock(L, W, S) ndislock_at_NdisAcquireReadWriteLock((L), (W), (S), NDISLOCK_RW_HERE)
#define NdisReleaseReadWriteLock(L, S) ndislock_at_NdisReleaseReadWriteLock((L), (S), NDISLOCK_RW_HERE)
#define NdisDprAcquireReadWriteLock(L, W, S) ndislock_at_NdisDprAcquireReadWriteLock((L), (W), (S), NDISLOCK_RW_HERE)
#define NdisDprReleaseReadWriteLock(L, S) ndislock_at_NdisDprReleaseReadWriteLock((L), (S), NDISLOCK_RW_HERE)
#define ExAcquireSpinLockShared(L) ndislock_at_ExAcquireSpinLockShared((L), NDISLOCK_RW_HERE)
#define ExAcquireSpinLockExclusive(L) ndislock_at_ExAcquireSpinLockExclusive((L), NDISLOCK_RW_HERE)
#define ExAcquireSpinLockSharedAtDpcLevel(L) ndislock_at_ExAcquireSpinLockSharedAtDpcLevel((L), NDISLOCK_RW_HERE)
#define ExAcquireSpinLockExclusiveAtDpcLevel(L) ndislock_at_ExAcquireSpinLockExclusiveAtDpcLevel((L), NDISLOCK_RW_HERE)
#define ExReleaseSpinLockShared(L, I) ndislock_at_ExReleaseSpinLockShared((L), (I), NDISLOCK_RW_HERE)
#define ExReleaseSpinLockExclusive(L, I) ndislock_at_ExReleaseSpinLockExclusive((L), (I), NDISLOCK_RW_HERE)
#define ExReleaseSpinLockSharedFromDpcLevel(L) ndislock_at_ExReleaseSpinLockSharedFromDpcLevel((L), NDISLOCK_RW_HERE)
#define ExReleaseSpinLockExclusiveFromDpcLevel(L)                                                                      \
    ndislock_at_ExReleaseSpinLockExclusiveFromDpcLevel((L), NDISLOCK_RW_HERE)
#define ExTryConvertSharedSpinLockExclusive(L) ndislock_at_ExTryConvertSharedSpinLockExclusive((L), NDISLOCK_RW_HERE)
#define ExTryAcquireSpinLockSharedAtDpcLevel(L) ndislock_at_ExTryAcquireSpinLockSharedAtDpcLevel((L), NDISLOCK_RW_HERE)
#define ExTryAcquireSpinLockExclusiveAtDpcLevel(L)                                                                     \
    ndislock_at_ExTryAcquireSpinLockExclusiveAtDpcLevel((L), NDISLOCK_RW_HERE)
#endif /* NDISLOCK_NO_SITE_MACROS */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_RW_LOCK_H */
