// Preemption of a running thread by an interrupt: how an ISR "lands on a processor" in a process.
//
// On Windows an interrupt stops whatever its processor runs below the interrupt's DIRQL, between
// two instructions, and runs the ISR on that processor; the interrupted code resumes afterwards,
// with everything it held still held. Here each virtual processor's ISRs run on an interrupt
// thread of their own (interrupt/delivery.cpp). To run an ISR over the thread that owns the
// processor at DISPATCH_LEVEL, the interrupt thread stops that thread where it is:
//
//   interrupter: seq = ++request; level = DIRQL; tgkill(target, kPreemptSignal)
//                wait until ack == seq (or the target no longer owns the processor: cancel)
//                ... run the ISR ...
//                release = seq; unpark(release)
//   target (in the signal handler, or at an IRQL drop, or leaving ndislock's own code):
//                if request != ack and no_preempt == 0 and irql < level:
//                    ack = request; unpark(ack); park until release == request
//
// A target that is at or above the requested level when the signal arrives does not stop: the
// request stays posted and the target takes it when its IRQL drops below the level (lower_irql
// calls preemption_point for every drop from above DISPATCH_LEVEL). A target inside ndislock's
// own bookkeeping (no_preempt != 0: observers, DPC queues, registries, all of which may hold a
// library lock an ISR could need) takes it when it leaves that code. A cancelled request is
// released before it is acknowledged, so a late signal finds release == request and returns.
//
// Async-signal safety: the handler reads the thread's state through the initial-exec TLS pointer,
// touches only atomics, and blocks only by parking (lock/park.h, async-signal-safe); errno is
// preserved. The one exception, a stack dump asked for by a Deadlock report (the process ends right after it), calls
// backtrace(), whose first-use initialisation is done at install time.
#pragma once

#include <atomic>
#include <cstdint>

#include "model/thread_state.h"

namespace ndislock::model {

// Installs the preemption signal handler (idempotent). Not async-signal-safe.
void install_preemption() noexcept;

// The real-time signal that stops a thread for an interrupt (SIGRTMIN + 7).
int preempt_signal() noexcept;

// Changes whenever the thread stopped for an interrupt or took an interrupt signal: a stretch of
// its own time in which this changed is not all its own code (verifier/long_holds.h).
inline std::uint32_t interrupt_marks(const ThreadState &t) noexcept {
    return t.preemption.ack.load(std::memory_order_relaxed) + t.preemption.signals.load(std::memory_order_relaxed);
}

// Stops the calling thread if an interrupt asked to and it may stop now; pc is where it stops.
void stop_if_requested(ThreadState &t, const void *pc) noexcept;

// Where a deferred request is taken: after an IRQL drop from above DISPATCH_LEVEL and when
// ndislock's own code ends. One relaxed comparison when nothing is pending.
inline void preemption_point(ThreadState &t) noexcept {
    if (__builtin_expect(t.preemption.request.load(std::memory_order_relaxed) !=
                             t.preemption.ack.load(std::memory_order_relaxed),
                         0))
        stop_if_requested(t, __builtin_return_address(0));
}

// Brackets ndislock's own code that may hold a library lock: no interrupt stops the thread in it.
//
// no_preempt is written and read only by its own thread and its own signal handler, so a load
// and a store do what an atomic add would, without the
// locked instruction (three guards per observed lock pair): a signal landing between the two
// finds the count as it was before the guard, which is the truth at that instruction, and the
// handler leaves the count as it found it.
class NoPreempt {
public:
    NoPreempt() noexcept : t_(tls_thread) {
        if (t_ != nullptr)
            t_->preemption.no_preempt.store(t_->preemption.no_preempt.load(std::memory_order_relaxed) + 1,
                                            std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    ~NoPreempt() {
        std::atomic_signal_fence(std::memory_order_seq_cst);
        if (t_ == nullptr) return;
        const std::uint32_t left = t_->preemption.no_preempt.load(std::memory_order_relaxed) - 1;
        t_->preemption.no_preempt.store(left, std::memory_order_relaxed);
        if (left == 0) {
            // The store must be visible to this thread's signal handler before the pending check.
            std::atomic_signal_fence(std::memory_order_seq_cst);
            preemption_point(*t_);
        }
    }
    NoPreempt(const NoPreempt &) = delete;
    NoPreempt &operator=(const NoPreempt &) = delete;

private:
    ThreadState *t_;
};

// Outcome of stopping a processor's owner for an ISR.
enum class Preempt : std::uint8_t {
    Stopped,  // target stopped while owning the processor: run the ISR, then resume(target, seq)
    NotOwner, // target no longer owns the processor (nothing to resume)
};

// Stops target, which owned processor `processor`, for an interrupt at `level`. Waits while the
// target is at or above level (sets *waited_for_irql). On Stopped, *seq is what resume() takes.
// target_id is the id the owner word held: compared instead of target.id(), which a recycled
// state may be rewriting.
Preempt stop_owner(ThreadState &target, std::uint32_t target_id, std::uint32_t processor, KIRQL level,
                   std::uint32_t *seq, bool *waited_for_irql) noexcept;
void resume(ThreadState &target, std::uint32_t seq) noexcept;

// Asks the stopped target for its stack (for a report). Returns the number of frames.
int stopped_stack(ThreadState &target, void **frames, int max) noexcept;

} // namespace ndislock::model
