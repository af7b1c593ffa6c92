// The ordinary KSPIN_LOCK algorithm: a test-and-set word that spins briefly, then sleeps.
//
// Word: 0 free, 1 held, nothing else (ndis-contract.md section 3). Acquire is one
// compare-exchange (acquire ordering) when the lock is free; release is one store (seq_cst, as
// the parking handshake needs) and one read of the parking bucket. Under contention a waiter
// spins on plain reads for a bounded number of pauses, then sleeps in the parking table
// (parking.h), so threads outnumbering cores do not burn the holder's CPU.
//
// Compare-exchange rather than exchange: a word that holds an in-stack queue tail (a queued
// acquisition on the same lock, which is a misuse) is then never overwritten by this algorithm.
// This file knows nothing of IRQL, processors or the verifier.
#pragma once

#include <atomic>

#include "lock/parking.h"
#include "ndislock/wdk_types.h"

namespace ndislock::lock {

inline constexpr KSPIN_LOCK kSpinHeld = 1;

inline std::atomic_ref<KSPIN_LOCK> spin_word(PKSPIN_LOCK lock) noexcept { return std::atomic_ref<KSPIN_LOCK>(*lock); }

// Takes the lock if it is free. Never waits.
inline bool spin_try_acquire(PKSPIN_LOCK lock) noexcept {
    KSPIN_LOCK expected = 0;
    return spin_word(lock).compare_exchange_strong(expected, kSpinHeld, std::memory_order_acquire,
                                                   std::memory_order_relaxed);
}

// Waits for and takes the lock (slow path).
void spin_acquire_contended(PKSPIN_LOCK lock) noexcept;

// Takes the lock. Returns true if it had to wait.
inline bool spin_acquire(PKSPIN_LOCK lock) noexcept {
    if (__builtin_expect(spin_try_acquire(lock), 1)) return false;
    spin_acquire_contended(lock);
    return true;
}

// Frees the lock and wakes sleepers, if any.
inline void spin_release(PKSPIN_LOCK lock) noexcept {
    spin_word(lock).store(0, std::memory_order_seq_cst);
    if (__builtin_expect(parking::has_sleepers(lock), 0)) parking::wake_all(lock);
}

// True if the word is 0 at this instant (KeTestSpinLock).
inline bool spin_is_free(PKSPIN_LOCK lock) noexcept { return spin_word(lock).load(std::memory_order_relaxed) == 0; }

} // namespace ndislock::lock
