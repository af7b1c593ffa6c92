// Kernel semaphores (ndislock/wdk_dispatcher.h): KeInitializeSemaphore, KeReadStateSemaphore and
// KeReleaseSemaphore over the dispatcher (interrupt/dispatcher.h), which also runs their waits.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <atomic>

#include "api/spin_lock_ops.h"
#include "interrupt/dispatcher.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

void init_semaphore(PRKSEMAPHORE semaphore, LONG count, LONG limit, const Site &site) noexcept {
    this_thread();
    interrupt::semaphore_init(semaphore, count, limit);
    // Windows takes both as given (a checked build asserts): a count outside 0..Limit makes a
    // semaphore whose first wait or release goes wrong far from this line, so this line is named.
    if (limit < 1 || count < 0 || count > limit)
        observe::report_if_observedf(observe::Rule::SemaphoreMisuse, site,
                                     "KeInitializeSemaphore(%p, Count %d, Limit %d): %s",
                                     static_cast<void *>(semaphore), count, limit,
                                     limit < 1   ? "the limit must be at least 1 (no wait could ever be satisfied)"
                                     : count < 0 ? "the count must not be negative"
                                                 : "the count is above the limit");
}

LONG release_semaphore(PRKSEMAPHORE semaphore, LONG adjustment, BOOLEAN wait, const Site &site) noexcept {
    // Wait TRUE: a KeWaitFor* call follows at once, so APC_LEVEL at most (KeReleaseSemaphore's page).
    check_call_irql(this_thread(), wait != FALSE ? APC_LEVEL : DISPATCH_LEVEL, "KeReleaseSemaphore", site);
    LONG previous = 0;
    if (interrupt::semaphore_release(semaphore, adjustment, &previous)) return previous;
    observe::report_misusef(observe::Rule::SemaphoreMisuse, site,
                            "KeReleaseSemaphore(%p, Adjustment %d) with the count at %d of its limit %d: %s; Windows "
                            "raises STATUS_SEMAPHORE_LIMIT_EXCEEDED and leaves the count as it was (so does ndislock)",
                            static_cast<void *>(semaphore), adjustment, previous, semaphore->Limit,
                            adjustment < 0 ? "the adjustment must not be negative" : "the count would pass the limit");
    return previous;
}

} // namespace

extern "C" {

NDISLOCK_API VOID ndislock_at_KeInitializeSemaphore(PRKSEMAPHORE semaphore, LONG count, LONG limit, const char *f,
                                                    int n, const char *fn) {
    init_semaphore(semaphore, count, limit, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID KeInitializeSemaphore(PRKSEMAPHORE semaphore, LONG count, LONG limit) {
    init_semaphore(semaphore, count, limit, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API LONG KeReadStateSemaphore(PRKSEMAPHORE semaphore) {
    return std::atomic_ref<LONG>(const_cast<LONG &>(semaphore->Header.SignalState)).load(std::memory_order_acquire);
}

NDISLOCK_API LONG ndislock_at_KeReleaseSemaphore(PRKSEMAPHORE semaphore, KPRIORITY, LONG adjustment, BOOLEAN wait,
                                                 const char *f, int n, const char *fn) {
    return release_semaphore(semaphore, adjustment, wait, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API LONG KeReleaseSemaphore(PRKSEMAPHORE semaphore, KPRIORITY, LONG adjustment, BOOLEAN wait) {
    return release_semaphore(semaphore, adjustment, wait, NDISLOCK_SITE(nullptr, 0, nullptr));
}

} // extern "C"
