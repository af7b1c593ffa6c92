// Clocks. monotonic_ns: wall time, for wait limits. monotonic_raw_ns: wall time not slewed by
// NTP, to calibrate the TSC against. thread_cpu_ns: this thread's own CPU time,
// for hold times (a holder the OS descheduled did not hold the lock "for" that time in the sense
// the NDIS 25 us budget means: a Windows holder at DISPATCH_LEVEL is never descheduled).
#pragma once

#include <cstdint>

namespace ndislock::platform {

std::uint64_t monotonic_ns() noexcept;
std::uint64_t monotonic_raw_ns() noexcept;
std::uint64_t thread_cpu_ns() noexcept;

} // namespace ndislock::platform
