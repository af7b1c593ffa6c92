#include "observe/hooks.h"

#include <cstdarg>
#include <iterator>
#include <mutex>
#include <string>

#include "lock/wait_observer.h"
#include "model/preemption.h"
#include "platform/diagnostics.h"
#include "platform/format.h"

extern "C" {
NDISLOCK_API unsigned ndislock_interlocked_observers = 0;
}

namespace ndislock::observe {

std::atomic<unsigned> g_active_observers{0};
std::atomic<const Observer *> g_observers[kMaxObservers];
std::atomic<const Observer *> g_sole_observer{nullptr};
std::atomic<unsigned> g_rule_checkers{0};
std::atomic<unsigned> g_handle_listeners{0};
std::atomic<unsigned> g_attempt_listeners{0};
std::atomic<unsigned> g_finding_takers{0};

namespace {
// One past the highest slot ever taken: the calls below look at no slot beyond it (with the
// verifier alone, one).
std::atomic<unsigned> g_slots_in_use{0};

// Serializes the registrations, so that g_sole_observer is computed from a settled table. Never
// taken on a lock path: observers are added and removed by the verifier and statistics switches.
std::mutex g_registration;

void update_sole_observer() noexcept {
    const Observer *sole = nullptr;
    unsigned count = 0;
    for (auto &slot : g_observers)
        if (const Observer *o = slot.load(std::memory_order_acquire); o != nullptr) {
            sole = o;
            ++count;
        }
    g_sole_observer.store(count == 1 ? sole : nullptr, std::memory_order_release);
}
} // namespace

namespace {
// Each variant's acquire and release calls: the one table of their names (messages, reports).
// In the enum's order, so a variant is its own index (checked below).
struct VariantNames {
    Variant variant;
    const char *acquire;
    const char *release;
};
constexpr VariantNames kVariantNames[] = {
    {Variant::NdisAcquire, "NdisAcquireSpinLock", "NdisReleaseSpinLock"},
    {Variant::NdisDpr, "NdisDprAcquireSpinLock", "NdisDprReleaseSpinLock"},
    {Variant::KeAcquire, "KeAcquireSpinLock", "KeReleaseSpinLock"},
    {Variant::KeAtDpcLevel, "KeAcquireSpinLockAtDpcLevel", "KeReleaseSpinLockFromDpcLevel"},
    {Variant::KeTryAtDpcLevel, "KeTryToAcquireSpinLockAtDpcLevel", "KeReleaseSpinLockFromDpcLevel"},
    {Variant::Queued, "KeAcquireInStackQueuedSpinLock", "KeReleaseInStackQueuedSpinLock"},
    {Variant::QueuedAtDpcLevel, "KeAcquireInStackQueuedSpinLockAtDpcLevel",
     "KeReleaseInStackQueuedSpinLockFromDpcLevel"},
    {Variant::KeForDpc, "KeAcquireSpinLockForDpc", "KeReleaseSpinLockForDpc"},
    {Variant::QueuedForDpc, "KeAcquireInStackQueuedSpinLockForDpc", "KeReleaseInStackQueuedSpinLockForDpc"},
    {Variant::KeRaiseToSynch, "KeAcquireSpinLockRaiseToSynch", "KeReleaseSpinLock"},
    {Variant::QueuedRaiseToSynch, "KeAcquireInStackQueuedSpinLockRaiseToSynch", "KeReleaseInStackQueuedSpinLock"},
    {Variant::RwExRead, "NdisAcquireRWLockRead", "NdisReleaseRWLock"},
    {Variant::RwExWrite, "NdisAcquireRWLockWrite", "NdisReleaseRWLock"},
    {Variant::RwExReadAtDispatch, "NdisAcquireRWLockRead(NDIS_RWL_AT_DISPATCH_LEVEL)", "NdisReleaseRWLock"},
    {Variant::RwExWriteAtDispatch, "NdisAcquireRWLockWrite(NDIS_RWL_AT_DISPATCH_LEVEL)", "NdisReleaseRWLock"},
    {Variant::NdisRwRead, "NdisAcquireReadWriteLock(read)", "NdisReleaseReadWriteLock"},
    {Variant::NdisRwWrite, "NdisAcquireReadWriteLock(write)", "NdisReleaseReadWriteLock"},
    {Variant::NdisRwDprRead, "NdisDprAcquireReadWriteLock(read)", "NdisDprReleaseReadWriteLock"},
    {Variant::NdisRwDprWrite, "NdisDprAcquireReadWriteLock(write)", "NdisDprReleaseReadWriteLock"},
    {Variant::ExShared, "ExAcquireSpinLockShared", "ExReleaseSpinLockShared"},
    {Variant::ExExclusive, "ExAcquireSpinLockExclusive", "ExReleaseSpinLockExclusive"},
    {Variant::ExSharedAtDpc, "ExAcquireSpinLockSharedAtDpcLevel", "ExReleaseSpinLockSharedFromDpcLevel"},
    {Variant::ExExclusiveAtDpc, "ExAcquireSpinLockExclusiveAtDpcLevel", "ExReleaseSpinLockExclusiveFromDpcLevel"},
    {Variant::ExTrySharedAtDpc, "ExTryAcquireSpinLockSharedAtDpcLevel", "ExReleaseSpinLockSharedFromDpcLevel"},
    {Variant::ExTryExclusiveAtDpc, "ExTryAcquireSpinLockExclusiveAtDpcLevel", "ExReleaseSpinLockExclusiveFromDpcLevel"},
};
constexpr bool variant_names_in_order() {
    for (unsigned i = 0; i < std::size(kVariantNames); ++i)
        if (kVariantNames[i].variant != static_cast<Variant>(i)) return false;
    return std::size(kVariantNames) == static_cast<unsigned>(Variant::Count_);
}
static_assert(variant_names_in_order(), "kVariantNames lists every Variant, in the enum's order");

// Each callback kind's name: as a subject ("MiniportInterrupt", "a DPC routine") and with its
// routine named after it ("MiniportInterrupt DemoIsr", "the DPC routine FlushDpc").
struct CallbackNames {
    Callback kind;
    const char *name;
    const char *role;
};
constexpr CallbackNames kCallbackNames[] = {
    {Callback::None, "none", "the callback"},
    {Callback::Isr, "MiniportInterrupt", "MiniportInterrupt"},
    {Callback::InterruptDpc, "MiniportInterruptDPC", "MiniportInterruptDPC"},
    {Callback::KernelDpc, "a DPC routine", "the DPC routine"},
    {Callback::Synchronize, "a synchronize function", "the synchronize function"},
    {Callback::EnableInterrupt, "MiniportEnableInterruptEx", "MiniportEnableInterruptEx"},
    {Callback::DisableInterrupt, "MiniportDisableInterruptEx", "MiniportDisableInterruptEx"},
    {Callback::MiniportInitialize, "MiniportInitializeEx", "MiniportInitializeEx"},
    {Callback::MiniportHalt, "MiniportHaltEx", "MiniportHaltEx"},
    {Callback::WorkItem, "a work item routine", "the work item routine"},
};
constexpr bool callback_names_in_order() {
    for (unsigned i = 0; i < std::size(kCallbackNames); ++i)
        if (kCallbackNames[i].kind != static_cast<Callback>(i)) return false;
    return std::size(kCallbackNames) == static_cast<unsigned>(Callback::WorkItem) + 1;
}
static_assert(callback_names_in_order(), "kCallbackNames lists every Callback, in the enum's order");
} // namespace

const char *variant_name(Variant v) noexcept {
    return static_cast<unsigned>(v) < std::size(kVariantNames) ? kVariantNames[static_cast<unsigned>(v)].acquire : "?";
}
const char *release_name(Variant v) noexcept {
    return static_cast<unsigned>(v) < std::size(kVariantNames) ? kVariantNames[static_cast<unsigned>(v)].release : "?";
}

int add_observer(const Observer *observer) noexcept {
    const model::NoPreempt not_interrupted; // an ISR may switch observers too (the verifier's mode)
    const std::lock_guard registering(g_registration);
    for (unsigned i = 0; i < kMaxObservers; ++i)
        if (g_observers[i].load(std::memory_order_acquire) == observer) return static_cast<int>(i);
    for (unsigned i = 0; i < kMaxObservers; ++i) {
        const Observer *expected = nullptr;
        if (g_observers[i].compare_exchange_strong(expected, observer, std::memory_order_acq_rel)) {
            unsigned end = g_slots_in_use.load(std::memory_order_relaxed);
            while (end < i + 1 && !g_slots_in_use.compare_exchange_weak(end, i + 1, std::memory_order_acq_rel)) {
            }
            update_sole_observer();
            if (observer->misuse != nullptr) g_rule_checkers.fetch_add(1, std::memory_order_acq_rel);
            if (observer->queue_handle_released != nullptr) g_handle_listeners.fetch_add(1, std::memory_order_acq_rel);
            if (observer->attempting != nullptr) g_attempt_listeners.fetch_add(1, std::memory_order_acq_rel);
            if (observer->finding != nullptr) g_finding_takers.fetch_add(1, std::memory_order_acq_rel);
            if (observer->interlocked != nullptr)
                __atomic_fetch_add(&ndislock_interlocked_observers, 1u, __ATOMIC_ACQ_REL);
            g_active_observers.fetch_add(1, std::memory_order_acq_rel);
            return static_cast<int>(i);
        }
    }
    return -1;
}

void remove_observer(const Observer *observer) noexcept {
    const model::NoPreempt not_interrupted; // an ISR may switch observers too (the verifier's mode)
    const std::lock_guard registering(g_registration);
    for (auto &slot : g_observers) {
        const Observer *expected = observer;
        if (slot.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) {
            update_sole_observer();
            if (observer->misuse != nullptr) g_rule_checkers.fetch_sub(1, std::memory_order_acq_rel);
            if (observer->queue_handle_released != nullptr) g_handle_listeners.fetch_sub(1, std::memory_order_acq_rel);
            if (observer->attempting != nullptr) g_attempt_listeners.fetch_sub(1, std::memory_order_acq_rel);
            if (observer->finding != nullptr) g_finding_takers.fetch_sub(1, std::memory_order_acq_rel);
            if (observer->interlocked != nullptr)
                __atomic_fetch_sub(&ndislock_interlocked_observers, 1u, __ATOMIC_ACQ_REL);
            g_active_observers.fetch_sub(1, std::memory_order_acq_rel);
        }
    }
}

template <auto Member, class... Args> inline void call_each(Args &...args) noexcept {
    for (unsigned i = 0, end = g_slots_in_use.load(std::memory_order_acquire); i < end; ++i)
        if (const Observer *o = g_observers[i].load(std::memory_order_acquire); o != nullptr && o->*Member != nullptr)
            (o->*Member)(args...);
}

// Calls member Member of every registered observer that has it. No ISR stops this thread inside
// an observer (they may hold library locks): the guard is a load and a store on the thread's own
// state (model/preemption.h), cheap enough to take for every call.
template <auto Member, class... Args> inline void each(Args &...args) noexcept {
    model::NoPreempt observers_may_hold_locks;
    call_each<Member>(args...);
}

void notify_initialized(const LockEvent &e) noexcept { each<&Observer::lock_initialized>(e); }
void notify_freed(const LockEvent &e) noexcept { each<&Observer::lock_freed>(e); }
void notify_acquiring(const LockEvent &e) noexcept { each<&Observer::acquiring>(e); }
void notify_acquired(const LockEvent &e, bool contended) noexcept { each<&Observer::acquired>(e, contended); }
void notify_acquired_at_once_each(const LockEvent &e) noexcept {
    model::NoPreempt observers_may_hold_locks;
    for (unsigned i = 0, end = g_slots_in_use.load(std::memory_order_acquire); i < end; ++i) {
        const Observer *o = g_observers[i].load(std::memory_order_acquire);
        if (o == nullptr) continue;
        if (o->acquired_at_once != nullptr) {
            o->acquired_at_once(e);
            continue;
        }
        if (o->acquiring != nullptr) o->acquiring(e);
        if (o->acquired != nullptr) o->acquired(e, false);
    }
}
void notify_try_failed(const LockEvent &e) noexcept { each<&Observer::try_failed>(e); }
void notify_attempting_each(const LockEvent &e) noexcept { each<&Observer::attempting>(e); }
void notify_rw_converted(const LockEvent &e) noexcept { each<&Observer::rw_converted>(e); }
void notify_queue_handle_released_each(PKLOCK_QUEUE_HANDLE h) noexcept { each<&Observer::queue_handle_released>(h); }
void notify_releasing_each(const LockEvent &e) noexcept { each<&Observer::releasing>(e); }
void notify_irql_changed(const IrqlEvent &e) noexcept { each<&Observer::irql_changed>(e); }
void notify_interlocked(const volatile void *address, const void *return_address) noexcept {
    each<&Observer::interlocked>(address, return_address);
}

void notify_wait(model::ThreadState &t, WaitPhase phase) noexcept {
    if (active()) each<&Observer::wait>(t, phase);
}
void notify_thread_exit(model::ThreadState &t) noexcept {
    if (active()) each<&Observer::thread_exiting>(t);
}

void notify_lock_named(const void *lock, const char *name) noexcept {
    if (active()) each<&Observer::lock_named>(lock, name);
}

void notify_other_call(const char *name, bool blocking, bool ndis, const Site &site) noexcept {
    if (active()) each<&Observer::other_call>(name, blocking, ndis, site);
}

void notify_wait_lock(const WaitLockEvent &e) noexcept {
    if (active()) each<&Observer::wait_lock>(e);
}

void notify_synchronizes(const void *object, bool release) noexcept {
    if (active()) each<&Observer::synchronizes>(object, release);
}

bool offer_finding(const char *rule_id, const char *text) noexcept {
    const model::NoPreempt observers_may_hold_locks;
    for (unsigned i = 0, end = g_slots_in_use.load(std::memory_order_acquire); i < end; ++i)
        if (const Observer *o = g_observers[i].load(std::memory_order_acquire); o != nullptr && o->finding != nullptr)
            if (o->finding(rule_id, text)) return true;
    return false;
}

void notify_schedule_boundary(bool begins) noexcept { each<&Observer::schedule_boundary>(begins); }
void notify_scenario_returned(model::ThreadState &t, bool abandoned) noexcept {
    each<&Observer::scenario_returned>(t, abandoned);
}

const char *wait_lock_name(WaitLockKind kind) noexcept {
    switch (kind) {
    case WaitLockKind::Mutex:
        return "mutex";
    case WaitLockKind::FastMutex:
        return "fast mutex";
    case WaitLockKind::ResourceExclusive:
        return "executive resource (exclusive)";
    case WaitLockKind::ResourceShared:
        return "executive resource (shared)";
    case WaitLockKind::Object:
        return "dispatcher object";
    }
    return "?";
}

void notify_callback_entered(const CallbackEvent &e) noexcept {
    if (active()) each<&Observer::callback_entered>(e);
}
void notify_callback_returned(const CallbackEvent &e, std::uint64_t own_ns) noexcept {
    if (active()) each<&Observer::callback_returned>(e, own_ns);
}

const char *callback_name(Callback c) noexcept {
    return static_cast<unsigned>(c) < std::size(kCallbackNames) ? kCallbackNames[static_cast<unsigned>(c)].name : "?";
}
const char *callback_role(Callback c) noexcept {
    return static_cast<unsigned>(c) < std::size(kCallbackNames) ? kCallbackNames[static_cast<unsigned>(c)].role
                                                                : "the callback";
}

bool report_if_observed(Rule rule, const Site &site, const char *detail) noexcept {
    model::NoPreempt reporting;
    bool handled = false;
    for (auto &slot : g_observers)
        if (const Observer *o = slot.load(std::memory_order_acquire); o != nullptr && o->misuse != nullptr)
            handled = o->misuse(rule, site, detail) || handled;
    return handled;
}

void report_misuse(Rule rule, const Site &site, const char *detail) noexcept {
    if (report_if_observed(rule, site, detail)) return;
    const RuleInfo &info = rule_info(rule);
    if (site.file != nullptr)
        platform::fatal("%s: %s\n  at %s:%d in %s\n  Windows: %s", info.id, detail, site.file, site.line,
                        site.function != nullptr ? site.function : "?", info.windows);
    platform::fatal("%s: %s\n  called from %p\n  Windows: %s", info.id, detail, site.return_address, info.windows);
}

namespace {
thread_local model::ThreadState *t_misuse_about = nullptr;
} // namespace

void report_misuse_for(model::ThreadState &about, Rule rule, const Site &site, const char *detail) noexcept {
    t_misuse_about = &about;
    report_misuse(rule, site, detail);
    t_misuse_about = nullptr;
}
model::ThreadState *misuse_thread() noexcept { return t_misuse_about; }

void report_misusef(Rule rule, const Site &site, const char *fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    const std::string detail = platform::vformat(fmt, args);
    va_end(args);
    report_misuse(rule, site, detail.c_str());
}

bool report_if_observedf(Rule rule, const Site &site, const char *fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    const std::string detail = platform::vformat(fmt, args);
    va_end(args);
    return report_if_observed(rule, site, detail.c_str());
}

namespace {

// The lock algorithms' wait notifications, passed on to the observers with the waiting thread's
// state (the wait itself is in its record, written by the lock layer).
void wait_begin(lock::WaitKind, const void *) noexcept {
    if (model::ThreadState *t = model::tls_thread) notify_wait(*t, WaitPhase::Begin);
}
void wait_end() noexcept {
    if (model::ThreadState *t = model::tls_thread) notify_wait(*t, WaitPhase::End);
}
void wait_slow_path() noexcept {
    if (model::ThreadState *t = model::tls_thread) notify_wait(*t, WaitPhase::SlowPath);
}
constexpr lock::WaitObserver kWaitObserver{wait_begin, wait_end, wait_slow_path};

} // namespace

void connect_to_lower_layers() noexcept {
    lock::g_wait_observer.store(&kWaitObserver, std::memory_order_release);
    model::set_thread_exit_hook(notify_thread_exit);
}

} // namespace ndislock::observe
