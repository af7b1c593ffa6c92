// The processor's side of a spin-wait: one pause, and giving the core away. Neither blocks the
// thread (a block goes through lock/park.h); both are async-signal-safe.
#pragma once

namespace ndislock::platform {

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
