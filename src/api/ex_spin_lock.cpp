// EX_SPIN_LOCK (ndislock/rw_lock.h): the wdm.h reader/writer spin lock, each call in its two
// spellings, over lock/ex_spin_lock.h.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/rw_lock.h"

#include "api/rw_lock_ops.h"
#include "lock/ex_spin_lock.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

KIRQL ex_acquire(PEX_SPIN_LOCK l, bool exclusive, bool raising, const Site &site) noexcept {
    ThreadState &t = this_thread();
    const Variant v = exclusive ? (raising ? Variant::ExExclusive : Variant::ExExclusiveAtDpc)
                                : (raising ? Variant::ExShared : Variant::ExSharedAtDpc);
    return with_observation([&](auto observed) {
        return rw_acquire<decltype(observed)::value>(
            t, const_cast<LONG *>(l), v, raising, nullptr, site,
            [&](std::uint32_t) { return exclusive ? lock::ex_acquire_exclusive(l) : lock::ex_acquire_shared(l); });
    });
}

void ex_release(PEX_SPIN_LOCK l, bool exclusive, bool lowering, KIRQL new_irql, const Site &site) noexcept {
    ThreadState &t = this_thread();
    const Variant v = exclusive ? (lowering ? Variant::ExExclusive : Variant::ExExclusiveAtDpc)
                                : (lowering ? Variant::ExShared : Variant::ExSharedAtDpc);
    const char *call = exclusive ? (lowering ? "ExReleaseSpinLockExclusive" : "ExReleaseSpinLockExclusiveFromDpcLevel")
                                 : (lowering ? "ExReleaseSpinLockShared" : "ExReleaseSpinLockSharedFromDpcLevel");
    if (!lowering) new_irql = t.irql().load(std::memory_order_relaxed);
    with_observation([&](auto observed) {
        rw_release<decltype(observed)::value>(
            t, const_cast<LONG *>(l), v, nullptr, lowering, new_irql, call, site,
            [&](std::uint32_t) { return exclusive ? lock::ex_release_exclusive(l) : lock::ex_release_shared(l); });
    });
}

LOGICAL ex_try(PEX_SPIN_LOCK l, bool exclusive, const Site &site) noexcept {
    ThreadState &t = this_thread();
    const Variant v = exclusive ? Variant::ExTryExclusiveAtDpc : Variant::ExTrySharedAtDpc;
    return with_observation([&](auto observed) {
        return static_cast<LOGICAL>(rw_try_acquire<decltype(observed)::value>(t, const_cast<LONG *>(l), v, site, [&] {
            return exclusive ? lock::ex_try_exclusive(l) : lock::ex_try_shared(l);
        }));
    });
}

LOGICAL ex_convert(PEX_SPIN_LOCK l, const Site &site) noexcept {
    ThreadState &t = this_thread();
    if (observe::active()) {
        model::NoPreempt one_step; // the hold changes mode in the verifier's table with the word
        if (!lock::ex_try_convert_exclusive(l)) return FALSE;
        observe::notify_rw_converted(rw_event(t, const_cast<LONG *>(l), Variant::ExExclusive, nullptr, 0, site));
        return TRUE;
    }
    return lock::ex_try_convert_exclusive(l) ? TRUE : FALSE;
}

} // namespace

#define SITE NDISLOCK_SITE(f, n, fn)
#define NO_SITE NDISLOCK_SITE(nullptr, 0, nullptr)

extern "C" {

NDISLOCK_API KIRQL ndislock_at_ExAcquireSpinLockShared(PEX_SPIN_LOCK l, const char *f, int n, const char *fn) {
    return ex_acquire(l, false, true, SITE);
}
NDISLOCK_API KIRQL ExAcquireSpinLockShared(PEX_SPIN_LOCK l) { return ex_acquire(l, false, true, NO_SITE); }

NDISLOCK_API KIRQL ndislock_at_ExAcquireSpinLockExclusive(PEX_SPIN_LOCK l, const char *f, int n, const char *fn) {
    return ex_acquire(l, true, true, SITE);
}
NDISLOCK_API KIRQL ExAcquireSpinLockExclusive(PEX_SPIN_LOCK l) { return ex_acquire(l, true, true, NO_SITE); }

NDISLOCK_API void ndislock_at_ExAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK l, const char *f, int n, const char *fn) {
    ex_acquire(l, false, false, SITE);
}
NDISLOCK_API void ExAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK l) { ex_acquire(l, false, false, NO_SITE); }

NDISLOCK_API void ndislock_at_ExAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK l, const char *f, int n,
                                                                   const char *fn) {
    ex_acquire(l, true, false, SITE);
}
NDISLOCK_API void ExAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK l) { ex_acquire(l, true, false, NO_SITE); }

NDISLOCK_API void ndislock_at_ExReleaseSpinLockShared(PEX_SPIN_LOCK l, KIRQL old, const char *f, int n,
                                                      const char *fn) {
    ex_release(l, false, true, old, SITE);
}
NDISLOCK_API void ExReleaseSpinLockShared(PEX_SPIN_LOCK l, KIRQL old) { ex_release(l, false, true, old, NO_SITE); }

NDISLOCK_API void ndislock_at_ExReleaseSpinLockExclusive(PEX_SPIN_LOCK l, KIRQL old, const char *f, int n,
                                                         const char *fn) {
    ex_release(l, true, true, old, SITE);
}
NDISLOCK_API void ExReleaseSpinLockExclusive(PEX_SPIN_LOCK l, KIRQL old) { ex_release(l, true, true, old, NO_SITE); }

NDISLOCK_API void ndislock_at_ExReleaseSpinLockSharedFromDpcLevel(PEX_SPIN_LOCK l, const char *f, int n,
                                                                  const char *fn) {
    ex_release(l, false, false, 0, SITE);
}
NDISLOCK_API void ExReleaseSpinLockSharedFromDpcLevel(PEX_SPIN_LOCK l) { ex_release(l, false, false, 0, NO_SITE); }

NDISLOCK_API void ndislock_at_ExReleaseSpinLockExclusiveFromDpcLevel(PEX_SPIN_LOCK l, const char *f, int n,
                                                                     const char *fn) {
    ex_release(l, true, false, 0, SITE);
}
NDISLOCK_API void ExReleaseSpinLockExclusiveFromDpcLevel(PEX_SPIN_LOCK l) { ex_release(l, true, false, 0, NO_SITE); }

NDISLOCK_API LOGICAL ndislock_at_ExTryConvertSharedSpinLockExclusive(PEX_SPIN_LOCK l, const char *f, int n,
                                                                     const char *fn) {
    return ex_convert(l, SITE);
}
NDISLOCK_API LOGICAL ExTryConvertSharedSpinLockExclusive(PEX_SPIN_LOCK l) { return ex_convert(l, NO_SITE); }

NDISLOCK_API LOGICAL ndislock_at_ExTryAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK l, const char *f, int n,
                                                                      const char *fn) {
    return ex_try(l, false, SITE);
}
NDISLOCK_API LOGICAL ExTryAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK l) { return ex_try(l, false, NO_SITE); }

NDISLOCK_API LOGICAL ndislock_at_ExTryAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK l, const char *f, int n,
                                                                         const char *fn) {
    return ex_try(l, true, SITE);
}
NDISLOCK_API LOGICAL ExTryAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK l) { return ex_try(l, true, NO_SITE); }

} // extern "C"
