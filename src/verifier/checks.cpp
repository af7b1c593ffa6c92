// The verifier's observer: every rule of ../shared/spec/verifier-rules.md that the lock calls can
// break, checked at the moment it is broken. The lock algorithms and the execution model do not
// know this file exists; it sees them through observe/hooks.h.
#include "verifier/checks.h"

#include <cstdarg>
#include <cstdio>
#include <string>

#include "model/processors.h"
#include "observe/lock_names.h"
#include "platform/format.h"
#include "platform/clock.h"
#include "platform/membarrier.h"
#include "platform/own_time.h"
#include "platform/diagnostics.h"
#include "verifier/class_irql.h"
#include "verifier/findings.h"
#include "verifier/held_locks.h"
#include "verifier/hold_times.h"
#include "verifier/long_holds.h"
#include "verifier/lock_classes.h"
#include "verifier/lock_order.h"
#include "verifier/rw_checks.h"
#include "verifier/settings.h"
#include "verifier/shadow.h"
#include "verifier/sites.h"
#include "verifier/wait_order.h"

namespace ndislock::verifier {

namespace {
// The verifier's own time on a thread is kept apart from the driver's for the heartbeat
// (long_holds.h). A SlowWork marks the thread as inside the verifier (VerifierThread::in_verifier:
// a beat that lands there counts nothing; a count the sentinel starts meanwhile skips its first
// stretch), and while the sentinel counts a hold or routine run of the thread
// (VerifierThread::beat_counted, then counting_now), adds its wall time to
// VerifierThread::verifier_ns, which the count subtracts: the verifier's first-time work (a new
// class or chain, a table page touched for the first time, a stack walk) would otherwise pass for
// the driver's. The slow paths (a lock's first use, a new chain, a stack walk) always run in one;
// every hook does while a count is on (Apart below). A SlowWork under way when the sentinel starts
// a count adds the whole of its time when it ends, so the count's first stretch is not lost.
bool counting_now(const VerifierThread &v) noexcept {
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

// Every hook of the verifier's observer: inside a SlowWork while the sentinel counts one of the
// thread's holds or runs (one load otherwise: S5 pays for every hook).
// The calling thread: the lock events carry it (no thread-local read on the hot path).
inline model::ThreadState *calling_thread(const observe::LockEvent &e) noexcept { return e.thread; }
template <typename Other> inline model::ThreadState *calling_thread(const Other &) noexcept { return model::tls_thread; }

template <auto Hook> struct Apart;
template <typename First, typename... A, void (*Hook)(First, A...) noexcept> struct Apart<Hook> {
    static void call(First first, A... args) noexcept {
        model::ThreadState *t = calling_thread(first);
        VerifierThread *v = t != nullptr ? verifier_table_of(*t) : nullptr;
        if (__builtin_expect(v == nullptr || !v->beat_counted.load(std::memory_order_relaxed), 1))
            return Hook(first, args...);
        const SlowWork apart(v);
        Hook(first, args...);
    }
};
} // namespace


using observe::LockEvent;
using observe::Rule;
using observe::Site;
using observe::Variant;

namespace {

using observe::queued;
using observe::raising;

// A class as a chain key sees it: a shared hold is another link than an exclusive one, since a
// chain of reads checked once says nothing of the same chain taken for write.
inline bool shared_hold(Variant v) noexcept { return observe::rw_mode(v) == observe::RwMode::Shared; }
inline std::uint32_t chain_class(std::uint32_t cls, Variant v) noexcept {
    return shared_hold(v) ? cls | 0x80000000u : cls;
}
inline bool never_waits(Variant v) noexcept {
    return v == Variant::KeTryAtDpcLevel || v == Variant::ExTrySharedAtDpc || v == Variant::ExTryExclusiveAtDpc;
}

using observe::release_name;

using platform::format;

// Marks the holds now open on the reporting thread, and the callbacks it is running, as untimed:
// a report takes far longer (formatting, symbolizing, writing) than any hold budget, and is not
// the driver's time.
void untime_holds(model::ThreadState *t) noexcept {
    if (t == nullptr) return;
    if (VerifierThread *v = verifier_thread_of(*t)) {
        for (unsigned i = 0, d = v->depth.load(std::memory_order_relaxed); i < d && i < kMaxHeld; ++i) v->held[i].untimed = true;
        for (unsigned i = 0, n = v->callbacks.load(std::memory_order_relaxed); i < n && i < kMaxCallbackNesting; ++i)
            v->callback[i].untimed = true;
    }
}

bool at_device_level(observe::Callback kind) noexcept {
    return kind == observe::Callback::Isr || kind == observe::Callback::Synchronize ||
           kind == observe::Callback::EnableInterrupt || kind == observe::Callback::DisableInterrupt;
}
bool is_dpc(observe::Callback kind) noexcept {
    return kind == observe::Callback::InterruptDpc || kind == observe::Callback::KernelDpc;
}

// Where a callback report points: the call that ran it (NdisMSynchronizeWithInterruptEx's caller)
// when the core knows it, else the routine itself (its address, which resolves to the routine:
// note_routine in sites.h).
Site callback_site(const observe::CallbackEvent &e) noexcept {
    if (e.site.file != nullptr || e.site.return_address != nullptr) return e.site;
    return Site{nullptr, 0, nullptr, e.routine};
}

// A report's own site inside library code (sites.h: library_file) names the driver's frame on this
// thread's stack, found only now: a release, an IRQL change, a free or another call keeps no site
// unless it reports, so those walk the stack only then. (Stored sites, r.other's, were resolved
// when they were kept.)
void emit(const Report &r) {
    untime_holds(r.thread);
    if (__builtin_expect(!library_file(r.site.file), 1)) return report(r);
    Report driver = r;
    driver.site = driver_site_from_stack(r.site);
    report(driver);
}
// A report whose site was kept (resolved when it was stored, or found unresolvable then): this
// thread's stack now says nothing of it.
void emit_kept_site(const Report &r) {
    untime_holds(r.thread);
    report(r);
}

Report base(Rule rule, const LockEvent &e, const Shadow *s, std::string explanation) {
    Report r(rule);
    r.site = e.site;
    r.explanation = std::move(explanation);
    r.lock = e.lock;
    r.lock_class = s != nullptr ? s->lock_class.load(std::memory_order_relaxed) : kOverflowClass;
    r.thread = e.thread;
    r.irql = e.irql;
    return r;
}

} // namespace

Report report_base(Rule rule, const LockEvent &e, const Shadow *s, std::string explanation) {
    return base(rule, e, s, std::move(explanation));
}
void emit_report(const Report &r) { emit(r); }

namespace {

// Where the holder of lock (entry s) took it, if the holder is known.
bool holder_site(const Shadow *s, const void *lock, Site *out, int *os_tid) noexcept {
    model::ThreadState *ht = live_holder(s, lock);
    if (ht == nullptr) return false;
    VerifierThread *hv = verifier_thread_of(*ht);
    if (hv == nullptr) return false;
    unsigned slot = s->holder_slot.load(std::memory_order_relaxed);
    if (slot >= kMaxHeld || hv->held[slot].lock.load(std::memory_order_relaxed) != lock) {
        const int found = find_held(*hv, lock); // the slot was rewritten meanwhile
        if (found < 0) return false;
        slot = static_cast<unsigned>(found);
    }
    *out = hv->held[slot].site();
    *os_tid = ht->os_tid.load(std::memory_order_relaxed);
    return true;
}

// A lock first seen in use: reports it never allocated or already freed, then adopts it so the
// rest of the checks can run.
[[gnu::cold, gnu::noinline]] Shadow *adopt(const LockEvent &e, const char *call) {
    const char *name = observe::lock_name(e.lock);
    // A release through a standard guard keeps no site, so its site may still be the header's.
    const std::uint32_t cls = name != nullptr           ? class_for_name(name)
                              : library_file(e.site.file) ? class_for_first_use(driver_site_from_stack(e.site))
                                                          : class_for_first_use(e.site);
    // A freed lock is known freed whatever the verifier missed (the record of frees is emptied
    // when it is switched on again); a lock never seen allocated is uninitialized only if the
    // verifier has watched since the start.
    const bool freed = recently_freed(e.lock);
    // An EX_SPIN_LOCK is a LONG the driver zeroes: there is no call to have missed.
    const bool never_announced = observe::rw_kind(e.variant) == observe::RwKind::Ex;
    if (!never_announced && (freed || g_settings.on_since_start.load(std::memory_order_relaxed))) {
        Report r = freed ? base(Rule::LockUsedAfterFree, e, nullptr,
                                format("%s on a lock that NdisFreeSpinLock freed: allocate it again before any use", call))
                         : base(Rule::LockNotInitialized, e, nullptr,
                                format("%s on a lock never set up by NdisAllocateSpinLock or KeInitializeSpinLock (a "
                                       "zeroed struct is not an initialized lock)",
                                       call));
        r.lock_class = cls;
        emit(r);
    }
    return shadow_insert(e.lock, cls);
}

// Past the thread's cache: the table, else adoption. call_name names the call, for the report of
// a lock never allocated or already freed (called only then).
[[gnu::noinline]] Shadow *shadow_uncached(ShadowCacheSlot &c, const LockEvent &e,
                                          const char *(*call_name)(Variant)) {
    const SlowWork slow(e.thread != nullptr ? verifier_table_of(*e.thread) : nullptr);
    Shadow *s = shadow_find(e.lock);
    if (s == nullptr) s = adopt(e, call_name(e.variant));
    if (s != nullptr) c = {e.lock, s};
    return s;
}

// The lock's shadow for a use (acquire, release), through the thread's cache of the locks it used
// last (held_locks.h).
inline Shadow *shadow_for_use(VerifierThread &v, const LockEvent &e, const char *(*call_name)(Variant)) {
    const auto address = reinterpret_cast<std::uintptr_t>(e.lock);
    ShadowCacheSlot &c = v.shadow_cache[((address >> 3) ^ (address >> 12)) % kShadowCacheSlots];
    if (__builtin_expect(c.lock == e.lock, 1) && c.entry != nullptr && shadow_is(c.entry, e.lock)) return c.entry;
    return shadow_uncached(c, e, call_name);
}

// ---- lifecycle ------------------------------------------------------------------------------

void on_initialized_at(const LockEvent &e) noexcept {
    const char *name = observe::lock_name(e.lock);
    const std::uint32_t cls = name != nullptr ? class_for_name(name) : class_for_site(e.site);
    // Found or created in one call (a new entry has no holder); the old class stays for the report.
    Shadow *s = shadow_insert(e.lock, cls);
    if (s == nullptr) return;
    if (live_holder(s, e.lock) != nullptr) {
        Report r = base(Rule::LockReinitialized, e, s,
                        e.ndis ? "NdisAllocateSpinLock on a lock that is held: the holder's release will free a "
                                 "lock nobody holds"
                               : "KeInitializeSpinLock on a lock that is held: the holder's release will free a "
                                 "lock nobody holds");
        int tid = 0;
        if (holder_site(s, e.lock, &r.other, &tid)) r.other_role = "held since";
        emit(r);
    }
    s->lock_class.store(static_cast<std::uint16_t>(cls), std::memory_order_relaxed);
    s->holder.store(0, std::memory_order_relaxed);
    s->mode.store(LockMode::Unknown, std::memory_order_relaxed);
}

void on_freed(const LockEvent &e) noexcept {
    Shadow *s = shadow_find(e.lock);
    if (s == nullptr) {
        if (recently_freed(e.lock))
            emit(base(Rule::LockUsedAfterFree, e, nullptr, "NdisFreeSpinLock on a lock already freed"));
        else if (g_settings.on_since_start.load(std::memory_order_relaxed))
            emit(base(Rule::LockNotInitialized, e, nullptr,
                        "NdisFreeSpinLock on a lock never set up by NdisAllocateSpinLock"));
        return;
    }
    if (live_holder(s, e.lock) != nullptr || e.busy) {
        Report r = base(Rule::LockFreedWhileHeld, e, s,
                        observe::is_rw(e.variant) ? "NdisFreeRWLock on a lock that is held (for read or write)"
                                                  : "NdisFreeSpinLock on a lock that is held");
        int tid = 0;
        if (holder_site(s, e.lock, &r.other, &tid)) r.other_role = "held since";
        emit(r);
    }
    shadow_remove(s, e.lock);
}

// ---- acquire --------------------------------------------------------------------------------

// The reports of an acquire are out of line, as a release's are: the common acquire reports
// nothing.
// The Ke forms documented for any IRQL at or above DISPATCH_LEVEL: above it they are legal on a
// lock used only there, and the lock class's IRQL consistency (class_irql.h) checks them instead.
constexpr bool any_irql_at_or_above_dispatch(Variant v) noexcept {
    return v == Variant::KeAtDpcLevel || v == Variant::KeTryAtDpcLevel || v == Variant::QueuedAtDpcLevel;
}

[[gnu::cold, gnu::noinline]] void report_acquire_irql(const LockEvent &e, const Shadow *s) {
    const char *call = observe::variant_name(e.variant);
    if (e.irql > DISPATCH_LEVEL && any_irql_at_or_above_dispatch(e.variant)) return;
    if (observe::held_irql(e.variant) == SYNCH_LEVEL) {
        // The RaiseToSynch forms may be called up to SYNCH_LEVEL; above it their raise would lower.
        if (e.irql > SYNCH_LEVEL)
            emit(base(Rule::IrqlInvalidRaise, e, s,
                      format("%s at IRQL %u: it raises to SYNCH_LEVEL (%u), and a raise never lowers; the IRQL is "
                             "left where it was",
                             call, e.irql, SYNCH_LEVEL)));
        return;
    }
    const auto kind = static_cast<observe::Callback>(e.thread->callback.load(std::memory_order_relaxed));
    if (e.irql > DISPATCH_LEVEL && at_device_level(kind)) {
        // Inside the ISR (or code that runs at its DIRQL under the interrupt's lock): the lock
        // cannot work even when taken correctly, since the interrupt may stop its holder.
        const RunningCallback running = running_callback(*e.thread);
        const std::string who = callback_description(kind, running.kind == kind ? running.routine : nullptr);
        emit(base(Rule::AcquireAboveDispatch, e, s,
                  format("%s at IRQL %u inside %s: state shared with MiniportInterrupt must be touched only in a "
                         "synchronize function run through NdisMSynchronizeWithInterruptEx; a spin lock cannot protect "
                         "it: the interrupt may land on the processor holding the lock%s",
                         call, e.irql, who.c_str(),
                         kind == observe::Callback::Synchronize
                             ? " (a synchronize function already runs under the interrupt's own lock: it needs no spin "
                               "lock)"
                             : "")));
    } else if (e.irql > DISPATCH_LEVEL)
        emit(base(Rule::AcquireAboveDispatch, e, s,
                    format("%s at IRQL %u, above DISPATCH_LEVEL (as in MiniportInterrupt, MiniportDisableInterruptEx "
                           "or a synchronize function): a spin lock must not guard state shared with the ISR; touch "
                           "that state only in a MiniportSynchronizeInterrupt function run through "
                           "NdisMSynchronizeWithInterruptEx",
                           call, e.irql)));
    else if (!raising(e.variant) && e.irql < DISPATCH_LEVEL && observe::is_rw(e.variant))
        emit(base(Rule::RwLockDispatchFlagWrongIrql, e, s,
                  format("%s at IRQL %u: NDIS_RWL_AT_DISPATCH_LEVEL, the Dpr forms and the AtDpcLevel forms tell the "
                         "lock the caller is at DISPATCH_LEVEL already, so it skips the raise; below it the holder can "
                         "be preempted (and the IRQL saved for the release is wrong)",
                         call, e.irql)));
    else if (!raising(e.variant) && e.irql < DISPATCH_LEVEL)
        emit(base(Rule::DprAcquireBelowDispatch, e, s,
                    format("%s at IRQL %u: the Dpr and AtDpcLevel forms need the caller already at DISPATCH_LEVEL "
                           "(a DPC, or after KeRaiseIrql); below it the thread can be preempted while holding the lock",
                           call, e.irql)));
}

inline void check_irql_for_acquire(const LockEvent &e, const Shadow *s) {
    if (__builtin_expect(e.irql == DISPATCH_LEVEL || (e.irql < DISPATCH_LEVEL && raising(e.variant)), 1)) return;
    report_acquire_irql(e, s);
}

[[gnu::cold, gnu::noinline]] void report_mixed_mode(const LockEvent &e, const Shadow *s, LockMode seen) {
    emit(base(Rule::QueuedAndPlainMixed, e, s,
                format("%s on a lock %s: queued and ordinary acquires must never be mixed on one KSPIN_LOCK",
                       observe::variant_name(e.variant),
                       seen == LockMode::Queued ? "used with in-stack queued acquires"
                                                : "used with ordinary (non-queued) acquires")));
}

inline void check_mode(const LockEvent &e, Shadow *s) {
    if (s == nullptr) return;
    const LockMode wanted = queued(e.variant) ? LockMode::Queued : LockMode::Plain;
    LockMode seen = s->mode.load(std::memory_order_relaxed); // settled after the first acquire: no RMW
    if (__builtin_expect(seen == wanted, 1)) return;
    if (seen == LockMode::Unknown &&
        (s->mode.compare_exchange_strong(seen, wanted, std::memory_order_relaxed) || seen == wanted))
        return;
    report_mixed_mode(e, s, seen);
}

void credit_verifier_work(VerifierThread &v, unsigned depth, const platform::OwnTimeStamp &before) noexcept;

// A chain of classes not checked before: record its edges, report an inversion.
[[gnu::noinline]] void check_new_chain(const LockEvent &e, VerifierThread &v, const Shadow *s, unsigned depth,
                                       std::uint32_t wanted, std::uint64_t key) {
    // The mutexes, fast mutexes and resources held first (taken by sleeping, they come before
    // any spin lock), then the spin locks.
    HeldForOrder held[kMaxWaitHeld + kMaxHeld];
    const unsigned sleeping = wait_holds_for_order(v, held);
    for (unsigned i = 0; i < depth; ++i)
        held[sleeping + i] = {v.held[i].lock_class, v.held[i].site(), shared_hold(v.held[i].variant)};
    Inversion inv{};
    // The graph search and its mutex are the verifier's time, not the holds' (depth != 0 here).
    const SlowWork slow(&v);
    const platform::OwnTimeStamp before = platform::own_time_now();
    const bool inverted = check_and_record_order(held, sleeping + depth, wanted, shared_hold(e.variant), e.site,
                                                 e.thread->os_tid.load(std::memory_order_relaxed), key, &inv);
    credit_verifier_work(v, depth, before);
    if (!inverted) return;
    Report r = base(Rule::LockOrderInversion, e, s,
                    format("%s takes %s while holding %s, but elsewhere %s was taken while holding %s: two threads "
                           "taking them in these two orders can deadlock",
                           observe::variant_name(e.variant), class_string(inv.wanted_class).c_str(),
                           class_string(inv.held_class).c_str(), class_string(inv.earlier_to).c_str(),
                           class_string(inv.earlier_from).c_str()));
    r.other = inv.earlier_to_site;
    r.other_role = "the other order first seen at";
    r.scenario = format("  scenario:\n    %-44s %s\n    holds %-38s holds %s\n    wants %-38s wants %s\n"
                        "    (held since %s; first seen on thread %d: holding since %s)\n",
                        "this thread", "the earlier order", class_string(inv.held_class).c_str(),
                        class_string(inv.earlier_from).c_str(), class_string(inv.wanted_class).c_str(),
                        class_string(inv.earlier_to).c_str(), site_string(inv.held_site).c_str(), inv.earlier_thread,
                        site_string(inv.earlier_from_site).c_str());
    emit(r);
}

// The chain key (lock_order.h) of the locks held in slots below `slot` followed by class cls. The
// chain starts with the mutexes, fast mutexes and resources held (wait_order.h), if any.
inline std::uint64_t chain_at(const VerifierThread &v, unsigned slot, std::uint32_t cls) noexcept {
    return chain_extend(slot == 0 ? v.wait_chain : v.held[slot - 1].chain, cls);
}

inline void check_order(const LockEvent &e, VerifierThread &v, const Shadow *s) {
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    // A try never waits. With no spin lock held, a held mutex (or fast mutex, resource) still
    // orders: the wait_chain is then not the empty chain.
    if ((depth == 0 && v.wait_chain == kChainStart) || s == nullptr || never_waits(e.variant)) return;
    const std::uint32_t wanted = s->lock_class.load(std::memory_order_relaxed);
    const std::uint64_t key = chain_at(v, depth, chain_class(wanted, e.variant));
    if (__builtin_expect(chain_checked(key), 1)) return; // this chain of classes was checked before
    check_new_chain(e, v, s, depth, wanted, key);
}

[[gnu::cold, gnu::noinline]] void report_recursive(const LockEvent &e, const Shadow *s, const HeldLock &held) {
    // A try never spins: on Windows it returns FALSE, so the program goes on (and so does this one).
    const bool tried = never_waits(e.variant);
    Report r = base(Rule::RecursiveAcquire, e, s,
                    tried ? format("%s on a lock this thread already holds: it returns FALSE, as on Windows; the "
                                   "caller can never get its own lock this way",
                                   observe::variant_name(e.variant))
                          : format("%s on a lock this thread already holds: on Windows the processor spins on itself "
                                   "forever",
                                   observe::variant_name(e.variant)));
    r.not_terminal = tried;
    r.other = held.site();
    r.other_role = "already acquired at";
    emit(r);
}

[[gnu::cold, gnu::noinline]] void report_handle_reused(const LockEvent &e, const Shadow *s, const HeldLock &held) {
    Report r = base(Rule::QueueHandleReused, e, s,
                    format("%s with a KLOCK_QUEUE_HANDLE (%p) that is still in use by a live acquisition: one handle "
                           "per acquisition",
                           observe::variant_name(e.variant), static_cast<void *>(e.handle)));
    r.other = held.site();
    r.other_role = "the handle's live acquisition at";
    emit(r);
}

[[gnu::cold, gnu::noinline]] void report_class_irql(const LockEvent &e, const Shadow *s, KIRQL held,
                                                  const ClassIrqlConflict &c) {
    const char *call = observe::variant_name(e.variant);
    const auto kind = static_cast<observe::Callback>(e.thread->callback.load(std::memory_order_relaxed));
    const std::string cls = class_string(s->lock_class.load(std::memory_order_relaxed));
    const bool high = held > DISPATCH_LEVEL;
    const KIRQL high_irql = high ? held : c.other_irql, low_irql = high ? c.other_irql : held;
    // Inside an NDIS ISR (or its synchronize function) the cure is NDIS's; elsewhere the kernel's.
    const bool ndis_isr = high && at_device_level(kind);
    const char *cure = ndis_isr ? "touch the state it guards at the lower IRQL only in a synchronize function run "
                                  "through NdisMSynchronizeWithInterruptEx"
                                : "take the lock at that IRQL everywhere (raise with KeRaiseIrql first), or reach the "
                                  "state from the lower IRQL through the interrupt's synchronization "
                                  "(NdisMSynchronizeWithInterruptEx, KeSynchronizeExecution)";
    std::string text =
        high ? format("%s at IRQL %u%s%s on lock class %s, which is also held at IRQL %u: an interrupt at IRQL %u "
                      "landing on a processor that holds the lock there stops the holder, and this acquire then "
                      "spins on it forever; %s",
                      call, held, ndis_isr ? " inside " : "",
                      ndis_isr ? callback_description(kind, running_callback(*e.thread).routine).c_str() : "",
                      cls.c_str(), low_irql, held, cure)
             : format("%s holds lock class %s at IRQL %u, and it is also taken at IRQL %u: an interrupt at IRQL %u "
                      "landing on this processor while the lock is held stops this holder, and that acquire then "
                      "spins on it forever; %s",
                      call, cls.c_str(), held, high_irql, high_irql, cure);
    Report r = base(Rule::LockClassIrqlInconsistent, e, s, std::move(text));
    if (c.other.file != nullptr || c.other.return_address != nullptr) {
        r.other = c.other;
        r.other_role = high ? "held at the lower IRQL at" : "taken above DISPATCH_LEVEL at";
    }
    emit(r);
}

// Teaches the lock's class the IRQL it is held at (class_irql.h): one load unless new.
[[gnu::always_inline]] inline void check_class_irql(const LockEvent &e, const Shadow *s) {
    if (s == nullptr) return;
    const KIRQL level = observe::held_irql(e.variant); // what a raising form raises to
    const KIRQL held = raising(e.variant) && e.irql < level ? level : e.irql;
    // Above DISPATCH_LEVEL only the forms documented there teach the class (the others are
    // AcquireAboveDispatch already).
    if (held > DISPATCH_LEVEL && !any_irql_at_or_above_dispatch(e.variant)) return;
    const ClassIrqlConflict c = note_class_irql(s->lock_class.load(std::memory_order_relaxed), held, e.site);
    if (__builtin_expect(c.found, 0)) report_class_irql(e, s, held, c);
}

// The checks made before an acquire's attempt (or, taken at once, in the same call).
[[gnu::always_inline]] inline void check_acquire(const LockEvent &e, VerifierThread &v, Shadow *s) {
    check_irql_for_acquire(e, s);
    check_class_irql(e, s);
    check_mode(e, s);
    if (__builtin_expect(observe::is_rw(e.variant), 0))
        check_rw_acquire(e, v, s); // recursion as each reader/writer lock allows it, state reuse
    else if (const int already = find_held(v, e.lock); __builtin_expect(already >= 0, 0))
        report_recursive(e, s, v.held[already]);
    if (queued(e.variant)) {
        for (unsigned i = 0; i < v.depth.load(std::memory_order_relaxed); ++i) {
            if (v.held[i].handle != e.handle || e.handle == nullptr) continue;
            report_handle_reused(e, s, v.held[i]);
            break;
        }
    }
    check_order(e, v, s);
}

// Acquisitions to the next timed hold: uniform in [1, 2 * period - 1], so `period` on average.
// Random, not every period-th: a thread that takes its locks in a fixed cycle (A then B, again
// and again) would otherwise time the same one of them every time and never the others.
inline std::uint32_t next_sampling_gap(VerifierThread &v, std::uint32_t period) noexcept {
    if (period <= 1) return 1;
    std::uint32_t x = v.gap_random != 0 ? v.gap_random : 0x9E3779B9u ^ static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(&v) >> 4);
    x ^= x << 13; // xorshift32
    x ^= x >> 17;
    x ^= x << 5;
    v.gap_random = x != 0 ? x : 1;
    return 1 + x % (2 * period - 1);
}

// Records a lock now held in the thread's table.
[[gnu::always_inline]] inline void push_held(const LockEvent &e, VerifierThread &v, Shadow *s, bool contended) {
    const unsigned d = v.depth.load(std::memory_order_relaxed);
    // Waiting for this lock (its holder may have been descheduled) is not the outer holds' own
    // time: they are not timed.
    if (contended)
        for (unsigned i = 0; i < d && i < kMaxHeld; ++i) v.held[i].untimed = true;
    if (d >= kMaxHeld) {
        v.overflowed = true;
        platform::diagnostic("verifier: thread %d holds more than %u locks at once; checking is off for this thread",
                             e.thread->os_tid.load(std::memory_order_relaxed), kMaxHeld);
        return;
    }
    HeldLock &h = v.held[d];
    h.lock.store(e.lock, std::memory_order_relaxed);
    h.file.store(e.site.file, std::memory_order_relaxed);
    h.line.store(e.site.line, std::memory_order_relaxed);
    h.function.store(e.site.function, std::memory_order_relaxed);
    h.return_address.store(e.site.return_address, std::memory_order_relaxed);
    h.handle = e.handle;
    h.state = e.state;
    h.lock_class = s != nullptr ? s->lock_class.load(std::memory_order_relaxed) : kOverflowClass;
    h.variant = e.variant;
    h.irql_at_acquire = e.irql;
    h.untimed = false;
    h.seq = v.next_seq++;
    if (d == 0) {
        v.outer_hold.store(h.seq, std::memory_order_release);
        // A first lock: a napping sentinel must look again. Store, then read its flag; the
        // sentinel sets the flag, then looks (long_holds.cpp): one of the two sees the other.
        platform::light_fence();
        wake_sentinel_if_napping();
    }
    h.chain = chain_at(v, d, chain_class(h.lock_class, h.variant));
    h.shadow = s;
    // One hold in hold_sample_period is timed (settings.h). The period is read on every acquire,
    // so a new one applies at once.
    const std::uint32_t period = g_settings.hold_sample_period.load(std::memory_order_relaxed);
    if (__builtin_expect(period != v.gap_period, 0)) {
        v.gap_period = period;
        v.until_timed = next_sampling_gap(v, period);
    }
    h.timed = --v.until_timed == 0;
    if (h.timed) {
        v.until_timed = next_sampling_gap(v, period);
        h.start = platform::own_time_now();
    }
    v.depth.store(d + 1, std::memory_order_release);
    if (s != nullptr && !shared_hold(e.variant)) { // readers have no single holder
        s->holder_slot.store(static_cast<std::uint8_t>(d), std::memory_order_relaxed);
        s->holder.store(e.thread->id, std::memory_order_release);
    }
}

void on_acquiring_at(const LockEvent &e) noexcept {
    VerifierThread &v = verifier_thread(*e.thread);
    if (v.overflowed) return;
    Shadow *s = shadow_for_use(v, e, observe::variant_name);
    check_acquire(e, v, s);
    v.wanting_shadow = s;
    v.wanting_site = e.site;
    v.wanting.store(e.lock, std::memory_order_relaxed);
}

void on_acquired_at(const LockEvent &e, bool contended) noexcept {
    VerifierThread &v = verifier_thread(*e.thread);
    v.wanting.store(nullptr, std::memory_order_relaxed);
    if (v.overflowed) return;
    // The entry found before the wait, unless the table was emptied during it (the verifier was
    // switched off and on) or the memory holds another lock now.
    Shadow *s = v.wanting_shadow;
    if (s == nullptr || !shadow_is(s, e.lock)) s = shadow_for_use(v, e, observe::variant_name);
    push_held(e, v, s, contended);
}

// Taken at the first attempt: no wait to describe, so nothing of `wanting` is written.
[[gnu::always_inline]] inline void on_acquired_at_once_at(const LockEvent &e) noexcept {
    VerifierThread &v = verifier_thread(*e.thread);
    if (v.overflowed) return;
    Shadow *s = shadow_for_use(v, e, observe::variant_name);
    check_acquire(e, v, s);
    push_held(e, v, s, false);
}

// ExTryConvertSharedSpinLockExclusive: the innermost shared hold of the lock is exclusive now.
void on_rw_converted(const LockEvent &e) noexcept {
    VerifierThread &v = verifier_thread(*e.thread);
    if (v.overflowed) return;
    for (unsigned i = v.depth.load(std::memory_order_relaxed); i-- > 0;) {
        HeldLock &h = v.held[i];
        if (h.lock.load(std::memory_order_relaxed) != e.lock || !shared_hold(h.variant)) continue;
        h.variant = h.variant == Variant::ExShared ? Variant::ExExclusive : Variant::ExExclusiveAtDpc;
        if (h.shadow != nullptr && shadow_is(h.shadow, e.lock)) {
            h.shadow->holder_slot.store(static_cast<std::uint8_t>(i), std::memory_order_relaxed);
            h.shadow->holder.store(e.thread->id, std::memory_order_release);
        }
        return;
    }
}

void on_try_failed(const LockEvent &e) noexcept {
    verifier_thread(*e.thread).wanting.store(nullptr, std::memory_order_relaxed);
}

// ---- release --------------------------------------------------------------------------------

void check_irql_drop(VerifierThread &v, model::ThreadState *thread, KIRQL to, const Site &site);

[[gnu::always_inline]] inline void remove_held(VerifierThread &v, unsigned index) noexcept {
    const unsigned d = v.depth.load(std::memory_order_relaxed);
    for (unsigned j = index + 1; j < d; ++j) {
        HeldLock &to = v.held[j - 1], &from = v.held[j];
        to.lock.store(from.lock.load(std::memory_order_relaxed), std::memory_order_relaxed);
        to.file.store(from.file.load(std::memory_order_relaxed), std::memory_order_relaxed);
        to.line.store(from.line.load(std::memory_order_relaxed), std::memory_order_relaxed);
        to.function.store(from.function.load(std::memory_order_relaxed), std::memory_order_relaxed);
        to.return_address.store(from.return_address.load(std::memory_order_relaxed), std::memory_order_relaxed);
        to.handle = from.handle;
        to.state = from.state;
        to.lock_class = from.lock_class;
        to.variant = from.variant;
        to.irql_at_acquire = from.irql_at_acquire;
        to.timed = from.timed;
        to.untimed = from.untimed;
        to.seq = from.seq;
        to.chain = chain_at(v, j - 1, chain_class(to.lock_class, to.variant));
        to.shadow = from.shadow;
        to.start = from.start;
        if (to.shadow != nullptr && shadow_is(to.shadow, to.lock.load(std::memory_order_relaxed)))
            to.shadow->holder_slot.store(static_cast<std::uint8_t>(j - 1), std::memory_order_relaxed);
    }
    if (index == 0) {
        v.outer_hold.store(d > 1 ? v.held[0].seq : kNoSeq, std::memory_order_release);
        v.beat_counted.store(false, std::memory_order_relaxed); // the sentinel sets it again if it counts
    }
    v.depth.store(d - 1, std::memory_order_release);
}

// The reports of a release, out of line: the common release reports nothing, and its path stays
// short (no report's strings, no frame for them).
// expected: the IRQL its acquire holds the lock at (observe::held_irql: SYNCH_LEVEL after a
// RaiseToSynch acquire, else DISPATCH_LEVEL).
[[gnu::cold, gnu::noinline]] void report_release_irql(const LockEvent &e, const Shadow *s,
                                                     KIRQL expected = DISPATCH_LEVEL) {
    // KeReleaseSpinLockFromDpcLevel and KeReleaseInStackQueuedSpinLockFromDpcLevel are documented
    // for any IRQL >= DISPATCH_LEVEL, as their acquires are.
    if (e.irql > DISPATCH_LEVEL && any_irql_at_or_above_dispatch(e.variant)) return;
    emit(base(Rule::ReleaseNotAtDispatch, e, s,
              expected == DISPATCH_LEVEL
                  ? format("%s at IRQL %u: a spin lock is released at DISPATCH_LEVEL, where its acquire put the "
                           "processor",
                           release_name(e.variant), e.irql)
                  : format("%s at IRQL %u: a lock taken by a RaiseToSynch acquire is released at SYNCH_LEVEL (%u), "
                           "where its acquire put the processor",
                           release_name(e.variant), e.irql, expected)));
}

[[gnu::cold, gnu::noinline]] void report_release_unheld(const LockEvent &e, const Shadow *s) {
    const char *call = release_name(e.variant);
    const model::ThreadState *holder = live_holder(s, e.lock);
    if (holder != nullptr && holder != e.thread) {
        Report r = base(Rule::ReleaseByNonOwner, e, s,
                        format("%s on a lock held by another thread: only the acquiring context may release it",
                               call));
        int tid = 0;
        if (holder_site(s, e.lock, &r.other, &tid)) {
            r.other_role = "held since";
            r.explanation += format(" (thread %d)", tid);
        }
        emit(r);
    } else {
        emit(base(Rule::ReleaseNotHeld, e, s, format("%s on a lock that is not held", call)));
    }
}

// other_family: released with a call of another family than the acquire's (else the wrong IRQL).
[[gnu::cold, gnu::noinline]] void report_release_mismatch(const LockEvent &e, const Shadow *s, const HeldLock &h,
                                                         bool other_family) {
    // A plain (not queued) release of the other variant that leaves the IRQL exactly where the
    // matching one would: a non-raising acquire released by a raising release that "restores" the
    // IRQL already current (KeTryToAcquireSpinLockAtDpcLevel, then KeReleaseSpinLock(Lock,
    // DISPATCH_LEVEL), as a Microsoft NDIS sample does), or a raising acquire made at the IRQL of
    // its release (it saved that IRQL) released without restoring. Windows runs both exactly as
    // the matching release: a note, never an error.
    const bool plain = !queued(h.variant) && !queued(e.variant);
    if (other_family && plain &&
        (raising(e.variant) ? e.new_irql == e.irql : h.irql_at_acquire == e.irql)) {
        Report r = base(Rule::ReleaseVariantEquivalent, e, s,
                        format("acquired with %s but released with %s (the documented pair is %s); here it "
                               "behaves the same on Windows, since the IRQL stays %u either way",
                               observe::variant_name(h.variant), release_name(e.variant), release_name(h.variant),
                               e.irql));
        r.other = h.site();
        r.other_role = "acquired at";
        emit(r);
    } else if (other_family) {
        Report r = base(Rule::ReleaseVariantMismatch, e, s,
                        format("acquired with %s but released with %s (expected %s)%s",
                               observe::variant_name(h.variant), release_name(e.variant), release_name(h.variant),
                               raising(h.variant) && !raising(e.variant)
                                   ? ": the IRQL the acquire raised is never restored"
                                   : ""));
        r.other = h.site();
        r.other_role = "acquired at";
        emit(r);
    } else {
        Report r = base(Rule::WrongOldIrql, e, s,
                        format("%s restores IRQL %u, but its acquire saved %u: pass the value the acquire returned "
                               "(one OldIrql per held lock)",
                               release_name(e.variant), e.new_irql, h.irql_at_acquire));
        r.other = h.site();
        r.other_role = "acquired at";
        emit(r);
    }
}

[[gnu::cold, gnu::noinline]] void report_held_too_long(const LockEvent &e, const Shadow *s, const HeldLock &h,
                                                      std::uint64_t held_ns, std::uint64_t budget, bool far_over) {
    Report r = base(Rule::LockHeldTooLong, e, s,
                    far_over ? format("held for at least %.1f us of the holder's own running time (%.0fx the budget: "
                                      "reported the first time), over the %.1f us budget: hold a spin lock for a few "
                                      "instructions only",
                                      static_cast<double>(held_ns) / 1000.0,
                                      static_cast<double>(held_ns) / static_cast<double>(budget),
                                      static_cast<double>(budget) / 1000.0)
                             : format("held for %.1f us of the holder's own running time (the third timed hold of its "
                                      "class in a row over budget), over the %.1f us budget: hold a spin lock for a "
                                      "few instructions only",
                                      static_cast<double>(held_ns) / 1000.0, static_cast<double>(budget) / 1000.0));
    r.other = h.site();
    r.other_role = "acquired at";
    emit(r);
}

// A hold the sentinel's heartbeat counted (long_holds.h): the own time counted, if it is charged
// (0 otherwise).
[[gnu::cold, gnu::noinline]] std::uint64_t counted_hold_own_ns(VerifierThread &v, const HeldLock &h,
                                                               const model::ThreadState &t) noexcept {
    if (h.untimed) return 0;
    return counted_own_ns(v.hold_beat, h.seq, model::interrupt_marks(t),
                          v.verifier_ns.load(std::memory_order_relaxed));
}

// A release of a lock no thread is known to hold, while its word says it is held: after the
// verifier was off for a while, that is an acquire it did not see (by this thread or another), and
// nothing can be said about the release. With the verifier on since the start, the release is
// checked as usual (an acquire is seen before its word can be released).
[[gnu::cold]] bool acquired_unseen(const LockEvent &e, const Shadow *s) noexcept {
    if (g_settings.on_since_start.load(std::memory_order_relaxed)) return false;
    if (live_holder(s, e.lock) != nullptr) return false;
    if (observe::is_rw(e.variant)) return true; // readers have no holder to ask: say nothing
    return __atomic_load_n(static_cast<const KSPIN_LOCK *>(e.lock), __ATOMIC_RELAXED) != 0;
}

void on_releasing(const LockEvent &e) noexcept {
    VerifierThread &v = verifier_thread(*e.thread);
    if (v.overflowed) return;
    const bool rw = observe::is_rw(e.variant);
    // A reader/writer release's reports name the lock's class: its entry is looked up first.
    const int index = rw ? find_rw_release(e, v, shadow_for_use(v, e, release_name)) : find_held(v, e.lock);
    if (__builtin_expect(index < 0, 0)) {
        Shadow *s = shadow_for_use(v, e, release_name);
        if (e.irql != DISPATCH_LEVEL) report_release_irql(e, s); // whoever acquired it
        if (acquired_unseen(e, s)) return;
        return report_release_unheld(e, s);
    }
    HeldLock &h = v.held[index];
    // The entry its acquire found, unless the memory was reused since (a lock freed while held).
    Shadow *s = h.shadow != nullptr && shadow_is(h.shadow, e.lock) ? h.shadow : shadow_for_use(v, e, release_name);
    if (const KIRQL held_at = observe::held_irql(h.variant); __builtin_expect(e.irql != held_at, 0))
        report_release_irql(e, s, held_at);
    {
        HeldLock &r = v.last_released; // fields first, the lock last (read in that order elsewhere)
        r.file.store(h.file.load(std::memory_order_relaxed), std::memory_order_relaxed);
        r.line.store(h.line.load(std::memory_order_relaxed), std::memory_order_relaxed);
        r.function.store(h.function.load(std::memory_order_relaxed), std::memory_order_relaxed);
        r.return_address.store(h.return_address.load(std::memory_order_relaxed), std::memory_order_relaxed);
        r.lock.store(e.lock, std::memory_order_release);
    }
    // Measured first: the reports below take far longer than a hold.
    const std::uint64_t held_ns = !h.timed || h.untimed ? platform::kDescheduled : platform::own_time_since(h.start);
    const std::uint64_t counted_ns =
        __builtin_expect(v.hold_beat.want.load(std::memory_order_relaxed) == h.seq, 0)
            ? counted_hold_own_ns(v, h, *e.thread)
            : 0;
    // Reader/writer releases had their form and state checked in find_rw_release; a state that
    // belongs to another acquisition already made its report (the IRQL it restores is not this one's).
    const bool other_family = !rw && family_bits(h.variant) != family_bits(e.variant);
    const bool state_matches = !rw || e.state == nullptr || e.state == h.state;
    if (__builtin_expect(other_family || (raising(e.variant) && raising(h.variant) && state_matches &&
                                          e.new_irql != h.irql_at_acquire),
                         0))
        report_release_mismatch(e, s, h, other_family);
    // Hold time: wall time, kept only if the scheduler witness shows the holder ran throughout
    // (platform/own_time.h); reported when the class overran kOverrunsToReport times in a row
    // (hold_times.h). A hold the sampling passed over is not counted at all.
    // A hold far over budget by the heartbeat's count (long_holds.h) is reported the first time,
    // whatever the streak. (A sampled time alone is no such proof: wall time with the scheduler's
    // witness steady still includes the time the host took the virtual CPU away.)
    if (h.timed || counted_ns != 0) {
        const std::uint64_t budget = g_settings.hold_budget_ns.load(std::memory_order_relaxed);
        // A timed hold the heartbeat reached has lost its wall-time witness (a signal's delivery
        // moves it): its count stands in, but only when it shows an overrun. It is a lower bound:
        // under the budget it says nothing, and must not end a streak.
        const std::uint64_t sample =
            held_ns != platform::kDescheduled || counted_ns <= budget ? held_ns : counted_ns;
        const bool streak = h.timed && record_hold(h.lock_class, sample, budget);
        if (__builtin_expect(counted_ns >= far_over_ns(budget), 0))
            report_held_too_long(e, s, h, counted_ns, budget, true);
        else if (__builtin_expect(streak, 0))
            report_held_too_long(e, s, h, sample, budget, false);
    }
    const bool exclusive_left = rw && holds_exclusive(v, e.lock, index); // a recursive write still held
    const bool was_shared = shared_hold(h.variant);
    remove_held(v, static_cast<unsigned>(index));
    if (s != nullptr && !was_shared && !exclusive_left) s->holder.store(0, std::memory_order_release);
    // A raising release that drops below DISPATCH_LEVEL while other spin locks are still held:
    // the documented out-of-order release (KeLowerIrql is checked in on_irql_changed).
    if (v.depth.load(std::memory_order_relaxed) != 0 && raising(e.variant) && e.new_irql < DISPATCH_LEVEL &&
        e.irql >= DISPATCH_LEVEL)
        check_irql_drop(v, e.thread, e.new_irql, e.site);
}

// ---- IRQL -----------------------------------------------------------------------------------

void check_irql_drop(VerifierThread &v, model::ThreadState *thread, KIRQL to, const Site &site) {
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    if (depth == 0) return;
    Report r(Rule::IrqlDroppedWhileHoldingLock);
    r.site = site;
    r.thread = thread;
    r.lock = v.held[0].lock.load(std::memory_order_relaxed);
    r.lock_class = v.held[0].lock_class;
    r.explanation = format("the IRQL drops to %u while %u spin lock%s still held: the code after this runs "
                           "preemptible with the lock held (release spin locks in the reverse order of their "
                           "acquires; each release restores the IRQL its own acquire saved)",
                           to, depth, depth == 1 ? " is" : "s are");
    r.other = v.held[0].site();
    r.other_role = "still held, acquired at";
    emit(r);
}

// KeLowerIrql (and KeRaiseIrql); releases check their own IRQL drop in on_releasing.
void on_irql_changed(const observe::IrqlEvent &ev) noexcept {
    if (ev.to >= DISPATCH_LEVEL || ev.from < DISPATCH_LEVEL) return;
    VerifierThread &v = verifier_thread(*ev.thread);
    if (!v.overflowed) check_irql_drop(v, ev.thread, ev.to, ev.site);
}

bool on_misuse(Rule rule, const Site &site, const char *detail) noexcept {
    Report r(rule);
    r.site = site;
    r.explanation = detail;
    r.thread = &model::current_thread();
    emit(r);
    return true;
}

// ---- threads --------------------------------------------------------------------------------

// ThreadExitHoldingLock for thread t, ending (how: "ends", or the process's end).
void check_thread_end(model::ThreadState &t, const char *how) {
    VerifierThread *v = verifier_thread_of(t);
    const KIRQL irql = t.irql.load(std::memory_order_relaxed);
    const unsigned depth = v != nullptr && !v->overflowed ? v->depth.load(std::memory_order_relaxed) : 0;
    if (depth == 0 && irql == PASSIVE_LEVEL) return;
    Report r(Rule::ThreadExitHoldingLock);
    r.thread = &t;
    if (depth != 0) {
        r.site = v->held[depth - 1].site();
        r.lock = v->held[depth - 1].lock.load(std::memory_order_relaxed);
        r.lock_class = v->held[depth - 1].lock_class;
        r.explanation = format("thread %d %s holding %u spin lock%s (the last taken is shown), at IRQL %u: "
                               "whoever waits for them waits forever",
                               t.os_tid.load(std::memory_order_relaxed), how, depth, depth == 1 ? "" : "s", irql);
    } else {
        r.explanation = format("thread %d %s at IRQL %u: a thread must return to PASSIVE_LEVEL before it ends",
                               t.os_tid.load(std::memory_order_relaxed), how, irql);
    }
    emit_kept_site(r);
}

void on_thread_exiting(model::ThreadState &t) noexcept {
    check_thread_end(t, "ends");
    release_verifier_thread(t);
}

// ---- other calls ----------------------------------------------------------------------------

// NdisMSleep and friends: a call that can sleep needs PASSIVE_LEVEL and no spin lock held; any
// NDIS call other than the spin-lock ones needs no NDIS spin lock held. The worse finding wins.
void on_other_call(const char *name, bool blocking, bool ndis, const Site &site) noexcept {
    model::ThreadState &t = model::current_thread();
    VerifierThread &v = verifier_thread(t);
    if (v.overflowed) return;
    const KIRQL irql = t.irql.load(std::memory_order_relaxed);
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    int ndis_held = -1;
    for (unsigned i = 0; i < depth; ++i)
        if (v.held[i].variant == Variant::NdisAcquire || v.held[i].variant == Variant::NdisDpr) ndis_held = static_cast<int>(i);
    if (blocking && (irql >= DISPATCH_LEVEL || depth != 0)) {
        Report r(Rule::BlockingAtDispatch);
        r.site = site;
        r.thread = &t;
        r.explanation = format("%s can put the thread to sleep, here at IRQL %u%s: a processor at DISPATCH_LEVEL or "
                               "holding a spin lock cannot wait (on Windows a bug check or a deadlock)",
                               name, irql, depth != 0 ? " with a spin lock held" : "");
        if (depth != 0) {
            r.lock = v.held[depth - 1].lock.load(std::memory_order_relaxed);
            r.lock_class = v.held[depth - 1].lock_class;
            r.other = v.held[depth - 1].site();
            r.other_role = "the lock held was acquired at";
        }
        emit(r);
    } else if (ndis && ndis_held >= 0) {
        Report r(Rule::NdisCallWhileHoldingLock);
        r.site = site;
        r.thread = &t;
        r.lock = v.held[ndis_held].lock.load(std::memory_order_relaxed);
        r.lock_class = v.held[ndis_held].lock_class;
        r.explanation = format("%s called while an NDIS spin lock is held: release NDIS spin locks before calling "
                               "NDIS functions other than the spin-lock and interlocked ones",
                               name);
        r.other = v.held[ndis_held].site();
        r.other_role = "the NDIS lock held was acquired at";
        emit(r);
    }
}

// ---- driver callbacks -----------------------------------------------------------------------

void on_callback_entered(const observe::CallbackEvent &e) noexcept {
    model::ThreadState &t = e.thread != nullptr ? *e.thread : model::current_thread();
    VerifierThread &v = verifier_thread(t);
    note_routine(e.routine); // its address now resolves to it (sites.h)
    const unsigned n = v.callbacks.load(std::memory_order_relaxed);
    if (n < kMaxCallbackNesting) {
        CallbackFrame &f = v.callback[n];
        f.routine.store(e.routine, std::memory_order_relaxed);
        f.kind.store(static_cast<std::uint8_t>(e.kind), std::memory_order_relaxed);
        f.object = e.object;
        f.first_seq = v.next_seq;
        f.run = v.next_run++;
        f.untimed = false;
        if (n == 0) {
            v.outer_run.store(f.run, std::memory_order_release);
            platform::light_fence(); // a first routine: as for a first lock (push_held)
            wake_sentinel_if_napping();
        }
    }
    v.callbacks.store(n + 1, std::memory_order_release);
}

// LockHeldAtCallbackReturn: locks the routine took and still holds, or another IRQL than it was
// entered at (thread->irql is still what the routine left: the core restores it afterwards).
void check_callback_return(const observe::CallbackEvent &e, const CallbackFrame &f, VerifierThread &v,
                           model::ThreadState &t) {
    const KIRQL now = t.irql.load(std::memory_order_relaxed);
    const unsigned depth = v.overflowed ? 0 : v.depth.load(std::memory_order_relaxed);
    unsigned taken = 0;
    int first = -1;
    for (unsigned i = 0; i < depth && i < kMaxHeld; ++i) {
        if (v.held[i].seq < f.first_seq) continue;
        if (first < 0) first = static_cast<int>(i);
        ++taken;
    }
    if (taken == 0 && now == e.irql) return;
    Report r(Rule::LockHeldAtCallbackReturn);
    r.site = callback_site(e);
    r.thread = &t;
    const std::string who = callback_description(e.kind, e.routine);
    char irql_part[160] = "";
    if (now != e.irql)
        std::snprintf(irql_part, sizeof irql_part, "; it also returns at IRQL %u (%s), not at the IRQL %u (%s) it was entered at",
                      now, irql_name(now), e.irql, irql_name(e.irql));
    if (taken != 0) {
        const HeldLock &h = v.held[first];
        r.lock = h.lock.load(std::memory_order_relaxed);
        r.lock_class = h.lock_class;
        r.other = h.site();
        r.other_role = "the lock was acquired at";
        r.explanation = format("%s returns holding %u spin lock%s it acquired (%s%s)%s: a callback must release every "
                               "lock it takes before it returns; left held, %s every later acquire spin, on any "
                               "processor",
                               who.c_str(), taken, taken == 1 ? "" : "s", class_string(h.lock_class).c_str(),
                               taken == 1 ? "" : ", the first is shown", irql_part,
                               taken == 1 ? "it makes" : "they make");
    } else {
        r.explanation = format("%s was entered at IRQL %u (%s) and returns at IRQL %u (%s): a callback must return at "
                               "the IRQL it was called at (ndislock puts the IRQL back; Windows would run the rest of "
                               "the processor's work at the wrong IRQL)",
                               who.c_str(), e.irql, irql_name(e.irql), now, irql_name(now));
    }
    emit(r);
}

// IsrTooLong / DpcTooLong: the routine's own running time against its budget. A run far over
// budget by the heartbeat's count (counted_ns, long_holds.h) is reported the first time; a
// marginal overrun on the third overrun in a row of the same routine (hold_times.h says why).
void check_callback_time(const observe::CallbackEvent &e, std::uint64_t own_ns, std::uint64_t counted_ns,
                         model::ThreadState &t) {
    const bool device = at_device_level(e.kind);
    if (!device && !is_dpc(e.kind)) return;
    const std::uint64_t budget = device ? g_settings.isr_budget_ns.load(std::memory_order_relaxed)
                                        : g_settings.dpc_budget_ns.load(std::memory_order_relaxed);
    // A run the heartbeat reached has lost its wall-time witness (a signal's delivery moves it): its
    // count stands in when it shows an overrun (a lower bound says nothing under the budget).
    if (own_ns == platform::kDescheduled && counted_ns > budget) own_ns = counted_ns;
    const bool streak = confirm_callback_overrun(e.routine, own_ns, budget);
    const std::uint64_t proven = counted_ns;
    const bool far_over = proven >= far_over_ns(budget);
    if (!far_over && !streak) return;
    Report r(device ? Rule::IsrTooLong : Rule::DpcTooLong);
    r.site = callback_site(e);
    r.thread = &t;
    const std::string who = callback_description(e.kind, e.routine);
    const std::string how =
        far_over ? format("ran for at least %.1f us of its own running time (%.0fx the budget: reported the first "
                          "time), over",
                          static_cast<double>(proven) / 1000.0, static_cast<double>(proven) / static_cast<double>(budget))
                 : format("ran for %.1f us of its own running time (the third run in a row over budget), over",
                          static_cast<double>(own_ns) / 1000.0);
    const double budget_us = static_cast<double>(budget) / 1000.0;
    if (device)
        r.explanation = format("%s %s the %.1f us budget for code at DIRQL: nothing else runs on its processor "
                               "meanwhile, not even DPCs; do the minimum there (read and acknowledge the device, save "
                               "what the DPC needs) and leave the rest to MiniportInterruptDPC",
                               who.c_str(), how.c_str(), budget_us);
    else
        r.explanation = format("%s %s the %.1f us DPC budget: every other DPC and thread of its processor waits "
                               "meanwhile; bound the work per DPC (a receive budget per call, then queue the DPC "
                               "again) or move it to a work item at PASSIVE_LEVEL",
                               who.c_str(), how.c_str(), budget_us);
    emit(r);
}

void on_callback_returned(const observe::CallbackEvent &e, std::uint64_t own_ns) noexcept {
    model::ThreadState &t = e.thread != nullptr ? *e.thread : model::current_thread();
    VerifierThread &v = verifier_thread(t);
    unsigned n = v.callbacks.load(std::memory_order_relaxed);
    if (n == 0) return; // entered before the verifier was on
    --n;
    v.callbacks.store(n, std::memory_order_release);
    if (n >= kMaxCallbackNesting) return; // nested too deep to be tracked
    CallbackFrame &f = v.callback[n];
    if (f.routine.load(std::memory_order_relaxed) != e.routine ||
        f.kind.load(std::memory_order_relaxed) != static_cast<std::uint8_t>(e.kind) || f.object != e.object) {
        // Out of step (a routine's return that does not match its entry, which the nesting of
        // callbacks rules out unless the record was lost): start afresh. A switch of the verifier
        // inside a callback empties the record (held_locks.cpp), so that return finds none.
        v.callbacks.store(0, std::memory_order_release);
        v.outer_run.store(kNoSeq, std::memory_order_release);
        return;
    }
    const bool untimed = f.untimed; // before a report below marks the outer callbacks
    const std::uint64_t counted_ns =
        !untimed && v.run_beat.want.load(std::memory_order_relaxed) == f.run
            ? counted_own_ns(v.run_beat, f.run, model::interrupt_marks(t),
                             v.verifier_ns.load(std::memory_order_relaxed))
            : 0;
    if (n == 0) {
        v.outer_run.store(kNoSeq, std::memory_order_release);
        v.beat_counted.store(false, std::memory_order_relaxed);
    }
    check_callback_return(e, f, v, t);
    check_callback_time(e, untimed ? platform::kDescheduled : own_ns, counted_ns, t);
}

void on_lock_named(const void *lock, const char *name) noexcept {
    if (Shadow *s = shadow_find(lock)) s->lock_class.store(static_cast<std::uint16_t>(class_for_name(name)), std::memory_order_relaxed);
}


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
void credit_verifier_work(VerifierThread &v, unsigned depth, const platform::OwnTimeStamp &before) noexcept {
    const platform::OwnTimeStamp after = platform::own_time_now();
    for (unsigned i = 0; i < depth && i < kMaxHeld; ++i) {
        HeldLock &h = v.held[i];
        if (!h.timed || h.untimed) continue;
        if (h.start.exact_clock != after.exact_clock || after.ns < before.ns) {
            h.untimed = true;
            continue;
        }
        h.start.ns += after.ns - before.ns; // a deschedule meanwhile still shows in the witness
    }
}

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

void on_initialized(const LockEvent &e) noexcept { with_driver_site<on_initialized_at>(e); }
void on_acquiring(const LockEvent &e) noexcept { with_driver_site<on_acquiring_at>(e); }
void on_acquired_contended(const LockEvent &e) noexcept { on_acquired_at(e, true); }
void on_acquired_at_once_of_wait(const LockEvent &e) noexcept { on_acquired_at(e, false); }
// Seen twice (acquiring, then acquired): the second time reuses the site the first one found.
void on_acquired(const LockEvent &e, bool contended) noexcept {
    if (__builtin_expect(library_file(e.site.file), 0)) {
        VerifierThread &v = verifier_thread(*e.thread);
        if (v.wanting.load(std::memory_order_relaxed) == e.lock)
            return on_acquired_at(LockEvent{e.lock, e.handle, e.variant, e.ndis, e.irql, e.new_irql, v.wanting_site,
                                            e.thread, e.state, e.busy},
                                  contended);
    }
    if (contended)
        with_driver_site<on_acquired_contended>(e);
    else
        with_driver_site<on_acquired_at_once_of_wait>(e);
}
void on_acquired_at_once(const LockEvent &e) noexcept { with_driver_site<on_acquired_at_once_at>(e); }

} // namespace

void untime_open_holds(model::ThreadState *t) noexcept { untime_holds(t); }

std::string callback_description(observe::Callback kind, const void *routine) {
    const char *role = observe::callback_role(kind);
    if (routine == nullptr) return role;
    return std::string(role) + " " + routine_name(routine);
}

RunningCallback running_callback(model::ThreadState &t) noexcept {
    RunningCallback out;
    VerifierThread *v = verifier_thread_of(t);
    if (v == nullptr) return out;
    const unsigned n = v->callbacks.load(std::memory_order_acquire);
    if (n == 0 || n > kMaxCallbackNesting) return out;
    out.kind = static_cast<observe::Callback>(v->callback[n - 1].kind.load(std::memory_order_relaxed));
    out.routine = v->callback[n - 1].routine.load(std::memory_order_relaxed);
    return out;
}

void check_process_exit() noexcept {
    // Only while the verifier is on (its observer registered), as for any other finding.
    if (g_settings.mode.load(std::memory_order_relaxed) == NDISLOCK_VERIFIER_OFF) return;
    model::ThreadState *t = model::tls_thread;
    if (t == nullptr || !observe::active()) return;
    check_thread_end(*t, "ends the process (a return from main, or exit)");
}

const observe::Observer kVerifierObserver = [] {
    observe::Observer o;
    o.lock_initialized = Apart<on_initialized>::call;
    o.lock_freed = Apart<on_freed>::call;
    o.acquiring = Apart<on_acquiring>::call;
    o.acquired = Apart<on_acquired>::call;
    o.acquired_at_once = Apart<on_acquired_at_once>::call;
    o.try_failed = Apart<on_try_failed>::call;
    o.releasing = Apart<on_releasing>::call;
    o.irql_changed = Apart<on_irql_changed>::call;
    o.wait = on_wait;
    o.thread_exiting = on_thread_exiting;
    o.misuse = on_misuse;
    o.lock_named = on_lock_named;
    o.other_call = on_other_call;
    o.callback_entered = Apart<on_callback_entered>::call;
    o.callback_returned = Apart<on_callback_returned>::call;
    o.rw_converted = Apart<on_rw_converted>::call;
    o.wait_lock = Apart<on_wait_lock>::call;
    return o;
}();

} // namespace ndislock::verifier
