// The lock pointer a call is given, checked before anything touches it: NULL ends the process with
// a report at the call (NullLockPointer; on Windows a bug check), and a KSPIN_LOCK that is not
// pointer-aligned is reported (LockMisaligned) and then used as given: on x86 its atomics work,
// slowly, as split locks; with split-lock detection, or on ARM64, Windows faults there.
#pragma once

#include <cstdint>

#include "ndislock/wdk_types.h"
#include "observe/hooks.h"

namespace ndislock::api {

[[gnu::cold, gnu::noinline]] void bad_lock_pointer(const void *lock, const char *call,
                                                   const observe::Site &site) noexcept;

// One test and one predictable branch: a NULL pointer's low bits are 0, so both cases are one
// compare of (address - 1) rounded (NULL wraps to all ones).
inline void check_lock_pointer(const void *lock, const char *call, const observe::Site &site) noexcept {
    const auto address = reinterpret_cast<std::uintptr_t>(lock);
    if (__builtin_expect((address & (alignof(KSPIN_LOCK) - 1)) != 0 || address == 0, 0))
        bad_lock_pointer(lock, call, site);
}

} // namespace ndislock::api
