// The ERESOURCE algorithm (ndislock/wdk_dispatcher.h): shared/exclusive with recursion, as the
// ExAcquireResource*Lite pages describe it. The fields are the WDK's, guarded by an internal flag in
// the resource's SpinLock word: Flag has ResourceOwnedExclusive and OwnerEntry.OwnerThread the
// owner's tag while it is owned exclusively; ActiveCount counts the acquisitions held; the waiter
// counts are NumberOf*Waiters. Waiters park on ContentionCount, which every release that frees the
// resource bumps. Which resources a thread holds shared, and how often, is kept per thread (the
// WDK's owner table): a thread that already holds it shared gets it again at once. IRQL, critical
// regions and rules are the API layer's.
#pragma once

#include <cstdint>

#include "ndislock/wdk_dispatcher.h"

namespace ndislock::lock {

void resource_init(PERESOURCE r) noexcept;
// Exclusive: at once if free or owned exclusively by owner (recursion), else waits
// (WaitKind::Resource) if wait, else false.
bool resource_acquire_exclusive(PERESOURCE r, std::uintptr_t owner, bool wait) noexcept;
// Shared: at once if owner owns it (either way), or if nobody owns it exclusively and nobody waits
// for it exclusively; else waits if wait, else false.
bool resource_acquire_shared(PERESOURCE r, std::uintptr_t owner, bool wait) noexcept;
// Releases one acquisition by owner; false if owner holds none.
bool resource_release(PERESOURCE r, std::uintptr_t owner) noexcept;
// The exclusive owner's tag, or 0.
std::uintptr_t resource_exclusive_owner(PERESOURCE r) noexcept;
// How many times owner holds it exclusively / shared.
unsigned resource_held_exclusive(PERESOURCE r, std::uintptr_t owner) noexcept;
unsigned resource_held_shared(PERESOURCE r) noexcept;
// Whether it is owned at all.
bool resource_busy(PERESOURCE r) noexcept;

} // namespace ndislock::lock
