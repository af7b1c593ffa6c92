// The kernel's in-stack queued spin-lock calls (ndislock/ndis.h), each in its two spellings.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/ndis.h"

#include "api/lock_pointer.h"
#include "api/spin_lock_ops.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// v: which acquire (Queued, QueuedAtDpcLevel, QueuedForDpc, QueuedRaiseToSynch).
inline void queued_acquire(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h, Variant v, const Site &site) noexcept {
    check_lock_pointer(s, "KeAcquireInStackQueuedSpinLock", site);
    check_lock_pointer(h, "KeAcquireInStackQueuedSpinLock (its LockHandle)", site);
    ThreadState &t = this_thread();
    with_observation([&](auto observed) { acquire_queued<decltype(observed)::value>(t, s, h, v, site); });
}

// v: which release (Queued, QueuedAtDpcLevel, QueuedForDpc).
inline void queued_release(PKLOCK_QUEUE_HANDLE h, Variant v, const Site &site) noexcept {
    check_lock_pointer(h, "KeReleaseInStackQueuedSpinLock (its LockHandle)", site);
    ThreadState &t = this_thread();
    with_observation([&](auto observed) { release_queued<decltype(observed)::value>(t, h, v, site); });
}

} // namespace

extern "C" {

NDISLOCK_API void ndislock_at_KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h, const char *f, int n,
                                                             const char *fn) {
    queued_acquire(s, h, Variant::Queued, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h) {
    queued_acquire(s, h, Variant::Queued, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API void ndislock_at_KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE h, const char *f, int n,
                                                             const char *fn) {
    queued_release(h, Variant::Queued, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE h) {
    queued_release(h, Variant::Queued, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API void ndislock_at_KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h,
                                                                       const char *f, int n, const char *fn) {
    queued_acquire(s, h, Variant::QueuedAtDpcLevel, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h) {
    queued_acquire(s, h, Variant::QueuedAtDpcLevel, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API void ndislock_at_KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE h, const char *f, int n,
                                                                         const char *fn) {
    queued_release(h, Variant::QueuedAtDpcLevel, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE h) {
    queued_release(h, Variant::QueuedAtDpcLevel, NDISLOCK_SITE(nullptr, 0, nullptr));
}

// The threaded-DPC forms: raise only from below DISPATCH_LEVEL; the release restores the IRQL its
// acquire saved in the handle.
NDISLOCK_API void ndislock_at_KeAcquireInStackQueuedSpinLockForDpc(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h, const char *f,
                                                                   int n, const char *fn) {
    queued_acquire(s, h, Variant::QueuedForDpc, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeAcquireInStackQueuedSpinLockForDpc(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h) {
    queued_acquire(s, h, Variant::QueuedForDpc, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API void ndislock_at_KeReleaseInStackQueuedSpinLockForDpc(PKLOCK_QUEUE_HANDLE h, const char *f, int n,
                                                                   const char *fn) {
    queued_release(h, Variant::QueuedForDpc, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeReleaseInStackQueuedSpinLockForDpc(PKLOCK_QUEUE_HANDLE h) {
    queued_release(h, Variant::QueuedForDpc, NDISLOCK_SITE(nullptr, 0, nullptr));
}

// Raises to SYNCH_LEVEL; released by KeReleaseInStackQueuedSpinLock.
NDISLOCK_API void ndislock_at_KeAcquireInStackQueuedSpinLockRaiseToSynch(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h,
                                                                         const char *f, int n, const char *fn) {
    queued_acquire(s, h, Variant::QueuedRaiseToSynch, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeAcquireInStackQueuedSpinLockRaiseToSynch(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h) {
    queued_acquire(s, h, Variant::QueuedRaiseToSynch, NDISLOCK_SITE(nullptr, 0, nullptr));
}

} // extern "C"
