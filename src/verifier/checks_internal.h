// What the verifier's observer shares between its files (checks_*.cpp), and nothing else includes:
// the verifier's own time (SlowWork), the report helpers, the lock's shadow for a use, the chain
// keys of the lock order, the driver's own sites, and the hooks the observer table installs
// (checks_observer.cpp). The rules of ../shared/spec/verifier-rules.md that the lock calls can
// break are checked at the moment they are broken; the lock algorithms and the execution model do
// not know these files exist: they see them through observe/hooks.h.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "model/processors.h"
#include "observe/hooks.h"
#include "platform/clock.h"
#include "platform/format.h"
#include "platform/own_time.h"
#include "verifier/checks.h"
#include "verifier/findings.h"
#include "verifier/held_locks.h"
#include "verifier/lock_order.h"
#include "verifier/shadow.h"
#include "verifier/sites.h"

namespace ndislock::verifier {

// The verifier's own time on a thread is kept apart from the driver's for the heartbeat
// (long_holds.h). A SlowWork marks the thread as inside the verifier (VerifierThread::in_verifier:
// a beat that lands there counts nothing; a count the sentinel starts meanwhile skips its first
// stretch), and while the sentinel counts a hold or routine run of the thread
// (VerifierThread::beat_counted, then counting_now), adds its wall time to
// VerifierThread::verifier_ns, which the count subtracts: the verifier's first-time work (a new
// class or chain, a table page touched for the first time, a stack walk) would otherwise pass for
// the driver's. The slow paths (a lock's first use, a new chain, a stack walk) always run in one;
// every hook does while a count is on (Apart, checks_observer.cpp). A SlowWork under way when the
// sentinel starts a count adds the whole of its time when it ends, so the count's first stretch
// is not lost.
inline bool counting_now(const VerifierThread &v) noexcept {
    const std::uint64_t hold = v.outer_hold.load(std::memory_order_relaxed);
    const std::uint64_t run = v.outer_run.load(std::memory_order_relaxed);
    return (hold != kNoSeq && v.hold_beat.want.load(std::memory_order_relaxed) == hold) ||
           (run != kNoSeq && v.run_beat.want.load(std::memory_order_relaxed) == run);
}

class SlowWork {
public:
    // Always timed (one clock read: these are slow paths, or hooks while a count is on), so that a
    // count the sentinel starts in the middle of one still has the whole of it subtracted.
    explicit SlowWork(VerifierThread *v) noexcept : v_(v) {
        if (v_ == nullptr) return;
        v_->in_verifier.store(v_->in_verifier.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        counting_ = counting(*v_);
        start_ = platform::monotonic_ns();
    }
    ~SlowWork() {
        if (v_ == nullptr) return;
        if (__builtin_expect(counting_ || counting(*v_), 0))
            v_->verifier_ns.store(v_->verifier_ns.load(std::memory_order_relaxed) + (platform::monotonic_ns() - start_),
                                  std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        v_->in_verifier.store(v_->in_verifier.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    }
    SlowWork(const SlowWork &) = delete;
    SlowWork &operator=(const SlowWork &) = delete;

private:
    static bool counting(const VerifierThread &v) noexcept {
        return v.beat_counted.load(std::memory_order_relaxed) && counting_now(v);
    }
    VerifierThread *v_;
    std::uint64_t start_ = 0;
    bool counting_ = false;
};

using observe::LockEvent;
using observe::Rule;
using observe::Site;
using observe::Variant;

using observe::queued;
using observe::raising;

// A class as a chain key sees it: a shared hold is another link than an exclusive one, since a
// chain of reads checked once says nothing of the same chain taken for write.
// One shift of a constant (rw_mode's switch is a measurable share of a verified release, which
// asks it of the held entry's variant, not a constant).
inline constexpr std::uint32_t kSharedForms = [] {
    std::uint32_t bits = 0;
    for (unsigned i = 0; i < unsigned(Variant::Count_); ++i)
        if (observe::rw_mode(static_cast<Variant>(i)) == observe::RwMode::Shared) bits |= 1u << i;
    return bits;
}();
constexpr bool shared_hold(Variant v) noexcept { return (kSharedForms >> unsigned(v) & 1) != 0; }
inline std::uint32_t chain_class(std::uint32_t cls, Variant v) noexcept {
    return shared_hold(v) ? cls | 0x80000000u : cls;
}
inline bool never_waits(Variant v) noexcept {
    return v == Variant::KeTryAtDpcLevel || v == Variant::ExTrySharedAtDpc || v == Variant::ExTryExclusiveAtDpc;
}

using observe::release_name;

using platform::format;

inline bool at_device_level(observe::Callback kind) noexcept {
    return kind == observe::Callback::Isr || kind == observe::Callback::Synchronize ||
           kind == observe::Callback::EnableInterrupt || kind == observe::Callback::DisableInterrupt;
}
inline bool is_dpc(observe::Callback kind) noexcept {
    return kind == observe::Callback::InterruptDpc || kind == observe::Callback::KernelDpc;
}

// ---- reports (checks_reports.cpp) ----------------------------------------------------------

// Marks the holds now open on the reporting thread, and the callbacks it is running, as untimed:
// a report takes far longer (formatting, symbolizing, writing) than any hold budget, and is not
// the driver's time.
void untime_holds(model::ThreadState *t) noexcept;

// A report's own site inside library code (sites.h: library_file) names the driver's frame on this
// thread's stack, found only now: a release, an IRQL change, a free or another call keeps no site
// unless it reports, so those walk the stack only then. (Stored sites, r.other's, were resolved
// when they were kept.)
void emit(const Report &r);
// A report whose site was kept (resolved when it was stored, or found unresolvable then): this
// thread's stack now says nothing of it.
void emit_kept_site(const Report &r);

// A report of rule about e's lock (entry s, or none), at e's site, thread and IRQL.
Report base(Rule rule, const LockEvent &e, const Shadow *s, std::string explanation);

// Where the holder of lock (entry s) took it, if the holder is known.
bool holder_site(const Shadow *s, const void *lock, Site *out, int *os_tid) noexcept;

// ---- the lock's shadow for a use (checks_lifecycle.cpp) -------------------------------------

// Past the thread's cache: the table, else adoption. call_name names the call, for the report of
// a lock never allocated or already freed (called only then).
Shadow *shadow_uncached(ShadowCacheSlot &c, const LockEvent &e, const char *(*call_name)(Variant));

// The lock's shadow for a use (acquire, release), through the thread's cache of the locks it used
// last (held_locks.h).
inline Shadow *shadow_for_use(VerifierThread &v, const LockEvent &e, const char *(*call_name)(Variant)) {
    const auto address = reinterpret_cast<std::uintptr_t>(e.lock);
    ShadowCacheSlot &c = v.shadow_cache[((address >> 3) ^ (address >> 12)) % kShadowCacheSlots];
    if (__builtin_expect(c.lock == e.lock, 1) && c.entry != nullptr && shadow_is(c.entry, e.lock)) return c.entry;
    return shadow_uncached(c, e, call_name);
}

// ---- acquire and release (checks_acquire.cpp, checks_release.cpp) ---------------------------

// The Ke and Ex forms documented for any IRQL at or above DISPATCH_LEVEL: above it they are legal
// on a lock used only there, and the lock class's IRQL consistency (class_irql.h) checks them
// instead.
constexpr bool any_irql_at_or_above_dispatch(Variant v) noexcept {
    return v == Variant::KeAtDpcLevel || v == Variant::KeTryAtDpcLevel || v == Variant::QueuedAtDpcLevel ||
           v == Variant::ExSharedAtDpc || v == Variant::ExExclusiveAtDpc || v == Variant::ExTrySharedAtDpc ||
           v == Variant::ExTryExclusiveAtDpc;
}

// ---- the lock order (checks_order.cpp) ------------------------------------------------------

// A lock of class C taken while holding held[slot], another lock of class C: records the pair's
// order, reports the reverse order seen before (checks_order.cpp).
void check_same_class_order(const LockEvent &e, VerifierThread &v, const Shadow *s, unsigned slot);

// A chain of classes not checked before: record its edges, report an inversion.
void check_new_chain(const LockEvent &e, VerifierThread &v, const Shadow *s, unsigned depth, std::uint32_t wanted,
                     std::uint64_t key);

// The chain key (lock_order.h) of the locks held in slots below `slot` followed by class cls. The
// chain starts with the mutexes, fast mutexes and resources held (wait_order.h), if any.
inline std::uint64_t chain_at(const VerifierThread &v, unsigned slot, std::uint32_t cls) noexcept {
    return chain_extend(slot == 0 ? v.wait_chain : v.held[slot - 1].chain, cls);
}

// form: e.variant, passed apart so that a caller that knows it as a constant folds its tests.
[[gnu::always_inline]] inline void check_order(const LockEvent &e, Variant form, VerifierThread &v, const Shadow *s) {
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    // A try never waits. With no spin lock held, a held mutex (or fast mutex, resource) still
    // orders: the wait_chain is then not the empty chain.
    if ((depth == 0 && v.wait_chain == kChainStart) || s == nullptr || never_waits(form)) return;
    const std::uint32_t wanted = s->lock_class.load(std::memory_order_relaxed);
    // A lock of a class already held: the class graph has no edge for it (hand over hand is
    // correct), so the two locks' own order is checked (instance_order.h).
    for (unsigned i = 0; i < depth && i < kMaxHeld; ++i)
        if (__builtin_expect(v.held[i].lock_class == wanted, 0) && wanted != kOverflowClass)
            check_same_class_order(e, v, s, i);
    const std::uint64_t key = chain_at(v, depth, chain_class(wanted, form));
    if (__builtin_expect(chain_checked(key), 1)) return; // this chain of classes was checked before
    check_new_chain(e, v, s, depth, wanted, key);
}

// ---- IRQL and threads (checks_irql.cpp, checks_threads.cpp) --------------------------------

// IrqlDroppedWhileHoldingLock: the IRQL drops below DISPATCH_LEVEL to `to` while v holds spin locks.
void check_irql_drop(VerifierThread &v, model::ThreadState *thread, KIRQL to, const Site &site);
// ThreadExitHoldingLock for thread t, ending (how: "ends", or the process's end).
void check_thread_end(model::ThreadState &t, const char *how);

// ---- the driver's own sites -----------------------------------------------------------------

// Every handler sees the call's site as the driver wrote it. A site inside library code (the C++
// API called by std::lock_guard and its kind, which evaluate its default location arguments inside
// the standard library's headers; ~NdisSpinLock, which passes its own) names the driver's frame on
// the calling stack instead (sites.h). Where the site is kept (an acquire: the held-lock table,
// the order graph, a first use's lock class; an allocation: the lock class) the stack is walked
// before the handler runs; everywhere else only if a report is written (emit). Sites written by
// the driver cost one cached compare (library_file); the walk is out of line.

// The verifier's own work since `before` (a stack walk, a new chain's graph search) is not the
// driver's time: the sampled holds open on the thread are credited with it (their start moves
// later by its length). Work of unknown length (the thread was descheduled in it: it read debug
// information from disk, or waited for the order graph's mutex) leaves them untimed.
void credit_verifier_work(VerifierThread &v, unsigned depth, const platform::OwnTimeStamp &before) noexcept;

template <void (*Handler)(const LockEvent &) noexcept>
[[gnu::cold, gnu::noinline]] void with_driver_site_slow(const LockEvent &e) noexcept {
    // Only open holds are credited: with none, no clock is read (a system call where the
    // cycle-counter clock is not available).
    VerifierThread *v = e.thread != nullptr ? verifier_thread_of(*e.thread) : nullptr;
    const unsigned depth = v != nullptr ? v->depth.load(std::memory_order_relaxed) : 0;
    const platform::OwnTimeStamp before = depth != 0 ? platform::own_time_now() : platform::OwnTimeStamp{};
    bool symbolized = false;
    Site site{};
    {
        const SlowWork slow(v);
        site = driver_site_from_stack(e.site, &symbolized);
    }
    if (symbolized)
        untime_holds(e.thread); // it symbolized: the holds and the callbacks running go untimed
    else if (depth != 0)
        credit_verifier_work(*v, depth, before);
    Handler(LockEvent{e.lock, e.handle, e.variant, e.ndis, e.irql, e.new_irql, site, e.thread, e.state, e.busy});
}
template <void (*Handler)(const LockEvent &) noexcept> inline void with_driver_site(const LockEvent &e) noexcept {
    if (__builtin_expect(library_file(e.site.file), 0)) return with_driver_site_slow<Handler>(e);
    Handler(e);
}

// ---- the lock path's two hooks ------------------------------------------------------------------

// An acquire taken at once and a release (S5 pays for both on every pair) are installed without
// Apart (checks_observer.cpp): they do its work themselves, with one read of the thread's table
// for it and for their checks. Body gets the calling thread's current table; KeepsSite: it keeps
// the call's site (with_driver_site).
using LockPathBody = void (*)(const LockEvent &, VerifierThread &) noexcept;
template <LockPathBody Body> void with_current_table(const LockEvent &e) noexcept {
    Body(e, verifier_thread(*e.thread));
}
template <LockPathBody Body, bool KeepsSite> void with_site_and_table(const LockEvent &e) noexcept {
    if constexpr (KeepsSite)
        with_driver_site<with_current_table<Body>>(e);
    else
        with_current_table<Body>(e);
}
// Everything but the common case: no table yet or a stale one, a count of the sentinel on
// (Apart's SlowWork), a site inside library code.
template <LockPathBody Body, bool KeepsSite>
[[gnu::cold, gnu::noinline]] void lock_path_hook_slow(VerifierThread *table, const LockEvent &e) noexcept {
    if (table != nullptr && table->beat_counted.load(std::memory_order_relaxed)) {
        const SlowWork apart(table);
        return with_site_and_table<Body, KeepsSite>(e);
    }
    with_site_and_table<Body, KeepsSite>(e);
}
template <LockPathBody Body, bool KeepsSite>
[[gnu::always_inline]] inline void lock_path_hook(const LockEvent &e) noexcept {
    VerifierThread *table = verifier_table_of(*e.thread);
    if (__builtin_expect(table == nullptr || table->beat_counted.load(std::memory_order_relaxed) ||
                             table->epoch.load(std::memory_order_acquire) !=
                                 g_table_epoch.load(std::memory_order_relaxed) ||
                             (KeepsSite && library_file(e.site.file)),
                         0))
        return lock_path_hook_slow<Body, KeepsSite>(table, e);
    Body(e, *table);
}

// Calls hook with the variant as a constant (std::integral_constant) for the ordinary forms a
// driver takes and releases most, and with Variant::Count_ ("read it from the event") for the
// others: the hot hooks' checks then fold their variant tests away for the common forms.
template <class Hook> [[gnu::always_inline]] inline void with_common_variant(Variant v, Hook &&hook) noexcept {
    switch (v) {
    case Variant::NdisAcquire:
        return hook(std::integral_constant<Variant, Variant::NdisAcquire>{});
    case Variant::NdisDpr:
        return hook(std::integral_constant<Variant, Variant::NdisDpr>{});
    case Variant::KeAcquire:
        return hook(std::integral_constant<Variant, Variant::KeAcquire>{});
    case Variant::KeAtDpcLevel:
        return hook(std::integral_constant<Variant, Variant::KeAtDpcLevel>{});
    default:
        return hook(std::integral_constant<Variant, Variant::Count_>{});
    }
}

// ---- the hooks the observer table installs (checks_observer.cpp), by file ----------------------

// checks_lifecycle.cpp
void on_initialized(const LockEvent &e) noexcept;
void on_freed(const LockEvent &e) noexcept;
void on_lock_named(const void *lock, const char *name) noexcept;
// checks_acquire.cpp
void on_acquiring(const LockEvent &e) noexcept;
void on_acquired(const LockEvent &e, bool contended) noexcept;
void on_acquired_at_once(const LockEvent &e) noexcept;
void on_try_failed(const LockEvent &e) noexcept;
void on_rw_converted(const LockEvent &e) noexcept;
// checks_release.cpp
void on_releasing(const LockEvent &e) noexcept;
void forget_holds_from(VerifierThread &v, std::uint64_t first_seq) noexcept;
// checks_irql.cpp
void on_irql_changed(const observe::IrqlEvent &ev) noexcept;
bool on_misuse(Rule rule, const Site &site, const char *detail) noexcept;
// checks_threads.cpp
void on_thread_exiting(model::ThreadState &t) noexcept;
// An exploration's schedules (checks_schedules.cpp).
void on_schedule_boundary(bool begins) noexcept;
void on_scenario_returned(model::ThreadState &t, bool abandoned) noexcept;
// checks_other_calls.cpp
void on_other_call(const char *name, bool blocking, bool ndis, const Site &site) noexcept;
// checks_callbacks.cpp
void on_callback_entered(const observe::CallbackEvent &e) noexcept;
void on_callback_returned(const observe::CallbackEvent &e, std::uint64_t own_ns) noexcept;

} // namespace ndislock::verifier
