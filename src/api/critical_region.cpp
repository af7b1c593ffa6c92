// KeEnterCriticalRegion / KeLeaveCriticalRegion (ndislock/wdk_dispatcher.h), and the count they
// keep, in a file of their own.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include "api/critical_region.h"
#include "api/spin_lock_ops.h"

namespace ndislock::api {

namespace {
// Initial-exec like the thread state: read only by its own thread, never from a signal handler.
constinit thread_local unsigned t_critical_regions __attribute__((tls_model("initial-exec"))) = 0;
} // namespace

void enter_critical_region() noexcept { ++t_critical_regions; }

void leave_critical_region() noexcept {
    if (t_critical_regions != 0) --t_critical_regions; // an unmatched leave is no region to leave
}

unsigned critical_region_depth() noexcept { return t_critical_regions; }

} // namespace ndislock::api

using namespace ndislock;

extern "C" {

NDISLOCK_API VOID KeEnterCriticalRegion(VOID) {
    api::this_thread();
    api::enter_critical_region();
}

NDISLOCK_API VOID KeLeaveCriticalRegion(VOID) {
    api::this_thread();
    api::leave_critical_region();
}

} // extern "C"
