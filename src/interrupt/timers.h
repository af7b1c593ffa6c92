// Timers: the timer queue and the one thread that expires its timers into DPCs (KTIMER), and the
// NDIS timer objects built on them (ndislock/wdk_timers.h, docs/timers.md).
//
// The queue is a list through KTIMER::TimerListEntry in due-time order, guarded by a spin word
// taken under model::NoPreempt (as the DPC queues are: no emulated interrupt stops a thread
// holding it). A timer is in the queue exactly while TimerListEntry.Flink is non-NULL. Expiry
// (out of the queue, signalled, a periodic one back in, its DPC queued) is one step under that
// word, so a cancel either finds the timer in the queue or finds its DPC already queued: a
// KeFlushQueuedDpcs after a cancel that returned FALSE waits for the routine.
#pragma once

#include <cstdint>

#include "model/thread_state.h"
#include "ndislock/wdk_timers.h"
#include "observe/hooks.h"

namespace ndislock::interrupt {

// The WDK's clocks in 100 ns units: interrupt time (CLOCK_MONOTONIC) and system time (CLOCK_REALTIME
// counted from 1601).
std::uint64_t interrupt_time_100ns() noexcept;
std::uint64_t system_time_100ns() noexcept;

// KeInitializeTimerEx, KeSetTimerEx (processor: the setter's), KeCancelTimer, KeReadStateTimer.
void timer_initialize(KTIMER *timer, TIMER_TYPE type) noexcept;
bool timer_set(KTIMER *timer, LONGLONG due_time, LONG period_ms, KDPC *dpc, std::uint32_t processor) noexcept;
bool timer_cancel(KTIMER *timer) noexcept;
bool timer_signalled(const KTIMER *timer) noexcept;
// For the timer objects: takes the timer out of the queue if it is there (true), with the period
// it was last set with; the period of a timer in the queue (0: not queued, or one-shot).
bool timer_unlink_if_queued(KTIMER *timer, ULONG *period) noexcept;
ULONG timer_queued_period(KTIMER *timer) noexcept;
// The driver routine a timer's DPC runs: a timer object's NetTimerCallback, else DeferredRoutine.
const void *timer_routine_of(const KDPC *dpc) noexcept;

// NDIS timer objects (timer_objects.cpp): handles into a fixed table of kMaxTimerObjects slots, recycled with a
// generation (a stale handle is told from a live one, as interrupt handles are).
inline constexpr std::uint32_t kMaxTimerObjects = 1024;
NDIS_STATUS timer_object_allocate(NDIS_HANDLE ndis_handle, const NDIS_TIMER_CHARACTERISTICS *characteristics,
                                  NDIS_HANDLE *out) noexcept;
bool timer_object_set(NDIS_HANDLE handle, LONGLONG due_time, LONG period_ms, PVOID context, model::ThreadState &t,
                      const observe::Site &site) noexcept;
// Takes it out of the queue. *periodic: whether it was set periodic (the caller then flushes).
bool timer_object_cancel(NDIS_HANDLE handle, bool *periodic, const observe::Site &site) noexcept;
void timer_object_free(NDIS_HANDLE handle, model::ThreadState &t, const observe::Site &site) noexcept;

// At NdislockMiniportHalt, after MiniportHaltEx returned: the adapter's periodic timer objects
// still set are PeriodicTimerNotCancelled.
void check_adapter_timers(std::uint32_t adapter_slot, std::uint32_t adapter_generation) noexcept;
// Whether timer is a timer object's whose PeriodicTimerNotCancelled check_adapter_timers already
// reported (since its last set): the process exit's check skips it, one report per bug.
bool timer_reported_at_halt(const KTIMER *timer) noexcept;

} // namespace ndislock::interrupt
