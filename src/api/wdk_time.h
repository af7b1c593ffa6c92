// The WDK's time units over the platform clocks: system time (100 ns units since 1601-01-01 UTC)
// and the due-time convention of waits and timers (ndislock/wdk_dispatcher.h).
#pragma once

#include <cstdint>

#include "interrupt/dispatcher.h"
#include "interrupt/timers.h"
#include "ndislock/wdk_base.h"
#include "platform/clock.h"

namespace ndislock::api {

// System time, the one conversion the timers use too (interrupt/timers.h).
inline std::uint64_t system_time() noexcept { return interrupt::system_time_100ns(); }

// A due time in 100 ns units (negative: relative; positive: absolute system time; zero: now; NULL:
// never) as a wait's deadline: 0 (poll), interrupt::kWaitForever, or a monotonic_ns() time. An
// absolute time that has passed is a poll.
inline std::uint64_t wait_deadline(const LARGE_INTEGER *due) noexcept {
    if (due == nullptr) return interrupt::kWaitForever;
    const LONGLONG value = due->QuadPart;
    if (value == 0) return 0;
    const std::uint64_t now = platform::monotonic_ns();
    std::uint64_t units = 0;
    if (value < 0) {
        units = std::uint64_t{0} - static_cast<std::uint64_t>(value); // no overflow at LLONG_MIN
    } else {
        const std::uint64_t at = static_cast<std::uint64_t>(value), system = system_time();
        if (at <= system) return 0;
        units = at - system;
    }
    const std::uint64_t limit = (interrupt::kWaitForever - 1 - now) / 100; // a distant deadline, not forever
    return now + (units < limit ? units : limit) * 100;
}

} // namespace ndislock::api
