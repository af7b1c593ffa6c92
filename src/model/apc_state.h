// A thread's APC state: how deep it is in critical regions (KeEnterCriticalRegion: normal kernel
// APCs and user APCs off) and guarded regions (KeEnterGuardedRegion: all APCs off). ndislock
// delivers no APCs; the counts are what KeAreApcsDisabled and KeAreAllApcsDisabled answer from,
// and what a wait that must not be interrupted by an APC (a mutex, a resource) may enter.
//
// Each thread's own, touched only by that thread (never from a signal handler): plain
// thread-locals, kept apart from ThreadState so that other per-thread regions can be added
// without touching the model's core.
#pragma once

#include <cstdint>

namespace ndislock::model {

struct ApcState {
    std::uint32_t critical = 0; // open KeEnterCriticalRegion calls
    std::uint32_t guarded = 0;  // open KeEnterGuardedRegion calls
};

// The calling thread's APC state.
ApcState &this_thread_apc_state() noexcept;

} // namespace ndislock::model
