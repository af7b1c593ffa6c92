/*
 * ndislock/ndis.h: the NDIS and kernel (Ke) spin-lock calls, IRQL and processor queries, with the
 * semantics Microsoft documents, for ordinary Linux processes. Clean C11 and C++.
 *
 * Contract: this header. Each call states its IRQL, its semantics and what misuse does, and names
 * the Microsoft page it follows, under https://learn.microsoft.com/windows-hardware/drivers/ddi/
 * (ndis/nf-ndis-* and wdm/nf-wdm-*). The docs that ndislock's headers cite (docs/ in the sources) are
 * installed with them, in the package's documentation directory (share/doc/ndislock/).
 *
 * The execution model, in one paragraph (docs/execution-model.md has the rest): the process has
 * N virtual processors (default: the machine's hardware threads; see ndislock/ext.h). Every
 * thread that calls in runs on one of them, chosen round-robin at its first call unless it binds
 * itself. IRQL is a property of the processor: a thread that raises to DISPATCH_LEVEL or above
 * becomes the only thread running code at that level on its processor until it drops below
 * DISPATCH_LEVEL again (another thread of the same processor that tries to raise waits, as it
 * would sit descheduled on Windows). Below DISPATCH_LEVEL, threads of one processor run freely,
 * as threads time-sliced on one Windows processor would.
 *
 * Two spellings of every lock call, like the WDK's: the name as a function-like macro passes the
 * caller's file, line and function down so that diagnostics point at the call; the same name as a
 * real exported function (taken by address, called through parentheses, or after #undef) reports
 * its caller's return address instead. Define NDISLOCK_NO_SITE_MACROS to get functions only.
 *
 * Misuse: what each call does with a broken rule is written beside it. With the verifier on
 * (the default; NDISLOCK_VERIFIER, see ndislock/verifier.h), broken rules are reported by rule ID;
 * with it off, ndislock still never corrupts memory silently: states it cannot continue from end
 * the process with a diagnostic on stderr.
 */
#ifndef NDISLOCK_NDIS_H
#define NDISLOCK_NDIS_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The caller's location, as the site macros pass it. */
#define NDISLOCK_HERE __FILE__, __LINE__, __func__

/* ======================================================================================
 * NDIS spin locks (ndis.h). An NDIS_SPIN_LOCK is the kernel lock word plus OldIrql.
 * ====================================================================================== */

/* NdisAllocateSpinLock: any IRQL. Initializes the lock (word = 0, free). Must precede every
 * other use of the lock; the storage must outlive every use. Allocating a lock that is held is
 * LockReinitialized. Page: ndis/nf-ndis-ndisallocatespinlock. */
NDISLOCK_API void NdisAllocateSpinLock(PNDIS_SPIN_LOCK SpinLock);

/* NdisFreeSpinLock: any IRQL. Deinitializes the lock: it must be allocated again before any
 * further use. The memory is left as it is (the WDK's macro expands to nothing); ndislock only
 * records that the lock is gone. Freeing a held lock is LockFreedWhileHeld; using it afterwards
 * is LockUsedAfterFree. Page: ndis/nf-ndis-ndisfreespinlock. */
NDISLOCK_API void NdisFreeSpinLock(PNDIS_SPIN_LOCK SpinLock);

/* NdisAcquireSpinLock: IRQL <= DISPATCH_LEVEL. Raises to DISPATCH_LEVEL, takes the lock
 * (spinning, then waiting, while another context holds it), then stores the previous IRQL in
 * SpinLock->OldIrql. Release with NdisReleaseSpinLock, never the Dpr form. Above DISPATCH_LEVEL
 * (in an ISR, say) it is AcquireAboveDispatch; taking a lock this context already holds is
 * RecursiveAcquire, which on Windows hangs the processor. Page: ndis/nf-ndis-ndisacquirespinlock. */
NDISLOCK_API void NdisAcquireSpinLock(PNDIS_SPIN_LOCK SpinLock);

/* NdisReleaseSpinLock: IRQL == DISPATCH_LEVEL. Frees the lock, then sets the IRQL to the
 * SpinLock->OldIrql its acquire saved. Releasing out of acquire order (Acquire A, Acquire B,
 * Release A, Release B) runs the code between the releases at PASSIVE_LEVEL with B held and ends
 * at DISPATCH_LEVEL, exactly as on Windows (IrqlDroppedWhileHoldingLock). Page:
 * ndis/nf-ndis-ndisreleasespinlock. */
NDISLOCK_API void NdisReleaseSpinLock(PNDIS_SPIN_LOCK SpinLock);

/* NdisDprAcquireSpinLock: IRQL == DISPATCH_LEVEL (a DPC, or after an explicit raise). Takes the
 * lock; the IRQL does not change and OldIrql is not touched (as in current WDK headers). Below
 * DISPATCH_LEVEL it is DprAcquireBelowDispatch. Page: ndis/nf-ndis-ndisdpracquirespinlock. */
NDISLOCK_API void NdisDprAcquireSpinLock(PNDIS_SPIN_LOCK SpinLock);

/* NdisDprReleaseSpinLock: IRQL == DISPATCH_LEVEL. Frees a lock taken with
 * NdisDprAcquireSpinLock; the IRQL does not change. Page: ndis/nf-ndis-ndisdprreleasespinlock. */
NDISLOCK_API void NdisDprReleaseSpinLock(PNDIS_SPIN_LOCK SpinLock);

/* ======================================================================================
 * Kernel spin locks (wdm.h).
 * ====================================================================================== */

/* KeInitializeSpinLock: any IRQL. *SpinLock = 0. Page: wdm/nf-wdm-keinitializespinlock. */
NDISLOCK_API void KeInitializeSpinLock(PKSPIN_LOCK SpinLock);

/* KeAcquireSpinLock: IRQL <= DISPATCH_LEVEL. Raises to DISPATCH_LEVEL, takes the lock, stores
 * the previous IRQL in *OldIrql. Above DISPATCH_LEVEL it is AcquireAboveDispatch: verifier on,
 * reported and the IRQL left where it was; verifier off, as x64's free build, the IRQL is set to
 * DISPATCH_LEVEL while the lock is held (the release restores *OldIrql). The same holds for every
 * raising spin-lock acquire (NdisAcquireSpinLock, KeAcquireInStackQueuedSpinLock). Page:
 * wdm/nf-wdm-keacquirespinlock. */
NDISLOCK_API void KeAcquireSpinLock(PKSPIN_LOCK SpinLock, PKIRQL OldIrql);

/* KeAcquireSpinLockRaiseToDpc: IRQL <= DISPATCH_LEVEL. As KeAcquireSpinLock, returning the
 * previous IRQL instead of storing it; the same misuse rules (AcquireAboveDispatch,
 * RecursiveAcquire). Release with KeReleaseSpinLock. Page: wdm/nf-wdm-keacquirespinlockraisetodpc. */
NDISLOCK_API KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock);

/* KeReleaseSpinLock: IRQL == DISPATCH_LEVEL. Frees the lock, then lowers the IRQL to NewIrql,
 * which must be the value its acquire returned (otherwise WrongOldIrql). Like Windows, the release
 * sets NewIrql without checking it against the current IRQL: after the out-of-order trap (see
 * NdisReleaseSpinLock) it raises back to DISPATCH_LEVEL. Page: wdm/nf-wdm-kereleasespinlock. */
NDISLOCK_API void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql);

/* KeAcquireSpinLockAtDpcLevel: IRQL >= DISPATCH_LEVEL (spin locks above DISPATCH_LEVEL are the
 * interrupt's own business; the verifier reports AcquireAboveDispatch there). Takes the lock, no
 * IRQL change. Page: wdm/nf-wdm-keacquirespinlockatdpclevel. */
NDISLOCK_API void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);

/* KeReleaseSpinLockFromDpcLevel: IRQL == DISPATCH_LEVEL. Frees a lock taken AtDpcLevel; using it
 * on a KeAcquireSpinLock acquisition never restores the IRQL (ReleaseVariantMismatch). Page:
 * wdm/nf-wdm-kereleasespinlockfromdpclevel. */
NDISLOCK_API void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);

/* KeTryToAcquireSpinLockAtDpcLevel: IRQL == DISPATCH_LEVEL. TRUE with the lock taken, or FALSE
 * at once if it is held; never waits, so it never ends the process: a lock the caller itself
 * holds gives FALSE too, and with the verifier on that is RecursiveAcquire, an error but not
 * terminal. Page: wdm/nf-wdm-ketrytoacquirespinlockatdpclevel. */
NDISLOCK_API BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);

/* KeTestSpinLock: any IRQL (Microsoft sets no limit: it is meant for a caller at a low IRQL, and
 * neither raises nor lowers). FALSE if the lock is held at this instant, TRUE if it is free;
 * never takes it (a hint for spinning before a try-acquire). Page:
 * wdm/nf-wdm-ketestspinlock. */
NDISLOCK_API BOOLEAN KeTestSpinLock(PKSPIN_LOCK SpinLock);

/* KeAcquireInStackQueuedSpinLock: IRQL <= DISPATCH_LEVEL. Raises to DISPATCH_LEVEL and takes the
 * lock in FIFO order; LockHandle (normally a local of the caller) is the queue entry and keeps
 * the old IRQL in LockHandle->OldIrql. One handle per acquisition, never shared or reused while
 * live (QueueHandleReused). Never mix queued and ordinary acquires on one lock
 * (QueuedAndPlainMixed: with the verifier off, detected when a queued acquire finds an ordinary
 * holder, and fatal). Page: wdm/nf-wdm-keacquireinstackqueuedspinlock. */
NDISLOCK_API void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);

/* KeReleaseInStackQueuedSpinLock: IRQL == DISPATCH_LEVEL. Hands the lock to the next waiter in
 * FIFO order (or frees it) and lowers the IRQL to LockHandle->OldIrql. Page:
 * wdm/nf-wdm-kereleaseinstackqueuedspinlock. */
NDISLOCK_API void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle);

/* KeAcquireInStackQueuedSpinLockAtDpcLevel: IRQL >= DISPATCH_LEVEL. As the queued acquire, no
 * IRQL change. Page: wdm/nf-wdm-keacquireinstackqueuedspinlockatdpclevel. */
NDISLOCK_API void KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);

/* KeReleaseInStackQueuedSpinLockFromDpcLevel: IRQL == DISPATCH_LEVEL. As the queued release, no
 * IRQL change. Page: wdm/nf-wdm-kereleaseinstackqueuedspinlockfromdpclevel. */
NDISLOCK_API void KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle);

/* KeAcquireSpinLockForDpc: IRQL <= DISPATCH_LEVEL (the threaded-DPC form). Below DISPATCH_LEVEL it
 * raises to DISPATCH_LEVEL; at DISPATCH_LEVEL it leaves the IRQL as it is. Takes the lock and returns
 * the IRQL at the call, for KeReleaseSpinLockForDpc. Seen by the verifier as a raising acquire:
 * above DISPATCH_LEVEL it is AcquireAboveDispatch, released with any other call it is
 * ReleaseVariantMismatch (KeReleaseSpinLock is its equivalent: same family). Page:
 * wdm/nf-wdm-keacquirespinlockfordpc. */
NDISLOCK_API KIRQL KeAcquireSpinLockForDpc(PKSPIN_LOCK SpinLock);

/* KeReleaseSpinLockForDpc: IRQL == DISPATCH_LEVEL. Frees a lock taken with KeAcquireSpinLockForDpc
 * and sets the IRQL to OldIrql, the value that acquire returned (otherwise WrongOldIrql). Page:
 * wdm/nf-wdm-kereleasespinlockfordpc. */
NDISLOCK_API void KeReleaseSpinLockForDpc(PKSPIN_LOCK SpinLock, KIRQL OldIrql);

/* KeAcquireInStackQueuedSpinLockForDpc: IRQL <= DISPATCH_LEVEL. The queued form of
 * KeAcquireSpinLockForDpc: raises to DISPATCH_LEVEL only from below it, keeps the IRQL at the call
 * in LockHandle->OldIrql. Page: wdm/nf-wdm-keacquireinstackqueuedspinlockfordpc. */
NDISLOCK_API void KeAcquireInStackQueuedSpinLockForDpc(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);

/* KeReleaseInStackQueuedSpinLockForDpc: IRQL == DISPATCH_LEVEL. Hands the lock on as the queued
 * release does and sets the IRQL to LockHandle->OldIrql. Page:
 * wdm/nf-wdm-kereleaseinstackqueuedspinlockfordpc. */
NDISLOCK_API void KeReleaseInStackQueuedSpinLockForDpc(PKLOCK_QUEUE_HANDLE LockHandle);

/* KeAcquireSpinLockRaiseToSynch: IRQL <= SYNCH_LEVEL (12, as on x64: above every device IRQL, so
 * emulated interrupts toward this processor stay pending while the lock is held). Raises to
 * SYNCH_LEVEL, takes the lock, returns the IRQL at the call; release with KeReleaseSpinLock, which
 * is then made at SYNCH_LEVEL. Above SYNCH_LEVEL it is IrqlInvalidRaise: verifier on, reported and
 * the IRQL left where it was; off (a free build), the lock is held at SYNCH_LEVEL. Declared in the
 * WDK's ntifs.h, with no DDI page of its own: the level is KeRaiseIrqlToSynchLevel's
 * (ntddk/nf-ntddk-keraiseirqltosynchlevel), the rest KeAcquireSpinLock's. */
NDISLOCK_API KIRQL KeAcquireSpinLockRaiseToSynch(PKSPIN_LOCK SpinLock);

/* KeAcquireInStackQueuedSpinLockRaiseToSynch: IRQL <= SYNCH_LEVEL. The queued form: raises to
 * SYNCH_LEVEL, FIFO, the IRQL at the call in LockHandle->OldIrql; release with
 * KeReleaseInStackQueuedSpinLock. Misuse as KeAcquireSpinLockRaiseToSynch (IrqlInvalidRaise) and
 * KeAcquireInStackQueuedSpinLock (QueueHandleReused, QueuedAndPlainMixed). Declared in ntifs.h with
 * no DDI page of its own: the queue is KeAcquireInStackQueuedSpinLock's
 * (wdm/nf-wdm-keacquireinstackqueuedspinlock), the level KeRaiseIrqlToSynchLevel's
 * (ntddk/nf-ntddk-keraiseirqltosynchlevel). */
NDISLOCK_API void KeAcquireInStackQueuedSpinLockRaiseToSynch(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);

/* ======================================================================================
 * IRQL (wdm.h).
 * ====================================================================================== */

/* KeGetCurrentIrql: any IRQL. The IRQL of the processor this thread runs on. Page:
 * wdm/nf-wdm-kegetcurrentirql. */
NDISLOCK_API KIRQL KeGetCurrentIrql(void);

/* KeRaiseIrql: any IRQL. Raises to NewIrql, stores the previous IRQL in *OldIrql. NewIrql below
 * the current IRQL or above HIGH_LEVEL is IrqlInvalidRaise. Verifier on (Driver Verifier): it
 * is reported and the IRQL left unchanged. Verifier off (a free x64 build, which writes the level
 * unchecked): a lower NewIrql is set as asked, and only a level above HIGH_LEVEL (a fault on x64)
 * ends the process. Raising from below DISPATCH_LEVEL
 * to DISPATCH_LEVEL or above makes this thread the processor's only runner at that level, waiting
 * while another thread of the processor is there. Page: wdm/nf-wdm-keraiseirql. */
NDISLOCK_API void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);

/* KeRaiseIrqlToDpcLevel: IRQL <= DISPATCH_LEVEL. Raises to DISPATCH_LEVEL and returns the
 * previous IRQL. Page: wdm/nf-wdm-keraiseirqltodpclevel. */
NDISLOCK_API KIRQL KeRaiseIrqlToDpcLevel(void);

/* KeLowerIrql: any IRQL. Lowers to NewIrql, which must be the value the matching raise saved.
 * NewIrql above the current IRQL is IrqlInvalidLower: verifier on, reported and the IRQL left
 * unchanged; verifier off (a free x64 build), set as asked, and only a level above HIGH_LEVEL
 * ends the process. Page:
 * wdm/nf-wdm-kelowerirql. */
NDISLOCK_API void KeLowerIrql(KIRQL NewIrql);

/* ======================================================================================
 * Processors (wdm.h). ndislock has one processor group, group 0, of up to 64 processors.
 * ====================================================================================== */

/* KeGetCurrentProcessorNumberEx: any IRQL. The index of this thread's virtual processor; also
 * fills *ProcNumber (Group 0) when it is not NULL. Stable while the IRQL is at or above
 * DISPATCH_LEVEL. Page: wdm/nf-wdm-kegetcurrentprocessornumberex. */
NDISLOCK_API ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber);

/* KeGetCurrentProcessorNumber: any IRQL; below DISPATCH_LEVEL the answer may be stale by the time
 * it is used (the thread may move), so callers that use it for per-processor data run at
 * DISPATCH_LEVEL. The same index, the pre-group form (ntddk.h on Windows). Page:
 * ntddk/nf-ntddk-kegetcurrentprocessornumber. */
NDISLOCK_API ULONG KeGetCurrentProcessorNumber(void);

/* KeQueryActiveProcessorCountEx: any IRQL. The number of virtual processors in GroupNumber (0 or
 * ALL_PROCESSOR_GROUPS; any other group has none). Page:
 * wdm/nf-wdm-kequeryactiveprocessorcountex. */
NDISLOCK_API ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber);

/* KeQueryActiveProcessorCount: any IRQL. The number of virtual processors; fills *ActiveProcessors
 * with their affinity mask when it is not NULL. Page: wdm/nf-wdm-kequeryactiveprocessorcount. */
NDISLOCK_API ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors);

/* KeQueryActiveProcessors: any IRQL. The affinity mask of the virtual processors (bit n for
 * processor n). Page: wdm/nf-wdm-kequeryactiveprocessors. */
NDISLOCK_API KAFFINITY KeQueryActiveProcessors(void);

/* ======================================================================================
 * Stalls and sleeps (ndis.h, wdm.h).
 * ====================================================================================== */

/* NdisMSleep: PASSIVE_LEVEL only. Puts the thread to sleep for at least MicrosecondsToSleep. A
 * sleep at DISPATCH_LEVEL or above, or while holding a spin lock, is BlockingAtDispatch (on
 * Windows: bug check 0xB8 or a deadlock), at APC_LEVEL IrqlTooHighForCall; like every NDIS call other than the
 * spin-lock ones it must not be made while an NDIS spin lock is held (NdisCallWhileHoldingLock). In an exploration's
 * schedule the sleep passes in virtual time (docs/explore.md). Page: ndis/nf-ndis-ndismsleep. */
NDISLOCK_API void NdisMSleep(ULONG MicrosecondsToSleep);

/* NdisStallExecution: any IRQL. Busy-waits MicrosecondsToStall (the docs ask for at most 50 us)
 * without giving up the processor. An NDIS call: not while an NDIS spin lock is held. Inside an
 * exploration's schedule no real time passes: the stall adds its length to the caller's own
 * virtual time and to the schedule's clock (docs/explore.md, "Virtual time"). Page:
 * ndis/nf-ndis-ndisstallexecution. */
NDISLOCK_API void NdisStallExecution(ULONG MicrosecondsToStall);

/* KeStallExecutionProcessor: any IRQL. Busy-waits MicroSeconds (at most 50 us per call, the docs
 * say); in an exploration's schedule it is a scheduling point and moves virtual time instead, as
 * NdisStallExecution. Page: wdm/nf-wdm-kestallexecutionprocessor. */
NDISLOCK_API void KeStallExecutionProcessor(ULONG MicroSeconds);

/* ======================================================================================
 * Site-taking forms. These are what the macros below call; the plain functions above call them
 * with a NULL file and their own return address.
 * ====================================================================================== */

NDISLOCK_API void ndislock_at_NdisAllocateSpinLock(PNDIS_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisFreeSpinLock(PNDIS_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisAcquireSpinLock(PNDIS_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisReleaseSpinLock(PNDIS_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisDprAcquireSpinLock(PNDIS_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisDprReleaseSpinLock(PNDIS_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeInitializeSpinLock(PKSPIN_LOCK, const char *, int, const char *);
NDISLOCK_API KIRQL ndislock_at_KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeReleaseSpinLock(PKSPIN_LOCK, KIRQL, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK, const char *, int, const char *);
NDISLOCK_API BOOLEAN ndislock_at_KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK, PKLOCK_QUEUE_HANDLE, const char *, int,
                                                             const char *);
NDISLOCK_API void ndislock_at_KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK, PKLOCK_QUEUE_HANDLE, const char *,
                                                                       int, const char *);
NDISLOCK_API void ndislock_at_KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE, const char *, int,
                                                                         const char *);
NDISLOCK_API KIRQL ndislock_at_KeAcquireSpinLockForDpc(PKSPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeReleaseSpinLockForDpc(PKSPIN_LOCK, KIRQL, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeAcquireInStackQueuedSpinLockForDpc(PKSPIN_LOCK, PKLOCK_QUEUE_HANDLE, const char *, int,
                                                                   const char *);
NDISLOCK_API void ndislock_at_KeReleaseInStackQueuedSpinLockForDpc(PKLOCK_QUEUE_HANDLE, const char *, int,
                                                                   const char *);
NDISLOCK_API KIRQL ndislock_at_KeAcquireSpinLockRaiseToSynch(PKSPIN_LOCK, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeAcquireInStackQueuedSpinLockRaiseToSynch(PKSPIN_LOCK, PKLOCK_QUEUE_HANDLE, const char *,
                                                                         int, const char *);
NDISLOCK_API KIRQL ndislock_at_KeRaiseIrql(KIRQL, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeLowerIrql(KIRQL, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisMSleep(ULONG, const char *, int, const char *);
NDISLOCK_API void ndislock_at_NdisStallExecution(ULONG, const char *, int, const char *);
NDISLOCK_API void ndislock_at_KeStallExecutionProcessor(ULONG, const char *, int, const char *);

#include "ndislock/fast_path.h"

/* The site-taking form of an ordinary lock call: its inline uncontended path when there is one
 * (ndislock/fast_path.h: same semantics, the exported call for everything else), else the
 * exported ndislock_at_ function. */
#if NDISLOCK_INLINE_FAST_PATH
#define NDISLOCK_LOCK_CALL(name) ndislock_inline_##name
#else
#define NDISLOCK_LOCK_CALL(name) ndislock_at_##name
#endif

#ifndef NDISLOCK_NO_SITE_MACROS
#define NdisAllocateSpinLock(L) ndislock_at_NdisAllocateSpinLock((L), NDISLOCK_HERE)
#define NdisFreeSpinLock(L) ndislock_at_NdisFreeSpinLock((L), NDISLOCK_HERE)
#define NdisAcquireSpinLock(L) NDISLOCK_LOCK_CALL(NdisAcquireSpinLock)((L), NDISLOCK_HERE)
#define NdisReleaseSpinLock(L) NDISLOCK_LOCK_CALL(NdisReleaseSpinLock)((L), NDISLOCK_HERE)
#define NdisDprAcquireSpinLock(L) NDISLOCK_LOCK_CALL(NdisDprAcquireSpinLock)((L), NDISLOCK_HERE)
#define NdisDprReleaseSpinLock(L) NDISLOCK_LOCK_CALL(NdisDprReleaseSpinLock)((L), NDISLOCK_HERE)
#define KeInitializeSpinLock(S) ndislock_at_KeInitializeSpinLock((S), NDISLOCK_HERE)
#define KeAcquireSpinLock(S, OldIrql)                                                                                  \
    ((void)(*(OldIrql) = NDISLOCK_LOCK_CALL(KeAcquireSpinLockRaiseToDpc)((S), NDISLOCK_HERE)))
#define KeAcquireSpinLockRaiseToDpc(S) NDISLOCK_LOCK_CALL(KeAcquireSpinLockRaiseToDpc)((S), NDISLOCK_HERE)
#define KeReleaseSpinLock(S, NewIrql) NDISLOCK_LOCK_CALL(KeReleaseSpinLock)((S), (NewIrql), NDISLOCK_HERE)
#define KeAcquireSpinLockAtDpcLevel(S) NDISLOCK_LOCK_CALL(KeAcquireSpinLockAtDpcLevel)((S), NDISLOCK_HERE)
#define KeReleaseSpinLockFromDpcLevel(S) NDISLOCK_LOCK_CALL(KeReleaseSpinLockFromDpcLevel)((S), NDISLOCK_HERE)
#define KeTryToAcquireSpinLockAtDpcLevel(S) ndislock_at_KeTryToAcquireSpinLockAtDpcLevel((S), NDISLOCK_HERE)
#define KeAcquireInStackQueuedSpinLock(S, H) NDISLOCK_LOCK_CALL(KeAcquireInStackQueuedSpinLock)((S), (H), NDISLOCK_HERE)
#define KeReleaseInStackQueuedSpinLock(H) NDISLOCK_LOCK_CALL(KeReleaseInStackQueuedSpinLock)((H), NDISLOCK_HERE)
#define KeAcquireInStackQueuedSpinLockAtDpcLevel(S, H)                                                                 \
    NDISLOCK_LOCK_CALL(KeAcquireInStackQueuedSpinLockAtDpcLevel)((S), (H), NDISLOCK_HERE)
#define KeReleaseInStackQueuedSpinLockFromDpcLevel(H)                                                                  \
    NDISLOCK_LOCK_CALL(KeReleaseInStackQueuedSpinLockFromDpcLevel)((H), NDISLOCK_HERE)
#define KeAcquireSpinLockForDpc(S) ndislock_at_KeAcquireSpinLockForDpc((S), NDISLOCK_HERE)
#define KeReleaseSpinLockForDpc(S, OldIrql) ndislock_at_KeReleaseSpinLockForDpc((S), (OldIrql), NDISLOCK_HERE)
#define KeAcquireInStackQueuedSpinLockForDpc(S, H)                                                                     \
    ndislock_at_KeAcquireInStackQueuedSpinLockForDpc((S), (H), NDISLOCK_HERE)
#define KeReleaseInStackQueuedSpinLockForDpc(H) ndislock_at_KeReleaseInStackQueuedSpinLockForDpc((H), NDISLOCK_HERE)
#define KeAcquireSpinLockRaiseToSynch(S) ndislock_at_KeAcquireSpinLockRaiseToSynch((S), NDISLOCK_HERE)
#define KeAcquireInStackQueuedSpinLockRaiseToSynch(S, H)                                                               \
    ndislock_at_KeAcquireInStackQueuedSpinLockRaiseToSynch((S), (H), NDISLOCK_HERE)
#define KeRaiseIrql(NewIrql, OldIrql) ((void)(*(OldIrql) = NDISLOCK_LOCK_CALL(KeRaiseIrql)((NewIrql), NDISLOCK_HERE)))
#define KeRaiseIrqlToDpcLevel() NDISLOCK_LOCK_CALL(KeRaiseIrql)(DISPATCH_LEVEL, NDISLOCK_HERE)
#define KeLowerIrql(NewIrql) NDISLOCK_LOCK_CALL(KeLowerIrql)((NewIrql), NDISLOCK_HERE)
#define NdisMSleep(Us) ndislock_at_NdisMSleep((Us), NDISLOCK_HERE)
#define NdisStallExecution(Us) ndislock_at_NdisStallExecution((Us), NDISLOCK_HERE)
#define KeStallExecutionProcessor(Us) ndislock_at_KeStallExecutionProcessor((Us), NDISLOCK_HERE)
#endif /* NDISLOCK_NO_SITE_MACROS */

#ifdef __cplusplus
} /* extern "C" */
#endif

#include "ndislock/ndis_interrupt.h"
#include "ndislock/ext.h"

#endif /* NDISLOCK_NDIS_H */
