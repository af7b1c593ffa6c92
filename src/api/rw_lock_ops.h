// The IRQL and observation half of every reader/writer lock call (ndislock/rw_lock.h), written
// once over the lock algorithms (lock/rw_lock.h, lock/ex_spin_lock.h), as api/spin_lock_ops.h is
// for the spin locks: each operation is a template on Observed, and the exported functions pick
// one with observe::active().
//
// Observed acquires are seen twice: before anything waits (acquiring: a write inside the caller's
// own read, a forbidden recursion, an order inversion are reported before the thread hangs on
// them) and once held (acquired). Releases are seen before the lock state changes, in one step
// for interrupts (WholeRelease).
#pragma once

#include "api/spin_lock_ops.h"

namespace ndislock::api {

inline bool rw_kind_is_ndis(Variant v) noexcept {
    const observe::RwKind k = observe::rw_kind(v);
    return k == observe::RwKind::NdisEx || k == observe::RwKind::Ndis5;
}

inline LockEvent rw_event(ThreadState &t, const void *lock, Variant v, const void *state, KIRQL new_irql,
                          const Site &site) noexcept {
    LockEvent e = event(t, lock, nullptr, v, rw_kind_is_ndis(v), new_irql, site);
    e.state = state;
    return e;
}

// Raise to DISPATCH_LEVEL for an acquire that raises, as the spin locks' raising acquires do in
// each personality (api/spin_lock_ops.h): above DISPATCH_LEVEL (misuse), a free build sets
// DISPATCH_LEVEL while the lock is held and the release puts the saved IRQL back; with the
// verifier checking rules the IRQL stays for its AcquireAboveDispatch report. The forms that
// expect DISPATCH_LEVEL do not raise, even when misused below it (RwLockDispatchFlagWrongIrql):
// their releases restore nothing, so a raise here would never be undone.
template <bool Observed> inline KIRQL rw_raise(ThreadState &t, bool raising) noexcept {
    if (!raising) return t.irql().load(std::memory_order_relaxed);
    return Observed ? raise_for_observed_acquire(t) : raise_for_acquire<true>(t);
}

// An acquire: raise (or not), then take(processor) (true if it waited). Returns the IRQL before.
template <bool Observed, class Take>
inline KIRQL rw_acquire(ThreadState &t, const void *lock, Variant v, bool raising, const void *state, const Site &site,
                        Take &&take) noexcept {
    if constexpr (Observed) {
        const LockEvent e = rw_event(t, lock, v, state, 0, site);
        observe::notify_acquiring(e);
        const KIRQL old = rw_raise<Observed>(t, raising);
        const bool waited = take(t.processor().load(std::memory_order_relaxed));
        observe::notify_acquired(e, waited);
        return old;
    } else {
        const KIRQL old = rw_raise<Observed>(t, raising);
        take(t.processor().load(std::memory_order_relaxed));
        return old;
    }
}

// A try (no wait, no IRQL change): try_take() true if taken.
template <bool Observed, class TryTake>
inline bool rw_try_acquire(ThreadState &t, const void *lock, Variant v, const Site &site, TryTake &&try_take) noexcept {
    if constexpr (Observed) {
        const LockEvent e = rw_event(t, lock, v, nullptr, 0, site);
        observe::notify_acquiring(e);
        const bool taken = try_take();
        taken ? observe::notify_acquired(e, false) : observe::notify_try_failed(e);
        return taken;
    } else {
        return try_take();
    }
}

[[gnu::cold]] inline void rw_release_of_unheld(const void *lock, const char *call, const Site &site) noexcept {
    char detail[200];
    std::snprintf(detail, sizeof detail,
                  "%s on a lock (%p) this processor does not hold in the mode released: "
                  "nothing is released",
                  call, lock);
    observe::report_misuse(observe::Rule::ReleaseNotHeld, site, detail);
}

// A release: observers see it, then give() frees the lock (false: it was not held in that mode),
// then the IRQL goes to new_irql if lowering.
template <bool Observed, class Give>
inline void rw_release(ThreadState &t, const void *lock, Variant v, const void *state, bool lowering, KIRQL new_irql,
                       const char *call, const Site &site, Give &&give) noexcept {
    {
        [[maybe_unused]] WholeRelease<Observed> one_step;
        if constexpr (Observed) observe::notify_releasing(rw_event(t, lock, v, state, new_irql, site));
        const bool released = give(t.processor().load(std::memory_order_relaxed));
        // Observed, the verifier has said what was wrong; unobserved, nothing else will.
        if (!Observed && __builtin_expect(!released, 0)) rw_release_of_unheld(lock, call, site);
    }
    if (lowering) restore_after_release(t, new_irql);
}

} // namespace ndislock::api
