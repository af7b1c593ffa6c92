// Interrupts and DPCs inside an exploration's schedule (docs/explore.md, "Interrupts and DPCs").
//
// Outside an exploration an assert signals the processor's ISR thread and a DPC insert wakes its
// DPC thread (delivery.cpp, dpc_queue.cpp): they run when the OS schedules them. Inside a
// schedule that would run driver code free of the scheduler, so the explorer installs a
// ScheduleControl for its life: while it says it controls, an assert only makes the interrupt
// pending (the slot's pending bit and the processor's asserted_slots, as usual), an insert only
// queues the DPC, no ISR or DPC thread is started, and the scheduler is told that processor has
// work. The scheduler then runs it on one of its own controlled threads, at a point it chooses,
// through the functions below: the same run_isr and DPC drain the ISR and DPC threads use.
//
// Layer: interrupt. The explorer (above) sets g_schedule_control; nothing here knows it.
#pragma once

#include <atomic>
#include <cstdint>

#include "model/thread_state.h"
#include "ndislock/wdk_types.h"

namespace ndislock::interrupt {

struct ScheduleControl {
    // True while a schedule is set up or runs: its asserts and DPC inserts are the scheduler's.
    bool (*controls)() noexcept;
    // An interrupt was asserted, or a DPC queued, toward processor (called on the asserting or
    // queueing thread, after the interrupt is pending or the DPC queued).
    void (*work_pending)(std::uint32_t processor) noexcept;
    // A scheduling point of the calling thread (nothing if the scheduler does not run it): for the
    // interrupt-side calls no observer hears before they take a lock (NdisMSynchronizeWithInterruptEx).
    void (*point)() noexcept;
};
extern std::atomic<const ScheduleControl *> g_schedule_control;

// The control if it controls now, else nullptr. Slow paths only (an assert, a DPC insert).
inline const ScheduleControl *scheduled() noexcept {
    const ScheduleControl *c = g_schedule_control.load(std::memory_order_acquire);
    return c != nullptr && c->controls() ? c : nullptr;
}

// Whether an interrupt is pending toward processor with a DIRQL above irql.
bool interrupt_pending(std::uint32_t processor, KIRQL irql) noexcept;
// Whether processor's DPC queue holds a DPC.
bool dpcs_queued(std::uint32_t processor) noexcept;

// Delivers the first interrupt pending toward t's processor on t, as the ISR thread delivers one:
// t goes to the DIRQL (taking the processor if it was below DISPATCH_LEVEL, waiting as a raise
// waits if another thread holds it), runs MiniportInterrupt under the interrupt's spin lock
// (run_isr: the same bookkeeping and observer callbacks), and goes back to its IRQL (a drop below
// DISPATCH_LEVEL runs the DPCs the ISR queued there, as Windows does). False if, once t runs
// the processor, no interrupt is pending toward it below t's old IRQL.
bool deliver_pending_interrupt(model::ThreadState &t) noexcept;
// Runs the DPCs queued toward t's processor on t (below DISPATCH_LEVEL): t takes the processor
// at DISPATCH_LEVEL and drops it, and the drop drains the queue, low-importance DPCs included.
void run_queued_dpcs(model::ThreadState &t) noexcept;

// Timers in a schedule: no timer thread expires them; the scheduler does, on its own threads, at
// its virtual time (timers.cpp). The earliest due time in interrupt-time units (0: no timer set),
// and the expiry of every timer due by now_100ns (signalled, its DPC queued, a periodic one set
// again).
std::uint64_t next_timer_due_100ns() noexcept;
void expire_due_timers(std::uint64_t now_100ns) noexcept;
// The queue emptied without touching the timers (a failing schedule's may be freed already).
void drop_timer_queue() noexcept;

// Between two schedules (no controlled thread runs): no interrupt pending or running, every DPC
// queue empty, every interrupt's spin lock free, no timer set (timers set before the exploration
// included). A failing schedule abandons its threads where
// they stand, possibly inside an ISR or DPC; the next schedule must not inherit that.
void reset_scheduled_state() noexcept;
// An abandoned thread (its routine left by a longjmp, perhaps inside an ISR or DPC): no routine
// recorded as running on it, no DPC drain in progress.
void forget_abandoned_routines(model::ThreadState &t) noexcept;

} // namespace ndislock::interrupt
