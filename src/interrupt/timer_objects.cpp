// NDIS timer objects (NdisAllocateTimerObject and friends): a KTIMER and a KDPC in a slot of a
// fixed table, the KDPC marked so the DPC thread runs it as the object's NetTimerCallback.
//
// Slots are recycled, never freed (as interrupt objects are): a handle carries the slot's
// generation, so a freed handle is told from a live one, and a routine still running when its
// object is freed (a finding) runs on memory that stays valid.
#include <atomic>
#include <cstddef>
#include <cstdio>

#include "interrupt/callback_scope.h"
#include "interrupt/interrupts.h"
#include "interrupt/processor_context.h"
#include "interrupt/timers.h"
#include "platform/diagnostics.h"

namespace ndislock::interrupt {

namespace {

struct TimerObject {
    KTIMER timer{};
    KDPC dpc{};
    std::atomic<std::uint32_t> state{0}; // 0 free, 1 being made, 2 live
    std::atomic<std::uint32_t> generation{0};
    std::atomic<PNDIS_TIMER_FUNCTION> function{nullptr};
    std::atomic<PVOID> default_context{nullptr};
    std::atomic<PVOID> context{nullptr}; // the last set's FunctionContext (or the default)
    // The adapter it was allocated for (slot + 1, 0 for none) and that adapter's generation.
    std::atomic<std::uint32_t> adapter{0};
    std::atomic<std::uint32_t> adapter_generation{0};
    // Where it was last set: PeriodicTimerNotCancelled at halt points there.
    std::atomic<const char *> set_file{nullptr};
    std::atomic<int> set_line{0};
    std::atomic<const char *> set_function{nullptr};
    std::atomic<const void *> set_return{nullptr};
    // PeriodicTimerNotCancelled was said at its adapter's halt since it was last set: the exit
    // check does not say it again.
    std::atomic<bool> reported_at_halt{false};
};

TimerObject g_objects[kMaxTimerObjects];
std::atomic<std::uint32_t> g_next_slot{0};

// Handle: bits 0-3 the tag, 4-13 the slot, 14-31 the generation.
constexpr std::uintptr_t kTag = 0xB;
constexpr std::uint32_t kGenerationMask = 0x3FFFF;
static_assert(kMaxTimerObjects <= 1024, "10 bits of slot");

NDIS_HANDLE encode(std::uint32_t slot, std::uint32_t generation) noexcept {
    return reinterpret_cast<NDIS_HANDLE>((std::uintptr_t{generation & kGenerationMask} << 14) |
                                         (std::uintptr_t{slot} << 4) | kTag);
}

TimerObject *find(NDIS_HANDLE handle) noexcept {
    const auto h = reinterpret_cast<std::uintptr_t>(handle);
    if ((h & 0xF) != kTag || (h >> 32) != 0) return nullptr;
    const auto slot = static_cast<std::uint32_t>((h >> 4) & 0x3FF);
    TimerObject &o = g_objects[slot];
    if (o.state.load(std::memory_order_acquire) != 2 ||
        (o.generation.load(std::memory_order_acquire) & kGenerationMask) != static_cast<std::uint32_t>(h >> 14))
        return nullptr;
    return &o;
}

TimerObject *object_of(const KDPC *dpc) noexcept {
    const auto *p = reinterpret_cast<const char *>(dpc) - offsetof(TimerObject, dpc);
    return const_cast<TimerObject *>(reinterpret_cast<const TimerObject *>(p));
}

bool is_object_dpc(const KDPC *dpc) noexcept {
    const auto *p = reinterpret_cast<const char *>(dpc);
    return p >= reinterpret_cast<const char *>(&g_objects[0]) &&
           p < reinterpret_cast<const char *>(&g_objects[kMaxTimerObjects]) && dpc->Type == kTimerObjectDpcType;
}

void not_a_timer(const char *call, NDIS_HANDLE handle, const observe::Site &site) noexcept {
    observe::report_misusef(
        observe::Rule::TimerUsedAfterFree, site,
        "%s on %p, which is not a timer object NdisAllocateTimerObject returned (freed, or never allocated); "
        "the call does nothing",
        call, handle);
}

} // namespace

const void *timer_routine_of(const KDPC *dpc) noexcept {
    if (is_object_dpc(dpc))
        return reinterpret_cast<const void *>(object_of(dpc)->function.load(std::memory_order_relaxed));
    return reinterpret_cast<const void *>(dpc->DeferredRoutine);
}

void run_timer_object_dpc(KDPC *dpc, model::ThreadState &t, const DpcArguments &arguments) noexcept {
    TimerObject &o = *object_of(dpc);
    const PNDIS_TIMER_FUNCTION function = o.function.load(std::memory_order_acquire);
    if (function == nullptr) return; // checked at allocation; a slot freed and remade meanwhile
    const auto *routine = reinterpret_cast<const void *>(function);
    CallbackScope scope(t, observe::Callback::KernelDpc, routine, dpc, observe::Site{nullptr, 0, nullptr, routine});
    function(dpc, o.context.load(std::memory_order_acquire), arguments.first, arguments.second);
    scope.finish();
}

NDIS_STATUS timer_object_allocate(NDIS_HANDLE ndis_handle, const NDIS_TIMER_CHARACTERISTICS *c,
                                  NDIS_HANDLE *out) noexcept {
    if (c == nullptr || out == nullptr) {
        platform::diagnostic("NdisAllocateTimerObject: %s is NULL",
                             c == nullptr ? "TimerCharacteristics" : "pTimerObject");
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    if (c->Header.Type != NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS ||
        c->Header.Revision != NDIS_TIMER_CHARACTERISTICS_REVISION_1 ||
        c->Header.Size < NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1 || c->TimerFunction == nullptr) {
        platform::diagnostic("NdisAllocateTimerObject: %s",
                             c->TimerFunction == nullptr
                                 ? "TimerFunction is NULL"
                                 : "the header must be {NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS, "
                                   "NDIS_TIMER_CHARACTERISTICS_REVISION_1, "
                                   "NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1}");
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    const std::uint32_t start = g_next_slot.fetch_add(1, std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < kMaxTimerObjects; ++i) {
        const std::uint32_t slot = (start + i) % kMaxTimerObjects;
        TimerObject &o = g_objects[slot];
        std::uint32_t expected = 0;
        if (!o.state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) continue;
        timer_initialize(&o.timer, NotificationTimer);
        o.dpc.Type = kTimerObjectDpcType;
        o.dpc.Importance = MediumImportance;
        o.dpc.Number = 0;
        o.dpc.DeferredRoutine = nullptr; // run by run_timer_object_dpc, never called
        o.dpc.DeferredContext = &o;
        o.function.store(c->TimerFunction, std::memory_order_release);
        o.default_context.store(c->FunctionContext, std::memory_order_relaxed);
        o.context.store(c->FunctionContext, std::memory_order_relaxed);
        std::uint32_t adapter_slot = 0;
        if (find_adapter(ndis_handle, &adapter_slot) != nullptr) {
            o.adapter_generation.store(g_adapters[adapter_slot].generation.load(std::memory_order_acquire),
                                       std::memory_order_relaxed);
            o.adapter.store(adapter_slot + 1, std::memory_order_relaxed);
        } else {
            o.adapter.store(0, std::memory_order_relaxed);
        }
        o.set_file.store(nullptr, std::memory_order_relaxed);
        o.set_return.store(nullptr, std::memory_order_relaxed);
        const std::uint32_t generation = o.generation.load(std::memory_order_relaxed);
        o.state.store(2, std::memory_order_release);
        *out = encode(slot, generation);
        return NDIS_STATUS_SUCCESS;
    }
    return NDIS_STATUS_RESOURCES;
}

bool timer_object_set(NDIS_HANDLE handle, LONGLONG due_time, LONG period_ms, PVOID context, model::ThreadState &t,
                      const observe::Site &site) noexcept {
    TimerObject *o = find(handle);
    if (o == nullptr) {
        not_a_timer("NdisSetTimerObject", handle, site);
        return false;
    }
    o->context.store(context != nullptr ? context : o->default_context.load(std::memory_order_relaxed),
                     std::memory_order_release);
    o->set_file.store(site.file, std::memory_order_relaxed);
    o->set_line.store(site.line, std::memory_order_relaxed);
    o->set_function.store(site.function, std::memory_order_relaxed);
    o->set_return.store(site.return_address, std::memory_order_relaxed);
    o->reported_at_halt.store(false, std::memory_order_relaxed);
    return timer_set(&o->timer, due_time, period_ms, &o->dpc, t.processor().load(std::memory_order_relaxed));
}

bool timer_object_cancel(NDIS_HANDLE handle, bool *periodic, const observe::Site &site) noexcept {
    *periodic = false;
    TimerObject *o = find(handle);
    if (o == nullptr) {
        not_a_timer("NdisCancelTimerObject", handle, site);
        return false;
    }
    ULONG period = 0;
    const bool was_queued = timer_unlink_if_queued(&o->timer, &period);
    *periodic = period != 0;
    return was_queued;
}

void timer_object_free(NDIS_HANDLE handle, model::ThreadState &t, const observe::Site &site) noexcept {
    TimerObject *o = find(handle);
    if (o == nullptr) return not_a_timer("NdisFreeTimerObject", handle, site);
    ULONG period = 0;
    const bool was_set = timer_unlink_if_queued(&o->timer, &period);
    // Removed before "running" is read: a DPC taken off its queue meanwhile is seen running
    // (dpc_queue.cpp sets the one before clearing the other).
    const bool was_queued = remove_dpc(&o->dpc);
    const bool running = dpc_running_elsewhere(&o->dpc, t);
    if (was_set && period != 0)
        observe::report_if_observedf(
            observe::Rule::PeriodicTimerNotCancelled, site,
            "NdisFreeTimerObject of timer object %p, a periodic timer (every %u ms) that is still set: cancel it "
            "with NdisCancelTimerObject first (ndislock cancelled it)",
            handle, static_cast<unsigned>(period));
    else if (was_set || was_queued || running)
        observe::report_if_observedf(
            observe::Rule::TimerFreedWhileActive, site,
            "NdisFreeTimerObject of timer object %p, %s: cancel it and make sure its NetTimerCallback has run "
            "(NdisCancelTimerObject, then KeFlushQueuedDpcs) before freeing it%s",
            handle,
            was_set      ? "which is set (in the timer queue)"
            : was_queued ? "whose NetTimerCallback is queued to run"
                         : "whose NetTimerCallback is running on another processor",
            was_set      ? " (ndislock cancelled it)"
            : was_queued ? " (ndislock took it off the DPC queue)"
                         : "");
    o->generation.fetch_add(1, std::memory_order_acq_rel);
    o->state.store(0, std::memory_order_release);
}

void check_adapter_timers(std::uint32_t adapter_slot, std::uint32_t adapter_generation) noexcept {
    for (TimerObject &o : g_objects) {
        if (o.state.load(std::memory_order_acquire) != 2 ||
            o.adapter.load(std::memory_order_relaxed) != adapter_slot + 1 ||
            o.adapter_generation.load(std::memory_order_relaxed) != adapter_generation)
            continue;
        const ULONG period = timer_queued_period(&o.timer);
        if (period == 0) continue;
        const auto *routine = reinterpret_cast<const void *>(o.function.load(std::memory_order_relaxed));
        const char *file = o.set_file.load(std::memory_order_relaxed);
        const observe::Site site{file, o.set_line.load(std::memory_order_relaxed),
                                 o.set_function.load(std::memory_order_relaxed),
                                 file != nullptr ? o.set_return.load(std::memory_order_relaxed) : routine};
        o.reported_at_halt.store(true, std::memory_order_relaxed);
        observe::report_if_observedf(
            observe::Rule::PeriodicTimerNotCancelled, site,
            "a periodic timer object of this adapter (routine %p, every %u ms, set here) is still set after "
            "MiniportHaltEx returned: cancel it with NdisCancelTimerObject in MiniportHaltEx",
            routine, static_cast<unsigned>(period));
    }
}

bool timer_reported_at_halt(const KTIMER *timer) noexcept {
    const auto *p = reinterpret_cast<const char *>(timer);
    if (p < reinterpret_cast<const char *>(&g_objects[0]) ||
        p >= reinterpret_cast<const char *>(&g_objects[kMaxTimerObjects]))
        return false;
    const auto *o = reinterpret_cast<const TimerObject *>(p - offsetof(TimerObject, timer));
    return o->reported_at_halt.load(std::memory_order_relaxed);
}

} // namespace ndislock::interrupt
