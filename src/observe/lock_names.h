// Names given to locks with NdislockSetLockName, by lock address. A fixed table, lock-free and
// async-signal-safe.
//
// A name belongs to one lock, not to its address: a lock's storage is reused (a stack frame, a
// freed adapter context), and a name inherited by the next lock there would put that lock in the
// old lock's class, with the old lock's order (a false LockOrderInversion between two unrelated
// locks that happened to live where a named pair once did). So:
//   - freeing the lock (NdisFreeSpinLock, NdisFreeRWLock, ExDeleteResourceLite, the C++ types'
//     destructors) drops its name;
//   - initializing a lock at a named address keeps the name only if it was set for this lock:
//     set before the initialization (and after the previous one there), it names the lock being
//     initialized; set after an initialization, it named that lock, and the next initialization
//     at the address (a new lock: a KSPIN_LOCK has no free) drops it. "After an initialization"
//     is known when the naming thread initialized that address among its last 64 initializations
//     and has not named it since: the idiom (initialize, then name, as NdisSpinLock's
//     constructor does, or initialize a context's locks, then name them).
// The name of the lock living or last living at an address stays readable after its free for
// what describes past activity (statistics, timelines, a use after free): last_lock_name.
#pragma once

namespace ndislock::observe {

// name nullptr: the lock has no name from now on.
void set_lock_name(const void *lock, const char *name) noexcept;
// The name of the lock living at `lock` now; nullptr if unnamed.
const char *lock_name(const void *lock) noexcept;
// The name of the lock living there now or, once it is freed, the name it had (until another lock
// is initialized there): for figures gathered over a run (statistics are read after the lock is
// freed) and for a use after free.
const char *last_lock_name(const void *lock) noexcept;

// A lock is being initialized at `lock` (NdisAllocateSpinLock, KeInitializeSpinLock, the
// reader/writer and sleeping locks' initializations). Call before the observers are told, so
// they see the name the new lock has. Cheap when no lock was ever named.
void lock_initializing(const void *lock) noexcept;
// The lock at `lock` is freed: its name goes with it.
void lock_freed(const void *lock) noexcept;

} // namespace ndislock::observe
