// The ISR thread of a virtual processor: delivers the interrupts asserted toward it.
//
// Delivering an interrupt at DIRQL d to processor P (docs/interrupts.md):
//   - no thread runs P at DISPATCH_LEVEL or above: the ISR thread takes P itself (it becomes P's
//     owner, at d), runs the ISR, and gives P back (its drop below DISPATCH_LEVEL hands P to a
//     waiting DPC thread first);
//   - thread T owns P below d: T is stopped where it is (model/preemption.h); the ISR runs on
//     this thread "as P" at d while T stays stopped holding whatever it holds; then T resumes;
//   - T owns P at or above d: the request stays posted and T stops when its IRQL drops below d.
// Interrupts of one processor are delivered one at a time, in the order of their interrupts'
// slots; an ISR is never preempted by another (all ndislock interrupts share one DIRQL).
#include "interrupt/interrupts.h"
#include "interrupt/processor_context.h"
#include "interrupt/scheduled_delivery.h"
#include "model/preemption.h"
#include "model/processors.h"
#include "lock/park.h"
#include "platform/cpu.h"

namespace ndislock::interrupt {

namespace {

void deliver(Interrupt &i, std::uint32_t index, model::ThreadState &self) noexcept {
    model::Processor &p = model::g_processors[index];
    const KIRQL level = i.dirql;
    bool waited_for_irql = false;
    for (;;) {
        if (i.state.load(std::memory_order_acquire) != SlotState::Live) return;
        // The thread running P at DISPATCH_LEVEL or above, from this one read of the owner word
        // (a second read could see another owner, and the compare-exchange below would then take
        // P from a thread that just took it again).
        std::uint32_t owner = p.owner().load(std::memory_order_acquire);
        const std::uint32_t id = model::owner_at_dispatch(owner, index);
        if (id == 0) {
            if ((owner & model::kBiased) != 0) {
                // Biased to a thread now below DISPATCH_LEVEL (only before the processor's first
                // DPC-thread entry): revoke the bias the ordinary way.
                model::enter_dispatch(self);
            } else if (!p.owner().compare_exchange_strong(owner, self.id(), std::memory_order_acquire,
                                                          std::memory_order_relaxed)) {
                continue;
            } else {
                model::count_shared_take(self, p);
                self.dispatch_entry().store(index, std::memory_order_relaxed); // enter_dispatch sets its own
            }
            self.irql().store(level, std::memory_order_release); // after dispatch_entry
            run_isr(i, index, self);
            model::lower_irql(self, PASSIVE_LEVEL); // gives the processor back
            break;
        }
        model::ThreadState *target = model::thread_by_id(id);
        if (target == nullptr || target == &self) {
            platform::yield_core();
            continue;
        }
        std::uint32_t seq = 0;
        if (model::stop_owner(*target, id, index, level, &seq, &waited_for_irql) != model::Preempt::Stopped) continue;
        target->preemption.preempted_by.store(self.id(), std::memory_order_release);
        self.preemption.interrupting.store(id, std::memory_order_release);
        self.dispatch_entry().store(index, std::memory_order_relaxed);
        self.irql().store(level, std::memory_order_release); // after dispatch_entry
        run_isr(i, index, self);
        self.irql().store(PASSIVE_LEVEL, std::memory_order_relaxed);
        self.preemption.interrupting.store(0, std::memory_order_release);
        target->preemption.preempted_by.store(0, std::memory_order_release);
        // Counted before the target resumes: what it reads next includes this delivery.
        i.counters.preempted.fetch_add(1, std::memory_order_relaxed);
        if (waited_for_irql) i.counters.held_pending.fetch_add(1, std::memory_order_relaxed);
        model::resume(*target, seq);
        return;
    }
    if (waited_for_irql) i.counters.held_pending.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

void isr_thread_main(std::uint32_t index) noexcept {
    model::ThreadState &self = model::register_current_thread_on(index);
    ProcessorContext &c = g_contexts[index];
    c.isr_thread.store(&self, std::memory_order_release);
    thread_is_up(c);
    const std::uint64_t bit = std::uint64_t{1} << index;
    for (;;) {
        const std::uint32_t seen = c.irq_seq.load(std::memory_order_acquire);
        if (scheduled() != nullptr) { // an exploration delivers its interrupts itself
            lock::park(&c.irq_seq, seen, 1'000'000'000);
            continue;
        }
        bool any = false;
        // Only the interrupts asserted toward this processor: one word, not a walk of every slot.
        for (std::uint64_t slots = c.asserted_slots.exchange(0, std::memory_order_acq_rel); slots != 0;
             slots &= slots - 1) {
            Interrupt &i = g_interrupts[__builtin_ctzll(slots)];
            if ((i.pending.load(std::memory_order_acquire) & bit) == 0) continue;
            i.active.fetch_add(1, std::memory_order_acq_rel);
            if (i.state.load(std::memory_order_acquire) == SlotState::Live &&
                (i.pending.load(std::memory_order_acquire) & bit) != 0) {
                any = true;
                deliver(i, index, self);
            }
            leave_active(i);
        }
        if (!any) lock::park(&c.irq_seq, seen, 1'000'000'000);
    }
}

} // namespace ndislock::interrupt
