// The FAST_MUTEX algorithm (ndislock/wdk_dispatcher.h): Count is 1 while free, 0 while owned; a
// waiter parks on Count, and a release stores 1 and wakes one waiter. Owner holds the owner's tag
// (any non-null pointer the caller chooses). IRQL and rules are the API layer's.
#pragma once

#include "ndislock/wdk_dispatcher.h"

namespace ndislock::lock {

void fast_mutex_init(PFAST_MUTEX m) noexcept;
bool fast_mutex_try(PFAST_MUTEX m, void *owner) noexcept;
// Waits (WaitKind::FastMutex) until it takes the mutex.
void fast_mutex_acquire(PFAST_MUTEX m, void *owner) noexcept;
void fast_mutex_release(PFAST_MUTEX m) noexcept;
void *fast_mutex_owner(PFAST_MUTEX m) noexcept;

} // namespace ndislock::lock
