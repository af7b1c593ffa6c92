// Virtual processors: how "at DISPATCH_LEVEL and above, a processor runs one thread's code at a
// time" holds in a process whose threads the OS schedules freely.
//
// Each processor has an owner word. A thread raising from below DISPATCH_LEVEL takes the
// processor (enter_dispatch) and gives it back when it drops below (leave_dispatch). A second
// thread of the same processor that raises waits, as it would sit descheduled on Windows: a short
// spin, then a futex sleep, so a descheduled owner costs the waiter no CPU. Acquire/release
// ordering on the hand-over makes per-processor data touched at DISPATCH_LEVEL as safe as on
// Windows.
//
// Two modes, so that the common case (one thread raising again and again on its processor, as
// every NdisAcquireSpinLock does) costs no atomic read-modify-write at all:
//   owner == 0                   free
//   owner == id [| kParked]      shared mode: thread id holds the processor, taken by
//                                compare-exchange and given back by exchange; kParked while
//                                other threads sleep waiting for it
//   owner == id | kBiased        biased mode: the processor sticks to thread id between its
//                                DISPATCH_LEVEL episodes. It enters by a plain store
//                                busy = id and a re-read of owner, and leaves by a plain store
//                                busy = 0 (Dekker's handshake with a free fence on this side).
// A thread that took the processor in shared mode kBiasAfter times in a row makes it biased
// when it leaves. Another thread that wants a biased processor revokes the bias: it takes owner
// (compare-exchange to its own id, shared mode), runs heavy_fence() (membarrier: the free fence
// on the biased side is then enough), and waits until busy is 0. So a revocation costs a system
// call, paid only when the processor changes hands after a run of re-entries by one thread; the
// streak counter keeps a processor that changes hands often in shared mode.
// Shared mode is not FIFO (a running thread may take the processor again before a woken sleeper
// runs); a sleeper that has waited kStarveNs gets it handed over directly at the next leave.
// The biased mode needs asymmetric fences; without them (old kernel, ThreadSanitizer build) the
// processor stays in shared mode.
//
// The interrupt side (docs/interrupts.md): a processor with interrupt threads never becomes biased
// (no_bias), so an interrupt finds the thread to stop in the owner word; its DPC thread waits for
// the processor like any other thread, with priority (starving) so it runs as soon as the IRQL
// drops; an interrupt masked by a raised IRQL is taken in lower_irql.
#pragma once

#include <atomic>
#include <cstdint>

#include "model/preemption.h"
#include "model/thread_state.h"
#include "ndislock/ext.h"
#include "platform/membarrier.h"

namespace ndislock::model {

inline constexpr std::uint32_t kParked = 0x80000000u;
inline constexpr std::uint32_t kBiased = 0x40000000u;
static_assert(kMaxThreads < kBiased, "thread ids must leave the mode bits free");

// Shared-mode takes by one thread in a row after which its leave makes the processor biased.
inline constexpr std::uint32_t kBiasAfter = 64;

struct alignas(64) Processor {
    std::atomic<std::uint32_t> owner{0};
    // Biased mode: the bias holder's id while it runs at DISPATCH_LEVEL or above, else 0.
    std::atomic<std::uint32_t> busy{0};
    // Written only by the thread holding the processor in shared mode: who took it last and how
    // many times in a row.
    std::uint32_t last = 0;
    std::uint32_t streak = 0;
    // How long a waiter for this processor spins before sleeping, adapted to what spinning
    // achieved lately (glibc's adaptive mutex idea): an owner that keeps the processor for long
    // (it waits in a lock queue, or is descheduled) soon makes waiters sleep at once.
    std::atomic<std::uint32_t> spin_pauses{256};
    // Bounded unfairness: the id of a sleeper that has waited too long; the next shared-mode
    // leave hands the processor straight to it instead of freeing it.
    std::atomic<std::uint32_t> starving{0};
    // Set once this processor has interrupt threads: it then stays in shared mode, so its owner
    // word always names the thread an interrupt must stop (interrupt/delivery.cpp).
    std::atomic<bool> no_bias{false};
};

// Exported as ndislock_fast_processors for the inline fast path (ndislock/fast_path.h), which reads
// owner and busy: they stay the first two words of each 64-byte Processor.
extern Processor g_processors[NDISLOCK_MAX_PROCESSORS] __asm__("ndislock_fast_processors") NDISLOCK_API;

// The number of virtual processors (fixed at the first call in, see ndislock/ext.h).
std::uint32_t processor_count() noexcept;
// The processor a newly registered thread runs on (round-robin).
std::uint32_t assign_processor() noexcept;

void enter_dispatch_slow(ThreadState &t, Processor &p, bool priority = false) noexcept;
void wake_processor_waiters(Processor &p) noexcept;
void wake_revoker(Processor &p) noexcept;
void leave_shared(ThreadState &t, Processor &p) noexcept;

// Book-keeping of a shared-mode take (the caller holds the processor).
inline void count_shared_take(ThreadState &t, Processor &p) noexcept {
    if (p.last == t.id) {
        ++p.streak;
    } else {
        p.last = t.id;
        p.streak = 0;
    }
}

// The calling thread becomes the only thread at DISPATCH_LEVEL or above on its processor.
inline void enter_dispatch(ThreadState &t) noexcept {
    const std::uint32_t index = t.processor.load(std::memory_order_relaxed);
    Processor &p = g_processors[index];
    t.dispatch_processor = index;
    const std::uint32_t biased = t.id | kBiased;
    std::uint32_t expected = p.owner.load(std::memory_order_relaxed);
    if (__builtin_expect(expected == biased, 1)) {
        p.busy.store(t.id, std::memory_order_relaxed);
        platform::light_fence(); // the revoker's heavy_fence closes the store-load window
        if (__builtin_expect(p.owner.load(std::memory_order_relaxed) == biased, 1)) return;
    } else if (expected == 0 &&
               p.owner.compare_exchange_strong(expected, t.id, std::memory_order_acquire, std::memory_order_relaxed)) {
        count_shared_take(t, p);
        return;
    }
    enter_dispatch_slow(t, p);
}

// enter_dispatch for a processor's DPC thread: it waits with priority, so the processor is handed
// to it at the next drop below DISPATCH_LEVEL (DPCs run as soon as the IRQL drops).
inline void enter_dispatch_priority(ThreadState &t) noexcept {
    const std::uint32_t index = t.processor.load(std::memory_order_relaxed);
    Processor &p = g_processors[index];
    t.dispatch_processor = index;
    std::uint32_t expected = 0;
    if (p.owner.compare_exchange_strong(expected, t.id, std::memory_order_acquire, std::memory_order_relaxed)) {
        count_shared_take(t, p);
        return;
    }
    enter_dispatch_slow(t, p, true);
}

// The calling thread drops below DISPATCH_LEVEL: its processor is free for another thread.
inline void leave_dispatch(ThreadState &t) noexcept {
    Processor &p = g_processors[t.dispatch_processor];
    if (__builtin_expect(p.busy.load(std::memory_order_relaxed) == t.id, 1)) {
        p.busy.store(0, std::memory_order_release);
        platform::light_fence(); // against the revoker's heavy_fence: it sees busy == 0 or we see it
        if (__builtin_expect(p.owner.load(std::memory_order_relaxed) != (t.id | kBiased), 0)) wake_revoker(p);
        return;
    }
    leave_shared(t, p);
}

// The thread id running at DISPATCH_LEVEL or above on processor index, or 0.
inline std::uint32_t processor_owner(std::uint32_t index) noexcept {
    const std::uint32_t owner = g_processors[index].owner.load(std::memory_order_relaxed);
    if ((owner & kBiased) != 0) return g_processors[index].busy.load(std::memory_order_relaxed);
    return owner & ~kParked;
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
    // An interrupt held pending while this processor was at or above its DIRQL is taken now,
    // while this thread still owns the processor (model/preemption.h).
    if (__builtin_expect(old > DISPATCH_LEVEL, 0)) preemption_point(t);
    if (old >= DISPATCH_LEVEL && new_irql < DISPATCH_LEVEL) leave_dispatch(t);
}

// ndislock/ext.h's calls, implemented in processors.cpp.
NDISLOCK_STATUS set_processor_count(std::uint32_t count) noexcept;
NDISLOCK_STATUS bind_current_thread(std::uint32_t index) noexcept;

} // namespace ndislock::model
