// Virtual processors: how "at DISPATCH_LEVEL and above, a processor runs one thread's code at a
// time" holds in a process whose threads the OS schedules freely.
//
// Each processor has an owner word: 0 while no thread runs on it at DISPATCH_LEVEL or above,
// otherwise that thread's id (kParked is added while other threads sleep waiting for it). A
// thread raising from below DISPATCH_LEVEL takes the word (enter_dispatch) and gives it back when
// it drops below (leave_dispatch). A second thread of the same processor that raises waits, as it
// would sit descheduled on Windows: a short spin, then a futex sleep, so a descheduled owner costs
// the waiter no CPU. Acquire/release ordering on the word makes per-processor data touched at
// DISPATCH_LEVEL as safe as on Windows.
//
// Room left for the interrupt side: IRQL values above DISPATCH_LEVEL (DIRQL) already flow through
// raise/lower unchanged; work pending on a processor (DPCs, masked interrupts) will be checked in
// leave_dispatch, the one place the IRQL drops below DISPATCH_LEVEL.
#pragma once

#include <atomic>
#include <cstdint>

#include "model/thread_state.h"
#include "ndislock/ext.h"

namespace ndislock::model {

inline constexpr std::uint32_t kParked = 0x80000000u;

struct alignas(64) Processor {
    std::atomic<std::uint32_t> owner{0};
};

extern Processor g_processors[NDISLOCK_MAX_PROCESSORS];

// The number of virtual processors (fixed at the first call in, see ndislock/ext.h).
std::uint32_t processor_count() noexcept;
// The processor a newly registered thread runs on (round-robin).
std::uint32_t assign_processor() noexcept;

void enter_dispatch_slow(ThreadState &t, Processor &p) noexcept;
void wake_processor_waiters(Processor &p) noexcept;

// The calling thread becomes the only thread at DISPATCH_LEVEL or above on its processor.
inline void enter_dispatch(ThreadState &t) noexcept {
    const std::uint32_t index = t.processor.load(std::memory_order_relaxed);
    Processor &p = g_processors[index];
    std::uint32_t expected = 0;
    if (!p.owner.compare_exchange_strong(expected, t.id, std::memory_order_acquire, std::memory_order_relaxed))
        enter_dispatch_slow(t, p);
    t.dispatch_processor = index;
}

// The calling thread drops below DISPATCH_LEVEL: its processor is free for another thread.
inline void leave_dispatch(ThreadState &t) noexcept {
    Processor &p = g_processors[t.dispatch_processor];
    if (p.owner.exchange(0, std::memory_order_release) != t.id) wake_processor_waiters(p);
}

// The thread id running at DISPATCH_LEVEL or above on processor index, or 0.
inline std::uint32_t processor_owner(std::uint32_t index) noexcept {
    return g_processors[index].owner.load(std::memory_order_relaxed) & ~kParked;
}

// IRQL changes with the processor hand-over they imply. Validation is the caller's.
inline KIRQL raise_irql(ThreadState &t, KIRQL new_irql) noexcept {
    const KIRQL old = t.irql.load(std::memory_order_relaxed);
    if (old < DISPATCH_LEVEL && new_irql >= DISPATCH_LEVEL) enter_dispatch(t);
    t.irql.store(new_irql, std::memory_order_relaxed);
    return old;
}

inline void lower_irql(ThreadState &t, KIRQL new_irql) noexcept {
    const KIRQL old = t.irql.load(std::memory_order_relaxed);
    t.irql.store(new_irql, std::memory_order_relaxed);
    if (old >= DISPATCH_LEVEL && new_irql < DISPATCH_LEVEL) leave_dispatch(t);
}

// ndislock/ext.h's calls, implemented in processors.cpp.
NDISLOCK_STATUS set_processor_count(std::uint32_t count) noexcept;
NDISLOCK_STATUS bind_current_thread(std::uint32_t index) noexcept;

} // namespace ndislock::model
