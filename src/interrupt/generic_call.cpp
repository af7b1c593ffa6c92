// KeGenericCallDpc and the two calls its routine makes (ndislock/ndis_interrupt.h): the routine
// runs as a DPC on every virtual processor at once, may meet the others at a barrier
// (KeSignalCallDpcSynchronize), and says it is done (KeSignalCallDpcDone); the caller returns when
// every processor's DPC has returned.
//
// One generic call at a time, as in NT: two at once could deadlock, each processor running one
// call's DPC at the other's barrier. The call's state is one static object, handed to the routine
// as both system arguments, so nothing of it lives on a stack a late DPC could still touch.
#include <cstdio>

#include "interrupt/callback_scope.h"
#include "interrupt/processor_context.h"
#include "lock/park.h"
#include "lock/wait_observer.h"
#include "model/processors.h"
#include "observe/hooks.h"
#include "platform/cpu.h"
#include "platform/diagnostics.h"

namespace ndislock::interrupt {

namespace {

constexpr std::uint32_t kCallMagic = 0x4B474344; // "KGCD": a SystemArgument of a generic call

struct GenericCall {
    std::uint32_t magic = 0;
    std::uint32_t processors = 0;
    // Processors whose DPC has not returned yet: the caller parks on it.
    std::atomic<std::uint32_t> running{0};
    // The barrier: arrivals at the current one, and its generation (bumped by the last arrival).
    std::atomic<std::uint32_t> arrived{0};
    std::atomic<std::uint32_t> generation{0};
    // Which processors called KeSignalCallDpcDone (a routine that returns without it would leave
    // Windows' caller waiting forever).
    std::atomic<std::uint64_t> done{0};
    KDPC dpcs[NDISLOCK_MAX_PROCESSORS] = {};
};

GenericCall g_call;
std::atomic<std::uint32_t> g_gate{0}; // 1 while a generic call runs

GenericCall &call_of(PVOID argument, const char *call) noexcept {
    auto *c = static_cast<GenericCall *>(argument);
    if (c != &g_call || c->magic != kCallMagic)
        platform::fatal("%s(%p): not the system argument KeGenericCallDpc passed to its routine (call it only from "
                        "that routine, with the argument it was given)",
                        call, argument);
    return *c;
}

// The processor the calling DPC runs on (it is at DISPATCH_LEVEL, owning it).
std::uint32_t current_processor(const model::ThreadState &t) noexcept {
    return t.irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL ? model::dispatch_index(t)
                                                                      : t.processor().load(std::memory_order_relaxed);
}

[[noreturn, gnu::cold]] void returned_without_done(const KDPC *dpc, std::uint32_t processor) noexcept {
    char detail[300];
    std::snprintf(detail, sizeof detail,
                  "the KeGenericCallDpc routine %p returned on processor %u without calling KeSignalCallDpcDone: "
                  "the caller of KeGenericCallDpc would wait for it forever",
                  reinterpret_cast<const void *>(dpc->DeferredRoutine), processor);
    observe::report_misuse(observe::Rule::Deadlock,
                           observe::Site{nullptr, 0, nullptr, reinterpret_cast<const void *>(dpc->DeferredRoutine)},
                           detail);
    platform::fatal("Deadlock: %s", detail); // a terminal rule: reached only if an observer let it go on
}

} // namespace

void run_generic_call_dpc(KDPC *d, model::ThreadState &t) noexcept {
    GenericCall &call = g_call;
    const std::uint32_t processor = current_processor(t);
    PKDEFERRED_ROUTINE routine = d->DeferredRoutine;
    {
        CallbackScope scope(t, observe::Callback::KernelDpc, reinterpret_cast<const void *>(routine), d,
                            observe::Site{nullptr, 0, nullptr, reinterpret_cast<const void *>(routine)});
        routine(d, d->DeferredContext, d->SystemArgument1, d->SystemArgument2);
        scope.finish();
    }
    if (__builtin_expect((call.done.load(std::memory_order_acquire) >> processor & 1) == 0, 0))
        returned_without_done(d, processor);
    // The last touch of the call: the caller may start the next one once this reaches 0.
    if (call.running.fetch_sub(1, std::memory_order_acq_rel) == 1) lock::unpark_all(&call.running);
}

void generic_call(PKDEFERRED_ROUTINE routine, PVOID context, model::ThreadState &t) noexcept {
    while (g_gate.exchange(1, std::memory_order_acquire) != 0)
        lock::park(&g_gate, 1, lock::kParkBoundNs);
    const std::uint32_t count = model::processor_count();
    for (std::uint32_t p = 0; p < count; ++p)
        ensure_processor_threads(p); // before the raise: it may wait
    GenericCall &call = g_call;
    call.magic = kCallMagic;
    call.processors = count;
    call.arrived.store(0, std::memory_order_relaxed);
    call.done.store(0, std::memory_order_relaxed);
    call.running.store(count, std::memory_order_release);
    // At DISPATCH_LEVEL while queueing, so this processor's DPC waits until every other one is
    // queued; it runs at the drop (or on the processor's DPC thread), like the others.
    const KIRQL old = t.irql().load(std::memory_order_relaxed);
    model::raise_irql(t, DISPATCH_LEVEL);
    for (std::uint32_t p = 0; p < count; ++p) {
        KDPC &d = call.dpcs[p];
        d.Type = kGenericCallDpcType;
        d.Importance = HighImportance;
        d.Number = static_cast<USHORT>(MAXIMUM_PROCESSORS + p);
        d.DeferredRoutine = routine;
        d.DeferredContext = context;
        __atomic_store_n(&d.DpcData, nullptr, __ATOMIC_RELEASE);
        insert_dpc(&d, p, &call, &call);
    }
    model::lower_irql(t, old);
    for (;;) {
        const std::uint32_t running = call.running.load(std::memory_order_acquire);
        if (running == 0) break;
        lock::park(&call.running, running, lock::kParkBoundNs);
    }
    call.magic = 0;
    g_gate.store(0, std::memory_order_release);
    lock::unpark_one(&g_gate);
}

bool signal_call_dpc_synchronize(PVOID argument, model::ThreadState &t) noexcept {
    GenericCall &call = call_of(argument, "KeSignalCallDpcSynchronize");
    (void)t;
    const std::uint32_t generation = call.generation.load(std::memory_order_acquire);
    if (call.arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == call.processors) {
        // The last to arrive opens the barrier (and resets it for the next one).
        call.arrived.store(0, std::memory_order_relaxed);
        call.generation.fetch_add(1, std::memory_order_release);
        lock::unpark_all(&call.generation);
        return true;
    }
    for (std::uint32_t spins = 0; call.generation.load(std::memory_order_acquire) == generation; ++spins) {
        if (spins < 256)
            platform::cpu_relax();
        else
            lock::park(&call.generation, generation, lock::kParkBoundNs);
    }
    return false;
}

void signal_call_dpc_done(PVOID argument, model::ThreadState &t) noexcept {
    GenericCall &call = call_of(argument, "KeSignalCallDpcDone");
    call.done.fetch_or(std::uint64_t{1} << current_processor(t), std::memory_order_release);
}

} // namespace ndislock::interrupt
