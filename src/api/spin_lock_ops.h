// The semantics of each spin-lock and IRQL call, written once, over the execution model
// (model/processors.h), the lock algorithms (lock/) and the observation seam (observe/hooks.h).
//
// Every operation is a template on Observed: the exported functions instantiate both and pick one
// with observe::active(), so with no verifier or statistics the whole extra cost is that branch,
// and with them each call is seen before and after the lock word changes.
#pragma once

#include <cstdio>
#include <type_traits>

#include "lock/queued_lock.h"
#include "lock/spin_word.h"
#include "model/preemption.h"
#include "model/processors.h"
#include "model/thread_state.h"
#include "observe/hooks.h"
#include "platform/diagnostics.h"

namespace ndislock::api {

using model::ThreadState;
using observe::LockEvent;
using observe::Site;
using observe::Variant;

// The calling thread's state; its first call registers it (and configures the process). Defined
// by the composition root (root/startup.cpp), which configures every layer before the thread
// registers.
model::ThreadState &first_call() noexcept;
inline ThreadState &this_thread() noexcept {
    ThreadState *t = model::tls_thread;
    if (__builtin_expect(t != nullptr, 1)) return *t;
    return first_call();
}

#define NDISLOCK_SITE(file, line, function)                                                                            \
    ::ndislock::observe::Site { (file), (line), (function), __builtin_return_address(0) }

// A call whose Microsoft page says IRQL <= max, made above max (an ISR that sets an event, queues
// a work item or sets a timer): the verifier's IrqlTooHighForCall at the call, which then goes on
// (Windows may get away with it until the wrong moment). One branch when nobody observes.
[[gnu::cold]] void report_call_irql(KIRQL irql, KIRQL max, const char *call, const Site &site) noexcept;
inline void check_call_irql(ThreadState &t, KIRQL max, const char *call, const Site &site) noexcept {
    if (__builtin_expect(observe::active(), 0)) {
        const KIRQL irql = t.irql().load(std::memory_order_relaxed);
        if (irql > max) report_call_irql(irql, max, call, site);
    }
}

// A call that may sleep and is documented for PASSIVE_LEVEL only (NdisWaitEvent, NdisMSleep), made
// at APC_LEVEL (inside a fast mutex): IrqlTooHighForCall. At DISPATCH_LEVEL and above the same call
// is BlockingAtDispatch, the one report of that mistake.
inline void check_passive_wait_irql(ThreadState &t, const char *call, const Site &site) noexcept {
    if (__builtin_expect(observe::active(), 0) && t.irql().load(std::memory_order_relaxed) == APC_LEVEL)
        report_call_irql(APC_LEVEL, PASSIVE_LEVEL, call, site);
}

// Calls f(std::true_type{}) when an observer is registered, f(std::false_type{}) otherwise.
// A lambda given NDISLOCK_OBSERVED_INLINE is inlined in both forms into the exported function
// (the verified pair pays no call of its own for it).
#define NDISLOCK_OBSERVED_INLINE __attribute__((always_inline))
template <class F> [[gnu::always_inline]] inline decltype(auto) with_observation(F &&f) {
    if (__builtin_expect(observe::active(), 0)) return f(std::true_type{});
    return f(std::false_type{});
}

inline LockEvent event(ThreadState &t, const void *lock, PKLOCK_QUEUE_HANDLE handle, Variant v, bool ndis,
                       KIRQL new_irql, const Site &site) noexcept {
    const KIRQL irql = t.irql().load(std::memory_order_relaxed);
    return LockEvent{lock, handle, v, ndis, irql, new_irql, site, &t};
}

// Misuse a free x64 kernel tolerates (docs/verifier.md, "Two personalities"): KfRaiseIrql and
// KeLowerIrql write CR8 without a check, so with no verifier to report it the IRQL is set as
// asked. A level CR8 cannot hold (above HIGH_LEVEL) faults there: that still ends the process.
[[gnu::cold]] inline void set_irql_as_a_free_build(ThreadState &t, KIRQL new_irql, observe::Rule rule, const Site &site,
                                                   const char *detail) noexcept {
    if (new_irql > HIGH_LEVEL) return observe::report_misuse(rule, site, detail); // ends the process
    if (new_irql > t.irql().load(std::memory_order_relaxed))
        model::raise_irql(t, new_irql);
    else
        model::lower_irql(t, new_irql);
}

[[gnu::cold]] inline void invalid_lower(ThreadState &t, KIRQL new_irql, const Site &site) noexcept {
    char detail[160];
    std::snprintf(detail, sizeof detail,
                  "lowering the IRQL to %u, above the current IRQL %u (thread %d); the IRQL is left unchanged",
                  new_irql, t.irql().load(std::memory_order_relaxed), t.os_tid.load(std::memory_order_relaxed));
    // Verifier on (Driver Verifier): reported, the IRQL left as it was. Off: as a free build.
    if (!observe::report_if_observed(observe::Rule::IrqlInvalidLower, site, detail))
        set_irql_as_a_free_build(t, new_irql, observe::Rule::IrqlInvalidLower, site, detail);
}

// KeLowerIrql and the lowering half of every raising release.
template <bool Observed> inline void lower(ThreadState &t, KIRQL new_irql, const Site &site) noexcept {
    const KIRQL current = t.irql().load(std::memory_order_relaxed);
    if (__builtin_expect(new_irql > current, 0)) return invalid_lower(t, new_irql, site);
    if constexpr (Observed) observe::notify_irql_changed({current, new_irql, site, &t});
    model::lower_irql(t, new_irql);
}

// KeRaiseIrql / KeRaiseIrqlToDpcLevel. Returns the previous IRQL.
template <bool Observed> inline KIRQL raise(ThreadState &t, KIRQL new_irql, const Site &site) noexcept {
    const KIRQL current = t.irql().load(std::memory_order_relaxed);
    if (__builtin_expect(new_irql < current || new_irql > HIGH_LEVEL, 0)) {
        char detail[160];
        std::snprintf(detail, sizeof detail,
                      "raising the IRQL to %u from %u (thread %d): a raise never lowers and never passes "
                      "HIGH_LEVEL (%u); the IRQL is left unchanged",
                      new_irql, current, t.os_tid.load(std::memory_order_relaxed), HIGH_LEVEL);
        // Verifier on (Driver Verifier): reported, the IRQL left as it was. Off: as a free build.
        if (!observe::report_if_observed(observe::Rule::IrqlInvalidRaise, site, detail))
            set_irql_as_a_free_build(t, new_irql, observe::Rule::IrqlInvalidRaise, site, detail);
        return current;
    }
    if constexpr (Observed) observe::notify_irql_changed({current, new_irql, site, &t});
    model::raise_irql(t, new_irql);
    return current;
}

// Raise to `level` for a raising acquire: DISPATCH_LEVEL, or SYNCH_LEVEL for the RaiseToSynch
// forms (observe::held_irql). Above it (misuse): observed, the verifier reports it and the IRQL
// stays where it is (Driver Verifier stops there); unobserved, a free x64 build, whose acquire
// writes the level without a check, so the lock is held at `level` and the release puts the old
// IRQL back. The extra test is on the path the inline fast path never takes (it calls out above
// DISPATCH_LEVEL).
template <bool FreeBuild = false>
inline KIRQL raise_for_acquire(ThreadState &t, KIRQL level = DISPATCH_LEVEL) noexcept {
    const KIRQL old = t.irql().load(std::memory_order_relaxed);
    if (old < level)
        model::raise_irql(t, level);
    else if constexpr (FreeBuild)
        if (__builtin_expect(old > level, 0)) model::lower_irql(t, level);
    return old;
}

// raise_for_acquire on an observed path. Above `level` with only looking observers (statistics,
// a timeline, a sanitizer's annotations) and no verifier checking rules, the free build's
// behaviour, as on the unobserved path; with the verifier, the IRQL stays for its report.
inline KIRQL raise_for_observed_acquire(ThreadState &t, KIRQL level = DISPATCH_LEVEL) noexcept {
    const KIRQL old = raise_for_acquire(t, level);
    if (__builtin_expect(old > level, 0) && !observe::rules_checked()) model::lower_irql(t, level);
    return old;
}

// Whether raise_for_acquire takes the processor without waiting: already at DISPATCH_LEVEL or
// above, or the processor is biased to this thread (model/processors.h; a revocation racing with
// the raise may still make it wait briefly for the revoker).
inline bool raise_is_immediate(ThreadState &t) noexcept {
    if (t.irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL) return true;
    const model::Processor &p = model::g_processors[t.processor().load(std::memory_order_relaxed)];
    return p.owner().load(std::memory_order_relaxed) == (t.id() | model::kBiased);
}

// An ordinary acquire, observed; raising: with its raise (returns the IRQL before it). Observers
// see it before any wait, for the processor or the lock (acquiring: a recursive acquire, an order
// inversion or a wait that never ends is reported before the thread spins), and after (acquired).
// When nothing waits, the common case, they see it once, with the lock taken (acquired_at_once):
// an attempt that succeeds cannot hang, whatever the checks find.
// level: what a raising acquire raises to (observe::held_irql of its variant). Inlined into each
// caller, where `raising` and `level` are constants: their branches then cost nothing (e.variant
// would be read again from memory after each observer call), and the verified pair pays no call.
[[gnu::always_inline]] inline KIRQL acquire_observed(ThreadState &t, PKSPIN_LOCK s, const LockEvent &e, bool raising,
                                                     KIRQL level) noexcept {
    const bool seen_before = raising && !raise_is_immediate(t);
    if (seen_before) observe::notify_acquiring(e);
    const KIRQL old = raising ? raise_for_observed_acquire(t, level) : t.irql().load(std::memory_order_relaxed);
    if (!seen_before) {
        observe::notify_attempting(e); // an exploration's scheduling point (observe/hooks.h)
        if (__builtin_expect(lock::spin_try_acquire(s), 1)) {
            observe::notify_acquired_at_once(e);
            return old;
        }
        observe::notify_acquiring(e);
    }
    const bool waited = lock::spin_acquire(s) || !seen_before; // a failed first try was a wait too
    observe::notify_acquired(e, waited);
    return old;
}

// NdisAcquireSpinLock, KeAcquireSpinLock[RaiseToDpc|ForDpc|RaiseToSynch]. Returns the previous IRQL.
// Inlined, as acquire_observed is, so that v stays a constant there.
template <bool Observed>
[[gnu::always_inline]] inline KIRQL acquire_raising(ThreadState &t, PKSPIN_LOCK s, Variant v, bool ndis,
                                                    const Site &site) noexcept {
    if constexpr (Observed) {
        // The IRQL before the raise.
        return acquire_observed(t, s, event(t, s, nullptr, v, ndis, 0, site), true, observe::held_irql(v));
    } else {
        const KIRQL old = raise_for_acquire<true>(t, observe::held_irql(v));
        lock::spin_acquire(s);
        return old;
    }
}

// NdisDprAcquireSpinLock, KeAcquireSpinLockAtDpcLevel: no IRQL change.
template <bool Observed>
[[gnu::always_inline]] inline void acquire_at_dpc(ThreadState &t, PKSPIN_LOCK s, Variant v, bool ndis,
                                                  const Site &site) noexcept {
    if constexpr (Observed)
        acquire_observed(t, s, event(t, s, nullptr, v, ndis, 0, site), false, DISPATCH_LEVEL);
    else
        lock::spin_acquire(s);
}

// KeTryToAcquireSpinLockAtDpcLevel.
template <bool Observed> inline bool try_acquire_at_dpc(ThreadState &t, PKSPIN_LOCK s, const Site &site) noexcept {
    if constexpr (Observed) {
        const LockEvent e = event(t, s, nullptr, Variant::KeTryAtDpcLevel, false, 0, site);
        observe::notify_acquiring(e);
        const bool taken = lock::spin_try_acquire(s);
        taken ? observe::notify_acquired(e, false) : observe::notify_try_failed(e);
        return taken;
    } else {
        return lock::spin_try_acquire(s);
    }
}

// The IRQL half of a raising release: set the IRQL its acquire saved. Windows writes it without
// a check, so after the documented out-of-order trap (Release(A) then Release(B)) the second
// release "lowers" from PASSIVE_LEVEL to DISPATCH_LEVEL and the IRQL ends raised, as the NDIS docs
// say; the verifier reports the misuse, the model follows Windows.
// Observers saw the release (with the IRQL it restores) in releasing: no separate IRQL event.
inline void restore_after_release(ThreadState &t, KIRQL saved) noexcept {
    const KIRQL current = t.irql().load(std::memory_order_relaxed);
    if (saved > current)
        model::raise_irql(t, saved);
    else
        model::lower_irql(t, saved);
}

// An observed release is one step for interrupts: an ISR never stops the thread between the
// observers' "releasing" (the lock is no longer counted as held) and the store that frees the word,
// which would leave a lock held with no known holder. Only the observed form pays for it.
template <bool Observed> struct WholeRelease {};
template <> struct WholeRelease<true> : model::NoPreempt {};

// NdisReleaseSpinLock, KeReleaseSpinLock: free the lock, then go to new_irql.
template <bool Observed>
inline void release_lowering(ThreadState &t, PKSPIN_LOCK s, KIRQL new_irql, Variant v, bool ndis,
                             const Site &site) noexcept {
    {
        [[maybe_unused]] WholeRelease<Observed> one_step;
        if constexpr (Observed) observe::notify_releasing(event(t, s, nullptr, v, ndis, new_irql, site));
        lock::spin_release(s);
    }
    // Outside the one step: a drop below DISPATCH_LEVEL runs the processor's pending DPCs here,
    // which must be preemptible by interrupts as any DPC is (model::lower_irql).
    restore_after_release(t, new_irql);
}

// NdisDprReleaseSpinLock, KeReleaseSpinLockFromDpcLevel: no IRQL change.
template <bool Observed>
inline void release_at_dpc(ThreadState &t, PKSPIN_LOCK s, Variant v, bool ndis, const Site &site) noexcept {
    [[maybe_unused]] WholeRelease<Observed> one_step;
    if constexpr (Observed) {
        const KIRQL irql = t.irql().load(std::memory_order_relaxed);
        observe::notify_releasing(event(t, s, nullptr, v, ndis, irql, site));
    }
    lock::spin_release(s);
}

// A queued acquire found an ordinary acquisition's 1 in the word: reported, then the end (the
// word can no longer be trusted).
[[noreturn, gnu::cold, gnu::noinline]] inline void queued_word_corrupt(PKSPIN_LOCK s, const Site &site) noexcept {
    observe::report_misuse(observe::Rule::QueuedAndPlainMixed, site,
                           "an in-stack queued acquire found the lock held by an ordinary acquire "
                           "(KeAcquireSpinLock, NdisAcquireSpinLock or a Dpr/AtDpcLevel form): never mix "
                           "queued and ordinary acquires on one KSPIN_LOCK; the lock word is now corrupt");
    platform::fatal("QueuedAndPlainMixed: the lock word at %p cannot be trusted any more; ending the process",
                    static_cast<void *>(s));
}

// The queue join of KeAcquireInStackQueuedSpinLock[AtDpcLevel|ForDpc|RaiseToSynch], with its
// raise (v says which).
template <bool Observed>
inline lock::QueueJoin take_queued(ThreadState &t, PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h, Variant v,
                                   const Site &site) noexcept {
    const bool raising = observe::raising(v);
    const KIRQL level = observe::held_irql(v);
    KIRQL old = t.irql().load(std::memory_order_relaxed);
    if (raising) old = Observed ? raise_for_observed_acquire(t, level) : raise_for_acquire<true>(t, level);
    const lock::QueueJoin join = lock::queued_acquire(s, &h->LockQueue);
    if (__builtin_expect(join == lock::QueueJoin::WordHeldByOrdinaryAcquire, 0)) queued_word_corrupt(s, site);
    if (raising) h->OldIrql = old;
    return join;
}

// KeAcquireInStackQueuedSpinLock[AtDpcLevel|ForDpc|RaiseToSynch].
template <bool Observed>
inline void acquire_queued(ThreadState &t, PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h, Variant v, const Site &site) noexcept {
    if constexpr (Observed) {
        const LockEvent e = event(t, s, h, v, false, 0, site);
        observe::notify_acquiring(e);
        const lock::QueueJoin join = take_queued<true>(t, s, h, v, site);
        observe::notify_acquired(e, join == lock::QueueJoin::Waited);
    } else {
        take_queued<false>(t, s, h, v, site);
    }
}

[[gnu::cold]] inline void release_of_unowned_handle(PKLOCK_QUEUE_HANDLE h, const Site &site) noexcept {
    char detail[200];
    std::snprintf(detail, sizeof detail,
                  "releasing through a KLOCK_QUEUE_HANDLE (%p) that does not own a lock (LockQueue.Lock = %p): "
                  "released twice, never acquired, or a copy of the acquiring handle; nothing is released",
                  static_cast<void *>(h), static_cast<void *>(h->LockQueue.Lock));
    observe::report_misuse(observe::Rule::ReleaseNotHeld, site, detail);
}

// KeReleaseInStackQueuedSpinLock[FromDpcLevel|ForDpc]: v is the release's own form (lowering
// when its acquire raised).
template <bool Observed>
inline void release_queued(ThreadState &t, PKLOCK_QUEUE_HANDLE h, Variant v, const Site &site) noexcept {
    if (__builtin_expect(!lock::queued_owns(&h->LockQueue), 0)) return release_of_unowned_handle(h, site);
    const bool lowering = observe::raising(v);
    const KIRQL new_irql = lowering ? h->OldIrql : t.irql().load(std::memory_order_relaxed);
    {
        [[maybe_unused]] WholeRelease<Observed> one_step;
        if constexpr (Observed) {
            const void *lock = lock::untagged(h->LockQueue.Lock);
            observe::notify_releasing(event(t, lock, h, v, false, new_irql, site));
        }
        lock::queued_release(&h->LockQueue);
    }
    if constexpr (Observed) observe::notify_queue_handle_released(h);
    if (lowering) restore_after_release(t, new_irql); // outside the one step, as release_lowering's
}

} // namespace ndislock::api
