// Executive resources (ndislock/wdk_dispatcher.h): ExInitializeResourceLite,
// ExAcquireResource{Exclusive,Shared}Lite, ExReleaseResourceLite, ExDeleteResourceLite and the
// ExIsResourceAcquired queries, over lock/resource.h. The rule is here: an acquire needs normal
// kernel APCs disabled (a critical region, or APC_LEVEL), else ResourceOutsideCriticalRegion.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <cstdio>

#include "api/critical_region.h"
#include "api/spin_lock_ops.h"
#include "api/wait_locks.h"
#include "lock/resource.h"

using namespace ndislock;
using namespace ndislock::api;
using observe::WaitLockKind;
using observe::WaitLockPhase;

namespace {

std::uintptr_t tag(ThreadState &t) noexcept { return reinterpret_cast<std::uintptr_t>(&t); }

void check_region(const char *name, PERESOURCE r, BOOLEAN wait, ThreadState &t, const Site &site) noexcept {
    if (!observe::active()) return;
    observe::notify_other_call(name, wait != FALSE, false, site);
    if (critical_region_depth() != 0 || t.irql().load(std::memory_order_relaxed) >= APC_LEVEL) return;
    char detail[300];
    std::snprintf(detail, sizeof detail,
                  "%s(%p) at PASSIVE_LEVEL outside a critical region: normal kernel APCs must be disabled first "
                  "(KeEnterCriticalRegion), or an APC can suspend the thread while it owns the resource",
                  name, static_cast<void *>(r));
    observe::report_if_observed(observe::Rule::ResourceOutsideCriticalRegion, site, detail);
}

BOOLEAN acquire(PERESOURCE r, BOOLEAN wait, bool exclusive, const Site &site) noexcept {
    ThreadState &t = this_thread();
    const char *name = exclusive ? "ExAcquireResourceExclusiveLite" : "ExAcquireResourceSharedLite";
    const WaitLockKind kind = exclusive ? WaitLockKind::ResourceExclusive : WaitLockKind::ResourceShared;
    check_region(name, r, wait, t, site);
    tell_wait_lock(r, kind, WaitLockPhase::Acquiring, name, site, t, wait != FALSE);
    const bool taken = exclusive ? lock::resource_acquire_exclusive(r, tag(t), wait != FALSE)
                                 : lock::resource_acquire_shared(r, tag(t), wait != FALSE);
    if (taken) tell_wait_lock(r, kind, WaitLockPhase::Acquired, name, site, t);
    tell_wait_lock(r, kind, WaitLockPhase::WaitEnded, name, site, t);
    return taken ? TRUE : FALSE;
}

} // namespace

extern "C" {

static NTSTATUS init(PERESOURCE r, const Site &site) noexcept {
    ThreadState &t = this_thread();
    lock::resource_init(r);
    tell_wait_lock(r, WaitLockKind::ResourceExclusive, WaitLockPhase::Initialized, "ExInitializeResourceLite", site, t);
    return STATUS_SUCCESS;
}
NDISLOCK_API NTSTATUS ndislock_at_ExInitializeResourceLite(PERESOURCE r, const char *f, int n, const char *fn) {
    return init(r, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API NTSTATUS ExInitializeResourceLite(PERESOURCE r) { return init(r, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API NTSTATUS ExDeleteResourceLite(PERESOURCE r) {
    this_thread();
    if (lock::resource_busy(r))
        platform::diagnostic("ExDeleteResourceLite(%p): the resource is still owned (release it first)",
                             static_cast<void *>(r));
    observe::lock_freed(r); // its name goes with it
    return STATUS_SUCCESS;
}

NDISLOCK_API BOOLEAN ndislock_at_ExAcquireResourceExclusiveLite(PERESOURCE r, BOOLEAN wait, const char *f, int n,
                                                                const char *fn) {
    return acquire(r, wait, true, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API BOOLEAN ExAcquireResourceExclusiveLite(PERESOURCE r, BOOLEAN wait) {
    return acquire(r, wait, true, NDISLOCK_SITE(nullptr, 0, nullptr));
}
NDISLOCK_API BOOLEAN ndislock_at_ExAcquireResourceSharedLite(PERESOURCE r, BOOLEAN wait, const char *f, int n,
                                                             const char *fn) {
    return acquire(r, wait, false, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API BOOLEAN ExAcquireResourceSharedLite(PERESOURCE r, BOOLEAN wait) {
    return acquire(r, wait, false, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ExReleaseResourceLite(PERESOURCE r) {
    ThreadState &t = this_thread();
    if (lock::resource_release(r, tag(t))) {
        // The mode of the acquisition released is the verifier's table's to know.
        tell_wait_lock(r, WaitLockKind::ResourceExclusive, WaitLockPhase::Releasing, "ExReleaseResourceLite",
                       NDISLOCK_SITE(nullptr, 0, nullptr), t);
        return;
    }
    char detail[200];
    std::snprintf(detail, sizeof detail,
                  "ExReleaseResourceLite(%p) by a thread that does not own it: bug check 0xE3 RESOURCE_NOT_OWNED",
                  static_cast<void *>(r));
    observe::report_misuse(observe::Rule::BugCheck, NDISLOCK_SITE(nullptr, 0, nullptr), detail);
    platform::fatal("BugCheck: %s", detail); // reached only if an observer let it go on
}

NDISLOCK_API BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE r) {
    return lock::resource_held_exclusive(r, tag(this_thread())) != 0 ? TRUE : FALSE;
}

NDISLOCK_API ULONG ExIsResourceAcquiredSharedLite(PERESOURCE r) {
    return lock::resource_held_exclusive(r, tag(this_thread())) + lock::resource_held_shared(r);
}

} // extern "C"
