#include "explore/deliveries.h"

#include <atomic>
#include <cstdint>

#include "explore/scheduler.h"
#include "explore/virtual_time.h"
#include "interrupt/scheduled_delivery.h"
#include "model/processors.h"
#include "ndislock/ext.h"
#include "platform/diagnostics.h"

namespace ndislock::explore {

namespace {

// Per processor: a delivery context is live (spawned, not yet returned). Schedule state, touched
// only by the baton's holder.
bool g_delivery_live[NDISLOCK_MAX_PROCESSORS] = {};
// Read by any thread (an ISR, DPC or timer thread asks whether it may run).
std::atomic<bool (*)() noexcept> g_controls{nullptr};

// A delivery context's routine: P's pending interrupts, then its DPCs, a point between two.
void delivery_context(void *argument) {
    const auto processor = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(argument));
    model::ThreadState &t = *model::tls_thread;
    for (;;) {
        if (interrupt::interrupt_pending(processor, t.irql().load(std::memory_order_relaxed)))
            interrupt::deliver_pending_interrupt(t);
        else if (interrupt::dpcs_queued(processor))
            interrupt::run_queued_dpcs(t);
        else
            break;
        yield_point(nullptr, "delivers");
    }
    g_delivery_live[processor] = false; // no point since the last look: nothing is pending
}

bool controls() noexcept {
    bool (*const now)() noexcept = g_controls.load(std::memory_order_acquire);
    return now != nullptr && now();
}

void work_pending(std::uint32_t processor) noexcept {
    if (processor >= NDISLOCK_MAX_PROCESSORS) return;
    interrupt_pending_toward(processor);
    if (g_delivery_live[processor]) return;
    if (!in_schedule()) return; // between two schedules (a check's call): dropped when the next begins
    if (!spawn_on(processor, delivery_context, reinterpret_cast<void *>(std::uintptr_t{processor})))
        platform::fatal("ExploreUncontrolled: an interrupt or DPC is pending toward processor %u and the schedule "
                        "cannot deliver it: it was asserted or queued by a thread the exploration does not run, or "
                        "the schedule has no context left (at most %u, scenario threads and delivery contexts "
                        "together)",
                        processor, kMaxContexts);
    g_delivery_live[processor] = true;
}

// The point of an ISR's or DPC's entry, a wait, a synchronize call, an event set (interrupt/):
// named generically in the trace (the call is not passed down).
void delivery_point() noexcept { yield_point(nullptr, "ndislock call"); }

constexpr interrupt::ScheduleControl kControl{controls, work_pending, delivery_point};

} // namespace

void reset_deliveries() noexcept {
    for (bool &live : g_delivery_live)
        live = false;
    interrupt::reset_scheduled_state();
}

void control_deliveries(bool install, bool (*controls_now)() noexcept) noexcept {
    g_controls.store(install ? controls_now : nullptr, std::memory_order_release);
    interrupt::g_schedule_control.store(install ? &kControl : nullptr, std::memory_order_release);
}

void fire_due_timers() noexcept {
    const std::uint64_t due = interrupt::next_timer_due_100ns();
    const std::uint64_t now = virtual_time::now() / 100;
    if (due != 0 && due <= now) interrupt::expire_due_timers(now);
}

std::uint64_t next_timer_ns() noexcept { return interrupt::next_timer_due_100ns() * 100; }

bool can_deliver_here(const model::ThreadState &t) noexcept {
    if (t.preemption.no_preempt.load(std::memory_order_relaxed) != 0) return false; // ndislock's own bookkeeping
    const std::uint32_t processor = t.processor().load(std::memory_order_relaxed);
    const KIRQL irql = t.irql().load(std::memory_order_relaxed);
    if (!interrupt::interrupt_pending(processor, irql)) return false;
    // The interrupt comes in on the code that runs its processor: t, owning it at DISPATCH_LEVEL
    // or above; or t below DISPATCH_LEVEL while no thread holds it.
    if (irql >= DISPATCH_LEVEL) return model::dispatch_index(t) == processor;
    return model::processor_owner(processor) == 0;
}

void deliver_here(model::ThreadState &t) noexcept { interrupt::deliver_pending_interrupt(t); }

} // namespace ndislock::explore
