/*
 * ndislock/wdk_work_items.h: work items (ndis.h, wdm.h): a routine queued from any IRQL up to
 * DISPATCH_LEVEL and run later at PASSIVE_LEVEL on a system worker thread. Clean C11 and C++.
 * docs/waits.md says how they run and what the verifier reports.
 *
 * ndislock runs them on a small pool of worker threads, started by the first allocation made below
 * DISPATCH_LEVEL, in the order they were queued. Each routine is run as a driver callback: it must
 * return at PASSIVE_LEVEL with no spin lock held (LockHeldAtCallbackReturn otherwise). Queueing an
 * item that is still queued, or freeing one that is queued or running, is WorkItemMisuse. A handle
 * that is no live work item (NULL, or freed) given to a queue or free call is a BugCheck report
 * (terminal; 0xE4 WORKER_INVALID on Windows).
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

typedef VOID NDIS_IO_WORKITEM_FUNCTION(PVOID WorkItemContext, NDIS_HANDLE NdisIoWorkItemHandle);
typedef NDIS_IO_WORKITEM_FUNCTION *NDIS_IO_WORKITEM_ROUTINE;

/* IoAllocateWorkItem: IRQL <= DISPATCH_LEVEL. A new work item for DeviceObject, or NULL (no memory,
 * or no worker pool yet: the first allocation must be made below DISPATCH_LEVEL). Page:
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
 * and the item is freed once its routine has returned. Page: wdm/nf-wdm-iofreeworkitem. */
NDISLOCK_API VOID IoFreeWorkItem(PIO_WORKITEM IoWorkItem);

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

/* ---- Site-taking forms (see ndislock/ndis.h) ------------------------------------------------ */

NDISLOCK_API VOID ndislock_at_IoQueueWorkItem(PIO_WORKITEM, PIO_WORKITEM_ROUTINE, WORK_QUEUE_TYPE, PVOID, const char *,
                                              int, const char *);
NDISLOCK_API VOID ndislock_at_IoFreeWorkItem(PIO_WORKITEM, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_NdisQueueIoWorkItem(NDIS_HANDLE, NDIS_IO_WORKITEM_ROUTINE, PVOID, const char *, int,
                                                  const char *);
NDISLOCK_API VOID ndislock_at_NdisFreeIoWorkItem(NDIS_HANDLE, const char *, int, const char *);

#ifndef NDISLOCK_HERE
#define NDISLOCK_HERE __FILE__, __LINE__, __func__
#endif
#ifndef NDISLOCK_NO_SITE_MACROS
#define IoQueueWorkItem(I, R, Q, C) ndislock_at_IoQueueWorkItem((I), (R), (Q), (C), NDISLOCK_HERE)
#define IoFreeWorkItem(I) ndislock_at_IoFreeWorkItem((I), NDISLOCK_HERE)
#define NdisQueueIoWorkItem(I, R, C) ndislock_at_NdisQueueIoWorkItem((I), (R), (C), NDISLOCK_HERE)
#define NdisFreeIoWorkItem(I) ndislock_at_NdisFreeIoWorkItem((I), NDISLOCK_HERE)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_WORK_ITEMS_H */
