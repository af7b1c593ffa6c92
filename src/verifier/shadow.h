// The verifier's state per live lock, kept beside the lock (never in its word): 16 bytes in a table
// keyed by the lock's address. NdisFreeSpinLock removes a lock's entry (its slot is reused) and
// remembers the address in a small ring of recently freed locks, which is how a later use is told
// apart from a lock never allocated. A new allocation at a freed address is a new lock.
//
// Memory follows the live locks, both ways:
//   - the table grows by generations, open-addressing tables of 2^12, 2^13, ... 2^21 slots laid
//     out in one reservation of virtual memory (64 MiB, touched as used). An entry goes into the
//     first generation under half full, and never moves, so a lookup is lock-free: it probes each
//     generation in use, smallest first (one probe for a program's first 2048 locks). Filled to
//     half, generations hold ~32 bytes of resident table per live lock at any scale; 4M slots,
//     about 2M locks, in all.
//   - pages that hold no live entry are given back to the OS (shadow_regions.h), so freeing the
//     locks brings the resident set back down.
//
// Lookups and updates of an entry are lock-free (atomics) and allocate nothing: safe on the
// acquire/release path. Inserts (allocation, initialization, adopting a lock first seen in use)
// and the return of pages take a short internal mutex, never on the hot path.
#pragma once

#include <atomic>
#include <cstdint>

#include "verifier/lock_classes.h"

namespace ndislock::verifier {

enum class LockMode : std::uint8_t { Unknown, Plain, Queued };

struct Shadow {
    std::atomic<std::uintptr_t> key;       // the lock's address; 0 empty, 1 removed
    std::atomic<std::uint32_t> holder;     // thread id of the holder (model::ThreadState::id), 0 none
    std::atomic<std::uint16_t> lock_class; // < kMaxClasses
    std::atomic<LockMode> mode;
    std::atomic<std::uint8_t> holder_slot; // the holder's held-table index
};
static_assert(sizeof(Shadow) == 16, "the documented per-lock figure");
static_assert(kMaxClasses <= 0x10000, "a class id fits Shadow::lock_class");

// Reserves the table (first activation). False if the memory could not be had.
bool shadow_reserve() noexcept;

Shadow *shadow_find(const void *lock) noexcept;
// The lock's entry, created if absent (allocation or adoption). nullptr if the table is full.
Shadow *shadow_insert(const void *lock, std::uint32_t lock_class) noexcept;
// Removes the entry of lock (found by shadow_find); a second remove of it does nothing.
void shadow_remove(Shadow *entry, const void *lock) noexcept;
// Whether entry is still lock's (a cached entry pointer stays valid memory; this says whose).
inline bool shadow_is(const Shadow *entry, const void *lock) noexcept {
    return entry->key.load(std::memory_order_acquire) == reinterpret_cast<std::uintptr_t>(lock);
}
bool recently_freed(const void *lock) noexcept;
// Empties that record: after the verifier was off, its memory may hold new locks it did not see
// allocated (a use there is adopted, not a use after free).
void forget_recently_freed() noexcept;

// Live entries, and the table's pages given back so far, for tests and the memory figures.
std::uint64_t shadow_live() noexcept;
std::uint64_t shadow_released_bytes() noexcept;

} // namespace ndislock::verifier
