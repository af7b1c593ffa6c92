// A release: the IRQL it is made at, a lock not held or held by another thread, a release of
// another form than the acquire, the hold time against its budget; then the lock leaves the
// thread's table.
#include "verifier/checks_internal.h"

#include "verifier/hold_times.h"
#include "verifier/long_holds.h"
#include "verifier/rw_checks.h"
#include "verifier/settings.h"

namespace ndislock::verifier {

namespace {

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

} // namespace

// A routine returned holding locks it took (LockHeldAtCallbackReturn, reported): they leave the
// thread's table. Their words stay held, as on Windows, but the thread the routine ran on holds
// none of them: later checks of that thread (a wait, its exit) must not blame it for them.
void forget_holds_from(VerifierThread &v, std::uint64_t first_seq) noexcept {
    for (unsigned i = v.depth.load(std::memory_order_relaxed); i-- > 0;) {
        if (i >= kMaxHeld || v.held[i].seq < first_seq) continue;
        Shadow *s = v.held[i].shadow;
        const void *lock = v.held[i].lock.load(std::memory_order_relaxed);
        const bool shared = shared_hold(v.held[i].variant);
        remove_held(v, i);
        if (s != nullptr && !shared && shadow_is(s, lock)) s->holder.store(0, std::memory_order_release);
    }
}

namespace {

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
                        format("%s on a lock held by another thread: only the acquiring context may release it", call));
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

// Hand-over-hand with the Ke forms, as the kernel's own list walks write it: the first node taken
// with KeAcquireSpinLock (saving the caller's IRQL), each next one with
// KeAcquireSpinLockAtDpcLevel, each previous one released with KeReleaseSpinLockFromDpcLevel (the
// IRQL must stay at DISPATCH_LEVEL for the lock still held), the last one with
// KeReleaseSpinLock(Lock, <the saved IRQL>). Windows runs it as written: each mixed release is a
// note, not an error. The note's text for either half of that shape, else empty; index: h's slot.
[[gnu::cold]] std::string hand_over_text(const LockEvent &e, const HeldLock &h, VerifierThread &v, unsigned index) {
    // The Ke forms only: NdisReleaseSpinLock restores the IRQL its own lock's acquire saved in the
    // NDIS_SPIN_LOCK (none after NdisDprAcquireSpinLock), not one handed on.
    if (e.ndis || h.variant == Variant::NdisAcquire || h.variant == Variant::NdisDpr) return {};
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    const char *acquired = observe::variant_name(h.variant), *released = release_name(e.variant),
               *documented = release_name(h.variant);
    if (raising(h.variant) && !raising(e.variant) && e.irql == DISPATCH_LEVEL && h.irql_at_acquire < DISPATCH_LEVEL &&
        index + 1 < depth) {
        // The first half: a lock taken after this one is still held, so the IRQL stays.
        v.owed_irql = h.irql_at_acquire;
        return format("acquired with %s but released with %s (the documented pair is %s) while a lock taken after "
                      "it is still held: the IRQL stays DISPATCH_LEVEL for that lock, and the IRQL this acquire "
                      "saved (%u) is left for a later release to restore; Windows runs this hand-over as written",
                      acquired, released, documented, h.irql_at_acquire);
    }
    if (!raising(h.variant) && raising(e.variant) && v.owed_irql != VerifierThread::kNoOwedIrql &&
        e.new_irql == v.owed_irql && depth == 1) {
        // The second half: the last lock restores the IRQL the first acquire saved.
        v.owed_irql = VerifierThread::kNoOwedIrql;
        return format("acquired with %s but released with %s (the documented pair is %s), restoring IRQL %u, "
                      "which an earlier acquire saved and handed on when its lock was released first; Windows "
                      "runs this hand-over as written",
                      acquired, released, documented, e.new_irql);
    }
    return {};
}

// other_family: released with a call of another family than the acquire's (else the wrong IRQL).
[[gnu::cold, gnu::noinline]] void report_release_mismatch(const LockEvent &e, const Shadow *s, const HeldLock &h,
                                                          bool other_family, VerifierThread &v, unsigned index) {
    // A plain (not queued) release of the other variant that leaves the IRQL exactly where the
    // matching one would: a non-raising acquire released by a raising release that "restores" the
    // IRQL already current (KeTryToAcquireSpinLockAtDpcLevel, then KeReleaseSpinLock(Lock,
    // DISPATCH_LEVEL), as a Microsoft NDIS sample does), a raising acquire made at the IRQL of its
    // release (it saved that IRQL) released without restoring, or the Ke forms' hand-over-hand.
    // Windows runs them exactly as the matching release: a note, never an error.
    const bool plain = !queued(h.variant) && !queued(e.variant);
    Rule rule = Rule::ReleaseVariantEquivalent;
    std::string text = other_family && plain ? hand_over_text(e, h, v, index) : std::string();
    if (text.empty() && other_family && plain &&
        (raising(e.variant) ? e.new_irql == e.irql : h.irql_at_acquire == e.irql)) {
        text = format("acquired with %s but released with %s (the documented pair is %s); here it behaves the same "
                      "on Windows, since the IRQL stays %u either way",
                      observe::variant_name(h.variant), release_name(e.variant), release_name(h.variant), e.irql);
    } else if (text.empty() && other_family) {
        rule = Rule::ReleaseVariantMismatch;
        text =
            format("acquired with %s but released with %s (expected %s)%s", observe::variant_name(h.variant),
                   release_name(e.variant), release_name(h.variant),
                   raising(h.variant) && !raising(e.variant) ? ": the IRQL the acquire raised is never restored" : "");
    } else if (text.empty()) {
        rule = Rule::WrongOldIrql;
        text = format("%s restores IRQL %u, but its acquire saved %u: pass the value the acquire returned (one "
                      "OldIrql per held lock)",
                      release_name(e.variant), e.new_irql, h.irql_at_acquire);
    }
    Report r = base(rule, e, s, std::move(text));
    r.other = h.site();
    r.other_role = "acquired at";
    emit(r);
}

// How a hold over budget was measured: by the heartbeat, far over (a lower bound, reported the
// first time); sampled, the third of its class in a row; in a schedule's virtual time (exact).
enum class Overrun : std::uint8_t { FarOver, Streak, Virtual };

[[gnu::cold, gnu::noinline]] void report_held_too_long(const LockEvent &e, const Shadow *s, const HeldLock &h,
                                                       std::uint64_t held_ns, std::uint64_t budget, Overrun how) {
    const bool far_over = how == Overrun::FarOver;
    Report r = base(
        Rule::LockHeldTooLong, e, s,
        how == Overrun::Virtual
            ? format("held for %.1f us of the holder's own time in the schedule's virtual time (%.1fx the "
                     "budget), over the %.1f us budget: hold a spin lock for a few instructions only",
                     static_cast<double>(held_ns) / 1000.0, static_cast<double>(held_ns) / static_cast<double>(budget),
                     static_cast<double>(budget) / 1000.0)
        : far_over
            ? format("held for at least %.1f us of the holder's own running time (%.0fx the budget: "
                     "reported the first time), over the %.1f us budget: hold a spin lock for a few "
                     "instructions only",
                     static_cast<double>(held_ns) / 1000.0, static_cast<double>(held_ns) / static_cast<double>(budget),
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
    return counted_own_ns(v.hold_beat, h.seq, model::interrupt_marks(t), v.verifier_ns.load(std::memory_order_relaxed));
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

// A release. Form: its variant, a constant for the common ordinary forms (on_releasing),
// Variant::Count_ for any other (read from the event), so that the tests of the form fold.
template <Variant Form>
[[gnu::always_inline]] inline void releasing_as(const LockEvent &e, VerifierThread &v) noexcept {
    const Variant form = Form == Variant::Count_ ? e.variant : Form;
    if (v.overflowed) return;
    const bool rw = observe::is_rw(form);
    // A reader/writer release's reports name the lock's class: its entry is looked up first.
    const int index = rw ? find_rw_release(e, v, shadow_for_use(v, e, release_name)) : find_held(v, e.lock);
    if (__builtin_expect(index < 0, 0)) {
        Shadow *s = shadow_for_use(v, e, release_name);
        if (acquired_unseen(e, s)) {
            if (e.irql != DISPATCH_LEVEL) report_release_irql(e, s); // whoever acquired it
            return;
        }
        report_release_unheld(e, s);
        // A release of a lock that nobody holds has one cause, reported above; the IRQL of a
        // release by another thread than the holder is wrong as well, and said after it.
        const model::ThreadState *holder = live_holder(s, e.lock);
        if (e.irql != DISPATCH_LEVEL && holder != nullptr && holder != e.thread) report_release_irql(e, s);
        return;
    }
    HeldLock &h = v.held[index];
    // The entry its acquire found, unless the memory was reused since (a lock freed while held).
    Shadow *s = h.shadow != nullptr && shadow_is(h.shadow, e.lock) ? h.shadow : shadow_for_use(v, e, release_name);
    // Held at DISPATCH_LEVEL unless a RaiseToSynch form took it (observe::held_irql): the level is
    // worked out only off the common path.
    if (__builtin_expect(e.irql != DISPATCH_LEVEL || observe::held_irql(h.variant) != DISPATCH_LEVEL, 0))
        if (const KIRQL held_at = observe::held_irql(h.variant); e.irql != held_at) report_release_irql(e, s, held_at);
    {
        HeldLock &r = v.last_released; // fields first, the lock last (read in that order elsewhere)
        r.file.store(h.file.load(std::memory_order_relaxed), std::memory_order_relaxed);
        r.line.store(h.line.load(std::memory_order_relaxed), std::memory_order_relaxed);
        r.function.store(h.function.load(std::memory_order_relaxed), std::memory_order_relaxed);
        r.return_address.store(h.return_address.load(std::memory_order_relaxed), std::memory_order_relaxed);
        r.lock.store(e.lock, std::memory_order_release);
    }
    // Measured first: the reports below take far longer than a hold. Only a timed hold or one the
    // heartbeat counted has anything to measure: one test on the common path.
    const bool beat_counted_hold = __builtin_expect(v.hold_beat.want.load(std::memory_order_relaxed) == h.seq, 0);
    std::uint64_t held_ns = platform::kDescheduled, counted_ns = 0;
    if (__builtin_expect(h.timed || beat_counted_hold, 0)) {
        // A schedule's hold is timed in virtual time, exactly: nothing makes it untimed, and the
        // heartbeat's real-time count is no measure of it.
        if (h.timed && (!h.untimed || h.start.virtual_time)) held_ns = platform::own_time_since(h.start);
        if (beat_counted_hold && !h.start.virtual_time) counted_ns = counted_hold_own_ns(v, h, *e.thread);
    }
    // Reader/writer releases had their form and state checked in find_rw_release; a state that
    // belongs to another acquisition already made its report (the IRQL it restores is not this one's).
    const bool other_family = !rw && family_bits(h.variant) != family_bits(form);
    const bool state_matches = !rw || e.state == nullptr || e.state == h.state;
    if (__builtin_expect(other_family ||
                             (raising(form) && raising(h.variant) && state_matches && e.new_irql != h.irql_at_acquire),
                         0))
        report_release_mismatch(e, s, h, other_family, v, static_cast<unsigned>(index));
    // Hold time: wall time, kept only if the scheduler witness shows the holder ran throughout
    // (platform/own_time.h); reported when the class overran kOverrunsToReport times in a row
    // (hold_times.h). A hold the sampling passed over is not counted at all.
    // A hold far over budget by the heartbeat's count (long_holds.h) is reported the first time,
    // whatever the streak. (A sampled time alone is no such proof: wall time with the scheduler's
    // witness steady still includes the time the host took the virtual CPU away.)
    if (__builtin_expect(h.timed && h.start.virtual_time, 0)) {
        // Exact and the same in every replay: the first hold over budget is the finding.
        const std::uint64_t budget = g_settings.hold_budget_ns.load(std::memory_order_relaxed);
        if (held_ns != platform::kDescheduled && held_ns > budget)
            report_held_too_long(e, s, h, held_ns, budget, Overrun::Virtual);
    } else if (h.timed || counted_ns != 0) {
        const std::uint64_t budget = g_settings.hold_budget_ns.load(std::memory_order_relaxed);
        // A timed hold the heartbeat reached has lost its wall-time witness (a signal's delivery
        // moves it): its count stands in, but only when it shows an overrun. It is a lower bound:
        // under the budget it says nothing, and must not end a streak.
        const std::uint64_t sample = held_ns != platform::kDescheduled || counted_ns <= budget ? held_ns : counted_ns;
        const bool streak = h.timed && record_hold(h.lock_class, sample, budget);
        if (__builtin_expect(counted_ns >= far_over_ns(budget), 0))
            report_held_too_long(e, s, h, counted_ns, budget, Overrun::FarOver);
        else if (__builtin_expect(streak, 0))
            report_held_too_long(e, s, h, sample, budget, Overrun::Streak);
    }
    const bool exclusive_left = rw && holds_exclusive(v, e.lock, index); // a recursive write still held
    const bool was_shared = shared_hold(h.variant);
    remove_held(v, static_cast<unsigned>(index));
    if (s != nullptr && !was_shared && !exclusive_left) s->holder.store(0, std::memory_order_release);
    // A raising release that drops below DISPATCH_LEVEL while other spin locks are still held:
    // the documented out-of-order release (KeLowerIrql is checked in on_irql_changed).
    if (v.depth.load(std::memory_order_relaxed) != 0 && raising(form) && e.new_irql < DISPATCH_LEVEL &&
        e.irql >= DISPATCH_LEVEL)
        check_irql_drop(v, e.thread, e.new_irql, e.site);
}

} // namespace

// The ordinary forms a driver releases most with their form a constant in the checks (one frame).
void on_releasing(const LockEvent &e) noexcept {
    with_common_variant(e.variant, [&](auto v) { lock_path_hook<releasing_as<decltype(v)::value>, false>(e); });
}

} // namespace ndislock::verifier
