// The platform's wait/wake seam: the only place ndislock blocks a thread.
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

// One pause of a spin-wait loop (PAUSE on x86, YIELD on arm64).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#else
    asm volatile("" ::: "memory");
#endif
}

// Gives the core to another runnable thread (sched_yield).
void yield_core() noexcept;

} // namespace ndislock::platform
