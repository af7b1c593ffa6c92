// Per-processor DPC queues and the DPC threads that drain them (docs/interrupts.md).
//
// A DPC runs at DISPATCH_LEVEL on its target processor, in queue order, on one of two threads:
//   - the thread that drops that processor's IRQL below DISPATCH_LEVEL, before the drop returns,
//     as Windows runs them (a medium- or high-importance insert marks the processor,
//     model::Processor::attention; model::lower_irql runs drain_at_drop below); an insert toward
//     the caller's own processor from below DISPATCH_LEVEL makes that drop at once
//     (run_queued_dpcs_now), so the DPC has run when KeInsertQueueDpc returns;
//   - otherwise the processor's DPC thread, which takes the processor like any thread that raises
//     (model::enter_dispatch_priority: it waits while another thread of that processor is at
//     DISPATCH_LEVEL or above, and is handed the processor at that thread's next drop).
// Both pop under the queue lock while owning the processor, so a DPC runs once, and never beside
// another DPC of the same processor.
#include <pthread.h>

#include "interrupt/callback_scope.h"
#include "interrupt/processor_context.h"
#include "interrupt/scheduled_delivery.h"
#include "observe/hooks.h"
#include "model/preemption.h"
#include "model/processors.h"
#include "platform/clock.h"
#include "platform/diagnostics.h"
#include "lock/park.h"
#include "lock/wait_observer.h"
#include "platform/cpu.h"
#include "platform/short_spin.h"
#include "platform/context_local.h"

namespace ndislock::interrupt {

ProcessorContext g_contexts[NDISLOCK_MAX_PROCESSORS];

namespace {

// The queue lock: held for a few instructions by a thread that cannot be preempted meanwhile
// (NoPreempt), so spinning is right.
class QueueLock {
public:
    explicit QueueLock(ProcessorContext &c) noexcept : guard_(c.queue_lock) {}

private:
    platform::ShortSpinGuard guard_;
};

KDPC *next_of(KDPC *d) noexcept {
    return d->DpcListEntry.Next == nullptr ? nullptr
                                           : reinterpret_cast<KDPC *>(reinterpret_cast<char *>(d->DpcListEntry.Next) -
                                                                      offsetof(KDPC, DpcListEntry));
}

void *dpc_data(const KDPC *d) noexcept { return __atomic_load_n(&d->DpcData, __ATOMIC_ACQUIRE); }
void set_dpc_data(KDPC *d, void *v) noexcept { __atomic_store_n(&d->DpcData, v, __ATOMIC_RELEASE); }

// Takes the first DPC off the queue, with its system arguments as they were queued: once DpcData
// is cleared the DPC may be queued again (a periodic timer's next expiry) and the arguments
// rewritten while this run goes on.
KDPC *pop(ProcessorContext &c, DpcArguments *arguments) noexcept {
    model::NoPreempt no_preempt;
    QueueLock guard(c);
    KDPC *d = c.head;
    if (d == nullptr) return nullptr;
    arguments->first = d->SystemArgument1;
    arguments->second = d->SystemArgument2;
    c.head = next_of(d);
    if (c.head == nullptr) c.tail = nullptr;
    d->DpcListEntry.Next = nullptr;
    c.running.store(d, std::memory_order_seq_cst); // before "not queued": never neither
    set_dpc_data(d, nullptr);                      // as on Windows: a DPC routine may queue its own DPC again
    return d;
}

void finished_one(ProcessorContext &c) noexcept {
    c.finished.fetch_add(1, std::memory_order_release);
    lock::unpark_all(&c.finished);
}

void run_kernel_dpc(KDPC *d, model::ThreadState &t, const DpcArguments &a) noexcept {
    PKDEFERRED_ROUTINE routine = d->DeferredRoutine;
    if (__builtin_expect(routine == nullptr, 0)) null_dpc_routine(d, t); // does not return
    CallbackScope scope(t, observe::Callback::KernelDpc, reinterpret_cast<const void *>(routine), d,
                        observe::Site{nullptr, 0, nullptr, reinterpret_cast<const void *>(routine)});
    routine(d, d->DeferredContext, a.first, a.second);
    scope.finish();
}

// One DPC taken off c's queue (pop), run by t; then it is no longer running.
void run_dpc(ProcessorContext &c, KDPC *d, model::ThreadState &t, const DpcArguments &a) noexcept {
    observe::notify_synchronizes(d, false); // what the inserter did before the insert is before this run
    if (d->Type == kInterruptDpcType)
        run_interrupt_dpc(d, t, a);
    else if (d->Type == kTimerObjectDpcType)
        run_timer_object_dpc(d, t, a);
    else if (d->Type == kGenericCallDpcType)
        run_generic_call_dpc(d, t);
    else
        run_kernel_dpc(d, t, a);
    c.running.store(nullptr, std::memory_order_release);
}

// drain_at_drop runs on this thread (forget_drain clears it for a thread an exploration abandoned).
constinit thread_local bool draining = false;
NDISLOCK_CONTEXT_LOCAL(draining); // follows the context (platform/context_local.h)

// model::g_dpc_drain: the DPCs of processor index, run by t, which owns it at DISPATCH_LEVEL and
// is about to drop below it. Not reentrant: a DPC routine that drops the IRQL itself (a bug the
// verifier reports at its return) does not start a second drain under the first.
void drain_at_drop(model::ThreadState &t, std::uint32_t index) noexcept {
    if (draining) return;
    draining = true;
    ProcessorContext &c = g_contexts[index];
    // Cleared before the pops: an insert after the last pop marks the processor again.
    model::g_processors[index].attention.fetch_and(~model::kDpcsPending, std::memory_order_acq_rel);
    DpcArguments a{};
    c.run_since_ns.store(platform::monotonic_ns(), std::memory_order_relaxed); // the DPC watchdog's run
    while (KDPC *d = pop(c, &a)) {
        run_dpc(c, d, t, a);
        finished_one(c);
    }
    c.run_since_ns.store(0, std::memory_order_relaxed);
    draining = false;
}

void dpc_thread_main(std::uint32_t index) noexcept {
    model::ThreadState &t = model::register_current_thread_on(index);
    ProcessorContext &c = g_contexts[index];
    c.dpc_thread.store(&t, std::memory_order_release);
    thread_is_up(c);
    // One trip to DISPATCH_LEVEL revokes a bias granted before no_bias was set (it waits for the
    // bias holder's current DISPATCH_LEVEL episode, which may be the thread that started us).
    model::raise_irql(t, DISPATCH_LEVEL);
    model::lower_irql(t, PASSIVE_LEVEL);
    for (;;) {
        const std::uint32_t seen = c.queued_seq.load(std::memory_order_acquire);
        if (scheduled() != nullptr) { // an exploration runs its DPCs itself
            lock::park(&c.queued_seq, seen, 1'000'000'000);
            continue;
        }
        bool empty;
        {
            model::NoPreempt no_preempt;
            QueueLock guard(c);
            empty = c.head == nullptr;
        }
        if (empty) {
            lock::park(&c.queued_seq, seen, 1'000'000'000);
            continue;
        }
        model::enter_dispatch_priority(t);
        t.irql().store(DISPATCH_LEVEL, std::memory_order_release); // after dispatch_entry
        c.run_since_ns.store(platform::monotonic_ns(), std::memory_order_relaxed);
        DpcArguments a{};
        while (KDPC *d = pop(c, &a)) {
            run_dpc(c, d, t, a);
            finished_one(c);
        }
        c.run_since_ns.store(0, std::memory_order_relaxed);
        model::lower_irql(t, PASSIVE_LEVEL);
    }
}

void *dpc_thread_entry(void *index) {
    dpc_thread_main(static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(index)));
    return nullptr;
}
void *isr_thread_entry(void *index) {
    isr_thread_main(static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(index)));
    return nullptr;
}

void start_thread(void *(*entry)(void *), std::uint32_t index, const char *kind) noexcept {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (pthread_create(&thread, &attr, entry, reinterpret_cast<void *>(static_cast<std::uintptr_t>(index))) != 0)
        platform::fatal("cannot start the %s thread of processor %u", kind, index);
    char name[16];
    std::snprintf(name, sizeof name, "ndis-%s-%u", kind, index);
    pthread_setname_np(thread, name);
    pthread_attr_destroy(&attr);
}

} // namespace

void thread_is_up(ProcessorContext &c) noexcept {
    c.threads_up.fetch_add(1, std::memory_order_release);
    lock::unpark_all(&c.threads_up);
}

void ensure_processor_threads(std::uint32_t index) noexcept {
    ProcessorContext &c = g_contexts[index];
    if (__builtin_expect(c.started.load(std::memory_order_acquire) == 2, 1)) return;
    int expected = 0;
    if (c.started.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
        // Starting threads is ndislock's time, not the caller's: a driver that queues its first
        // DPC under a spin lock must not have the start-up (thread creation, the new threads'
        // first run: milliseconds on a loaded machine) counted as its hold. The timed holds are
        // left untimed, and the wait below sleeps, which the long-hold sentinel does not count.
        lock::note_slow_path();
        model::install_preemption();
        // From now on this processor stays in shared mode (model/processors.h): its owner word
        // names the thread an interrupt must stop. A bias granted before is revoked by the DPC
        // thread's first entry.
        model::g_processors[index].no_bias.store(true, std::memory_order_seq_cst);
        model::g_dpc_drain.store(drain_at_drop, std::memory_order_release);
        start_monitor();
        start_thread(dpc_thread_entry, index, "dpc");
        start_thread(isr_thread_entry, index, "isr");
        for (std::uint32_t up; (up = c.threads_up.load(std::memory_order_acquire)) < 2;)
            lock::park(&c.threads_up, up, lock::kParkBoundNs);
        c.started.store(2, std::memory_order_release);
        return;
    }
    while (c.started.load(std::memory_order_acquire) != 2)
        platform::yield_core();
}

std::uint32_t dpc_target_from(const KDPC *dpc, std::uint32_t processor) noexcept {
    const USHORT number = dpc->Number;
    const std::uint32_t count = model::processor_count();
    if (number >= MAXIMUM_PROCESSORS) return (number - MAXIMUM_PROCESSORS) % count;
    return processor % count;
}

std::uint32_t dpc_target(const KDPC *dpc, const model::ThreadState &t) noexcept {
    return dpc_target_from(dpc, t.processor().load(std::memory_order_relaxed));
}

bool dpc_queued(const KDPC *dpc) noexcept { return dpc_data(dpc) != nullptr; }

bool dpc_running_elsewhere(const KDPC *dpc, const model::ThreadState &t) noexcept {
    for (ProcessorContext &c : g_contexts)
        if (c.running.load(std::memory_order_seq_cst) == dpc && c.dpc_thread.load(std::memory_order_acquire) != &t)
            return true;
    return false;
}

bool insert_dpc(KDPC *dpc, std::uint32_t processor, PVOID argument1, PVOID argument2) noexcept {
    // In an exploration's schedule no DPC thread runs: the drops of the scheduler's threads drain
    // the queue (scheduled_delivery.h).
    const ScheduleControl *const schedule = scheduled();
    if (schedule != nullptr)
        model::g_dpc_drain.store(drain_at_drop, std::memory_order_release);
    else
        ensure_processor_threads(processor);
    ProcessorContext &c = g_contexts[processor];
    {
        model::NoPreempt no_preempt;
        QueueLock guard(c);
        if (dpc_data(dpc) != nullptr) return false; // already queued: it runs once
        dpc->SystemArgument1 = argument1;
        dpc->SystemArgument2 = argument2;
        dpc->DpcListEntry.Next = nullptr;
        set_dpc_data(dpc, &c);
        if (c.tail == nullptr) {
            c.head = c.tail = dpc;
        } else if (dpc->Importance == HighImportance) { // KeSetImportanceDpc: the head of the queue
            dpc->DpcListEntry.Next = &c.head->DpcListEntry;
            c.head = dpc;
        } else {
            c.tail->DpcListEntry.Next = &dpc->DpcListEntry;
            c.tail = dpc;
        }
        c.inserted.fetch_add(1, std::memory_order_relaxed);
        c.queued_seq.fetch_add(1, std::memory_order_release);
        // After the push, under the queue lock: a drain that cleared the mark before this push
        // pops the DPC, or finds the mark set again (drain_at_drop). Low importance keeps its
        // latitude: the DPC thread runs it.
        if (dpc->Importance != LowImportance) {
            model::g_processors[processor].attention.fetch_or(model::kDpcsPending, std::memory_order_release);
            // Queued by the thread running that processor through its bias (only until the
            // processor's first DPC: its DPC thread keeps it in shared mode afterwards): that
            // thread's drop must go out of line to run it (model::note_attention).
            if (model::ThreadState *t = model::tls_thread) model::note_attention(*t, processor);
        }
    }
    // Queued: what the inserter did so far happens before the DPC's run (an exploration's race
    // detection, explore/race.h). After the push, before any run can start: in a schedule this
    // thread holds the baton until its next scheduling point.
    observe::notify_synchronizes(dpc, true);
    if (schedule != nullptr) {
        schedule->work_pending(processor);
        return true;
    }
    lock::unpark_one(&c.queued_seq);
    return true;
}

void forget_drain() noexcept { draining = false; }

bool queue_holds_dpcs(std::uint32_t processor) noexcept {
    ProcessorContext &c = g_contexts[processor];
    model::NoPreempt no_preempt;
    QueueLock guard(c);
    return c.head != nullptr;
}

void empty_queue(std::uint32_t processor) noexcept {
    ProcessorContext &c = g_contexts[processor];
    model::NoPreempt no_preempt;
    QueueLock guard(c);
    c.head = c.tail = nullptr; // the KDPCs themselves are not touched: they may be freed already
    c.running.store(nullptr, std::memory_order_relaxed);
    c.run_since_ns.store(0, std::memory_order_relaxed);
    c.finished.store(c.inserted.load(std::memory_order_relaxed), std::memory_order_release);
}

void run_queued_dpcs_now(model::ThreadState &t) noexcept {
    const KIRQL old = t.irql().load(std::memory_order_relaxed);
    if (old >= DISPATCH_LEVEL || t.system || t.preemption.no_preempt.load(std::memory_order_relaxed) != 0) return;
    // As Windows' insert requests a DISPATCH_LEVEL interrupt on this processor: take the processor
    // (waiting, as any raise, while another thread runs there) and drop it again; the drop runs
    // the queue (model::lower_irql). If another thread dropped it meanwhile, it ran them.
    model::raise_irql(t, DISPATCH_LEVEL);
    model::lower_irql(t, old);
}

bool remove_dpc(KDPC *dpc) noexcept {
    for (;;) {
        auto *c = static_cast<ProcessorContext *>(dpc_data(dpc));
        if (c == nullptr) return false;
        model::NoPreempt no_preempt;
        QueueLock guard(*c);
        if (dpc_data(dpc) != c) continue; // dequeued (or moved) meanwhile: look again
        KDPC *previous = nullptr;
        for (KDPC *d = c->head; d != nullptr; previous = d, d = next_of(d)) {
            if (d != dpc) continue;
            if (previous == nullptr)
                c->head = next_of(d);
            else
                previous->DpcListEntry.Next = d->DpcListEntry.Next;
            if (c->tail == d) c->tail = previous;
            d->DpcListEntry.Next = nullptr;
            set_dpc_data(d, nullptr);
            finished_one(*c);
            return true;
        }
        set_dpc_data(dpc, nullptr); // not in the list: a corrupt object; treat as not queued
        return false;
    }
}

void flush_dpcs() noexcept {
    const std::uint32_t count = model::processor_count();
    for (std::uint32_t i = 0; i < count; ++i) {
        ProcessorContext &c = g_contexts[i];
        if (c.started.load(std::memory_order_acquire) == 0) continue;
        const std::uint32_t target = c.inserted.load(std::memory_order_acquire);
        for (;;) {
            const std::uint32_t done = c.finished.load(std::memory_order_acquire);
            if (static_cast<std::int32_t>(done - target) >= 0) break;
            lock::park(&c.finished, done, 100'000'000);
        }
    }
}

} // namespace ndislock::interrupt
