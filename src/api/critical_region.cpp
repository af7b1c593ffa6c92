// Critical and guarded regions and the APC-state queries (ndislock/wdk_apc.h), over the thread's
// APC state (model/apc_state.h).
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk_apc.h"

#include <cstdio>

#include "api/critical_region.h"
#include "api/spin_lock_ops.h"
#include "model/apc_state.h"

namespace ndislock::api {

// For the executive resources (which require a region) and kernel mutexes (which enter one).
void enter_critical_region() noexcept { ++model::this_thread_apc_state().critical; }
void leave_critical_region() noexcept {
    std::uint32_t &count = model::this_thread_apc_state().critical;
    if (count != 0) --count; // the mutex's own region: an unmatched leave is no region to leave
}
unsigned critical_region_depth() noexcept { return model::this_thread_apc_state().critical; }

} // namespace ndislock::api

using namespace ndislock;
using namespace ndislock::api;

namespace {

// A leave without its enter: Windows' count goes the wrong way and the thread bug checks with
// APC_INDEX_MISMATCH when it returns to user mode; ndislock says so at the leave itself.
[[gnu::cold, noreturn]] void unbalanced_leave(const char *call, const char *enter, const Site &site) noexcept {
    char detail[300];
    std::snprintf(detail, sizeof detail,
                  "%s without a matching %s (this thread is in no such region): bug check 0x1 APC_INDEX_MISMATCH "
                  "(Windows raises it when the thread returns to user mode)",
                  call, enter);
    observe::report_misuse(observe::Rule::BugCheck, site, detail);
    platform::fatal("BugCheck: %s", detail); // a terminal rule: reached only if an observer let it go on
}

void leave(std::uint32_t &count, const char *call, const char *enter, const Site &site) noexcept {
    this_thread();
    if (__builtin_expect(count == 0, 0)) unbalanced_leave(call, enter, site);
    --count;
}

} // namespace

extern "C" {

NDISLOCK_API VOID KeEnterCriticalRegion(VOID) {
    this_thread();
    ++model::this_thread_apc_state().critical;
}

NDISLOCK_API VOID ndislock_at_KeLeaveCriticalRegion(const char *f, int n, const char *fn) {
    leave(model::this_thread_apc_state().critical, "KeLeaveCriticalRegion", "KeEnterCriticalRegion",
          NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID KeLeaveCriticalRegion(VOID) {
    leave(model::this_thread_apc_state().critical, "KeLeaveCriticalRegion", "KeEnterCriticalRegion",
          NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID KeEnterGuardedRegion(VOID) {
    this_thread();
    ++model::this_thread_apc_state().guarded;
}

NDISLOCK_API VOID ndislock_at_KeLeaveGuardedRegion(const char *f, int n, const char *fn) {
    leave(model::this_thread_apc_state().guarded, "KeLeaveGuardedRegion", "KeEnterGuardedRegion",
          NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID KeLeaveGuardedRegion(VOID) {
    leave(model::this_thread_apc_state().guarded, "KeLeaveGuardedRegion", "KeEnterGuardedRegion",
          NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API BOOLEAN KeAreApcsDisabled(VOID) {
    this_thread();
    const model::ApcState &a = model::this_thread_apc_state();
    return a.critical != 0 || a.guarded != 0 ? TRUE : FALSE;
}

NDISLOCK_API BOOLEAN KeAreAllApcsDisabled(VOID) {
    const ThreadState &t = this_thread();
    return model::this_thread_apc_state().guarded != 0 || t.irql().load(std::memory_order_relaxed) >= APC_LEVEL ? TRUE
                                                                                                                : FALSE;
}

} // extern "C"
