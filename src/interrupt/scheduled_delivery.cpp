#include "interrupt/scheduled_delivery.h"

#include "interrupt/interrupts.h"
#include "interrupt/processor_context.h"
#include "model/processors.h"

namespace ndislock::interrupt {

std::atomic<const ScheduleControl *> g_schedule_control{nullptr};

namespace {

// The first slot (the ISR thread's order) asserted toward processor and still pending there,
// with a DIRQL above irql; nullptr if none.
Interrupt *first_pending(std::uint32_t processor, KIRQL irql) noexcept {
    const std::uint64_t bit = std::uint64_t{1} << processor;
    for (std::uint64_t slots = g_contexts[processor].asserted_slots.load(std::memory_order_acquire); slots != 0;
         slots &= slots - 1) {
        Interrupt &i = g_interrupts[__builtin_ctzll(slots)];
        if (i.state.load(std::memory_order_acquire) == SlotState::Live &&
            (i.pending.load(std::memory_order_acquire) & bit) != 0 && i.dirql > irql)
            return &i;
    }
    return nullptr;
}

} // namespace

bool interrupt_pending(std::uint32_t processor, KIRQL irql) noexcept {
    return first_pending(processor, irql) != nullptr;
}

bool dpcs_queued(std::uint32_t processor) noexcept { return queue_holds_dpcs(processor); }

bool deliver_pending_interrupt(model::ThreadState &t) noexcept {
    const std::uint32_t processor = t.processor().load(std::memory_order_relaxed);
    const KIRQL old = t.irql().load(std::memory_order_relaxed);
    Interrupt *i = first_pending(processor, old);
    if (i == nullptr) return false;
    // Taking the processor may wait (a controlled park): look again once t runs it.
    model::raise_irql(t, i->dirql);
    i = first_pending(processor, old);
    if (i != nullptr) {
        g_contexts[processor].asserted_slots.fetch_and(~(std::uint64_t{1} << i->index), std::memory_order_acq_rel);
        i->active.fetch_add(1, std::memory_order_acq_rel);
        run_isr(*i, processor, t);
        leave_active(*i);
    }
    model::lower_irql(t, old); // below DISPATCH_LEVEL: gives the processor back, running its DPCs first
    return i != nullptr;
}

void run_queued_dpcs(model::ThreadState &t) noexcept {
    const KIRQL old = t.irql().load(std::memory_order_relaxed);
    if (old >= DISPATCH_LEVEL) return;
    model::raise_irql(t, DISPATCH_LEVEL);
    // Marked here, not only by a medium- or high-importance insert: a low-importance DPC, which a
    // DPC thread would run, runs on this thread too.
    model::g_processors[model::dispatch_index(t)].attention.fetch_or(model::kDpcsPending, std::memory_order_release);
    model::lower_irql(t, old);
}

void reset_scheduled_state() noexcept {
    const std::uint32_t count = model::processor_count();
    for (Interrupt &i : g_interrupts) {
        if (i.state.load(std::memory_order_acquire) != SlotState::Live) continue;
        i.pending.store(0, std::memory_order_relaxed);
        for (auto &n : i.msi_pending)
            n.store(0, std::memory_order_relaxed);
        i.active.store(0, std::memory_order_relaxed);
        __atomic_store_n(&i.lock, 0, __ATOMIC_RELEASE);
        for (InterruptDpc &d : i.dpcs)
            __atomic_store_n(&d.dpc.DpcData, nullptr, __ATOMIC_RELEASE);
    }
    for (std::uint32_t p = 0; p < count; ++p) {
        ProcessorContext &c = g_contexts[p];
        c.asserted_slots.store(0, std::memory_order_relaxed);
        // The scenario's own KDPCs left queued belong to its state (KeInitializeDpc makes them anew).
        empty_queue(p);
        model::g_processors[p].attention.fetch_and(~model::kDpcsPending, std::memory_order_acq_rel);
    }
    drop_timer_queue();
}

void forget_abandoned_routines(model::ThreadState &t) noexcept {
    t.callback.kind.store(0, std::memory_order_relaxed);
    t.callback.object.store(nullptr, std::memory_order_relaxed);
    t.callback.routine.store(nullptr, std::memory_order_relaxed);
    t.callback.since_ns.store(0, std::memory_order_relaxed);
    forget_drain();
}

} // namespace ndislock::interrupt
