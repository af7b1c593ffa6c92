// Lock classes: the unit of the lock-order graph and of per-class hold-time histograms. A lock's
// class is its name (NdislockSetLockName; equal strings are one class) or else the place it was
// allocated (file and line, or the return address of a function-form caller). A fixed table of
// kMaxClasses; past that, new locks share one overflow class and the verifier says so once.
#pragma once

#include <cstdint>
#include <string>

#include "observe/hooks.h"

namespace ndislock::verifier {

inline constexpr std::uint32_t kMaxClasses = 4096;
inline constexpr std::uint32_t kOverflowClass = 0; // also "unknown"

// caller: where the function holding the allocation was called from (sites.h, caller_of_frame),
// or nullptr. Locks allocated at one line are one class, unless that line is in a helper of the
// driver's called from several places (MpInitLock(&Adapter->SendLock), MpInitLock(&Adapter->
// RecvLock)): each call site of the helper is a class of its own, as each would be had the
// driver called NdisAllocateSpinLock there. Locks a loop allocates through one call stay one class.
std::uint32_t class_for_site(const observe::Site &allocation, const void *caller = nullptr) noexcept;
// The class of a lock never seen allocated (adopted at its first use): named "first seen at".
std::uint32_t class_for_first_use(const observe::Site &use) noexcept;
std::uint32_t class_for_name(const char *name) noexcept;

// For reports: the class's name, or nullptr, and its allocation site (file may be nullptr).
const char *class_name(std::uint32_t id) noexcept;
const observe::Site &class_site(std::uint32_t id) noexcept;
// "name" or "file:line" or "0xADDR" into buffer.
const char *describe_class(std::uint32_t id, char *buffer, unsigned size) noexcept;
// The same, as a string (report writers).
std::string class_string(std::uint32_t id);

} // namespace ndislock::verifier
