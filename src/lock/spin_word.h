// The ordinary KSPIN_LOCK algorithm: a test-and-set word that spins briefly, then sleeps.
//
// Word: 0 free, 1 held, nothing else (ndis-contract.md section 3). Acquire is one
// compare-exchange (acquire ordering) when the lock is free: the only atomic read-modify-write of
// an uncontended acquire+release pair. Release is a plain release store of 0 and one relaxed read
// of the parking bucket's sleeper count, with only a compiler barrier between them: the
// store-buffer handshake with a sleeper (parking.h) is closed by the sleeper's heavy fence
// (platform/membarrier.h), paid once per sleep instead of once per release. Under contention a
// waiter spins on plain reads, at intervals that grow from one pause to 16 (lock/backoff.h), for a
// bounded number of pauses, then sleeps in the parking table, so threads outnumbering cores do not
// burn the holder's CPU. The lock is not fair (a running thread may take it again before a woken
// sleeper runs), but unfairness is bounded: a sleeper that has waited kStarveNs marks itself in
// its bucket, and the next release hands the lock straight to it (the word stays 1) instead of
// freeing it.
//
// Compare-exchange rather than exchange: a word that holds an in-stack queue tail (a queued
// acquisition on the same lock, which is a misuse) is then never overwritten by this algorithm.
// This file knows nothing of IRQL, processors or the verifier.
#pragma once

#include <atomic>

#include "lock/parking.h"
#include "ndislock/detail/fast_layout.h" // NDISLOCK_FAST_SPIN_HELD
#include "ndislock/wdk_types.h"
#include "platform/membarrier.h"

namespace ndislock::lock {

inline constexpr KSPIN_LOCK kSpinHeld = NDISLOCK_FAST_SPIN_HELD; // the value the inline acquire stores

inline std::atomic_ref<KSPIN_LOCK> spin_word(PKSPIN_LOCK lock) noexcept { return std::atomic_ref<KSPIN_LOCK>(*lock); }

// Takes the lock if it is free. Never waits.
inline bool spin_try_acquire(PKSPIN_LOCK lock) noexcept {
    KSPIN_LOCK expected = 0;
    return spin_word(lock).compare_exchange_strong(expected, kSpinHeld, std::memory_order_acquire,
                                                   std::memory_order_relaxed);
}

// Waits for and takes the lock (slow path).
void spin_acquire_contended(PKSPIN_LOCK lock) noexcept;
// The release's slow path, when the lock's bucket has sleepers: hands the lock to a starving
// sleeper, or wakes the sleepers to compete.
[[gnu::cold]] void spin_release_slow(PKSPIN_LOCK lock) noexcept;

// Takes the lock. Returns true if it had to wait.
inline bool spin_acquire(PKSPIN_LOCK lock) noexcept {
    if (__builtin_expect(spin_try_acquire(lock), 1)) return false;
    spin_acquire_contended(lock);
    return true;
}

// Frees the lock and wakes sleepers, if any.
inline void spin_release(PKSPIN_LOCK lock) noexcept {
    if constexpr (NDISLOCK_TSAN) {
        // The plain seq_cst handshake, which ThreadSanitizer models.
        spin_word(lock).store(0, std::memory_order_seq_cst);
        if (__builtin_expect(parking::has_sleepers(lock), 0)) spin_release_slow(lock);
    } else {
        spin_word(lock).store(0, std::memory_order_release);
        platform::light_fence(); // pairs with the sleeper's heavy_fence (spin_acquire_contended)
        if (__builtin_expect(parking::bucket_for(lock).waiters().load(std::memory_order_relaxed) != 0, 0))
            spin_release_slow(lock);
    }
}

// True if the word is 0 at this instant (KeTestSpinLock).
inline bool spin_is_free(PKSPIN_LOCK lock) noexcept { return spin_word(lock).load(std::memory_order_relaxed) == 0; }

} // namespace ndislock::lock
