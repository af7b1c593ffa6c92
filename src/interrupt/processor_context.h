// What each virtual processor has for the interrupt side: a DPC queue, an ISR thread and a DPC
// thread (started the first time the processor gets an interrupt or a DPC), and the sequence
// words those threads sleep on.
//
// Why two threads: an ISR must be able to preempt a DPC in the middle (the classic hazard is a
// DPC holding a spin lock its processor's ISR wants), and preemption stops a thread
// (model/preemption.h); so DPCs run on a thread the ISR thread can stop, like any other code
// at DISPATCH_LEVEL.
#pragma once

#include <atomic>
#include <cstdint>

#include "model/thread_state.h"
#include "ndislock/ext.h"
#include "ndislock/wdk_types.h"

namespace ndislock::interrupt {

struct alignas(64) ProcessorContext {
    // The DPC queue: a FIFO through KDPC::DpcListEntry, guarded by queue_lock (taken under
    // model::NoPreempt, so no ISR can stop a thread holding it).
    std::atomic<bool> queue_lock{false};
    KDPC *head = nullptr;
    KDPC *tail = nullptr;
    std::atomic<std::uint32_t> queued_seq{0}; // bumped by every insert: the DPC thread parks on it
    std::atomic<std::uint32_t> inserted{0};   // DPCs ever queued here
    std::atomic<std::uint32_t> finished{0};   // DPCs that ran or were removed (KeFlushQueuedDpcs)
    // The DPC the DPC thread took off the queue and runs (set before its DpcData is cleared, so a
    // DPC is always seen as queued or running until it returns), and when the thread's current
    // run of back-to-back DPCs began (0 while idle): the modelled DPC watchdog's two clocks.
    std::atomic<const KDPC *> running{nullptr};
    std::atomic<std::uint64_t> run_since_ns{0};
    // Interrupts: the slots (interrupt/interrupts.h) with an assert toward this processor not yet
    // picked up, and a word bumped by every assert: the ISR thread parks on it.
    std::atomic<std::uint64_t> asserted_slots{0};
    std::atomic<std::uint32_t> irq_seq{0};
    std::atomic<int> started{0}; // 0 no threads, 1 starting, 2 running
    // The threads started so far that have registered (isr_thread, dpc_thread set): the starter
    // parks on it, a started thread bumps it and unparks.
    std::atomic<std::uint32_t> threads_up{0};
    std::atomic<model::ThreadState *> isr_thread{nullptr};
    std::atomic<model::ThreadState *> dpc_thread{nullptr};
};

extern ProcessorContext g_contexts[NDISLOCK_MAX_PROCESSORS];

// Called by each of processor c's threads once it is registered: its starter may go on.
void thread_is_up(ProcessorContext &c) noexcept;

// Starts processor index's ISR and DPC threads if they are not running yet (and the watchdog).
void ensure_processor_threads(std::uint32_t index) noexcept;

// The DPC queue.
bool insert_dpc(KDPC *dpc, std::uint32_t processor, PVOID argument1, PVOID argument2) noexcept;
bool remove_dpc(KDPC *dpc) noexcept;
void flush_dpcs() noexcept;
// The calling thread runs no DPC drain any more: its drain was abandoned by a failing exploration
// schedule (scheduled_delivery.h).
void forget_drain() noexcept;
// Whether processor's queue holds a DPC; the queue emptied, as if its DPCs had run, without
// touching them (between two exploration schedules, scheduled_delivery.h).
bool queue_holds_dpcs(std::uint32_t processor) noexcept;
void empty_queue(std::uint32_t processor) noexcept;
// An insert toward t's own processor from below DISPATCH_LEVEL: runs that processor's queued DPCs
// on t before it returns, as Windows does (nothing at DISPATCH_LEVEL and above, on an interrupt
// or DPC thread, or inside ndislock's own bookkeeping).
void run_queued_dpcs_now(model::ThreadState &t) noexcept;
// The processor a DPC runs on when queued by thread t, or for a timer set on processor.
std::uint32_t dpc_target(const KDPC *dpc, const model::ThreadState &t) noexcept;
std::uint32_t dpc_target_from(const KDPC *dpc, std::uint32_t processor) noexcept;
// Whether dpc sits in a queue, or runs on a DPC thread other than t.
bool dpc_queued(const KDPC *dpc) noexcept;
bool dpc_running_elsewhere(const KDPC *dpc, const model::ThreadState &t) noexcept;

// A DPC's system arguments as they were when it was taken off its queue.
struct DpcArguments {
    PVOID first;
    PVOID second;
};

// Marks KDPCs ndislock queues for an interrupt (Type), so the DPC thread runs them as
// MiniportInterruptDPC (interrupts.cpp).
inline constexpr UCHAR kInterruptDpcType = 0xD0;
void run_interrupt_dpc(KDPC *dpc, model::ThreadState &t, const DpcArguments &arguments) noexcept;
// Marks the KDPC of an NDIS timer object, run as its NetTimerCallback (timer_objects.cpp).
inline constexpr UCHAR kTimerObjectDpcType = 0xD2;
void run_timer_object_dpc(KDPC *dpc, model::ThreadState &t, const DpcArguments &arguments) noexcept;
// Marks the KDPCs of KeGenericCallDpc (generic_call.cpp), run by run_generic_call_dpc.
inline constexpr UCHAR kGenericCallDpcType = 0xD1;
void run_generic_call_dpc(KDPC *dpc, model::ThreadState &t) noexcept;
// KeGenericCallDpc (the caller below DISPATCH_LEVEL), KeSignalCallDpcSynchronize and
// KeSignalCallDpcDone (t runs the routine at DISPATCH_LEVEL).
void generic_call(PKDEFERRED_ROUTINE routine, PVOID context, model::ThreadState &t) noexcept;
bool signal_call_dpc_synchronize(PVOID system_argument2, model::ThreadState &t) noexcept;
void signal_call_dpc_done(PVOID system_argument1, model::ThreadState &t) noexcept;
// A KDPC run with a NULL routine: the BugCheck report, then the end (bug_check.cpp).
[[noreturn]] void null_dpc_routine(const KDPC *dpc, model::ThreadState &t) noexcept;

// KeQueryDpcWatchdogInformation for thread t: false (and *out zeroed) unless t runs a DPC
// (dpc_watchdog.cpp).
bool dpc_watchdog_information(const model::ThreadState &t, KDPC_WATCHDOG_INFORMATION *out) noexcept;

// The ISR thread's body (delivery.cpp).
void isr_thread_main(std::uint32_t index) noexcept;
// The watchdog over ISRs and DPCs (monitor.cpp).
void start_monitor() noexcept;

} // namespace ndislock::interrupt
