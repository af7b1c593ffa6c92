// A thread's system affinity (KeSetSystemAffinityThreadEx and friends) mapped onto the model's
// processor binding: a system affinity runs the thread on one virtual processor of its mask (the
// one it is on, if the mask has it; else the lowest), and reverting restores the binding the
// thread had before its first system affinity.
//
// Below DISPATCH_LEVEL the move is made at once (the call returns on the new processor); at
// DISPATCH_LEVEL and above it is deferred to the thread's drop below DISPATCH_LEVEL
// (model::defer_move), as Windows defers it. Interrupt and DPC threads never move.
#pragma once

#include "model/thread_state.h"
#include "ndislock/wdk_types.h"

namespace ndislock::model {

// Sets the calling thread's system affinity to mask, if mask is valid (non-zero, only processors
// that exist); returns the previous system affinity, 0 if there was none (the thread ran with its
// own binding). An invalid mask changes nothing.
KAFFINITY set_system_affinity(ThreadState &t, KAFFINITY mask) noexcept;

// Reverts: mask 0 restores the binding saved by the first set_system_affinity; a non-zero (valid)
// mask becomes the system affinity. Nothing happens unless a set_system_affinity came first.
void revert_system_affinity(ThreadState &t, KAFFINITY mask) noexcept;

// The calling thread's system affinity now, 0 if it runs with its own binding.
KAFFINITY system_affinity(const ThreadState &t) noexcept;

} // namespace ndislock::model
