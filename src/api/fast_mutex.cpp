// Fast mutexes (ndislock/wdk_dispatcher.h): ExInitializeFastMutex, ExAcquireFastMutex,
// ExTryToAcquireFastMutex, ExReleaseFastMutex and their Unsafe forms, and the guarded mutexes
// (KGUARDED_MUTEX is a FAST_MUTEX), over lock/fast_mutex.h. The IRQL part is here: an acquire
// raises to APC_LEVEL and keeps the IRQL it raised from in the mutex, the release lowers back to
// it; an Unsafe form leaves the IRQL alone (its caller has APCs off already); a guarded mutex
// enters a guarded region instead of raising.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <cstdio>

#include "api/spin_lock_ops.h"
#include "api/wait_locks.h"
#include "interrupt/dispatcher.h"
#include "lock/fast_mutex.h"

using namespace ndislock;
using namespace ndislock::api;
using observe::WaitLockKind;
using observe::WaitLockPhase;

namespace {

KIRQL raise_to_apc(ThreadState &t) noexcept {
    const KIRQL old = t.irql().load(std::memory_order_relaxed);
    if (old < APC_LEVEL) model::raise_irql(t, APC_LEVEL);
    return old;
}

void lower_to(ThreadState &t, KIRQL old) noexcept {
    if (t.irql().load(std::memory_order_relaxed) > old) model::lower_irql(t, old);
}

// How an acquire keeps normal kernel APCs off while the mutex is held.
enum class Form {
    Raising, // ExAcquireFastMutex: to APC_LEVEL, back at the release
    Unsafe,  // ExAcquireFastMutexUnsafe, KeAcquireGuardedMutexUnsafe: the caller did it already
    Guarded, // KeAcquireGuardedMutex: a guarded region, left at the release
};

void acquire(PFAST_MUTEX m, const Site &site, Form form = Form::Raising,
             const char *call = "ExAcquireFastMutex") noexcept {
    ThreadState &t = this_thread();
    if (observe::active()) observe::notify_other_call(call, true, false, site);
    if (lock::fast_mutex_owner(m) == interrupt::thread_tag(t)) {
        char detail[200];
        std::snprintf(detail, sizeof detail,
                      "%s(%p) by thread %d, which already owns it: a fast mutex is not recursive, the thread would "
                      "wait for itself forever",
                      call, static_cast<void *>(m), t.os_tid.load(std::memory_order_relaxed));
        observe::report_misuse(observe::Rule::FastMutexRecursion, site, detail);
        platform::fatal("FastMutexRecursion: %s", detail); // terminal: reached only if an observer let it go on
    }
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Acquiring, call, site, t, true);
    if (form == Form::Guarded) KeEnterGuardedRegion();
    const KIRQL old = form == Form::Raising ? raise_to_apc(t) : t.irql().load(std::memory_order_relaxed);
    lock::fast_mutex_acquire(m, interrupt::thread_tag(t));
    m->OldIrql = old;
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Acquired, call, site, t);
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::WaitEnded, call, site, t);
}

// By a thread that does not own the mutex: MutexNotOwned, and nothing changes (Windows does not
// check: the owner's exclusion would be gone, and the releaser's IRQL or guarded region left
// wrong; keeping the mutex as it was keeps the rest of the run meaningful).
void not_owned(PFAST_MUTEX m, ThreadState &t, const char *call, const Site &site) noexcept {
    const void *owner = lock::fast_mutex_owner(m);
    char whose[48] = "it is free";
    if (owner != nullptr)
        std::snprintf(whose, sizeof whose, "its owner is thread %d",
                      interrupt::tagged_thread(owner)->os_tid.load(std::memory_order_relaxed));
    observe::report_if_observedf(observe::Rule::MutexNotOwned, site,
                                 "%s(%p) by thread %d, which does not own it (%s): a fast or guarded mutex is "
                                 "released by the thread that acquired it (ExReleaseFastMutex docs); on Windows the "
                                 "owner's exclusion is lost; ndislock leaves the mutex as it was",
                                 call, static_cast<void *>(m), t.os_tid.load(std::memory_order_relaxed), whose);
}

void release(PFAST_MUTEX m, Form form, const char *call, const Site &site) noexcept {
    ThreadState &t = this_thread();
    if (lock::fast_mutex_owner(m) != interrupt::thread_tag(t)) return not_owned(m, t, call, site);
    const KIRQL old = static_cast<KIRQL>(m->OldIrql); // read while still the owner
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Releasing, call, site, t);
    lock::fast_mutex_release(m);
    if (form == Form::Raising) lower_to(t, old);
    if (form == Form::Guarded) KeLeaveGuardedRegion();
}

void init(PFAST_MUTEX m, const Site &site) noexcept {
    ThreadState &t = this_thread();
    lock::fast_mutex_init(m);
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Initialized, "ExInitializeFastMutex", site, t);
}

BOOLEAN try_acquire(PFAST_MUTEX m, const Site &site, Form form = Form::Raising,
                    const char *call = "ExTryToAcquireFastMutex") noexcept {
    ThreadState &t = this_thread();
    check_call_irql(t, APC_LEVEL, call, site); // as the waiting acquires (Driver Verifier's IrqlExApcLte1)
    if (form == Form::Guarded) KeEnterGuardedRegion();
    const KIRQL old = form == Form::Raising ? raise_to_apc(t) : t.irql().load(std::memory_order_relaxed);
    if (!lock::fast_mutex_try(m, interrupt::thread_tag(t))) {
        lower_to(t, old);
        if (form == Form::Guarded) KeLeaveGuardedRegion();
        return FALSE;
    }
    m->OldIrql = old;
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Acquired, call, site, t);
    return TRUE;
}

} // namespace

extern "C" {

NDISLOCK_API VOID ndislock_at_ExInitializeFastMutex(PFAST_MUTEX m, const char *f, int n, const char *fn) {
    init(m, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID ExInitializeFastMutex(PFAST_MUTEX m) { init(m, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API VOID ndislock_at_ExAcquireFastMutex(PFAST_MUTEX m, const char *f, int n, const char *fn) {
    acquire(m, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID ExAcquireFastMutex(PFAST_MUTEX m) { acquire(m, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API BOOLEAN ndislock_at_ExTryToAcquireFastMutex(PFAST_MUTEX m, const char *f, int n, const char *fn) {
    return try_acquire(m, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX m) {
    return try_acquire(m, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_ExReleaseFastMutex(PFAST_MUTEX m, const char *f, int n, const char *fn) {
    release(m, Form::Raising, "ExReleaseFastMutex", NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID ExReleaseFastMutex(PFAST_MUTEX m) {
    release(m, Form::Raising, "ExReleaseFastMutex", NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_ExAcquireFastMutexUnsafe(PFAST_MUTEX m, const char *f, int n, const char *fn) {
    acquire(m, NDISLOCK_SITE(f, n, fn), Form::Unsafe, "ExAcquireFastMutexUnsafe");
}
NDISLOCK_API VOID ExAcquireFastMutexUnsafe(PFAST_MUTEX m) {
    acquire(m, NDISLOCK_SITE(nullptr, 0, nullptr), Form::Unsafe, "ExAcquireFastMutexUnsafe");
}
NDISLOCK_API VOID ndislock_at_ExReleaseFastMutexUnsafe(PFAST_MUTEX m, const char *f, int n, const char *fn) {
    release(m, Form::Unsafe, "ExReleaseFastMutexUnsafe", NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID ExReleaseFastMutexUnsafe(PFAST_MUTEX m) {
    release(m, Form::Unsafe, "ExReleaseFastMutexUnsafe", NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_KeInitializeGuardedMutex(PKGUARDED_MUTEX m, const char *f, int n, const char *fn) {
    init(m, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID KeInitializeGuardedMutex(PKGUARDED_MUTEX m) { init(m, NDISLOCK_SITE(nullptr, 0, nullptr)); }
NDISLOCK_API VOID ndislock_at_KeAcquireGuardedMutex(PKGUARDED_MUTEX m, const char *f, int n, const char *fn) {
    acquire(m, NDISLOCK_SITE(f, n, fn), Form::Guarded, "KeAcquireGuardedMutex");
}
NDISLOCK_API VOID KeAcquireGuardedMutex(PKGUARDED_MUTEX m) {
    acquire(m, NDISLOCK_SITE(nullptr, 0, nullptr), Form::Guarded, "KeAcquireGuardedMutex");
}
NDISLOCK_API BOOLEAN ndislock_at_KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX m, const char *f, int n, const char *fn) {
    return try_acquire(m, NDISLOCK_SITE(f, n, fn), Form::Guarded, "KeTryToAcquireGuardedMutex");
}
NDISLOCK_API BOOLEAN KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX m) {
    return try_acquire(m, NDISLOCK_SITE(nullptr, 0, nullptr), Form::Guarded, "KeTryToAcquireGuardedMutex");
}
NDISLOCK_API VOID ndislock_at_KeReleaseGuardedMutex(PKGUARDED_MUTEX m, const char *f, int n, const char *fn) {
    release(m, Form::Guarded, "KeReleaseGuardedMutex", NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID KeReleaseGuardedMutex(PKGUARDED_MUTEX m) {
    release(m, Form::Guarded, "KeReleaseGuardedMutex", NDISLOCK_SITE(nullptr, 0, nullptr));
}
NDISLOCK_API VOID ndislock_at_KeAcquireGuardedMutexUnsafe(PKGUARDED_MUTEX m, const char *f, int n, const char *fn) {
    acquire(m, NDISLOCK_SITE(f, n, fn), Form::Unsafe, "KeAcquireGuardedMutexUnsafe");
}
NDISLOCK_API VOID KeAcquireGuardedMutexUnsafe(PKGUARDED_MUTEX m) {
    acquire(m, NDISLOCK_SITE(nullptr, 0, nullptr), Form::Unsafe, "KeAcquireGuardedMutexUnsafe");
}
NDISLOCK_API VOID ndislock_at_KeReleaseGuardedMutexUnsafe(PKGUARDED_MUTEX m, const char *f, int n, const char *fn) {
    release(m, Form::Unsafe, "KeReleaseGuardedMutexUnsafe", NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID KeReleaseGuardedMutexUnsafe(PKGUARDED_MUTEX m) {
    release(m, Form::Unsafe, "KeReleaseGuardedMutexUnsafe", NDISLOCK_SITE(nullptr, 0, nullptr));
}

} // extern "C"
