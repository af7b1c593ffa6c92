// The verifier's state per live lock, kept beside the lock (never in its word): 32 bytes in an
// open-addressing table keyed by the lock's address, reserved once (virtual memory, touched as
// used) for kShadowSlots locks. NdisFreeSpinLock removes a lock's entry (its slot is reused) and
// remembers the address in a small ring of recently freed locks, which is how a later use is told
// apart from a lock never allocated. A new allocation at a freed address is a new lock.
//
// Lookups and updates are lock-free (atomics); two threads initializing the same lock at once is
// itself a bug the table does not defend against.
#pragma once

#include <atomic>
#include <cstdint>

namespace ndislock::verifier {

enum class LockMode : std::uint8_t { Unknown, Plain, Queued };

struct Shadow {
    std::atomic<std::uintptr_t> key;   // the lock's address; 0 empty, 1 removed
    std::atomic<std::uint32_t> lock_class;
    std::atomic<std::uint32_t> holder;  // thread id of the holder (model::ThreadState::id), 0 none
    std::atomic<LockMode> mode;
    std::atomic<std::uint8_t> holder_slot; // the holder's held-table index
    std::uint8_t reserved[14];
};
static_assert(sizeof(Shadow) == 32, "the documented per-lock figure");

inline constexpr std::uint64_t kShadowSlots = std::uint64_t{1} << 21; // 2M slots, 64 MiB reserved

// Reserves the table (first activation). False if the memory could not be had.
bool shadow_reserve() noexcept;

Shadow *shadow_find(const void *lock) noexcept;
// The lock's entry, created if absent (allocation or adoption). nullptr if the table is full.
Shadow *shadow_insert(const void *lock, std::uint32_t lock_class) noexcept;
void shadow_remove(Shadow *entry, const void *lock) noexcept;
bool recently_freed(const void *lock) noexcept;

// Live entries, for tests and the memory figures.
std::uint64_t shadow_live() noexcept;

} // namespace ndislock::verifier
