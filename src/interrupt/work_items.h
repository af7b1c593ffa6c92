// Work items (ndislock/wdk_work_items.h): routines queued from any IRQL up to DISPATCH_LEVEL and
// run once each, in queue order, at PASSIVE_LEVEL on a small pool of worker threads.
//
// Items come from a fixed pool and are queued on a lock-free list, so allocating, queueing and
// freeing are async-signal-safe (a DPC may do all three from an interrupt). The worker threads
// start with the first allocation made below DISPATCH_LEVEL; they sleep by parking. Each run is a
// driver callback (CallbackScope, observe::Callback::WorkItem). Misuse is returned, not reported:
// the API layer reports it.
#pragma once

#include "ndislock/wdk_work_items.h"

namespace ndislock::interrupt {

// nullptr: the pool is exhausted, or no worker runs yet and the caller is at DISPATCH_LEVEL or above.
PIO_WORKITEM work_item_allocate(void *owner, bool ndis) noexcept;

enum class WorkItemUse : unsigned char { Done, AlreadyQueued, FreedWhileBusy };

// Queues the item to run routine(owner, context) (an I/O item) or routine(context, item) (an NDIS
// item). AlreadyQueued: it was still queued, and nothing changed.
WorkItemUse work_item_queue(PIO_WORKITEM item, void (*routine)(), void *context) noexcept;

// Frees the item now, or once its routine has returned (freed by the routine itself: Done;
// freed while queued or running on another thread: FreedWhileBusy).
WorkItemUse work_item_free(PIO_WORKITEM item) noexcept;

// Whether the item is queued or its routine runs (tests wait for an item to be idle).
bool work_item_busy(PIO_WORKITEM item) noexcept;

// Whether item is one of the pool's live items.
bool work_item_valid(PIO_WORKITEM item) noexcept;

} // namespace ndislock::interrupt
