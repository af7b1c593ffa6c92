/*
 * ndislock/wdk_timers.h: kernel timers (KTIMER, wdm.h) and NDIS timer objects (ndis.h), whose
 * routines run as DPCs at DISPATCH_LEVEL on a virtual processor. Clean C11 and C++. Included by
 * ndislock/wdk.h (so by <ndis.h>, <wdm.h> and <ntddk.h> of the WDK face).
 *
 * Contract: this header (each call's IRQL, semantics and misuse, as in ndislock/ndis.h). Pages under
 * https://learn.microsoft.com/windows-hardware/drivers/ddi/ (wdm/nf-wdm-*, ndis/nf-ndis-*,
 * ndis/ns-ndis-*). The whole story: docs/timers.md.
 *
 * Time, as the WDK counts it: a due time is in 100-nanosecond units. Negative: relative, that
 * much after now (CLOCK_MONOTONIC: not moved by changes of the system time). Zero or positive:
 * absolute system time, 100 ns units since 1 January 1601 UTC, read from CLOCK_REALTIME; an
 * absolute due time is converted to a relative one when the timer is set (a later change of the
 * system time does not move it, unlike Windows). A due time in the past expires at once.
 *
 * One timer thread keeps the armed timers in due-time order and sleeps until the earliest (it is
 * woken when a timer is set earlier than that). At expiry it signals the timer (Header.SignalState
 * = 1, waking whoever waits on the timer), re-arms a periodic timer one period after its due time
 * (or after now, if that is already past: missed periods are not replayed), and queues the
 * timer's DPC with KeInsertQueueDpc semantics on the processor that set it (or the DPC's target,
 * KeSetTargetProcessorDpc): so KeFlushQueuedDpcs, the watchdog, the DPC budget (DpcTooLong) and
 * every DPC rule of the verifier cover timer routines. A DPC still queued from the previous expiry
 * is not queued twice.
 */
#ifndef NDISLOCK_WDK_TIMERS_H
#define NDISLOCK_WDK_TIMERS_H

#include "ndislock/export.h"
#include "ndislock/wdk_base.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================================
 * Kernel timers (wdm.h)
 * ====================================================================================== */

typedef enum _TIMER_TYPE {
    NotificationTimer,   /* stays signalled until set again */
    SynchronizationTimer /* a satisfied wait resets it (auto-reset) */
} TIMER_TYPE;

/* Header.Type of a timer, as the kernel's dispatcher object types number them. */
#ifndef TimerNotificationObject
#define TimerNotificationObject 8
#define TimerSynchronizationObject 9
#endif

/* The kernel timer, with the WDK's layout (64 bytes on 64-bit). Drivers allocate it and pass it to
 * the Ke*Timer* calls; ndislock uses the fields as the kernel does: Header (type, signal state),
 * DueTime (the expiry as interrupt time: CLOCK_MONOTONIC in 100 ns units), TimerListEntry (the
 * link in the timer queue; Flink is NULL while the timer is not in it), Dpc, Processor (the
 * processor that set it: where its DPC runs) and Period (milliseconds, 0 for a one-shot timer). */
typedef struct _KTIMER {
    DISPATCHER_HEADER Header;
    ULARGE_INTEGER DueTime;
    LIST_ENTRY TimerListEntry;
    struct _KDPC *Dpc;
    ULONG Processor;
    ULONG Period;
} KTIMER, *PKTIMER, *PRKTIMER;

/* KeInitializeTimer: IRQL <= DISPATCH_LEVEL. KeInitializeTimerEx(Timer, NotificationTimer). Page:
 * wdm/nf-wdm-keinitializetimer. */
NDISLOCK_API VOID KeInitializeTimer(PKTIMER Timer);

/* KeInitializeTimerEx: IRQL <= DISPATCH_LEVEL. A timer of Type, not signalled, not in the timer
 * queue (Header.Type TimerNotificationObject or TimerSynchronizationObject). It must not be in the
 * timer queue (set and not yet expired or cancelled): the queue would lose it, as Windows' would.
 * Page: wdm/nf-wdm-keinitializetimerex. */
NDISLOCK_API VOID KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type);

/* KeSetTimer: IRQL <= DISPATCH_LEVEL. KeSetTimerEx(Timer, DueTime, 0, Dpc). Page:
 * wdm/nf-wdm-kesettimer. */
NDISLOCK_API BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc);

/* KeSetTimerEx: IRQL <= DISPATCH_LEVEL (above it, as from an ISR: IrqlTooHighForCall, and the
 * timer is still set). Cancels the timer if it is in the timer queue (its
 * pending expiry and DPC with it), sets it not signalled, and queues it to expire at DueTime
 * (see the top of this header), then every Period milliseconds if Period > 0. At each expiry Dpc
 * (optional, initialized by KeInitializeDpc) is queued with the expiry's system time in its two
 * system arguments (low and high 32 bits). Returns TRUE if the timer was already in the timer
 * queue. A negative Period ends the process with a message (the WDK requires >= 0). A DPC routine
 * may free its one-shot timer, not a periodic one (it is queued again as it expires). Page:
 * wdm/nf-wdm-kesettimerex. */
NDISLOCK_API BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc);

/* KeCancelTimer: IRQL <= DISPATCH_LEVEL (above it: IrqlTooHighForCall). Takes the timer out of the timer queue: TRUE if
 * it was there (it will not expire; a periodic timer is always there until cancelled), FALSE if it was not (a one-shot
 * timer that expired: its DPC may be queued or running, and runs to completion; KeFlushQueuedDpcs waits for it). Page:
 * wdm/nf-wdm-kecanceltimer. */
NDISLOCK_API BOOLEAN KeCancelTimer(PKTIMER Timer);

/* KeReadStateTimer: any IRQL. TRUE if the timer is signalled (it expired since it was last set).
 * Page: wdm/nf-wdm-kereadstatetimer. */
NDISLOCK_API BOOLEAN KeReadStateTimer(PKTIMER Timer);

/* ======================================================================================
 * NDIS timer objects (ndis.h)
 * ====================================================================================== */

/* NetTimerCallback: runs at DISPATCH_LEVEL as a DPC each time the timer fires, with the
 * FunctionContext of the NdisSetTimerObject call that set it (or the characteristics' default).
 * SystemSpecific1 is the timer's KDPC, SystemSpecific2 and 3 the expiry's system time (low and
 * high 32 bits). Page: ndis/nc-ndis-ndis_timer_function. */
typedef VOID NDIS_TIMER_FUNCTION(PVOID SystemSpecific1, PVOID FunctionContext, PVOID SystemSpecific2,
                                 PVOID SystemSpecific3);
typedef NDIS_TIMER_FUNCTION *PNDIS_TIMER_FUNCTION;

#define NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS 0x97
#define NDIS_TIMER_CHARACTERISTICS_REVISION_1 1

typedef struct _NDIS_TIMER_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;
    ULONG AllocationTag;
    PNDIS_TIMER_FUNCTION TimerFunction;
    PVOID FunctionContext;
} NDIS_TIMER_CHARACTERISTICS, *PNDIS_TIMER_CHARACTERISTICS;

#define NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1                                                                   \
    ((USHORT)RTL_SIZEOF_THROUGH_FIELD(NDIS_TIMER_CHARACTERISTICS, FunctionContext))

/* NdisAllocateTimerObject: IRQL <= DISPATCH_LEVEL. Makes a timer object (not set) that calls
 * TimerCharacteristics->TimerFunction, and stores its handle in *pTimerObject. NdisHandle is the
 * handle NDIS gave the driver; when it is an adapter handle of NdislockMiniportInitialize
 * (ndislock/device.h), NdislockMiniportHalt checks the adapter's periodic timers
 * (PeriodicTimerNotCancelled). Returns NDIS_STATUS_SUCCESS; NDIS_STATUS_INVALID_PARAMETER (and a
 * message) for a NULL argument, a header other than {NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
 * NDIS_TIMER_CHARACTERISTICS_REVISION_1, at least NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1}
 * or no TimerFunction; NDIS_STATUS_RESOURCES when 1024 timer objects are allocated. Page:
 * ndis/nf-ndis-ndisallocatetimerobject. */
NDISLOCK_API NDIS_STATUS NdisAllocateTimerObject(NDIS_HANDLE NdisHandle,
                                                 PNDIS_TIMER_CHARACTERISTICS TimerCharacteristics,
                                                 PNDIS_HANDLE pTimerObject);

/* NdisSetTimerObject: IRQL <= DISPATCH_LEVEL (above it: IrqlTooHighForCall). KeSetTimerEx on the object's timer: fires
 * at DueTime (100 ns units, negative relative), then every MillisecondsPeriod ms if it is not 0, calling the
 * TimerFunction with FunctionContext (NULL: the characteristics' FunctionContext). Returns TRUE if
 * the timer was already in the timer queue (that setting is replaced). On a freed or unknown
 * handle it is TimerUsedAfterFree (nothing is set; FALSE). A negative MillisecondsPeriod ends the
 * process with a message. Page: ndis/nf-ndis-ndissettimerobject. */
NDISLOCK_API BOOLEAN NdisSetTimerObject(NDIS_HANDLE TimerObject, LARGE_INTEGER DueTime, LONG MillisecondsPeriod,
                                        PVOID FunctionContext);

/* NdisCancelTimerObject: a one-shot timer at IRQL <= DISPATCH_LEVEL, a periodic one at
 * PASSIVE_LEVEL. Takes the timer out of the timer queue: TRUE if it was there, FALSE if not (a
 * one-shot timer that fired: its routine may be queued or running, and the caller must synchronize
 * with it itself). For a periodic timer it then waits, as KeFlushQueuedDpcs, until every queued DPC
 * (its routine's included) has run, so the routine no longer runs when it returns; doing that at
 * DISPATCH_LEVEL or with a spin lock held is BlockingAtDispatch (and the wait is skipped). On a
 * freed or unknown handle it is TimerUsedAfterFree (FALSE). Page: ndis/nf-ndis-ndiscanceltimerobject. */
NDISLOCK_API BOOLEAN NdisCancelTimerObject(NDIS_HANDLE TimerObject);

/* NdisFreeTimerObject: IRQL <= DISPATCH_LEVEL. Frees the timer object: the handle must not be
 * used again. The timer must be cancelled and its routine neither queued nor running (except the
 * routine freeing its own one-shot timer): freeing a set one-shot timer, or one whose routine is
 * queued or running on another processor, is TimerFreedWhileActive; freeing a periodic timer that
 * is still set is PeriodicTimerNotCancelled. Either way the timer is cancelled and its queued
 * routine removed before the object goes. On a freed or unknown handle it is TimerUsedAfterFree.
 * Page: ndis/nf-ndis-ndisfreetimerobject. */
NDISLOCK_API VOID NdisFreeTimerObject(NDIS_HANDLE TimerObject);

/* ---- Site-taking forms (see ndislock/ndis.h) ---------------------------------------------- */

NDISLOCK_API BOOLEAN ndislock_at_NdisSetTimerObject(NDIS_HANDLE, LARGE_INTEGER, LONG, PVOID, const char *, int,
                                                    const char *);
NDISLOCK_API BOOLEAN ndislock_at_NdisCancelTimerObject(NDIS_HANDLE, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_NdisFreeTimerObject(NDIS_HANDLE, const char *, int, const char *);

#ifndef NDISLOCK_HERE
#define NDISLOCK_HERE __FILE__, __LINE__, __func__
#endif
#ifndef NDISLOCK_NO_SITE_MACROS
#define NdisSetTimerObject(T, D, P, C) ndislock_at_NdisSetTimerObject((T), (D), (P), (C), NDISLOCK_HERE)
#define NdisCancelTimerObject(T) ndislock_at_NdisCancelTimerObject((T), NDISLOCK_HERE)
#define NdisFreeTimerObject(T) ndislock_at_NdisFreeTimerObject((T), NDISLOCK_HERE)
#endif

/* ---- Layout checks ------------------------------------------------------------------------ */

#if defined(__x86_64__) || defined(__aarch64__)
NDISLOCK_STATIC_ASSERT(sizeof(KTIMER) == 64, "KTIMER is 64 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(offsetof(KTIMER, DueTime) == 24, "KTIMER.DueTime offset");
NDISLOCK_STATIC_ASSERT(offsetof(KTIMER, TimerListEntry) == 32, "KTIMER.TimerListEntry offset");
NDISLOCK_STATIC_ASSERT(offsetof(KTIMER, Dpc) == 48, "KTIMER.Dpc offset");
NDISLOCK_STATIC_ASSERT(offsetof(KTIMER, Processor) == 56, "KTIMER.Processor offset");
NDISLOCK_STATIC_ASSERT(offsetof(KTIMER, Period) == 60, "KTIMER.Period offset");
NDISLOCK_STATIC_ASSERT(sizeof(NDIS_TIMER_CHARACTERISTICS) == 24, "NDIS_TIMER_CHARACTERISTICS is 24 bytes on 64-bit");
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_TIMERS_H */
