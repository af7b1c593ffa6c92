// Interrupt objects: registration, NdisMSynchronizeWithInterruptEx, the ISR and DPC bodies,
// the simulated device's assert, statistics; and the adapters NdislockMiniportInitialize makes.
#include "interrupt/interrupts.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "interrupt/callback_scope.h"
#include "interrupt/processor_context.h"
#include "interrupt/scheduled_delivery.h"
#include "interrupt/timers.h"
#include "lock/spin_word.h"
#include "model/preemption.h"
#include "observe/hooks.h"
#include "observe/lock_names.h"
#include "observe/trace.h"
#include "model/processors.h"
#include "platform/clock.h"
#include "platform/diagnostics.h"
#include "lock/park.h"

namespace ndislock::interrupt {

Interrupt g_interrupts[kMaxInterrupts];
Adapter g_adapters[kMaxAdapters];

namespace {

std::mutex g_registry; // registration and adapter slots (PASSIVE_LEVEL callers only)

// The interrupt's spin lock, around the ISR and the synchronize, enable and disable routines. The
// lock layer's own word, not an observed spin lock (the verifier has rules of its own for it); an
// exploration's race detection sees it as the lock it is (observe::notify_synchronizes): what a
// synchronize function did is before the next ISR, and the ISR before the next synchronize call.
void take_interrupt_lock(PKSPIN_LOCK lock) noexcept {
    lock::spin_acquire(lock);
    observe::notify_synchronizes(lock, false);
}
void give_interrupt_lock(PKSPIN_LOCK lock) noexcept {
    observe::notify_synchronizes(lock, true);
    lock::spin_release(lock);
}
std::atomic<std::uint32_t> g_round_robin{0};

// Handle encoding: bits 0-3 a tag, 4-11 the slot, 12 and up the slot's generation.
constexpr std::uintptr_t kInterruptTag = 0x9;
constexpr std::uintptr_t kAdapterTag = 0xA;

NDIS_HANDLE encode(std::uintptr_t tag, std::uint32_t slot, std::uint32_t generation) noexcept {
    return reinterpret_cast<NDIS_HANDLE>((std::uintptr_t{generation & 0xFFFFFu} << 12) | (std::uintptr_t{slot} << 4) |
                                         tag);
}

bool decode(NDIS_HANDLE handle, std::uintptr_t tag, std::uint32_t limit, std::uint32_t *slot,
            std::uint32_t *generation) noexcept {
    const auto h = reinterpret_cast<std::uintptr_t>(handle);
    if ((h & 0xF) != tag) return false;
    *slot = static_cast<std::uint32_t>((h >> 4) & 0xFF);
    *generation = static_cast<std::uint32_t>(h >> 12);
    return *slot < limit && (h >> 32) == 0;
}

model::ThreadState &caller() noexcept {
    model::ThreadState *t = model::tls_thread;
    return t != nullptr ? *t : model::register_current_thread();
}

observe::Site routine_site(const void *routine) noexcept { return observe::Site{nullptr, 0, nullptr, routine}; }

// Deregisters slot i: no new deliveries, queued DPCs removed, running ones finished.
void close_one(Interrupt &i) noexcept {
    i.state.store(SlotState::Closing, std::memory_order_release);
    i.pending.store(0, std::memory_order_release);
    // Every processor's: a DPC may be queued toward a processor whose DPC thread never started
    // (an exploration delivers DPCs itself), and would run after the deregistration.
    const std::uint32_t count = model::processor_count();
    for (std::uint32_t p = 0; p < count; ++p)
        remove_dpc(&i.dpcs[p].dpc);
    while (i.active.load(std::memory_order_acquire) != 0)
        lock::park(&i.active, i.active.load(), 1'000'000);
    for (std::uint32_t p = 0; p < count; ++p) // a DPC that queued another before seeing Closing
        remove_dpc(&i.dpcs[p].dpc);
    i.generation.fetch_add(1, std::memory_order_acq_rel);
    i.state.store(SlotState::Free, std::memory_order_release);
}

// Deregisters an interrupt: a line-based one, or every message of a message-signalled one.
void close_interrupt(Interrupt &i) noexcept {
    if (i.msi)
        for (std::uint32_t m = 1; m < i.message_count; ++m)
            close_one(g_interrupts[i.message_slots[m]]);
    close_one(i);
    std::free(i.message_table); // MessageInfoTable: dead with the registration
    i.message_table = nullptr;
    i.message_count = 0;
}

// The slot of message m of the interrupt whose primary is i, or nullptr.
Interrupt *message_of(Interrupt &i, ULONG m) noexcept {
    if (!i.msi) return m == 0 ? &i : nullptr;
    return m < i.message_count ? &g_interrupts[i.message_slots[m]] : nullptr;
}

void reset_figures(Interrupt &i) noexcept {
    auto &k = i.counters;
    for (auto *counter : {&k.asserted, &k.coalesced, &k.delivered, &k.claimed, &k.preempted, &k.held_pending,
                          &k.dpcs_queued, &k.dpcs_run, &k.synchronized})
        counter->store(0, std::memory_order_relaxed);
    i.delivery_latency.reset();
    i.dpc_latency.reset();
    i.isr_duration.reset();
    i.dpc_duration.reset();
}

const char *state_word(Lookup how) noexcept {
    return how == Lookup::Stale ? "a deregistered interrupt (NdisMDeregisterInterruptEx already ran)"
                                : "a handle NdisMRegisterInterruptEx never returned";
}

} // namespace

void leave_active(Interrupt &i) noexcept {
    if (i.active.fetch_sub(1, std::memory_order_acq_rel) == 1) lock::unpark_all(&i.active);
}

NDIS_HANDLE Interrupt::handle() const noexcept {
    return encode(kInterruptTag, index, generation.load(std::memory_order_acquire));
}

Interrupt *find_interrupt(NDIS_HANDLE handle, Lookup *how) noexcept {
    std::uint32_t slot = 0, generation = 0;
    if (!decode(handle, kInterruptTag, kMaxInterrupts, &slot, &generation)) {
        *how = Lookup::Unknown;
        return nullptr;
    }
    Interrupt &i = g_interrupts[slot];
    const std::uint32_t current = i.generation.load(std::memory_order_acquire) & 0xFFFFFu;
    if (current == generation && i.state.load(std::memory_order_acquire) == SlotState::Live) {
        *how = Lookup::Live;
        return &i;
    }
    *how = generation < current || (current == generation) ? Lookup::Stale : Lookup::Unknown;
    return nullptr;
}

Adapter *find_adapter(NDIS_HANDLE handle, std::uint32_t *slot) noexcept {
    std::uint32_t generation = 0;
    if (!decode(handle, kAdapterTag, kMaxAdapters, slot, &generation)) return nullptr;
    Adapter &a = g_adapters[*slot];
    if ((a.generation.load(std::memory_order_acquire) & 0xFFFFFu) != generation ||
        a.state.load(std::memory_order_acquire) != SlotState::Live)
        return nullptr;
    return &a;
}

NDIS_STATUS register_interrupt(NDIS_HANDLE adapter, NDIS_HANDLE context, PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS c,
                               PNDIS_HANDLE out, const observe::Site &site) noexcept {
    model::ThreadState &t = caller();
    if (const KIRQL irql = t.irql().load(std::memory_order_relaxed); irql != PASSIVE_LEVEL) {
        observe::report_misusef(observe::Rule::InterruptRegistrationMisuse, site,
                                "NdisMRegisterInterruptEx at IRQL %u: it may only be called at PASSIVE_LEVEL, from "
                                "MiniportInitializeEx; the interrupt is not registered",
                                irql);
        return NDIS_STATUS_FAILURE;
    }
    std::uint32_t adapter_slot = 0;
    if (find_adapter(adapter, &adapter_slot) == nullptr) {
        observe::report_misusef(
            observe::Rule::InterruptRegistrationMisuse, site,
            "NdisMRegisterInterruptEx with MiniportAdapterHandle %p, which is not an adapter NDIS (here "
            "NdislockMiniportInitialize) handed to MiniportInitializeEx; the interrupt is not registered",
            adapter);
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    if (c == nullptr || out == nullptr) {
        platform::diagnostic("NdisMRegisterInterruptEx: %s is NULL",
                             c == nullptr ? "the characteristics" : "the handle pointer");
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    if (c->Header.Type != NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT ||
        c->Header.Revision < NDIS_MINIPORT_INTERRUPT_REVISION_1 ||
        c->Header.Size < NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1) {
        platform::diagnostic(
            "NdisMRegisterInterruptEx: the characteristics' Header is {Type 0x%x, Revision %u, Size %u}; "
            "expected {NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT (0x84), NDIS_MINIPORT_INTERRUPT_REVISION_1, "
            "NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1 (%u)}",
            c->Header.Type, c->Header.Revision, c->Header.Size,
            static_cast<unsigned>(NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1));
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    if (c->InterruptHandler == nullptr || c->InterruptDpcHandler == nullptr) {
        platform::diagnostic("NdisMRegisterInterruptEx: InterruptHandler and InterruptDpcHandler are required");
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    const bool msi = c->MsiSupported != FALSE;
    if (msi && (c->MessageInterruptHandler == nullptr || c->MessageInterruptDpcHandler == nullptr)) {
        platform::diagnostic("NdisMRegisterInterruptEx: with MsiSupported, MessageInterruptHandler and "
                             "MessageInterruptDpcHandler are required");
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    std::uint32_t messages = 1;
    if (msi) {
        messages = g_adapters[adapter_slot].message_count.load(std::memory_order_relaxed);
        if (messages == 0) messages = std::min<std::uint32_t>(model::processor_count(), kMaxMessages);
    }
    model::NoPreempt no_preempt;
    std::lock_guard<std::mutex> guard(g_registry);
    std::uint32_t slots[kMaxMessages] = {};
    std::uint32_t found = 0;
    for (std::uint32_t slot = 0; slot < kMaxInterrupts && found < messages; ++slot)
        if (g_interrupts[slot].state.load(std::memory_order_acquire) == SlotState::Free) slots[found++] = slot;
    if (found < messages) {
        platform::diagnostic("NdisMRegisterInterruptEx: more than %u interrupts and messages registered at once",
                             kMaxInterrupts);
        return NDIS_STATUS_RESOURCES;
    }
    Interrupt &first = g_interrupts[slots[0]];
    IO_INTERRUPT_MESSAGE_INFO *table = nullptr;
    if (msi) {
        const std::size_t size = offsetof(IO_INTERRUPT_MESSAGE_INFO, MessageInfo) +
                                 std::size_t{messages} * sizeof(IO_INTERRUPT_MESSAGE_INFO_ENTRY);
        table = static_cast<IO_INTERRUPT_MESSAGE_INFO *>(std::calloc(1, size));
        if (table == nullptr) return NDIS_STATUS_RESOURCES;
        table->UnifiedIrql = NDISLOCK_DEVICE_IRQL;
        table->MessageCount = messages;
    }
    for (std::uint32_t m = 0; m < messages; ++m) {
        Interrupt &i = g_interrupts[slots[m]];
        i.index = slots[m];
        i.adapter = adapter_slot;
        i.context = context;
        i.isr = c->InterruptHandler;
        i.dpc = c->InterruptDpcHandler;
        i.enable = c->EnableInterruptHandler;
        i.disable = c->DisableInterruptHandler;
        i.msi = msi;
        i.message = m;
        i.primary = &first;
        i.message_count = 0;
        i.message_table = nullptr;
        i.msi_isr = msi ? c->MessageInterruptHandler : nullptr;
        i.msi_dpc = msi ? c->MessageInterruptDpcHandler : nullptr;
        i.msi_enable = msi ? c->EnableMessageInterruptHandler : nullptr;
        i.msi_disable = msi ? c->DisableMessageInterruptHandler : nullptr;
        i.dirql = NDISLOCK_DEVICE_IRQL;
        i.lock = 0;
        i.sync_lock = msi && c->MsiSyncWithAllMessages ? &first.lock : &i.lock;
        observe::set_lock_name(&i.lock, msi ? "a message's interrupt spin lock (NdisMSynchronizeWithInterruptEx)"
                                            : "the interrupt's spin lock (NdisMSynchronizeWithInterruptEx)");
        i.pending.store(0, std::memory_order_relaxed);
        i.active.store(0, std::memory_order_relaxed);
        for (auto &n : i.msi_pending)
            n.store(0, std::memory_order_relaxed);
        const std::uint32_t generation = i.generation.load(std::memory_order_relaxed);
        for (std::uint32_t p = 0; p < NDISLOCK_MAX_PROCESSORS; ++p) {
            InterruptDpc &d = i.dpcs[p];
            d.dpc = KDPC{};
            d.dpc.Type = kInterruptDpcType;
            // Medium, as Windows queues NdisMQueueDpcEx's and MiniportInterrupt's DPCs: a drop of
            // the processor's IRQL below DISPATCH_LEVEL runs them (dpc_queue.cpp), not only its
            // DPC thread.
            d.dpc.Importance = MediumImportance;
            d.dpc.Number = static_cast<USHORT>(MAXIMUM_PROCESSORS + p);
            d.owner = &i;
            d.processor = p;
            d.generation.store(generation, std::memory_order_relaxed);
        }
        reset_figures(i); // fresh figures for the new registration
        first.message_slots[m] = slots[m];
        if (table != nullptr) {
            IO_INTERRUPT_MESSAGE_INFO_ENTRY &e = table->MessageInfo[m];
            e.MessageAddress.QuadPart = 0xFEE00000; // the x86 MSI address window
            e.TargetProcessorSet = model::processor_count() >= 8 * sizeof(KAFFINITY)
                                       ? ~KAFFINITY{0}
                                       : (KAFFINITY{1} << model::processor_count()) - 1;
            e.InterruptObject = nullptr;
            e.MessageData = m;
            e.Vector = 0x50 + m;
            e.Irql = NDISLOCK_DEVICE_IRQL;
            e.Mode = Latched;
            e.Polarity = InterruptRisingEdge;
        }
    }
    first.message_count = msi ? messages : 0;
    first.message_table = table;
    for (std::uint32_t m = 0; m < messages; ++m)
        g_interrupts[slots[m]].state.store(SlotState::Live, std::memory_order_release);
    c->InterruptType = msi ? NDIS_CONNECT_MESSAGE_BASED : NDIS_CONNECT_LINE_BASED;
    c->MessageInfoTable = table;
    *out = first.handle();
    return NDIS_STATUS_SUCCESS;
}

NDISLOCK_STATUS set_adapter_message_count(NDIS_HANDLE adapter, ULONG count) noexcept {
    std::uint32_t slot = 0;
    if (find_adapter(adapter, &slot) == nullptr || count == 0 || count > kMaxMessages) return NDISLOCK_INVALID_ARGUMENT;
    g_adapters[slot].message_count.store(count, std::memory_order_relaxed);
    return NDISLOCK_OK;
}

void deregister_interrupt(NDIS_HANDLE handle, const observe::Site &site) noexcept {
    model::ThreadState &t = caller();
    if (const KIRQL irql = t.irql().load(std::memory_order_relaxed); irql != PASSIVE_LEVEL) {
        observe::report_misusef(
            observe::Rule::InterruptRegistrationMisuse, site,
            "NdisMDeregisterInterruptEx at IRQL %u: it may only be called at PASSIVE_LEVEL (from MiniportHaltEx "
            "or the MiniportInitializeEx failure path), since it waits for the interrupt's ISR and DPCs; the "
            "interrupt stays registered",
            irql);
        return;
    }
    Lookup how{};
    Interrupt *i = find_interrupt(handle, &how);
    if (i != nullptr && i->primary != i) { // a message's own slot: never a handle NDIS gave out
        i = nullptr;
        how = Lookup::Unknown;
    }
    if (i == nullptr) {
        observe::report_misusef(observe::Rule::InterruptRegistrationMisuse, site,
                                "NdisMDeregisterInterruptEx on %s (handle %p)", state_word(how), handle);
        return;
    }
    model::NoPreempt no_preempt;
    std::lock_guard<std::mutex> guard(g_registry);
    if (i->state.load(std::memory_order_acquire) == SlotState::Live) close_interrupt(*i);
}

// As find_interrupt, and an interrupt being deregistered too: NdisMDeregisterInterruptEx waits for
// the interrupt's running DPCs, which may still synchronize with it meanwhile (the DPC re-enabling
// what its ISR masked), as on Windows, where the interrupt object lives until the deregistration
// returns.
static Interrupt *find_interrupt_or_closing(NDIS_HANDLE handle, Lookup *how) noexcept {
    if (Interrupt *i = find_interrupt(handle, how)) return i;
    std::uint32_t slot = 0, generation = 0;
    if (!decode(handle, kInterruptTag, kMaxInterrupts, &slot, &generation)) return nullptr;
    Interrupt &i = g_interrupts[slot];
    if ((i.generation.load(std::memory_order_acquire) & 0xFFFFFu) != generation ||
        i.state.load(std::memory_order_acquire) != SlotState::Closing)
        return nullptr;
    *how = Lookup::Live;
    return &i;
}

BOOLEAN synchronize(NDIS_HANDLE handle, ULONG message, MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER function, PVOID context,
                    const observe::Site &site) noexcept {
    model::ThreadState &t = caller();
    if (const ScheduleControl *schedule = scheduled()) schedule->point(); // before it takes anything
    Lookup how{};
    Interrupt *i = find_interrupt_or_closing(handle, &how);
    if (i == nullptr) {
        observe::report_misusef(
            observe::Rule::SyncInterruptMisuse, site,
            "NdisMSynchronizeWithInterruptEx on %s (handle %p): the synchronize function is not called",
            state_word(how), handle);
        return FALSE;
    }
    if (function == nullptr) {
        platform::diagnostic("NdisMSynchronizeWithInterruptEx: SynchronizeFunction is NULL");
        return FALSE;
    }
    Interrupt *target = message_of(*i, message);
    if (target == nullptr) {
        if (i->msi)
            observe::report_misusef(
                observe::Rule::SyncInterruptMisuse, site,
                "NdisMSynchronizeWithInterruptEx with MessageId %u on an interrupt of %u message(s): the "
                "synchronize function is not called",
                message, i->message_count);
        else
            observe::report_misusef(
                observe::Rule::SyncInterruptMisuse, site,
                "NdisMSynchronizeWithInterruptEx with MessageId %u on a line-based interrupt (it must be 0): the "
                "synchronize function is not called",
                message);
        return FALSE;
    }
    const KIRQL irql = t.irql().load(std::memory_order_relaxed);
    const auto in = static_cast<observe::Callback>(t.callback.kind.load(std::memory_order_relaxed));
    // Nested: the running ISR, synchronize function or enable/disable routine holds the spin lock
    // this call would take (the same interrupt, or a message sharing the lock).
    Lookup running_how{};
    const Interrupt *running =
        find_interrupt(const_cast<void *>(t.callback.object.load(std::memory_order_relaxed)), &running_how);
    if (running != nullptr && running->sync_lock == target->sync_lock &&
        (in == observe::Callback::Isr || in == observe::Callback::Synchronize ||
         in == observe::Callback::EnableInterrupt || in == observe::Callback::DisableInterrupt)) {
        observe::report_misusef(
            observe::Rule::SyncInterruptMisuse, site,
            "NdisMSynchronizeWithInterruptEx inside %s of the same interrupt, which already holds the interrupt's "
            "spin lock: on Windows the processor spins on it forever; the synchronize function is not called",
            observe::callback_name(in));
        return FALSE;
    }
    if (irql > i->dirql) {
        observe::report_misusef(
            observe::Rule::SyncInterruptMisuse, site,
            "NdisMSynchronizeWithInterruptEx at IRQL %u, above the interrupt's DIRQL %u: the raise would lower the "
            "IRQL; the synchronize function is not called",
            irql, i->dirql);
        return FALSE;
    }
    target->active.fetch_add(1, std::memory_order_acq_rel);
    const KIRQL old = model::raise_irql(t, target->dirql);
    take_interrupt_lock(target->sync_lock);
    CallbackScope scope(t, observe::Callback::Synchronize, reinterpret_cast<const void *>(function), target->handle(),
                        site);
    const BOOLEAN result = function(context);
    scope.finish();
    give_interrupt_lock(target->sync_lock);
    target->counters.synchronized.fetch_add(1, std::memory_order_relaxed);
    leave_active(*target);
    model::lower_irql(t, old); // an interrupt held pending meanwhile is taken here
    return result;
}

NDISLOCK_STATUS run_enable_disable(NDIS_HANDLE handle, bool enable) noexcept {
    model::ThreadState &t = caller();
    Lookup how{};
    Interrupt *i = find_interrupt(handle, &how);
    if (i == nullptr) return NDISLOCK_INVALID_ARGUMENT;
    if (t.irql().load(std::memory_order_relaxed) > DISPATCH_LEVEL) return NDISLOCK_WRONG_IRQL;
    if (i->msi) { // MiniportEnable/DisableMessageInterrupt, message by message
        auto *routine = enable ? i->msi_enable : i->msi_disable;
        if (routine == nullptr) return NDISLOCK_INVALID_ARGUMENT;
        for (std::uint32_t m = 0; m < i->message_count; ++m) {
            Interrupt &slot = g_interrupts[i->message_slots[m]];
            slot.active.fetch_add(1, std::memory_order_acq_rel);
            const KIRQL old = model::raise_irql(t, slot.dirql);
            take_interrupt_lock(slot.sync_lock);
            CallbackScope scope(t, enable ? observe::Callback::EnableInterrupt : observe::Callback::DisableInterrupt,
                                reinterpret_cast<const void *>(routine), slot.handle(),
                                routine_site(reinterpret_cast<const void *>(routine)));
            routine(slot.context, m);
            scope.finish();
            give_interrupt_lock(slot.sync_lock);
            leave_active(slot);
            model::lower_irql(t, old);
        }
        return NDISLOCK_OK;
    }
    auto *routine = enable ? i->enable : i->disable;
    if (routine == nullptr) return NDISLOCK_INVALID_ARGUMENT;
    i->active.fetch_add(1, std::memory_order_acq_rel);
    const KIRQL old = model::raise_irql(t, i->dirql);
    take_interrupt_lock(&i->lock);
    CallbackScope scope(t, enable ? observe::Callback::EnableInterrupt : observe::Callback::DisableInterrupt,
                        reinterpret_cast<const void *>(routine), handle,
                        routine_site(reinterpret_cast<const void *>(routine)));
    routine(i->context);
    scope.finish();
    give_interrupt_lock(&i->lock);
    leave_active(*i);
    model::lower_irql(t, old);
    return NDISLOCK_OK;
}

bool queue_interrupt_dpc(Interrupt &i, std::uint32_t processor, PVOID context) noexcept {
    InterruptDpc &d = i.dpcs[processor];
    if (__atomic_load_n(&d.dpc.DpcData, __ATOMIC_ACQUIRE) == nullptr)
        d.queued_ns.store(platform::monotonic_ns(), std::memory_order_relaxed);
    d.generation.store(i.generation.load(std::memory_order_relaxed), std::memory_order_relaxed);
    if (!insert_dpc(&d.dpc, processor, context, nullptr)) return false;
    i.counters.dpcs_queued.fetch_add(1, std::memory_order_relaxed);
    return true;
}

KAFFINITY queue_interrupt_dpcs(NDIS_HANDLE handle, ULONG message, KAFFINITY processors, PVOID context) noexcept {
    Lookup how{};
    Interrupt *primary = find_interrupt(handle, &how);
    if (primary == nullptr) {
        observe::report_misusef(observe::Rule::SyncInterruptMisuse,
                                observe::Site{nullptr, 0, nullptr, __builtin_return_address(0)},
                                "NdisMQueueDpcEx on %s (handle %p): no DPC is queued", state_word(how), handle);
        return 0;
    }
    Interrupt *i = message_of(*primary, message);
    if (i == nullptr) {
        platform::diagnostic("NdisMQueueDpcEx: MessageId %u: the interrupt %s", message,
                             primary->msi ? "has fewer messages" : "is line-based (MessageId must be 0)");
        return 0;
    }
    KAFFINITY queued = 0;
    const std::uint32_t count = model::processor_count();
    for (std::uint32_t p = 0; p < count && p < 8 * sizeof(KAFFINITY); ++p)
        if ((processors >> p) & 1u)
            if (queue_interrupt_dpc(*i, p, context)) queued |= KAFFINITY{1} << p;
    return queued;
}

void run_isr(Interrupt &i, std::uint32_t processor, model::ThreadState &t) noexcept {
    const std::uint64_t entered = platform::monotonic_ns();
    const std::uint64_t asserted = i.asserted_ns[processor].load(std::memory_order_relaxed);
    // Level-triggered: an assert from here on makes another delivery.
    i.pending.fetch_and(~(std::uint64_t{1} << processor), std::memory_order_acq_rel);
    if (asserted != 0 && entered >= asserted) i.delivery_latency.record(entered - asserted);
    take_interrupt_lock(i.sync_lock);
    BOOLEAN queue_default = FALSE;
    ULONG targets = 0;
    const auto *isr = i.msi ? reinterpret_cast<const void *>(i.msi_isr) : reinterpret_cast<const void *>(i.isr);
    CallbackScope scope(t, observe::Callback::Isr, isr, i.handle(), routine_site(isr));
    const BOOLEAN claimed =
        i.msi ? i.msi_isr(i.context, i.message, &queue_default, &targets) : i.isr(i.context, &queue_default, &targets);
    const std::uint64_t own = scope.finish();
    give_interrupt_lock(i.sync_lock);
    // A message is edge-like: an assert that came while this one was pending is a delivery of its own.
    if (i.msi && i.msi_pending[processor].fetch_sub(1, std::memory_order_acq_rel) > 1) {
        i.pending.fetch_or(std::uint64_t{1} << processor, std::memory_order_acq_rel);
        ProcessorContext &c = g_contexts[processor];
        c.asserted_slots.fetch_or(std::uint64_t{1} << i.index, std::memory_order_release);
        c.irq_seq.fetch_add(1, std::memory_order_release);
    }
    if (own != platform::kDescheduled) i.isr_duration.record(own);
    i.counters.delivered.fetch_add(1, std::memory_order_relaxed);
    i.delivered[processor].fetch_add(1, std::memory_order_release);
    lock::unpark_all(&i.delivered[processor]);
    if (claimed) i.counters.claimed.fetch_add(1, std::memory_order_relaxed);
    if (queue_default) {
        queue_interrupt_dpc(i, processor, nullptr);
    } else {
        const std::uint32_t count = model::processor_count();
        for (std::uint32_t p = 0; p < count && p < 32; ++p)
            if ((targets >> p) & 1u) queue_interrupt_dpc(i, p, nullptr);
    }
}

void run_interrupt_dpc(KDPC *k, model::ThreadState &t, const DpcArguments &arguments) noexcept {
    auto *d = reinterpret_cast<InterruptDpc *>(reinterpret_cast<char *>(k) - offsetof(InterruptDpc, dpc));
    Interrupt &i = *d->owner;
    i.active.fetch_add(1, std::memory_order_acq_rel);
    if (i.state.load(std::memory_order_acquire) != SlotState::Live ||
        d->generation.load(std::memory_order_relaxed) != i.generation.load(std::memory_order_relaxed)) {
        leave_active(i);
        return;
    }
    const std::uint64_t queued = d->queued_ns.load(std::memory_order_relaxed);
    const std::uint64_t now = platform::monotonic_ns();
    if (queued != 0 && now >= queued) i.dpc_latency.record(now - queued);
    const auto *routine = i.msi ? reinterpret_cast<const void *>(i.msi_dpc) : reinterpret_cast<const void *>(i.dpc);
    CallbackScope scope(t, observe::Callback::InterruptDpc, routine, i.handle(), routine_site(routine));
    if (i.msi)
        i.msi_dpc(i.context, i.message, arguments.first, nullptr, nullptr);
    else
        i.dpc(i.context, arguments.first, nullptr, nullptr);
    const std::uint64_t own = scope.finish();
    if (own != platform::kDescheduled) i.dpc_duration.record(own);
    i.counters.dpcs_run.fetch_add(1, std::memory_order_relaxed);
    leave_active(i);
}

NDISLOCK_STATUS assert_interrupt(NDIS_HANDLE handle, ULONG message, ULONG processor) noexcept {
    model::ThreadState &t = caller();
    Lookup how{};
    Interrupt *primary = find_interrupt(handle, &how);
    if (primary == nullptr) return NDISLOCK_INVALID_ARGUMENT;
    Interrupt *i = message_of(*primary, message);
    if (i == nullptr) return NDISLOCK_INVALID_ARGUMENT;
    const std::uint32_t count = model::processor_count();
    if (processor == NDISLOCK_ANY_PROCESSOR) processor = g_round_robin.fetch_add(1, std::memory_order_relaxed) % count;
    if (processor >= count) return NDISLOCK_INVALID_ARGUMENT;
    // In an exploration's schedule the interrupt only becomes pending: the scheduler delivers it
    // on one of its threads (scheduled_delivery.h), and no ISR thread is started.
    const ScheduleControl *const schedule = scheduled();
    if (schedule == nullptr) ensure_processor_threads(processor);
    i->counters.asserted.fetch_add(1, std::memory_order_relaxed);
    if (observe::trace::recording()) observe::trace::interrupt_asserted(i->handle(), processor);
    const std::uint64_t bit = std::uint64_t{1} << processor;
    const std::uint32_t delivered_before = i->delivered[processor].load(std::memory_order_acquire);
    if ((i->pending.load(std::memory_order_acquire) & bit) == 0)
        i->asserted_ns[processor].store(platform::monotonic_ns(), std::memory_order_relaxed);
    if (i->msi) i->msi_pending[processor].fetch_add(1, std::memory_order_acq_rel); // counted before the bit
    if ((i->pending.fetch_or(bit, std::memory_order_acq_rel) & bit) != 0 && !i->msi)
        i->counters.coalesced.fetch_add(1, std::memory_order_relaxed);
    ProcessorContext &c = g_contexts[processor];
    c.asserted_slots.fetch_or(std::uint64_t{1} << i->index, std::memory_order_release);
    if (schedule != nullptr) {
        schedule->work_pending(processor);
        return NDISLOCK_OK;
    }
    c.irq_seq.fetch_add(1, std::memory_order_release);
    lock::unpark_one(&c.irq_seq);
    // A processor interrupts itself at once: the caller, on that processor below the DIRQL, is
    // what the interrupt preempts, so the ISR has run when the assert returns.
    if (t.processor().load(std::memory_order_relaxed) == processor &&
        t.irql().load(std::memory_order_relaxed) < i->dirql && c.isr_thread.load(std::memory_order_acquire) != &t &&
        t.preemption.no_preempt.load(std::memory_order_relaxed) == 0) {
        for (;;) {
            const std::uint32_t now = i->delivered[processor].load(std::memory_order_acquire);
            if (now != delivered_before || i->state.load(std::memory_order_acquire) != SlotState::Live) break;
            // The ISR thread asks this thread to stop (a signal) if it owns the processor; the
            // check here is for signals a sanitizer defers. A long wait: waking often would take
            // the core from the ISR thread on a small machine (and leave the ISR untimed).
            model::preemption_point(t);
            lock::park(&i->delivered[processor], now, 20'000'000);
        }
    }
    return NDISLOCK_OK;
}

NDISLOCK_STATUS interrupt_stats(NDIS_HANDLE handle, NDISLOCK_INTERRUPT_STATS *out) noexcept {
    Lookup how{};
    Interrupt *i = find_interrupt(handle, &how);
    if (i == nullptr || out == nullptr) return NDISLOCK_INVALID_ARGUMENT;
    *out = NDISLOCK_INTERRUPT_STATS{};
    // The counters of every message of a message-signalled interrupt; the latencies are message 0's.
    for (std::uint32_t m = 0; m < (i->msi ? i->message_count : 1); ++m) {
        const auto &k = message_of(*i, m)->counters;
        out->Asserted += k.asserted.load(std::memory_order_relaxed);
        out->Coalesced += k.coalesced.load(std::memory_order_relaxed);
        out->Delivered += k.delivered.load(std::memory_order_relaxed);
        out->Claimed += k.claimed.load(std::memory_order_relaxed);
        out->Preempted += k.preempted.load(std::memory_order_relaxed);
        out->HeldPending += k.held_pending.load(std::memory_order_relaxed);
        out->DpcsQueued += k.dpcs_queued.load(std::memory_order_relaxed);
        out->DpcsRun += k.dpcs_run.load(std::memory_order_relaxed);
        out->Synchronized += k.synchronized.load(std::memory_order_relaxed);
    }
    out->DeliveryLatency = summarize(i->delivery_latency);
    out->DpcLatency = summarize(i->dpc_latency);
    out->IsrDuration = summarize(i->isr_duration);
    out->DpcDuration = summarize(i->dpc_duration);
    return NDISLOCK_OK;
}

NDISLOCK_STATUS reset_interrupt_stats(NDIS_HANDLE handle) noexcept {
    Lookup how{};
    Interrupt *i = find_interrupt(handle, &how);
    if (i == nullptr) return NDISLOCK_INVALID_ARGUMENT;
    for (std::uint32_t m = 0; m < (i->msi ? i->message_count : 1); ++m)
        reset_figures(*message_of(*i, m));
    return NDISLOCK_OK;
}

namespace {

// Interrupts of adapter slot a still registered: reported and deregistered.
void close_leftovers(std::uint32_t a, const char *when, const void *routine) noexcept {
    for (auto &i : g_interrupts) {
        if (i.state.load(std::memory_order_acquire) != SlotState::Live || i.adapter != a || i.primary != &i) continue;
        observe::report_misusef(
            observe::Rule::InterruptRegistrationMisuse, routine_site(routine),
            "interrupt %p is still registered %s: call NdisMDeregisterInterruptEx there (on Windows the interrupt "
            "would fire into unloaded code); ndislock deregisters it now",
            i.handle(), when);
        close_interrupt(i);
    }
}

} // namespace

NDIS_STATUS initialize_miniport(MINIPORT_INITIALIZE_HANDLER initialize, NDIS_HANDLE driver_context,
                                PNDIS_HANDLE adapter_out) noexcept {
    model::ThreadState &t = caller();
    if (adapter_out == nullptr || t.irql().load(std::memory_order_relaxed) != PASSIVE_LEVEL) {
        platform::diagnostic("NdislockMiniportInitialize: %s",
                             adapter_out == nullptr ? "MiniportAdapterHandle is NULL" : "call it at PASSIVE_LEVEL");
        return NDIS_STATUS_FAILURE;
    }
    std::uint32_t slot = kMaxAdapters;
    {
        model::NoPreempt no_preempt;
        std::lock_guard<std::mutex> guard(g_registry);
        for (std::uint32_t s = 0; s < kMaxAdapters; ++s)
            if (g_adapters[s].state.load(std::memory_order_acquire) == SlotState::Free) {
                g_adapters[s].state.store(SlotState::Live, std::memory_order_release);
                slot = s;
                break;
            }
    }
    if (slot == kMaxAdapters) {
        platform::diagnostic("NdislockMiniportInitialize: more than %u adapters at once", kMaxAdapters);
        return NDIS_STATUS_RESOURCES;
    }
    const NDIS_HANDLE adapter = encode(kAdapterTag, slot, g_adapters[slot].generation.load(std::memory_order_acquire));
    *adapter_out = adapter;
    if (initialize == nullptr) return NDIS_STATUS_SUCCESS;
    CallbackScope scope(t, observe::Callback::MiniportInitialize, reinterpret_cast<const void *>(initialize), adapter,
                        routine_site(reinterpret_cast<const void *>(initialize)));
    const NDIS_STATUS status = initialize(adapter, driver_context, nullptr);
    scope.finish();
    if (status != NDIS_STATUS_SUCCESS) {
        model::NoPreempt no_preempt;
        std::lock_guard<std::mutex> guard(g_registry);
        close_leftovers(slot, "after MiniportInitializeEx failed", reinterpret_cast<const void *>(initialize));
        g_adapters[slot].generation.fetch_add(1, std::memory_order_acq_rel);
        g_adapters[slot].message_count.store(0, std::memory_order_relaxed);
        g_adapters[slot].state.store(SlotState::Free, std::memory_order_release);
        *adapter_out = nullptr;
    }
    return status;
}

void halt_miniport(NDIS_HANDLE adapter, MINIPORT_HALT_HANDLER halt, NDIS_HANDLE adapter_context) noexcept {
    model::ThreadState &t = caller();
    std::uint32_t slot = 0;
    if (find_adapter(adapter, &slot) == nullptr) {
        platform::diagnostic("NdislockMiniportHalt: %p is not a live adapter handle (halted twice?)", adapter);
        return;
    }
    if (t.irql().load(std::memory_order_relaxed) != PASSIVE_LEVEL) {
        platform::diagnostic("NdislockMiniportHalt: call it at PASSIVE_LEVEL");
        return;
    }
    if (halt != nullptr) {
        CallbackScope scope(t, observe::Callback::MiniportHalt, reinterpret_cast<const void *>(halt), adapter,
                            routine_site(reinterpret_cast<const void *>(halt)));
        halt(adapter_context, NdisHaltDeviceDisabled);
        scope.finish();
    }
    check_adapter_timers(slot, g_adapters[slot].generation.load(std::memory_order_acquire));
    model::NoPreempt no_preempt;
    std::lock_guard<std::mutex> guard(g_registry);
    close_leftovers(slot, "after MiniportHaltEx returned", reinterpret_cast<const void *>(halt));
    g_adapters[slot].generation.fetch_add(1, std::memory_order_acq_rel);
    g_adapters[slot].message_count.store(0, std::memory_order_relaxed);
    g_adapters[slot].state.store(SlotState::Free, std::memory_order_release);
}

} // namespace ndislock::interrupt
