#include "lock/park.h"

#include <climits>

#include "platform/futex.h"

namespace ndislock::lock {

ParkResult park(const void *address, std::uint32_t expected, std::uint64_t timeout_ns, ParkValidation validate,
                const void *context) noexcept {
    if (validate != nullptr && !validate(context)) return ParkResult::Invalid;
    return platform::futex_wait(address, expected, timeout_ns) ? ParkResult::Unparked : ParkResult::TimedOut;
}

void unpark_one(const void *address) noexcept { platform::futex_wake(address, 1); }

void unpark_all(const void *address) noexcept { platform::futex_wake(address, INT_MAX); }

} // namespace ndislock::lock
