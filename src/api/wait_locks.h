// What the sleeping locks' calls tell the observers (observe::WaitLockEvent): a mutex, fast mutex
// or executive resource initialized, wanted, taken, released; a KeWaitFor* wait's start and end.
// One branch when nobody observes.
#pragma once

#include "api/spin_lock_ops.h"
#include "ndislock/wdk_dispatcher.h"
#include "observe/hooks.h"
#include "observe/lock_names.h"

namespace ndislock::api {

inline void tell_wait_lock(const void *object, observe::WaitLockKind kind, observe::WaitLockPhase phase,
                           const char *call, const Site &site, ThreadState &t, bool may_block = false) noexcept {
    if (phase == observe::WaitLockPhase::Initialized) observe::lock_initializing(object); // a new lock's name
    if (__builtin_expect(observe::active(), 0))
        observe::notify_wait_lock(observe::WaitLockEvent{object, kind, phase, may_block, call, site, &t});
}

// A dispatcher object as a lock: a KMUTEX is one; anything else is only waited for.
inline observe::WaitLockKind wait_lock_kind(const DISPATCHER_HEADER *h) noexcept {
    return h->Type == MutantObject ? observe::WaitLockKind::Mutex : observe::WaitLockKind::Object;
}

} // namespace ndislock::api
