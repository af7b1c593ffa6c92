/*
 * ndislock/wdk_work_items.h: work items (ndis.h, wdm.h): a routine queued from any IRQL up to
 * DISPATCH_LEVEL and run later at PASSIVE_LEVEL on a system worker thread. Clean C11 and C++.
 * docs/waits.md says how they run and what the verifier reports.
 *
 * ndislock runs them on a small pool of worker threads, started by the first work item call made at
 * DISPATCH_LEVEL or below, in the order they were queued. Each routine is run as a driver callback:
 * it must return at PASSIVE_LEVEL with no spin lock held (LockHeldAtCallbackReturn otherwise).
 * Queueing an item that is still queued, or freeing or uninitializing one that is queued or
 * running, is WorkItemMisuse. A handle that is no live work item (NULL, freed, uninitialized, never
 * initialized) given to a queue, free or uninitialize call is a BugCheck report (terminal; 0xE4
 * WORKER_INVALID on Windows).
 *
 * Three kinds of item: allocated by ndislock (IoAllocateWorkItem, NdisAllocateIoWorkItem),
 * initialized in the driver's own storage (IoInitializeWorkItem), and the executive's
 * WORK_QUEUE_ITEM (ExInitializeWorkItem, ExQueueWorkItem). Once a routine has returned (a
 * WORK_QUEUE_ITEM's: once it has begun), ndislock never touches the driver's storage again: a
 * routine may uninitialize and free its own item.
 */
#ifndef NDISLOCK_WDK_WORK_ITEMS_H
#define NDISLOCK_WDK_WORK_ITEMS_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The device object an I/O work item belongs to: opaque to ndislock (any non-NULL pointer). */
struct _DEVICE_OBJECT;
typedef struct _DEVICE_OBJECT *PDEVICE_OBJECT;

/* The work item objects: opaque, allocated and freed by the calls below. */
struct _IO_WORKITEM;
typedef struct _IO_WORKITEM *PIO_WORKITEM;

/* Which system queue: accepted, every queue runs on the same workers. */
typedef enum _WORK_QUEUE_TYPE {
    CriticalWorkQueue,
    DelayedWorkQueue,
    HyperCriticalWorkQueue,
    NormalWorkQueue,
    BackgroundWorkQueue,
    RealTimeWorkQueue,
    SuperCriticalWorkQueue,
    MaximumWorkQueue,
    CustomPriorityWorkQueue = 32
} WORK_QUEUE_TYPE;

typedef VOID IO_WORKITEM_ROUTINE(PDEVICE_OBJECT DeviceObject, PVOID Context);
typedef IO_WORKITEM_ROUTINE *PIO_WORKITEM_ROUTINE;

/* The routine of IoQueueWorkItemEx: the IoObject the item was allocated or initialized for, the
 * Context given to the queue call, and the item itself (the caller's pointer). */
typedef VOID IO_WORKITEM_ROUTINE_EX(PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem);
typedef IO_WORKITEM_ROUTINE_EX *PIO_WORKITEM_ROUTINE_EX;

typedef VOID NDIS_IO_WORKITEM_FUNCTION(PVOID WorkItemContext, NDIS_HANDLE NdisIoWorkItemHandle);
typedef NDIS_IO_WORKITEM_FUNCTION *NDIS_IO_WORKITEM_ROUTINE;

/* IoAllocateWorkItem: IRQL <= DISPATCH_LEVEL. A new work item for DeviceObject, or NULL (the pool
 * is exhausted, or called from an ISR before any worker thread runs). Page:
 * wdm/nf-wdm-ioallocateworkitem. */
NDISLOCK_API PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject);

/* IoQueueWorkItem: IRQL <= DISPATCH_LEVEL (above it, as from an ISR: IrqlTooHighForCall, and it
 * is still queued). Runs WorkerRoutine(DeviceObject, Context) once on a worker thread at
 * PASSIVE_LEVEL. Queued again while still queued it is WorkItemMisuse (and is not
 * queued twice). Page: wdm/nf-wdm-ioqueueworkitem. */
NDISLOCK_API VOID IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine,
                                  WORK_QUEUE_TYPE QueueType, PVOID Context);

/* IoFreeWorkItem: IRQL <= DISPATCH_LEVEL. Frees an item that is neither queued nor running (its
 * routine may free it). Freed while queued or running (from another thread) it is WorkItemMisuse
 * and the item is freed once its routine has returned. Given an item of IoInitializeWorkItem it is
 * WorkItemMisuse and does nothing (end that with IoUninitializeWorkItem). Page:
 * wdm/nf-wdm-iofreeworkitem. */
NDISLOCK_API VOID IoFreeWorkItem(PIO_WORKITEM IoWorkItem);

/* IoSizeofWorkItem: any IRQL. The number of bytes of storage IoInitializeWorkItem needs (a small
 * header; ndislock keeps the item's state in its own pool). Page: wdm/nf-wdm-iosizeofworkitem. */
NDISLOCK_API ULONG IoSizeofWorkItem(VOID);

/* IoInitializeWorkItem: any IRQL. Makes the caller's storage (IoSizeofWorkItem() bytes, pointer
 * aligned, nonpaged on Windows) a work item of IoObject (a driver or device object: any non-NULL
 * pointer), to be queued with IoQueueWorkItemEx (or IoQueueWorkItem) and uninitialized with
 * IoUninitializeWorkItem before the storage is freed. At DISPATCH_LEVEL or below it starts the
 * worker threads if none runs yet; from an ISR it still initializes the item, whose queueings then
 * wait for the workers (said once). A NULL IoObject, or storage initialized again without
 * IoUninitializeWorkItem in between (the one item is kept), is WorkItemMisuse; NULL storage is a
 * BugCheck report. Page: wdm/nf-wdm-ioinitializeworkitem. */
NDISLOCK_API VOID IoInitializeWorkItem(PVOID IoObject, PIO_WORKITEM IoWorkItem);

/* IoUninitializeWorkItem: any IRQL. Ends an item of IoInitializeWorkItem that is not queued: its
 * storage may then be freed. Its own routine may call it (the item is taken off the queue before
 * the routine runs). Called while the item is queued, or while its routine runs on another thread,
 * it is WorkItemMisuse (the pending run still happens, and ndislock never touches the storage
 * again). Given an item of IoAllocateWorkItem it is WorkItemMisuse and does nothing (free that
 * with IoFreeWorkItem). Page: wdm/nf-wdm-iouninitializeworkitem. */
NDISLOCK_API VOID IoUninitializeWorkItem(PIO_WORKITEM IoWorkItem);

/* IoQueueWorkItemEx: IRQL <= DISPATCH_LEVEL (above it: IrqlTooHighForCall, and it is still queued).
 * Runs WorkerRoutine(IoObject, Context, IoWorkItem) once on a worker thread at PASSIVE_LEVEL, for
 * an item of IoAllocateWorkItem or IoInitializeWorkItem. Queued again while still queued it is
 * WorkItemMisuse (and is not queued twice). Page: wdm/nf-wdm-ioqueueworkitemex. */
NDISLOCK_API VOID IoQueueWorkItemEx(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE_EX WorkerRoutine,
                                    WORK_QUEUE_TYPE QueueType, PVOID Context);

/* NdisAllocateIoWorkItem: IRQL <= DISPATCH_LEVEL. A work item for the adapter or driver handle
 * NdisObjectHandle (any non-NULL handle), or NULL. Page: ndis/nf-ndis-ndisallocateioworkitem. */
NDISLOCK_API NDIS_HANDLE NdisAllocateIoWorkItem(NDIS_HANDLE NdisObjectHandle);

/* NdisQueueIoWorkItem: IRQL <= DISPATCH_LEVEL. Runs Routine(WorkItemContext, NdisIoWorkItem) once
 * on a worker thread at PASSIVE_LEVEL; the misuse as IoQueueWorkItem. Page:
 * ndis/nf-ndis-ndisqueueioworkitem. */
NDISLOCK_API VOID NdisQueueIoWorkItem(NDIS_HANDLE NdisIoWorkItem, NDIS_IO_WORKITEM_ROUTINE Routine,
                                      PVOID WorkItemContext);

/* NdisFreeIoWorkItem: IRQL <= DISPATCH_LEVEL. As IoFreeWorkItem. Page: ndis/nf-ndis-ndisfreeioworkitem. */
NDISLOCK_API VOID NdisFreeIoWorkItem(NDIS_HANDLE NdisIoWorkItem);

/* ---- The executive's work queue item (wdm.h) ---------------------------------------------- */

/* The routine of a WORK_QUEUE_ITEM: its Parameter. */
typedef VOID WORKER_THREAD_ROUTINE(PVOID Parameter);
typedef WORKER_THREAD_ROUTINE *PWORKER_THREAD_ROUTINE;

/* The driver's own storage (nonpaged on Windows) with the WDK's layout. List is the queue's link:
 * while the item is queued ndislock keeps its own mark in List.Flink, and sets it back to NULL just
 * before the routine runs. Page: wdm/ns-wdm-_work_queue_item. */
typedef struct _WORK_QUEUE_ITEM {
    LIST_ENTRY List;
    PWORKER_THREAD_ROUTINE WorkerRoutine;
    volatile PVOID Parameter;
} WORK_QUEUE_ITEM, *PWORK_QUEUE_ITEM;

/* ExInitializeWorkItem(Item, Routine, Context): any IRQL. A macro, as in the WDK: sets
 * Item->WorkerRoutine to Routine, Item->Parameter to Context and Item->List.Flink to NULL. Page:
 * wdm/nf-wdm-exinitializeworkitem. */
#define ExInitializeWorkItem(Item, Routine, Context)                                                                   \
    do {                                                                                                               \
        (Item)->WorkerRoutine = (Routine);                                                                             \
        (Item)->Parameter = (Context);                                                                                 \
        (Item)->List.Flink = NULL;                                                                                     \
    } while (0)

/* ExQueueWorkItem: IRQL <= DISPATCH_LEVEL (above it: IrqlTooHighForCall, and it is still queued).
 * Runs WorkItem->WorkerRoutine(WorkItem->Parameter) once on a worker thread at PASSIVE_LEVEL; the
 * routine may free the WORK_QUEUE_ITEM, which ndislock never touches once the routine has begun.
 * Queued again while still queued it is WorkItemMisuse (and is not queued twice); a NULL item or
 * routine is a BugCheck report. ndislock holds each queued WORK_QUEUE_ITEM in an entry of its work
 * item pool: with the pool exhausted the item does not run, said once on stderr. Queued at
 * DISPATCH_LEVEL before any worker thread runs, it waits for them (said once; docs/waits.md).
 * Page: wdm/nf-wdm-exqueueworkitem. */
NDISLOCK_API VOID ExQueueWorkItem(PWORK_QUEUE_ITEM WorkItem, WORK_QUEUE_TYPE QueueType);

/* ---- Site-taking forms (see ndislock/ndis.h) ------------------------------------------------ */

NDISLOCK_API VOID ndislock_at_IoQueueWorkItem(PIO_WORKITEM, PIO_WORKITEM_ROUTINE, WORK_QUEUE_TYPE, PVOID, const char *,
                                              int, const char *);
NDISLOCK_API VOID ndislock_at_IoFreeWorkItem(PIO_WORKITEM, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_NdisQueueIoWorkItem(NDIS_HANDLE, NDIS_IO_WORKITEM_ROUTINE, PVOID, const char *, int,
                                                  const char *);
NDISLOCK_API VOID ndislock_at_NdisFreeIoWorkItem(NDIS_HANDLE, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_IoInitializeWorkItem(PVOID, PIO_WORKITEM, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_IoUninitializeWorkItem(PIO_WORKITEM, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_IoQueueWorkItemEx(PIO_WORKITEM, PIO_WORKITEM_ROUTINE_EX, WORK_QUEUE_TYPE, PVOID,
                                                const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_ExQueueWorkItem(PWORK_QUEUE_ITEM, WORK_QUEUE_TYPE, const char *, int, const char *);

#ifndef NDISLOCK_HERE
#define NDISLOCK_HERE __FILE__, __LINE__, __func__
#endif
#ifndef NDISLOCK_NO_SITE_MACROS
#define IoQueueWorkItem(I, R, Q, C) ndislock_at_IoQueueWorkItem((I), (R), (Q), (C), NDISLOCK_HERE)
#define IoFreeWorkItem(I) ndislock_at_IoFreeWorkItem((I), NDISLOCK_HERE)
#define NdisQueueIoWorkItem(I, R, C) ndislock_at_NdisQueueIoWorkItem((I), (R), (C), NDISLOCK_HERE)
#define NdisFreeIoWorkItem(I) ndislock_at_NdisFreeIoWorkItem((I), NDISLOCK_HERE)
#define IoInitializeWorkItem(O, I) ndislock_at_IoInitializeWorkItem((O), (I), NDISLOCK_HERE)
#define IoUninitializeWorkItem(I) ndislock_at_IoUninitializeWorkItem((I), NDISLOCK_HERE)
#define IoQueueWorkItemEx(I, R, Q, C) ndislock_at_IoQueueWorkItemEx((I), (R), (Q), (C), NDISLOCK_HERE)
#define ExQueueWorkItem(I, Q) ndislock_at_ExQueueWorkItem((I), (Q), NDISLOCK_HERE)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_WORK_ITEMS_H */
