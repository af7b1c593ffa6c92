#include "lock/park.h"

#include <climits>

#include "lock/wait_observer.h"
#include "platform/clock.h"
#include "platform/futex.h"
#include "platform/context_local.h"

namespace ndislock::lock {

constinit thread_local WaitRecord *tls_wait_record __attribute__((tls_model("initial-exec"))) = nullptr;
NDISLOCK_CONTEXT_LOCAL(tls_wait_record); // follows the context (platform/context_local.h)
std::atomic<const WaitObserver *> g_wait_observer{nullptr};
std::atomic<const ParkControl *> g_park_control{nullptr};
constinit thread_local bool tls_controlled __attribute__((tls_model("initial-exec"))) = false;
NDISLOCK_CONTEXT_LOCAL(tls_controlled); // follows the context (platform/context_local.h)

ParkResult park(const void *address, std::uint32_t expected, std::uint64_t timeout_ns, ParkValidation validate,
                const void *context) noexcept {
    // Recorded before the validation, so a watchdog that reads the record sees the thread as
    // parked from before its last look at the condition. Restored, not cleared, after: a signal
    // handler that parks (a stopped thread) interrupts a park whose record must survive it.
    WaitRecord *record = tls_wait_record;
    const void *outer = nullptr;
    if (record != nullptr) {
        outer = record->parked_on.load(std::memory_order_relaxed);
        record->parked_on.store(address, std::memory_order_relaxed);
    }
    ParkResult result = ParkResult::Invalid;
    const ParkControl *control = tls_controlled ? g_park_control.load(std::memory_order_acquire) : nullptr;
    if (control != nullptr)
        result = control->park(address, expected, timeout_ns, validate, context);
    else if (validate == nullptr || validate(context))
        result = platform::futex_wait(address, expected, timeout_ns) ? ParkResult::Unparked : ParkResult::TimedOut;
    if (record != nullptr) record->parked_on.store(outer, std::memory_order_relaxed);
    return result;
}

// Told to an exploration first: its blocked threads wait in its scheduler, not in the kernel. An
// unpark_one makes every controlled waiter of the address runnable, which a caller's re-check
// tolerates (a return is not a promise).
static void tell_control(const void *address) noexcept {
    if (const ParkControl *control = g_park_control.load(std::memory_order_acquire)) control->unpark(address);
}

void park_until(std::uint64_t deadline_ns) noexcept {
    static constexpr std::uint32_t kNever = 0; // nobody unparks it: the timeout ends the park
    for (std::uint64_t now = platform::monotonic_ns(); now < deadline_ns; now = platform::monotonic_ns()) {
        const std::uint64_t left = deadline_ns - now;
        park(&kNever, 0, left < kParkBoundNs ? left : kParkBoundNs - 1);
    }
}

void unpark_one(const void *address) noexcept {
    tell_control(address);
    platform::futex_wake(address, 1);
}

void unpark_all(const void *address) noexcept {
    tell_control(address);
    platform::futex_wake(address, INT_MAX);
}

} // namespace ndislock::lock
