// The six NDIS spin-lock calls (ndislock/ndis.h), each in its two spellings: the site-taking
// form the macros call and the plain exported function.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/ndis.h"

#include "api/lock_pointer.h"
#include "api/spin_lock_ops.h"
#include "observe/lock_names.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// NdisAllocateSpinLock is KeInitializeSpinLock(&SpinLock); OldIrql is not touched, as in the WDK.
inline void ndis_allocate(PNDIS_SPIN_LOCK l, const Site &site) noexcept {
    check_lock_pointer(l, "NdisAllocateSpinLock", site);
    ThreadState &t = this_thread(); // first: it may be the process's first call, which configures
    observe::lock_initializing(l);  // a new lock: an earlier one's name is not its name
    if (observe::active()) observe::notify_initialized(event(t, l, nullptr, Variant::NdisAcquire, true, 0, site));
    lock::spin_word(&l->SpinLock).store(0, std::memory_order_release);
}

inline void ndis_free(PNDIS_SPIN_LOCK l, const Site &site) noexcept {
    check_lock_pointer(l, "NdisFreeSpinLock", site);
    ThreadState &t = this_thread();
    if (observe::active()) observe::notify_freed(event(t, l, nullptr, Variant::NdisAcquire, true, 0, site));
    observe::lock_freed(l); // its name goes with it
}

inline void ndis_acquire(PNDIS_SPIN_LOCK l, const Site &site) noexcept {
    check_lock_pointer(l, "NdisAcquireSpinLock", site);
    ThreadState &t = this_thread();
    // OldIrql is written only once the lock is held: it belongs to the holder.
    l->OldIrql = with_observation([&](auto observed) NDISLOCK_OBSERVED_INLINE {
        return acquire_raising<decltype(observed)::value>(t, &l->SpinLock, Variant::NdisAcquire, true, site);
    });
}

inline void ndis_release(PNDIS_SPIN_LOCK l, const Site &site) noexcept {
    check_lock_pointer(l, "NdisReleaseSpinLock", site);
    ThreadState &t = this_thread();
    const KIRQL old = l->OldIrql; // read before the lock is freed and another holder overwrites it
    with_observation([&](auto observed) NDISLOCK_OBSERVED_INLINE {
        release_lowering<decltype(observed)::value>(t, &l->SpinLock, old, Variant::NdisAcquire, true, site);
    });
}

inline void ndis_dpr_acquire(PNDIS_SPIN_LOCK l, const Site &site) noexcept {
    check_lock_pointer(l, "NdisDprAcquireSpinLock", site);
    ThreadState &t = this_thread();
    with_observation([&](auto observed) {
        acquire_at_dpc<decltype(observed)::value>(t, &l->SpinLock, Variant::NdisDpr, true, site);
    });
}

inline void ndis_dpr_release(PNDIS_SPIN_LOCK l, const Site &site) noexcept {
    check_lock_pointer(l, "NdisDprReleaseSpinLock", site);
    ThreadState &t = this_thread();
    with_observation([&](auto observed) {
        release_at_dpc<decltype(observed)::value>(t, &l->SpinLock, Variant::NdisDpr, true, site);
    });
}

} // namespace

extern "C" {

NDISLOCK_API void ndislock_at_NdisAllocateSpinLock(PNDIS_SPIN_LOCK l, const char *f, int n, const char *fn) {
    ndis_allocate(l, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void NdisAllocateSpinLock(PNDIS_SPIN_LOCK l) { ndis_allocate(l, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API void ndislock_at_NdisFreeSpinLock(PNDIS_SPIN_LOCK l, const char *f, int n, const char *fn) {
    ndis_free(l, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void NdisFreeSpinLock(PNDIS_SPIN_LOCK l) { ndis_free(l, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API void ndislock_at_NdisAcquireSpinLock(PNDIS_SPIN_LOCK l, const char *f, int n, const char *fn) {
    ndis_acquire(l, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void NdisAcquireSpinLock(PNDIS_SPIN_LOCK l) { ndis_acquire(l, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API void ndislock_at_NdisReleaseSpinLock(PNDIS_SPIN_LOCK l, const char *f, int n, const char *fn) {
    ndis_release(l, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void NdisReleaseSpinLock(PNDIS_SPIN_LOCK l) { ndis_release(l, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API void ndislock_at_NdisDprAcquireSpinLock(PNDIS_SPIN_LOCK l, const char *f, int n, const char *fn) {
    ndis_dpr_acquire(l, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void NdisDprAcquireSpinLock(PNDIS_SPIN_LOCK l) { ndis_dpr_acquire(l, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API void ndislock_at_NdisDprReleaseSpinLock(PNDIS_SPIN_LOCK l, const char *f, int n, const char *fn) {
    ndis_dpr_release(l, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void NdisDprReleaseSpinLock(PNDIS_SPIN_LOCK l) { ndis_dpr_release(l, NDISLOCK_SITE(nullptr, 0, nullptr)); }

} // extern "C"
