// The EX_SPIN_LOCK algorithm: a reader/writer spin lock in one 32-bit word, as on Windows.
//
// Word: bit 31 held exclusive, bit 30 an exclusive acquirer waits, bits 0-29 the shared holders.
// Shared acquire: compare-exchange count + 1 while neither high bit is set; so from the moment an
// exclusive acquirer waits (it sets bit 30 on each look), new shared acquires wait behind it and
// it only waits for the holders already in (writer preference). Exclusive acquire: compare-exchange
// a word with no holder (bit 30 alone, or 0) to bit 31 alone. Waits spin briefly, then sleep in the
// parking table (lock/parking.h); releases that can end a wait wake the lock's bucket if it has
// sleepers. All shared holders write the one word: the layout Windows gives drivers (a LONG) leaves
// no room for per-processor state, unlike the NDIS locks (lock/rw_lock.h).
//
// No recursion and no owner: the word does not know who holds it (the verifier does).
#pragma once

#include <atomic>
#include <cstdint>

#include "ndislock/wdk_types.h"

namespace ndislock::lock {

inline constexpr std::uint32_t kExExclusive = 0x80000000u;
inline constexpr std::uint32_t kExWaiting = 0x40000000u;
inline constexpr std::uint32_t kExShared = 0x3fffffffu;

inline std::atomic_ref<std::uint32_t> ex_word(volatile LONG *lock) noexcept {
    return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t *>(const_cast<LONG *>(lock)));
}

inline bool ex_try_shared(volatile LONG *lock) noexcept {
    auto w = ex_word(lock);
    std::uint32_t v = w.load(std::memory_order_relaxed);
    while ((v & (kExExclusive | kExWaiting)) == 0)
        if (w.compare_exchange_weak(v, v + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) return true;
    return false;
}

inline bool ex_try_exclusive(volatile LONG *lock) noexcept {
    auto w = ex_word(lock);
    std::uint32_t v = w.load(std::memory_order_relaxed);
    while ((v & ~kExWaiting) == 0)
        if (w.compare_exchange_weak(v, kExExclusive, std::memory_order_seq_cst, std::memory_order_relaxed)) return true;
    return false;
}

// Waiting forms. Return true if they waited.
bool ex_acquire_shared_slow(volatile LONG *lock) noexcept;
bool ex_acquire_exclusive_slow(volatile LONG *lock) noexcept;
inline bool ex_acquire_shared(volatile LONG *lock) noexcept {
    return ex_try_shared(lock) ? false : ex_acquire_shared_slow(lock);
}
inline bool ex_acquire_exclusive(volatile LONG *lock) noexcept {
    return ex_try_exclusive(lock) ? false : ex_acquire_exclusive_slow(lock);
}

// Releases. False (nothing done) when the word is not held in that mode.
bool ex_release_shared(volatile LONG *lock) noexcept;
bool ex_release_exclusive(volatile LONG *lock) noexcept;

// The caller holds the lock shared: exclusive instead if it is the only shared holder.
bool ex_try_convert_exclusive(volatile LONG *lock) noexcept;

} // namespace ndislock::lock
