// The platform's wait/wake seam. Only the parking primitive (lock/park.cpp) calls it: every other
// wait in ndislock parks through that, so that one place sees every wait.
//
// futex_wait(addr, expected, timeout_ns) sleeps while the 32-bit word at addr still holds
// expected, until futex_wake on the same address, the timeout, or a spurious wake-up: callers
// always re-check their condition in a loop. futex_wake(addr, count) wakes up to count sleepers.
// Both are process-private (FUTEX_PRIVATE_FLAG) and async-signal-safe (plain system calls).
#pragma once

#include <cstdint>

namespace ndislock::platform {

// Returns false on timeout, true otherwise (woken, value changed, or interrupted).
bool futex_wait(const void *addr, std::uint32_t expected, std::uint64_t timeout_ns) noexcept;
void futex_wake(const void *addr, int count) noexcept;

} // namespace ndislock::platform
