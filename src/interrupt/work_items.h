// Work items (ndislock/wdk_work_items.h): routines queued from any IRQL up to DISPATCH_LEVEL and
// run once each, in queue order, at PASSIVE_LEVEL on a small pool of worker threads.
//
// Items come from a fixed pool and are queued on a lock-free list, so allocating, initializing,
// queueing, freeing and uninitializing are async-signal-safe (a DPC may do them all from an
// interrupt). The worker threads start with the first allocation or initialization made below
// DISPATCH_LEVEL (or the first queueing there); they sleep by parking. Each run is a driver
// callback (CallbackScope, observe::Callback::WorkItem). Misuse is returned, not reported: the API
// layer reports it.
//
// Three kinds of item share the pool:
//   - allocated (IoAllocateWorkItem, NdisAllocateIoWorkItem): the driver's handle is the pool item;
//   - initialized (IoInitializeWorkItem): the driver's storage holds a CallerWorkItem naming a pool
//     item, and the driver's pointer is the handle its routine receives;
//   - executive (ExQueueWorkItem): a pool item taken at each queueing and given back after its run;
//     while queued, the WORK_QUEUE_ITEM's List.Flink holds the pool item's address.
// Once a routine has returned, the worker touches only the pool item, never the driver's storage.
#pragma once

#include <cstdint>

#include "ndislock/wdk_work_items.h"

namespace ndislock::interrupt {

// What IoInitializeWorkItem writes into the caller's storage: IoSizeofWorkItem() is its size.
struct CallerWorkItem {
    std::uint64_t cookie; // kCallerCookie while initialized (kCallerUnbacked: no pool item could be had)
    _IO_WORKITEM *item;
};

// How the worker calls the routine: the shape of the queue call's routine type.
enum class WorkRoutine : unsigned char {
    Io,     // IO_WORKITEM_ROUTINE(DeviceObject, Context)
    IoEx,   // IO_WORKITEM_ROUTINE_EX(IoObject, Context, IoWorkItem)
    Ndis,   // NDIS_IO_WORKITEM_FUNCTION(Context, NdisIoWorkItem)
    Worker, // WORKER_THREAD_ROUTINE(Parameter)
};

enum class WorkItemUse : unsigned char {
    Done,
    AlreadyQueued,    // queued while still queued: nothing changed
    FreedWhileBusy,   // freed or uninitialized while queued or running on another thread
    WrongKind,        // IoFreeWorkItem of an initialized item, IoUninitializeWorkItem of an allocated one
    InitializedAgain, // IoInitializeWorkItem of storage still initialized: the one item is kept
    NoItem,           // the pool had no item (said once on stderr): the routine does not run
};

// nullptr: the pool is exhausted, or no worker runs yet and the caller is at DISPATCH_LEVEL or above.
PIO_WORKITEM work_item_allocate(void *owner) noexcept;

// IoSizeofWorkItem.
ULONG work_item_caller_size() noexcept;

// IoInitializeWorkItem: storage (work_item_caller_size() bytes) becomes a work item of owner.
// NoItem: the pool is exhausted; the storage is then initialized without an item, and queueing it
// does nothing but say so.
WorkItemUse work_item_initialize(void *owner, PIO_WORKITEM storage) noexcept;

// Queues the item to run routine, called as shape says (routine(owner, context),
// routine(owner, context, handle), routine(context, handle)). AlreadyQueued: it was still queued,
// and nothing changed. NoItem: an initialized item without a pool item.
WorkItemUse work_item_queue(PIO_WORKITEM item, WorkRoutine shape, void (*routine)(), void *context) noexcept;

// ExQueueWorkItem: queues the WORK_QUEUE_ITEM (its routine and Parameter are read just before the
// run). AlreadyQueued: it was still queued, and nothing changed. NoItem: the pool is exhausted.
WorkItemUse work_item_queue_executive(PWORK_QUEUE_ITEM item) noexcept;

// Frees an allocated item now, or once its routine has returned (freed by the routine itself:
// Done; freed while queued or running on another thread: FreedWhileBusy). WrongKind: an initialized
// item (nothing done).
WorkItemUse work_item_free(PIO_WORKITEM item) noexcept;

// Uninitializes an initialized item: the storage is no work item from now on, and its pool item is
// given back now or once its routine has returned (Done, FreedWhileBusy as work_item_free).
// WrongKind: an allocated item (nothing done).
WorkItemUse work_item_uninitialize(PIO_WORKITEM item) noexcept;

// Whether the item is queued or its routine runs (tests wait for an item to be idle).
bool work_item_busy(PIO_WORKITEM item) noexcept;

// Whether item is a live work item: one of the pool's allocated items, or storage that
// IoInitializeWorkItem initialized and nothing uninitialized since.
bool work_item_valid(PIO_WORKITEM item) noexcept;

// Whether item is an initialized item (its storage), as opposed to an allocated one.
bool work_item_is_initialized(PIO_WORKITEM item) noexcept;

} // namespace ndislock::interrupt
