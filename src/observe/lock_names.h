// Names given to locks with NdislockSetLockName, by lock address. A fixed table, lock-free and
// async-signal-safe; names are never removed (a lock re-allocated at the same address keeps its
// name, as a lock embedded in a reused adapter context should).
#pragma once

namespace ndislock::observe {

void set_lock_name(const void *lock, const char *name) noexcept;
const char *lock_name(const void *lock) noexcept; // nullptr if unnamed

} // namespace ndislock::observe
