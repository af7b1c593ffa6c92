// The in-stack queued KSPIN_LOCK algorithm: an MCS queue whose nodes are the callers'
// KLOCK_QUEUE_HANDLEs, FIFO, each waiter spinning on its own node, then sleeping.
//
// Encoding, as a Windows multiprocessor build shows it (ndis-contract.md section 3):
//   lock word            0 free, otherwise the address of the last queue entry (the tail)
//   entry.Lock           lock address | LOCK_QUEUE_WAIT (1) while waiting,
//                        lock address | LOCK_QUEUE_OWNER (2) once it owns the lock
//   entry.Next           the next waiter, set by that waiter after it joins
// Our own bit, kQueueParked (4), marks a waiter whose thread is not running: it parks (lock/park.h)
// on the word formed by the low 32 bits of entry.Lock, or has been woken and is not back yet. While
// it is set the low bits read
//   WAIT | PARKED (5)           asleep, waiting (set by the waiter, so the granter knows to wake it)
//   WAIT | OWNER | PARKED (7)   woken ahead by the owner in front of it (wake_ahead), not back yet
//   OWNER | PARKED (6)          granted while asleep or woken, not back yet
// and the waiter clears it as soon as it runs: an owner's value is exactly address | 2 from the
// moment its acquire returns. A thread that joins behind an owner whose bit is set knows the
// owner still has a wake-up to go through (tens of microseconds in a virtual machine) before its
// critical section, and spins through it instead of sleeping too: otherwise each sleeper's wake
// makes the next waiter sleep, and every later hand-off pays a wake-up (a convoy).
// A waiter granted within its first pauses does not look at its successor's entry to wake it
// ahead (one line transfer on every hand-off between two threads): the successor joined after it
// and spins as many pauses before it sleeps, so it is awake.
//
// Hand-over: release grants the lock to Next by one compare-exchange on Next's entry; if Next has
// not linked itself yet (it joined the tail but was preempted before storing Next), release waits
// for the link, spinning then yielding the core.
#pragma once

#include <atomic>
#include <cstdint>

#include "ndislock/wdk_types.h"

namespace ndislock::lock {

inline constexpr std::uintptr_t kQueueWait = LOCK_QUEUE_WAIT;
inline constexpr std::uintptr_t kQueueOwner = LOCK_QUEUE_OWNER;
inline constexpr std::uintptr_t kQueueParked = 4;
inline constexpr std::uintptr_t kQueueBits = 7;
// Granted: the owner bit without the wait bit (2, or 6 while the new owner is still waking).
inline constexpr std::uintptr_t kQueueGrantMask = kQueueWait | kQueueOwner;

inline std::atomic_ref<PKSPIN_LOCK> entry_lock(PKSPIN_LOCK_QUEUE entry) noexcept {
    return std::atomic_ref<PKSPIN_LOCK>(const_cast<PKSPIN_LOCK &>(entry->Lock));
}
inline std::atomic_ref<PKSPIN_LOCK_QUEUE> entry_next(PKSPIN_LOCK_QUEUE entry) noexcept {
    return std::atomic_ref<PKSPIN_LOCK_QUEUE>(const_cast<PKSPIN_LOCK_QUEUE &>(entry->Next));
}
inline PKSPIN_LOCK tagged(PKSPIN_LOCK lock, std::uintptr_t bits) noexcept {
    return reinterpret_cast<PKSPIN_LOCK>(reinterpret_cast<std::uintptr_t>(lock) | bits);
}
inline std::uintptr_t tag_bits(PKSPIN_LOCK value) noexcept {
    return reinterpret_cast<std::uintptr_t>(value) & kQueueBits;
}
inline PKSPIN_LOCK untagged(PKSPIN_LOCK value) noexcept {
    return reinterpret_cast<PKSPIN_LOCK>(reinterpret_cast<std::uintptr_t>(value) & ~kQueueBits);
}

// What a queued acquire found in the word when it joined.
enum class QueueJoin { Owner, Waited, WordHeldByOrdinaryAcquire };

// Joins the queue of lock with entry and waits until it owns the lock. If the word held an
// ordinary acquisition's 1, nothing is waited for and WordHeldByOrdinaryAcquire is returned (the
// caller reports the misuse: the word is no longer trustworthy).
QueueJoin queued_acquire(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry) noexcept;

// The rest of queued_acquire once entry was swapped into the word and previous (nonzero) came out
// of it: the inline acquire's exchange (ndislock/fast_path.h) continues here. Returns Waited, or
// WordHeldByOrdinaryAcquire as queued_acquire does.
QueueJoin queued_wait_behind(PKSPIN_LOCK lock, PKSPIN_LOCK_QUEUE entry, KSPIN_LOCK previous) noexcept;

// Hands the lock to the next entry or frees it. entry must own its lock (entry->Lock has
// LOCK_QUEUE_OWNER): check with queued_owns first.
void queued_release(PKSPIN_LOCK_QUEUE entry) noexcept;

inline bool queued_owns(PKSPIN_LOCK_QUEUE entry) noexcept {
    return tag_bits(entry_lock(entry).load(std::memory_order_relaxed)) == kQueueOwner;
}

} // namespace ndislock::lock
