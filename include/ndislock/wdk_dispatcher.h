/*
 * ndislock/wdk_dispatcher.h: dispatcher objects and waits (wdm.h): kernel events, KeWaitFor*,
 * kernel mutexes, fast mutexes, executive resources, critical regions, KeDelayExecutionThread and
 * the time queries. Clean C11 and C++. docs/waits.md says how they behave and what the verifier
 * reports.
 *
 * A dispatcher object starts with a DISPATCHER_HEADER (ndislock/wdk_types.h) whose Type is one of
 * the kernel's object type codes below: a notification object (an event, a notification timer) is
 * signalled while SignalState != 0 and stays so for every waiter; a synchronization object (a
 * synchronization event or timer) is reset by the one wait it satisfies; a mutex is signalled
 * while it is free (SignalState 1) and owned, recursively, by the thread whose wait took it.
 *
 * Every wait parks the thread (no spinning) and is recorded where the watchdog sees it: a wait
 * with no timeout that lasts past the watchdog limit is a Deadlock report naming every waiting
 * thread and, for a mutex, fast mutex or resource, the thread that owns it.
 */
#ifndef NDISLOCK_WDK_DISPATCHER_H
#define NDISLOCK_WDK_DISPATCHER_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"
#include "ndislock/wdk_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Object types, wait types, reasons -------------------------------------------------- */

/* The kernel's object type codes (KOBJECTS), the values DISPATCHER_HEADER.Type holds. */
#ifndef EventNotificationObject
#define EventNotificationObject 0
#define EventSynchronizationObject 1
#define MutantObject 2
#endif
#ifndef SemaphoreObject
#define SemaphoreObject 5
#endif
#ifndef TimerNotificationObject
#define TimerNotificationObject 8
#define TimerSynchronizationObject 9
#endif

typedef enum _EVENT_TYPE { NotificationEvent, SynchronizationEvent } EVENT_TYPE;

typedef enum _WAIT_TYPE { WaitAll, WaitAny, WaitNotification, WaitDequeue, WaitDpc } WAIT_TYPE;

typedef enum _KWAIT_REASON {
    Executive,
    FreePage,
    PageIn,
    PoolAllocation,
    DelayExecution,
    Suspended,
    UserRequest,
    WrExecutive,
    WrFreePage,
    WrPageIn,
    WrPoolAllocation,
    WrDelayExecution,
    WrSuspended,
    WrUserRequest,
    WrSpare0,
    WrQueue,
    WrLpcReceive,
    WrLpcReply,
    WrVirtualMemory,
    WrPageOut,
    WrRendezvous,
    WrKeyedEvent,
    WrTerminated,
    WrProcessInSwap,
    WrCpuRateControl,
    WrCalloutStack,
    WrKernel,
    WrResource,
    WrPushLock,
    WrMutex,
    WrQuantumEnd,
    WrDispatchInt,
    WrPreempted,
    WrYieldExecution,
    WrFastMutex,
    WrGuardedMutex,
    WrRundown,
    WrAlertByThreadId,
    WrDeferredPreempt,
    WrPhysicalFault,
    WrIoRing,
    WrMdlCache,
    MaximumWaitReason
} KWAIT_REASON;

/* KPROCESSOR_MODE values (ndislock/wdk_base.h declares the type). */
typedef enum _MODE { KernelMode, UserMode, MaximumMode } MODE;

typedef LONG KPRIORITY;

/* KeSetEvent's Increment (a priority boost: no meaning here). */
#define IO_NO_INCREMENT 0
#define EVENT_INCREMENT 1

/* Without a wait block array a wait may name THREAD_WAIT_OBJECTS objects; with one, up to
 * MAXIMUM_WAIT_OBJECTS. */
#define THREAD_WAIT_OBJECTS 3
#define MAXIMUM_WAIT_OBJECTS 64

#define STATUS_ABANDONED_WAIT_0 ((NTSTATUS)0x00000080L)
#define STATUS_MUTANT_NOT_OWNED ((NTSTATUS)0xC0000046L)
#ifndef STATUS_WAIT_1
#define STATUS_WAIT_1 ((NTSTATUS)0x00000001L)
#define STATUS_WAIT_2 ((NTSTATUS)0x00000002L)
#define STATUS_WAIT_3 ((NTSTATUS)0x00000003L)
#define STATUS_WAIT_63 ((NTSTATUS)0x0000003FL)
#endif

/* The kernel thread (opaque): KeGetCurrentThread (ndislock/wdk_threads.h) and a KMUTEX's owner. */
#include "ndislock/wdk_threads.h"

/* A wait block: one per object of a KeWaitForMultipleObjects that names more than
 * THREAD_WAIT_OBJECTS objects, supplied by the caller. Laid out as the WDK's (48 bytes on 64-bit);
 * ndislock records in it which object the waiting thread waits for. */
typedef struct _KWAIT_BLOCK {
    LIST_ENTRY WaitListEntry;
    UCHAR WaitType;
    volatile UCHAR BlockState;
    USHORT WaitKey;
#if defined(__x86_64__) || defined(__aarch64__)
    LONG SpareLong;
#endif
    struct _KTHREAD *Thread;
    PVOID Object;
    PVOID SparePtr;
} KWAIT_BLOCK, *PKWAIT_BLOCK, *PRKWAIT_BLOCK;

/* ---- Kernel events ---------------------------------------------------------------------- */

/* KeInitializeEvent: any IRQL. A notification (Type NotificationEvent) or synchronization event,
 * signalled if State. Page: wdm/nf-wdm-keinitializeevent. */
NDISLOCK_API VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);

/* KeSetEvent: IRQL <= DISPATCH_LEVEL. Signals the event and wakes its waiters (every one for a
 * notification event; the first wait to take a synchronization event resets it). Returns the
 * previous state (non-zero: it was signalled). Increment and Wait are accepted (Wait TRUE means
 * the caller waits next: IRQL <= APC_LEVEL then). Above its level it is IrqlTooHighForCall with the
 * verifier on (the event is still set). Page: wdm/nf-wdm-kesetevent. */
NDISLOCK_API LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);

/* KeClearEvent: IRQL <= DISPATCH_LEVEL (above it: IrqlTooHighForCall). Not signalled. Page:
 * wdm/nf-wdm-keclearevent. */
NDISLOCK_API VOID KeClearEvent(PRKEVENT Event);

/* KeResetEvent: IRQL <= DISPATCH_LEVEL (above it: IrqlTooHighForCall). Not signalled; returns
 * the previous state. Page:
 * wdm/nf-wdm-keresetevent. */
NDISLOCK_API LONG KeResetEvent(PRKEVENT Event);

/* KeReadStateEvent: any IRQL. The current state (non-zero: signalled). Page:
 * wdm/nf-wdm-kereadstateevent. */
NDISLOCK_API LONG KeReadStateEvent(PRKEVENT Event);

/* ---- Waits ------------------------------------------------------------------------------- */

/* KeWaitForSingleObject: IRQL <= APC_LEVEL, or DISPATCH_LEVEL with a zero timeout. Waits until
 * Object (a KEVENT, KMUTEX or KTIMER: anything that starts with a DISPATCHER_HEADER) is signalled
 * or Timeout passes: in 100 ns units, negative relative to now, positive an absolute system time
 * (KeQuerySystemTime), zero a poll, NULL no limit. Returns STATUS_SUCCESS or STATUS_TIMEOUT. A
 * satisfied wait resets a synchronization object and takes a mutex (recursively if the caller
 * owns it; the thread then is in a critical region until KeReleaseMutex). WaitReason, WaitMode and
 * Alertable are accepted (no APCs are delivered: never STATUS_ALERTED or STATUS_USER_APC). A
 * non-zero wait at DISPATCH_LEVEL or above, or with a spin lock held, is BlockingAtDispatch (the
 * wait then goes on). A wait that may sleep for a mutex is in the verifier's lock-order graph: one
 * taking it while holding a lock (spin lock, mutex, fast mutex, resource) that elsewhere was taken
 * under it is LockOrderInversion (the owner's recursion is not). A wait without a timeout still
 * waiting past the watchdog limit is Deadlock (terminal), naming each waiting thread, this call's
 * line and where each thread took what it holds. Page: wdm/nf-wdm-kewaitforsingleobject. */
NDISLOCK_API NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                            BOOLEAN Alertable, PLARGE_INTEGER Timeout);

/* KeWaitForMutexObject: IRQL <= APC_LEVEL, or DISPATCH_LEVEL with a zero timeout. The WDK's other
 * name for KeWaitForSingleObject (a macro there too), with its behaviour and misuse reports. Page:
 * wdm/nf-wdm-kewaitformutexobject. */
#define KeWaitForMutexObject KeWaitForSingleObject

/* KeWaitForMultipleObjects: IRQL <= APC_LEVEL, or DISPATCH_LEVEL with a zero timeout, with the
 * misuse reports of KeWaitForSingleObject; the same wait, over Count objects. WaitAny returns
 * STATUS_WAIT_0 + n for the lowest-numbered object n that satisfied the wait (only that one is
 * reset or taken); WaitAll waits until every one is signalled at once and takes them all together,
 * returning STATUS_SUCCESS. More than THREAD_WAIT_OBJECTS objects need WaitBlockArray (Count
 * entries), and more than MAXIMUM_WAIT_OBJECTS are not allowed: both are BugCheck (on Windows
 * bug check 0xC, MAXIMUM_WAIT_OBJECTS_EXCEEDED). Page: wdm/nf-wdm-kewaitformultipleobjects. */
NDISLOCK_API NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                               KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                               PKWAIT_BLOCK WaitBlockArray);

/* KeDelayExecutionThread: IRQL <= APC_LEVEL. Sleeps for Interval (100 ns units; negative relative,
 * positive absolute system time). Returns STATUS_SUCCESS. At DISPATCH_LEVEL or above, or with a
 * spin lock held, it is BlockingAtDispatch. Page: wdm/nf-wdm-kedelayexecutionthread. */
NDISLOCK_API NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval);

/* ---- Kernel mutexes ------------------------------------------------------------------------ */

/* The mutex (KMUTANT): as the WDK's (56 bytes on 64-bit). SignalState is 1 while free and
 * 1 - n while its owner holds it n times; OwnerThread names the owner. */
typedef struct _KMUTANT {
    DISPATCHER_HEADER Header;
    LIST_ENTRY MutantListEntry;
    struct _KTHREAD *OwnerThread;
    BOOLEAN Abandoned;
    UCHAR ApcDisable;
} KMUTANT, *PKMUTANT, *PRKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;

/* KeInitializeMutex: any IRQL. Free (signalled); Level is ignored, as on Windows. Where it is
 * called is the mutex's class in the verifier's lock-order graph (unless NdislockSetLockName
 * names it). Page: wdm/nf-wdm-keinitializemutex. */
NDISLOCK_API VOID KeInitializeMutex(PRKMUTEX Mutex, ULONG Level);

/* KeReadStateMutex: any IRQL. 1 while free, <= 0 while owned. Page: wdm/nf-wdm-kereadstatemutex. */
NDISLOCK_API LONG KeReadStateMutex(PRKMUTEX Mutex);

/* KeReleaseMutex: IRQL <= DISPATCH_LEVEL. Releases one acquisition by the owner (the mutex is free
 * once every recursive acquisition is released, and the owner leaves the critical region its
 * acquisition entered); returns the previous state. Released by a thread that does not own it, it
 * is MutexNotOwned and nothing changes (Windows raises STATUS_MUTANT_NOT_OWNED). Page:
 * wdm/nf-wdm-kereleasemutex. */
NDISLOCK_API LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait);

/* NDIS's mutex (ndis.h): a KMUTEX, with the macros below. */
typedef KMUTEX NDIS_MUTEX, *PNDIS_MUTEX;
/* NDIS_INIT_MUTEX(_M): any IRQL. KeInitializeMutex(_M, 0xFFFF): free (signalled), with that call's
 * contract. Page: ndis/nf-ndis-ndis_init_mutex. */
#define NDIS_INIT_MUTEX(_M) KeInitializeMutex(_M, 0xFFFF)
/* NDIS_WAIT_FOR_MUTEX(_M): PASSIVE_LEVEL. KeWaitForSingleObject on the mutex with no timeout: waits
 * until it is free and takes it (recursively for its owner). At DISPATCH_LEVEL or above, or with a
 * spin lock held, it is BlockingAtDispatch; the lock-order and Deadlock reports of
 * KeWaitForSingleObject apply. Page: ndis/nf-ndis-ndis_wait_for_mutex. */
#define NDIS_WAIT_FOR_MUTEX(_M) KeWaitForSingleObject(_M, Executive, KernelMode, FALSE, (PLARGE_INTEGER)NULL)
/* NDIS_RELEASE_MUTEX(_M): PASSIVE_LEVEL (Microsoft's rule; KeReleaseMutex, which it is, allows up
 * to DISPATCH_LEVEL here). Releases one acquisition; by a thread that does not own the mutex it
 * is MutexNotOwned. Page: ndis/nf-ndis-ndis_release_mutex. */
#define NDIS_RELEASE_MUTEX(_M) KeReleaseMutex(_M, FALSE)

/* ---- Semaphores ---------------------------------------------------------------------------- */

/* The semaphore (KSEMAPHORE): as the WDK's (32 bytes on 64-bit). SignalState is the count (signalled
 * while above 0); a satisfied wait takes one. */
typedef struct _KSEMAPHORE {
    DISPATCHER_HEADER Header;
    LONG Limit;
} KSEMAPHORE, *PKSEMAPHORE, *PRKSEMAPHORE;

/* KeInitializeSemaphore: any IRQL. Count units available (signalled if Count > 0), at most Limit.
 * A Limit below 1, or a Count below 0 or above Limit, is SemaphoreMisuse with the verifier on (the
 * semaphore is made as asked; Windows does not check either). Page:
 * wdm/nf-wdm-keinitializesemaphore. */
NDISLOCK_API VOID KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit);

/* KeReadStateSemaphore: any IRQL. The current count (0: not signalled). Page:
 * wdm/nf-wdm-kereadstatesemaphore. */
NDISLOCK_API LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore);

/* KeReleaseSemaphore: IRQL <= DISPATCH_LEVEL (Wait TRUE: a KeWaitFor* call follows, so APC_LEVEL
 * at most; above its level it is IrqlTooHighForCall with the verifier on). Adds Adjustment to the
 * count, wakes as many waits as the count now satisfies, and returns the previous count (0: it was
 * not signalled). A count that would pass Limit, or an Adjustment below 0, leaves the count as it
 * was and is SemaphoreMisuse; without the verifier the process ends, as the exception Windows
 * raises (STATUS_SEMAPHORE_LIMIT_EXCEEDED) ends a driver. Increment is accepted. Page:
 * wdm/nf-wdm-kereleasesemaphore. */
NDISLOCK_API LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait);

/* ---- Critical regions ------------------------------------------------------------------------ */

/* KeEnterCriticalRegion / KeLeaveCriticalRegion are in ndislock/wdk_apc.h, with the APC-state
 * queries: executive resources require a region, kernel mutexes enter one. */
#include "ndislock/wdk_apc.h"

/* ---- Fast mutexes -------------------------------------------------------------------------- */

/* As the WDK's (56 bytes on 64-bit). Count is 1 while free (FM_LOCK_BIT); Owner names the owner. */
typedef struct _FAST_MUTEX {
    volatile LONG Count;
    PVOID Owner;
    ULONG Contention;
    KEVENT Event;
    ULONG OldIrql;
} FAST_MUTEX, *PFAST_MUTEX, KGUARDED_MUTEX, *PKGUARDED_MUTEX;

#define FM_LOCK_BIT 0x1
#define FM_LOCK_BIT_V 0x0

/* ExInitializeFastMutex: IRQL <= DISPATCH_LEVEL. Free. Where it is called is the fast mutex's
 * class in the verifier's lock-order graph. Page: wdm/nf-wdm-exinitializefastmutex. */
NDISLOCK_API VOID ExInitializeFastMutex(PFAST_MUTEX FastMutex);

/* ExAcquireFastMutex: IRQL <= APC_LEVEL. Raises to APC_LEVEL (the previous IRQL is kept in the
 * mutex) and waits until it is free. Not recursive: acquired again by its owner it is
 * FastMutexRecursion (terminal: on Windows the thread waits for itself forever). In the lock-order
 * graph as a mutex is (LockOrderInversion; Deadlock past the watchdog limit). Page:
 * wdm/nf-wdm-exacquirefastmutex. */
NDISLOCK_API VOID ExAcquireFastMutex(PFAST_MUTEX FastMutex);

/* ExTryToAcquireFastMutex: IRQL <= APC_LEVEL (above it: IrqlTooHighForCall). TRUE (and at
 * APC_LEVEL) if it took the mutex, FALSE at once if it is owned. Page:
 * wdm/nf-wdm-extrytoacquirefastmutex. */
NDISLOCK_API BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex);

/* ExReleaseFastMutex: APC_LEVEL. Frees the mutex and lowers to the IRQL the acquire raised from.
 * By a thread that does not own it (another thread's mutex, or a free one) it is MutexNotOwned with
 * the verifier on, and the mutex, the IRQL and any region are left as they were (also for the
 * releases below). Page: wdm/nf-wdm-exreleasefastmutex. */
NDISLOCK_API VOID ExReleaseFastMutex(PFAST_MUTEX FastMutex);

/* ExAcquireFastMutexUnsafe: IRQL <= APC_LEVEL, with normal kernel APCs off already (the caller at
 * APC_LEVEL or in a critical region). As ExAcquireFastMutex without the raise: the IRQL stays as
 * it is; the misuse as ExAcquireFastMutex. Page: wdm/nf-wdm-exacquirefastmutexunsafe. */
NDISLOCK_API VOID ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex);

/* ExReleaseFastMutexUnsafe: IRQL <= APC_LEVEL. Frees a mutex ExAcquireFastMutexUnsafe took; the
 * IRQL stays as it is. Page: wdm/nf-wdm-exreleasefastmutexunsafe. */
NDISLOCK_API VOID ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex);

/* ---- Guarded mutexes (a KGUARDED_MUTEX is a FAST_MUTEX here) ------------------------------- */

/* KeInitializeGuardedMutex: IRQL <= DISPATCH_LEVEL. Free; as ExInitializeFastMutex (where it is
 * called is its class). Page: wdm/nf-wdm-keinitializeguardedmutex. */
NDISLOCK_API VOID KeInitializeGuardedMutex(PKGUARDED_MUTEX Mutex);

/* KeAcquireGuardedMutex: IRQL <= APC_LEVEL. Enters a guarded region (KeEnterGuardedRegion), then
 * waits for the mutex as ExAcquireFastMutex does, without raising the IRQL; the misuse as
 * ExAcquireFastMutex (FastMutexRecursion; LockOrderInversion, Deadlock). Page:
 * wdm/nf-wdm-keacquireguardedmutex. */
NDISLOCK_API VOID KeAcquireGuardedMutex(PKGUARDED_MUTEX Mutex);

/* KeTryToAcquireGuardedMutex: IRQL <= APC_LEVEL (above it: IrqlTooHighForCall). TRUE, in a guarded
 * region, if it took the mutex; FALSE at once (and out of the region again) if it is owned. Page:
 * wdm/nf-wdm-ketrytoacquireguardedmutex. */
NDISLOCK_API BOOLEAN KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX Mutex);

/* KeReleaseGuardedMutex: IRQL <= APC_LEVEL. Frees the mutex, then leaves the guarded region its
 * acquire entered. Page: wdm/nf-wdm-kereleaseguardedmutex. */
NDISLOCK_API VOID KeReleaseGuardedMutex(PKGUARDED_MUTEX Mutex);

/* KeAcquireGuardedMutexUnsafe: IRQL <= APC_LEVEL, the caller in a guarded region or at APC_LEVEL
 * already. The mutex alone: no region entered, the IRQL unchanged. Page:
 * wdm/nf-wdm-keacquireguardedmutexunsafe. */
NDISLOCK_API VOID KeAcquireGuardedMutexUnsafe(PKGUARDED_MUTEX FastMutex);

/* KeReleaseGuardedMutexUnsafe: IRQL <= APC_LEVEL. Frees a mutex KeAcquireGuardedMutexUnsafe took.
 * Page: wdm/nf-wdm-kereleaseguardedmutexunsafe. */
NDISLOCK_API VOID KeReleaseGuardedMutexUnsafe(PKGUARDED_MUTEX FastMutex);

/* ---- Executive resources ------------------------------------------------------------------ */

typedef ULONG_PTR ERESOURCE_THREAD, *PERESOURCE_THREAD;

typedef struct _OWNER_ENTRY {
    ERESOURCE_THREAD OwnerThread;
    ULONG TableSize;
} OWNER_ENTRY, *POWNER_ENTRY;

/* As the WDK's (104 bytes on 64-bit). ActiveCount counts the acquisitions held; Flag has
 * ResourceOwnedExclusive while OwnerEntry.OwnerThread holds it exclusively. */
typedef struct _ERESOURCE {
    LIST_ENTRY SystemResourcesList;
    POWNER_ENTRY OwnerTable;
    SHORT ActiveCount;
    USHORT Flag;
    PVOID SharedWaiters;
    PVOID ExclusiveWaiters;
    OWNER_ENTRY OwnerEntry;
    ULONG ActiveEntries;
    ULONG ContentionCount;
    ULONG NumberOfSharedWaiters;
    ULONG NumberOfExclusiveWaiters;
#if defined(__x86_64__) || defined(__aarch64__)
    PVOID Reserved2;
#endif
    PVOID Address;
    KSPIN_LOCK SpinLock;
} ERESOURCE, *PERESOURCE;

#define ResourceOwnedExclusive 0x80

/* ExInitializeResourceLite: PASSIVE_LEVEL. Not owned. Returns STATUS_SUCCESS. Where it is called
 * is the resource's class in the verifier's lock-order graph. Page:
 * wdm/nf-wdm-exinitializeresourcelite. */
NDISLOCK_API NTSTATUS ExInitializeResourceLite(PERESOURCE Resource);

/* ExDeleteResourceLite: PASSIVE_LEVEL. The resource must not be owned (if it is, ndislock says so on
 * stderr). Returns STATUS_SUCCESS. Page: wdm/nf-wdm-exdeleteresourcelite. */
NDISLOCK_API NTSTATUS ExDeleteResourceLite(PERESOURCE Resource);

/* ExAcquireResourceExclusiveLite: IRQL <= APC_LEVEL, inside a critical region (KeEnterCriticalRegion)
 * or at APC_LEVEL, else ResourceOutsideCriticalRegion. Exclusive access, recursive for its
 * exclusive owner. If Wait is FALSE and it cannot be had at once, FALSE; otherwise waits and
 * returns TRUE. With Wait TRUE it is in the lock-order graph as a mutex is (LockOrderInversion;
 * Deadlock past the watchdog limit); a shared hold is a read (two shared acquisitions in opposite
 * orders are no inversion). Page: wdm/nf-wdm-exacquireresourceexclusivelite. */
NDISLOCK_API BOOLEAN ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait);

/* ExAcquireResourceSharedLite: IRQL <= APC_LEVEL, inside a critical region or at APC_LEVEL, else
 * ResourceOutsideCriticalRegion. Shared access: granted at once to a thread that already owns the
 * resource (shared or exclusive), otherwise when no thread owns it exclusively and none waits for
 * exclusive access. Wait FALSE: FALSE if it cannot be had at once; Wait TRUE: waits, TRUE. In the
 * lock-order graph as a read (LockOrderInversion; Deadlock past the watchdog limit). Page:
 * wdm/nf-wdm-exacquireresourcesharedlite. */
NDISLOCK_API BOOLEAN ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait);

/* ExReleaseResourceLite: IRQL <= DISPATCH_LEVEL. Releases one acquisition of the calling thread.
 * Called by a thread that holds none, it is a BugCheck report (terminal; 0xE3 RESOURCE_NOT_OWNED on
 * Windows). Page: wdm/nf-wdm-exreleaseresourcelite. */
NDISLOCK_API VOID ExReleaseResourceLite(PERESOURCE Resource);

/* ExIsResourceAcquiredExclusiveLite / ExIsResourceAcquiredSharedLite: IRQL <= DISPATCH_LEVEL.
 * Whether the calling thread holds the resource exclusively (TRUE or FALSE), and how many times it
 * holds it, shared or exclusive (exclusive access counts as shared). Queries: nothing to misuse.
 * Pages: wdm/nf-wdm-exisresourceacquiredexclusivelite, wdm/nf-wdm-exisresourceacquiredsharedlite. */
/*@{*/
NDISLOCK_API BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource);
NDISLOCK_API ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource);
/*@}*/

/* ---- Time ------------------------------------------------------------------------------------ */

/* KeQueryPerformanceCounter: any IRQL. A monotonic count; *PerformanceFrequency (if not NULL)
 * receives its ticks per second (10 MHz here: 100 ns ticks). Page:
 * wdm/nf-wdm-kequeryperformancecounter. */
NDISLOCK_API LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);

/* KeQueryTimeIncrement: any IRQL. The 100 ns units a clock tick adds (156250: 15.625 ms). Page:
 * wdm/nf-wdm-kequerytimeincrement. */
NDISLOCK_API ULONG KeQueryTimeIncrement(VOID);

/* KeQueryTickCount: any IRQL. Clock ticks since start-up (KeQueryTimeIncrement units). A macro on
 * Windows; a function here. Page: wdm/nf-wdm-kequerytickcount. */
NDISLOCK_API VOID KeQueryTickCount(PLARGE_INTEGER CurrentCount);

/* KeQueryInterruptTime: any IRQL. 100 ns units since start-up (monotonic). Page:
 * wdm/nf-wdm-kequeryinterrupttime. */
NDISLOCK_API ULONGLONG KeQueryInterruptTime(VOID);

/* KeQueryUnbiasedInterruptTime: any IRQL. As KeQueryInterruptTime (a process here never sleeps
 * through a system sleep state, which is all the bias leaves out). Page:
 * wdm/nf-wdm-kequeryunbiasedinterrupttime. */
NDISLOCK_API ULONGLONG KeQueryUnbiasedInterruptTime(VOID);

/* NdisGetSystemUpTimeEx: any IRQL. Milliseconds since start-up in *pSystemUpTime. Page:
 * ndis/nf-ndis-ndisgetsystemuptimeex. */
NDISLOCK_API VOID NdisGetSystemUpTimeEx(PLARGE_INTEGER pSystemUpTime);

/* KeQuerySystemTime / KeQuerySystemTimePrecise: any IRQL. Store the system time in *CurrentTime:
 * 100 ns units since January 1, 1601 (UTC); both read the same clock here. Pages:
 * wdm/nf-wdm-kequerysystemtime-r1, wdm/nf-wdm-kequerysystemtimeprecise. */
/*@{*/
NDISLOCK_API VOID KeQuerySystemTime(PLARGE_INTEGER CurrentTime);
NDISLOCK_API VOID KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime);
/*@}*/

/* NdisGetCurrentSystemTime: any IRQL. As KeQuerySystemTime. Page: ndis/nf-ndis-ndisgetcurrentsystemtime. */
NDISLOCK_API VOID NdisGetCurrentSystemTime(PLARGE_INTEGER pSystemTime);

/* ---- Site-taking forms (see ndislock/ndis.h) ------------------------------------------------ */

NDISLOCK_API NTSTATUS ndislock_at_KeWaitForSingleObject(PVOID, KWAIT_REASON, KPROCESSOR_MODE, BOOLEAN, PLARGE_INTEGER,
                                                        const char *, int, const char *);
NDISLOCK_API NTSTATUS ndislock_at_KeWaitForMultipleObjects(ULONG, PVOID[], WAIT_TYPE, KWAIT_REASON, KPROCESSOR_MODE,
                                                           BOOLEAN, PLARGE_INTEGER, PKWAIT_BLOCK, const char *, int,
                                                           const char *);
NDISLOCK_API NTSTATUS ndislock_at_KeDelayExecutionThread(KPROCESSOR_MODE, BOOLEAN, PLARGE_INTEGER, const char *, int,
                                                         const char *);
NDISLOCK_API LONG ndislock_at_KeReleaseMutex(PRKMUTEX, BOOLEAN, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeInitializeMutex(PRKMUTEX, ULONG, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeInitializeSemaphore(PRKSEMAPHORE, LONG, LONG, const char *, int, const char *);
NDISLOCK_API LONG ndislock_at_KeReleaseSemaphore(PRKSEMAPHORE, KPRIORITY, LONG, BOOLEAN, const char *, int,
                                                 const char *);
NDISLOCK_API VOID ndislock_at_ExInitializeFastMutex(PFAST_MUTEX, const char *, int, const char *);
NDISLOCK_API BOOLEAN ndislock_at_ExTryToAcquireFastMutex(PFAST_MUTEX, const char *, int, const char *);
NDISLOCK_API NTSTATUS ndislock_at_ExInitializeResourceLite(PERESOURCE, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_ExAcquireFastMutex(PFAST_MUTEX, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_ExAcquireFastMutexUnsafe(PFAST_MUTEX, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeInitializeGuardedMutex(PKGUARDED_MUTEX, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeAcquireGuardedMutex(PKGUARDED_MUTEX, const char *, int, const char *);
NDISLOCK_API BOOLEAN ndislock_at_KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeAcquireGuardedMutexUnsafe(PKGUARDED_MUTEX, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_ExReleaseFastMutex(PFAST_MUTEX, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_ExReleaseFastMutexUnsafe(PFAST_MUTEX, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeReleaseGuardedMutex(PKGUARDED_MUTEX, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeReleaseGuardedMutexUnsafe(PKGUARDED_MUTEX, const char *, int, const char *);
NDISLOCK_API BOOLEAN ndislock_at_ExAcquireResourceExclusiveLite(PERESOURCE, BOOLEAN, const char *, int, const char *);
NDISLOCK_API BOOLEAN ndislock_at_ExAcquireResourceSharedLite(PERESOURCE, BOOLEAN, const char *, int, const char *);

#ifndef NDISLOCK_HERE
#define NDISLOCK_HERE __FILE__, __LINE__, __func__
#endif
#ifndef NDISLOCK_NO_SITE_MACROS
#define KeWaitForSingleObject(O, R, M, A, T) ndislock_at_KeWaitForSingleObject((O), (R), (M), (A), (T), NDISLOCK_HERE)
#define KeWaitForMultipleObjects(C, O, W, R, M, A, T, B)                                                               \
    ndislock_at_KeWaitForMultipleObjects((C), (O), (W), (R), (M), (A), (T), (B), NDISLOCK_HERE)
#define KeDelayExecutionThread(M, A, I) ndislock_at_KeDelayExecutionThread((M), (A), (I), NDISLOCK_HERE)
#define KeReleaseMutex(M, W) ndislock_at_KeReleaseMutex((M), (W), NDISLOCK_HERE)
#define KeInitializeMutex(M, L) ndislock_at_KeInitializeMutex((M), (L), NDISLOCK_HERE)
#define KeInitializeSemaphore(S, C, L) ndislock_at_KeInitializeSemaphore((S), (C), (L), NDISLOCK_HERE)
#define KeReleaseSemaphore(S, I, A, W) ndislock_at_KeReleaseSemaphore((S), (I), (A), (W), NDISLOCK_HERE)
#define ExInitializeFastMutex(M) ndislock_at_ExInitializeFastMutex((M), NDISLOCK_HERE)
#define ExTryToAcquireFastMutex(M) ndislock_at_ExTryToAcquireFastMutex((M), NDISLOCK_HERE)
#define ExInitializeResourceLite(R) ndislock_at_ExInitializeResourceLite((R), NDISLOCK_HERE)
#define ExAcquireFastMutex(M) ndislock_at_ExAcquireFastMutex((M), NDISLOCK_HERE)
#define ExAcquireFastMutexUnsafe(M) ndislock_at_ExAcquireFastMutexUnsafe((M), NDISLOCK_HERE)
#define KeInitializeGuardedMutex(M) ndislock_at_KeInitializeGuardedMutex((M), NDISLOCK_HERE)
#define KeAcquireGuardedMutex(M) ndislock_at_KeAcquireGuardedMutex((M), NDISLOCK_HERE)
#define KeTryToAcquireGuardedMutex(M) ndislock_at_KeTryToAcquireGuardedMutex((M), NDISLOCK_HERE)
#define KeAcquireGuardedMutexUnsafe(M) ndislock_at_KeAcquireGuardedMutexUnsafe((M), NDISLOCK_HERE)
#define ExReleaseFastMutex(M) ndislock_at_ExReleaseFastMutex((M), NDISLOCK_HERE)
#define ExReleaseFastMutexUnsafe(M) ndislock_at_ExReleaseFastMutexUnsafe((M), NDISLOCK_HERE)
#define KeReleaseGuardedMutex(M) ndislock_at_KeReleaseGuardedMutex((M), NDISLOCK_HERE)
#define KeReleaseGuardedMutexUnsafe(M) ndislock_at_KeReleaseGuardedMutexUnsafe((M), NDISLOCK_HERE)
#define ExAcquireResourceExclusiveLite(R, W) ndislock_at_ExAcquireResourceExclusiveLite((R), (W), NDISLOCK_HERE)
#define ExAcquireResourceSharedLite(R, W) ndislock_at_ExAcquireResourceSharedLite((R), (W), NDISLOCK_HERE)
#endif

/* ---- Layout checks ----------------------------------------------------------------------------- */

#if defined(__x86_64__) || defined(__aarch64__)
NDISLOCK_STATIC_ASSERT(sizeof(KWAIT_BLOCK) == 48, "KWAIT_BLOCK is 48 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(sizeof(KMUTANT) == 56, "KMUTANT is 56 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(offsetof(KMUTANT, OwnerThread) == 40, "KMUTANT.OwnerThread offset");
NDISLOCK_STATIC_ASSERT(sizeof(KSEMAPHORE) == 32, "KSEMAPHORE is 32 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(offsetof(KSEMAPHORE, Limit) == 24, "KSEMAPHORE.Limit offset");
NDISLOCK_STATIC_ASSERT(sizeof(FAST_MUTEX) == 56, "FAST_MUTEX is 56 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(offsetof(FAST_MUTEX, Event) == 24, "FAST_MUTEX.Event offset");
NDISLOCK_STATIC_ASSERT(sizeof(OWNER_ENTRY) == 16, "OWNER_ENTRY is 16 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(sizeof(ERESOURCE) == 104, "ERESOURCE is 104 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(offsetof(ERESOURCE, OwnerEntry) == 48, "ERESOURCE.OwnerEntry offset");
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_DISPATCHER_H */
