// An acquire: the checks before its attempt (the IRQL, the class's IRQL, queued and plain mixed,
// recursion, a queue handle reused, the lock order), then the lock recorded in the thread's table
// with the sampling of its hold time. The common acquire reports nothing: its reports are out of
// line.
#include "verifier/checks_internal.h"

#include "platform/diagnostics.h"
#include "platform/membarrier.h"
#include "verifier/class_irql.h"
#include "verifier/long_holds.h"
#include "verifier/rw_checks.h"
#include "verifier/settings.h"

namespace ndislock::verifier {

namespace {

// The form of the same lock documented for any IRQL >= DISPATCH_LEVEL, for a kernel acquire
// documented for DISPATCH_LEVEL or below; nullptr if the call is such a form already.
const char *at_dpc_level_form(Variant v) noexcept {
    switch (v) {
    case Variant::KeAcquire:
    case Variant::KeForDpc:
        return observe::variant_name(Variant::KeAtDpcLevel);
    case Variant::Queued:
    case Variant::QueuedForDpc:
        return observe::variant_name(Variant::QueuedAtDpcLevel);
    case Variant::ExShared:
        return observe::variant_name(Variant::ExSharedAtDpc);
    case Variant::ExExclusive:
        return observe::variant_name(Variant::ExExclusiveAtDpc);
    default:
        return nullptr;
    }
}

// A kernel (Ke, Ex) acquire above DISPATCH_LEVEL outside an ISR: the kernel's cures, not NDIS's.
// A lock used only above DISPATCH_LEVEL has a form documented there; state shared with an
// interrupt is reached through KeSynchronizeExecution, as NDIS code reaches it through
// NdisMSynchronizeWithInterruptEx.
[[gnu::cold]] void report_kernel_acquire_above_dispatch(const LockEvent &e, const Shadow *s) {
    const char *call = observe::variant_name(e.variant);
    const char *form = at_dpc_level_form(e.variant);
    const std::string cure =
        form != nullptr ? format("; on a lock used only above DISPATCH_LEVEL, take it with %s, which is for any "
                                 "IRQL >= DISPATCH_LEVEL",
                                 form)
                        : std::string();
    emit(base(Rule::AcquireAboveDispatch, e, s,
              format("%s at IRQL %u, above DISPATCH_LEVEL: it is for IRQL <= DISPATCH_LEVEL%s; state shared with an "
                     "interrupt service routine is touched only in a routine run through KeSynchronizeExecution "
                     "(under the interrupt's own lock), never under a spin lock also taken below DISPATCH_LEVEL",
                     call, e.irql, cure.c_str())));
}

// The reports of an acquire are out of line, as a release's are: the common acquire reports
// nothing.
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
    const auto kind = static_cast<observe::Callback>(e.thread->callback.kind.load(std::memory_order_relaxed));
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
    } else if (e.irql > DISPATCH_LEVEL && e.ndis)
        emit(base(Rule::AcquireAboveDispatch, e, s,
                  format("%s at IRQL %u, above DISPATCH_LEVEL (as in MiniportInterrupt, MiniportDisableInterruptEx "
                         "or a synchronize function): a spin lock must not guard state shared with the ISR; touch "
                         "that state only in a MiniportSynchronizeInterrupt function run through "
                         "NdisMSynchronizeWithInterruptEx",
                         call, e.irql)));
    else if (e.irql > DISPATCH_LEVEL)
        report_kernel_acquire_above_dispatch(e, s);
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

// form: e.variant in the checks below, a constant where the caller knows it (the hooks' common
// forms), so that their tests of the form fold away.
[[gnu::always_inline]] inline void check_irql_for_acquire(const LockEvent &e, Variant form, const Shadow *s) {
    if (__builtin_expect(e.irql == DISPATCH_LEVEL || (e.irql < DISPATCH_LEVEL && raising(form)), 1)) return;
    report_acquire_irql(e, s);
}

[[gnu::cold, gnu::noinline]] void report_mixed_mode(const LockEvent &e, const Shadow *s, LockMode seen) {
    emit(base(Rule::QueuedAndPlainMixed, e, s,
              format("%s on a lock %s: queued and ordinary acquires must never be mixed on one KSPIN_LOCK",
                     observe::variant_name(e.variant),
                     seen == LockMode::Queued ? "used with in-stack queued acquires"
                                              : "used with ordinary (non-queued) acquires")));
}

[[gnu::always_inline]] inline void check_mode(const LockEvent &e, Variant form, Shadow *s) {
    if (s == nullptr) return;
    const LockMode wanted = queued(form) ? LockMode::Queued : LockMode::Plain;
    LockMode seen = s->mode.load(std::memory_order_relaxed); // settled after the first acquire: no RMW
    if (__builtin_expect(seen == wanted, 1)) return;
    if (seen == LockMode::Unknown &&
        (s->mode.compare_exchange_strong(seen, wanted, std::memory_order_relaxed) || seen == wanted))
        return;
    report_mixed_mode(e, s, seen);
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
    const auto kind = static_cast<observe::Callback>(e.thread->callback.kind.load(std::memory_order_relaxed));
    const std::string cls = class_string(s->lock_class.load(std::memory_order_relaxed));
    // This acquire is the higher of the two uses (the one an interrupt makes), or the lower (the
    // hold an interrupt lands on). Both may be above DISPATCH_LEVEL (two DIRQLs).
    const bool high = held > c.other_irql;
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
        r.other_role = high                         ? "held at the lower IRQL at"
                       : low_irql <= DISPATCH_LEVEL ? "taken above DISPATCH_LEVEL at"
                                                    : "taken at the higher IRQL at";
    }
    emit(r);
}

// Teaches the lock's class the IRQL it is held at (class_irql.h). An acquire at or below
// DISPATCH_LEVEL teaches its class the low side or nothing (a RaiseToSynch form holds above it and
// teaches nothing), so once this thread has seen the class noted low (v.class_low_known) such an
// acquire is one compare: no call, no look at the class's shared table.
[[gnu::always_inline]] inline void check_class_irql(const LockEvent &e, Variant form, VerifierThread &v,
                                                    const Shadow *s) {
    if (s == nullptr) return;
    const std::uint16_t cls = s->lock_class.load(std::memory_order_relaxed);
    std::uint16_t &known_low = v.class_low_known[cls % kClassLowCacheSlots];
    if (__builtin_expect(e.irql <= DISPATCH_LEVEL && known_low == cls, 1)) return;
    const KIRQL level = observe::held_irql(form); // what a raising form raises to
    const KIRQL held = raising(form) && e.irql < level ? level : e.irql;
    // Above DISPATCH_LEVEL only the forms documented there teach the class (the others are
    // AcquireAboveDispatch already).
    if (held > DISPATCH_LEVEL && !any_irql_at_or_above_dispatch(form)) return;
    const ClassIrqlConflict c = note_class_irql(cls, held, e.site);
    if (held <= DISPATCH_LEVEL) known_low = cls; // noted low now, if it was not already
    if (__builtin_expect(c.found, 0)) report_class_irql(e, s, held, c);
}

// The checks made before an acquire's attempt (or, taken at once, in the same call).
[[gnu::always_inline]] inline void check_acquire(const LockEvent &e, Variant form, VerifierThread &v, Shadow *s) {
    check_irql_for_acquire(e, form, s);
    check_class_irql(e, form, v, s);
    check_mode(e, form, s);
    if (__builtin_expect(observe::is_rw(form), 0))
        check_rw_acquire(e, v, s); // recursion as each reader/writer lock allows it, state reuse
    else if (const int already = find_held(v, e.lock); __builtin_expect(already >= 0, 0))
        report_recursive(e, s, v.held[already]);
    if (queued(form)) {
        for (unsigned i = 0; i < v.depth.load(std::memory_order_relaxed); ++i) {
            if (v.held[i].handle != e.handle || e.handle == nullptr) continue;
            report_handle_reused(e, s, v.held[i]);
            break;
        }
    }
    check_order(e, form, v, s);
}

// Acquisitions to the next timed hold: uniform in [1, 2 * period - 1], so `period` on average.
// Random, not every period-th: a thread that takes its locks in a fixed cycle (A then B, again
// and again) would otherwise time the same one of them every time and never the others.
inline std::uint32_t next_sampling_gap(VerifierThread &v, std::uint32_t period) noexcept {
    if (period <= 1) return 1;
    std::uint32_t x = v.gap_random != 0
                          ? v.gap_random
                          : 0x9E3779B9u ^ static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(&v) >> 4);
    x ^= x << 13; // xorshift32
    x ^= x >> 17;
    x ^= x << 5;
    v.gap_random = x != 0 ? x : 1;
    return 1 + x % (2 * period - 1);
}

// Records a lock now held in the thread's table.
[[gnu::always_inline]] inline void push_held(const LockEvent &e, Variant form, VerifierThread &v, Shadow *s,
                                             bool contended) {
    const unsigned d = v.depth.load(std::memory_order_relaxed);
    // Waiting for this lock (its holder may have been descheduled) is not the outer holds' own
    // time: they are not timed.
    if (contended)
        for (unsigned i = 0; i < d && i < kMaxHeld; ++i)
            v.held[i].untimed = true;
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
    h.variant = form;
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
    h.chain = chain_at(v, d, chain_class(h.lock_class, form));
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
    } else if (__builtin_expect(platform::tls_virtual_clock, 0)) {
        // In an exploration's schedule every hold is timed, in virtual time (own_time.h): exact,
        // so one hold over budget is a finding and a replay finds it again.
        h.timed = true;
        h.start = platform::own_time_now();
    }
    v.depth.store(d + 1, std::memory_order_release);
    if (s != nullptr && !shared_hold(form)) { // readers have no single holder
        s->holder_slot.store(static_cast<std::uint8_t>(d), std::memory_order_relaxed);
        s->holder.store(e.thread->id(), std::memory_order_release);
    }
}

void on_acquiring_at(const LockEvent &e) noexcept {
    VerifierThread &v = verifier_thread(*e.thread);
    if (v.overflowed) return;
    Shadow *s = shadow_for_use(v, e, observe::variant_name);
    check_acquire(e, e.variant, v, s);
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
    push_held(e, e.variant, v, s, contended);
}

// Taken at the first attempt: no wait to describe, so nothing of `wanting` is written. Form: the
// variant, a constant for the common ordinary forms (on_acquired_at_once), Variant::Count_ for
// any other (read from the event).
template <Variant Form>
[[gnu::always_inline]] inline void acquired_at_once_as(const LockEvent &e, VerifierThread &v) noexcept {
    const Variant form = Form == Variant::Count_ ? e.variant : Form;
    if (v.overflowed) return;
    Shadow *s = shadow_for_use(v, e, observe::variant_name);
    check_acquire(e, form, v, s);
    push_held(e, form, v, s, false);
}

} // namespace

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
            h.shadow->holder.store(e.thread->id(), std::memory_order_release);
        }
        return;
    }
}

void on_try_failed(const LockEvent &e) noexcept {
    verifier_thread(*e.thread).wanting.store(nullptr, std::memory_order_relaxed);
}

namespace {

void on_acquired_contended(const LockEvent &e) noexcept { on_acquired_at(e, true); }
void on_acquired_at_once_of_wait(const LockEvent &e) noexcept { on_acquired_at(e, false); }

} // namespace

void on_acquiring(const LockEvent &e) noexcept { with_driver_site<on_acquiring_at>(e); }
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
// The ordinary forms a driver takes most with their form a constant in the checks (one frame).
void on_acquired_at_once(const LockEvent &e) noexcept {
    with_common_variant(e.variant, [&](auto v) { lock_path_hook<acquired_at_once_as<decltype(v)::value>, true>(e); });
}

} // namespace ndislock::verifier
