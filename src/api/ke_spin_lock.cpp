// The kernel's ordinary spin-lock calls (ndislock/ndis.h), each in its two spellings.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/ndis.h"

#include "api/lock_pointer.h"
#include "api/spin_lock_ops.h"
#include "observe/lock_names.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

inline void ke_initialize(PKSPIN_LOCK s, const Site &site) noexcept {
    check_lock_pointer(s, "KeInitializeSpinLock", site);
    ThreadState &t = this_thread(); // first: it may be the process's first call, which configures
    observe::lock_initializing(s);  // a new lock: an earlier one's name is not its name
    if (observe::active()) observe::notify_initialized(event(t, s, nullptr, Variant::KeAcquire, false, 0, site));
    lock::spin_word(s).store(0, std::memory_order_release);
}

// v: KeAcquire, KeForDpc or KeRaiseToSynch (the level it raises to is observe::held_irql(v)).
inline KIRQL ke_acquire(PKSPIN_LOCK s, const Site &site, Variant v = Variant::KeAcquire,
                        const char *call = "KeAcquireSpinLock") noexcept {
    check_lock_pointer(s, call, site);
    ThreadState &t = this_thread();
    return with_observation(
        [&](auto observed) { return acquire_raising<decltype(observed)::value>(t, s, v, false, site); });
}

// v: KeAcquire (KeReleaseSpinLock) or KeForDpc (KeReleaseSpinLockForDpc).
inline void ke_release(PKSPIN_LOCK s, KIRQL new_irql, const Site &site, Variant v = Variant::KeAcquire,
                       const char *call = "KeReleaseSpinLock") noexcept {
    check_lock_pointer(s, call, site);
    ThreadState &t = this_thread();
    with_observation(
        [&](auto observed) { release_lowering<decltype(observed)::value>(t, s, new_irql, v, false, site); });
}

inline void ke_acquire_at_dpc(PKSPIN_LOCK s, const Site &site) noexcept {
    check_lock_pointer(s, "KeAcquireSpinLockAtDpcLevel", site);
    ThreadState &t = this_thread();
    with_observation(
        [&](auto observed) { acquire_at_dpc<decltype(observed)::value>(t, s, Variant::KeAtDpcLevel, false, site); });
}

inline void ke_release_from_dpc(PKSPIN_LOCK s, const Site &site) noexcept {
    check_lock_pointer(s, "KeReleaseSpinLockFromDpcLevel", site);
    ThreadState &t = this_thread();
    with_observation(
        [&](auto observed) { release_at_dpc<decltype(observed)::value>(t, s, Variant::KeAtDpcLevel, false, site); });
}

inline BOOLEAN ke_try_at_dpc(PKSPIN_LOCK s, const Site &site) noexcept {
    check_lock_pointer(s, "KeTryToAcquireSpinLockAtDpcLevel", site);
    ThreadState &t = this_thread();
    return with_observation(
        [&](auto observed) { return static_cast<BOOLEAN>(try_acquire_at_dpc<decltype(observed)::value>(t, s, site)); });
}

} // namespace

extern "C" {

NDISLOCK_API void ndislock_at_KeInitializeSpinLock(PKSPIN_LOCK s, const char *f, int n, const char *fn) {
    ke_initialize(s, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeInitializeSpinLock(PKSPIN_LOCK s) { ke_initialize(s, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API KIRQL ndislock_at_KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK s, const char *f, int n, const char *fn) {
    return ke_acquire(s, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK s) {
    return ke_acquire(s, NDISLOCK_SITE(nullptr, 0, nullptr));
}
NDISLOCK_API void KeAcquireSpinLock(PKSPIN_LOCK s, PKIRQL old_irql) {
    *old_irql = ke_acquire(s, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API void ndislock_at_KeReleaseSpinLock(PKSPIN_LOCK s, KIRQL new_irql, const char *f, int n, const char *fn) {
    ke_release(s, new_irql, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeReleaseSpinLock(PKSPIN_LOCK s, KIRQL new_irql) {
    ke_release(s, new_irql, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API void ndislock_at_KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK s, const char *f, int n, const char *fn) {
    ke_acquire_at_dpc(s, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK s) {
    ke_acquire_at_dpc(s, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API void ndislock_at_KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK s, const char *f, int n, const char *fn) {
    ke_release_from_dpc(s, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK s) {
    ke_release_from_dpc(s, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API BOOLEAN ndislock_at_KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK s, const char *f, int n, const char *fn) {
    return ke_try_at_dpc(s, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK s) {
    return ke_try_at_dpc(s, NDISLOCK_SITE(nullptr, 0, nullptr));
}

// The threaded-DPC forms: raise only from below DISPATCH_LEVEL, restore what the acquire returned.
NDISLOCK_API KIRQL ndislock_at_KeAcquireSpinLockForDpc(PKSPIN_LOCK s, const char *f, int n, const char *fn) {
    return ke_acquire(s, NDISLOCK_SITE(f, n, fn), Variant::KeForDpc, "KeAcquireSpinLockForDpc");
}
NDISLOCK_API KIRQL KeAcquireSpinLockForDpc(PKSPIN_LOCK s) {
    return ke_acquire(s, NDISLOCK_SITE(nullptr, 0, nullptr), Variant::KeForDpc, "KeAcquireSpinLockForDpc");
}
NDISLOCK_API void ndislock_at_KeReleaseSpinLockForDpc(PKSPIN_LOCK s, KIRQL old_irql, const char *f, int n,
                                                      const char *fn) {
    ke_release(s, old_irql, NDISLOCK_SITE(f, n, fn), Variant::KeForDpc, "KeReleaseSpinLockForDpc");
}
NDISLOCK_API void KeReleaseSpinLockForDpc(PKSPIN_LOCK s, KIRQL old_irql) {
    ke_release(s, old_irql, NDISLOCK_SITE(nullptr, 0, nullptr), Variant::KeForDpc, "KeReleaseSpinLockForDpc");
}

// Raises to SYNCH_LEVEL; released by KeReleaseSpinLock.
NDISLOCK_API KIRQL ndislock_at_KeAcquireSpinLockRaiseToSynch(PKSPIN_LOCK s, const char *f, int n, const char *fn) {
    return ke_acquire(s, NDISLOCK_SITE(f, n, fn), Variant::KeRaiseToSynch, "KeAcquireSpinLockRaiseToSynch");
}
NDISLOCK_API KIRQL KeAcquireSpinLockRaiseToSynch(PKSPIN_LOCK s) {
    return ke_acquire(s, NDISLOCK_SITE(nullptr, 0, nullptr), Variant::KeRaiseToSynch, "KeAcquireSpinLockRaiseToSynch");
}

// KeTestSpinLock only reads the word: no IRQL effect, nothing to observe.
NDISLOCK_API BOOLEAN KeTestSpinLock(PKSPIN_LOCK s) {
    this_thread();
    return lock::spin_is_free(s) ? TRUE : FALSE;
}

} // extern "C"
