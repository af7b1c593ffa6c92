// Fast mutexes (ndislock/wdk_dispatcher.h): ExInitializeFastMutex, ExAcquireFastMutex,
// ExTryToAcquireFastMutex, ExReleaseFastMutex, over lock/fast_mutex.h. The IRQL part is here: an
// acquire raises to APC_LEVEL and keeps the IRQL it raised from in the mutex; the release lowers
// back to it.
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

void acquire(PFAST_MUTEX m, const Site &site) noexcept {
    ThreadState &t = this_thread();
    if (observe::active()) observe::notify_other_call("ExAcquireFastMutex", true, false, site);
    if (lock::fast_mutex_owner(m) == interrupt::thread_tag(t)) {
        char detail[200];
        std::snprintf(detail, sizeof detail,
                      "ExAcquireFastMutex(%p) by thread %d, which already owns it: a fast mutex is not recursive, "
                      "the thread would wait for itself forever",
                      static_cast<void *>(m), t.os_tid.load(std::memory_order_relaxed));
        observe::report_misuse(observe::Rule::FastMutexRecursion, site, detail);
        platform::fatal("FastMutexRecursion: %s", detail); // terminal: reached only if an observer let it go on
    }
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Acquiring, "ExAcquireFastMutex", site, t, true);
    const KIRQL old = raise_to_apc(t);
    lock::fast_mutex_acquire(m, interrupt::thread_tag(t));
    m->OldIrql = old;
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Acquired, "ExAcquireFastMutex", site, t);
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::WaitEnded, "ExAcquireFastMutex", site, t);
}

void init(PFAST_MUTEX m, const Site &site) noexcept {
    ThreadState &t = this_thread();
    lock::fast_mutex_init(m);
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Initialized, "ExInitializeFastMutex", site, t);
}

BOOLEAN try_acquire(PFAST_MUTEX m, const Site &site) noexcept {
    ThreadState &t = this_thread();
    const KIRQL old = raise_to_apc(t);
    if (!lock::fast_mutex_try(m, interrupt::thread_tag(t))) {
        lower_to(t, old);
        return FALSE;
    }
    m->OldIrql = old;
    tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Acquired, "ExTryToAcquireFastMutex", site, t);
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

NDISLOCK_API VOID ExReleaseFastMutex(PFAST_MUTEX m) {
    ThreadState &t = this_thread();
    const KIRQL old = static_cast<KIRQL>(m->OldIrql); // read while still the owner
    if (lock::fast_mutex_owner(m) == interrupt::thread_tag(t))
        tell_wait_lock(m, WaitLockKind::FastMutex, WaitLockPhase::Releasing, "ExReleaseFastMutex",
                       NDISLOCK_SITE(nullptr, 0, nullptr), t);
    lock::fast_mutex_release(m);
    lower_to(t, old);
}

} // extern "C"
