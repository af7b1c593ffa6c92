// Asymmetric fences: a free fence on the hot side, a heavy one on the rare side.
//
// A store-buffer handshake (Dekker: "I store my flag, then read yours") needs a full fence on
// both sides. When one side runs millions of times (a lock release, a processor re-entry) and the
// other rarely (a thread about to sleep, a thread revoking a processor's bias), the hot side can
// use light_fence(), a compiler barrier only, provided the rare side uses heavy_fence():
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) makes every other running thread of the process
// execute a full barrier before it returns (threads not running passed one when switched out).
// So after heavy_fence() either the hot side's store is visible, or its later load will see what
// the rare side stored before heavy_fence(). This is Linux's sys_membarrier pattern (userspace RCU,
// .NET's FlushProcessWriteBuffers).
//
// asymmetric() is fixed before main() and never changes. It is false, and both fences are
// seq_cst fences, when the kernel lacks membarrier (before 4.14) or refuses the registration, and
// under ThreadSanitizer, which does not model membarrier: the TSan build checks the plain seq_cst
// protocol, which is the same handshake with the fence on both sides.
#pragma once

#include <atomic>

#include "ndislock/export.h"

#include "platform/sanitizer.h"

namespace ndislock::platform {

#if NDISLOCK_TSAN
inline constexpr bool asymmetric() noexcept { return false; }
#else
// Set once by a static constructor, read-only afterwards. Exported as ndislock_fast_asymmetric:
// the inline releases of ndislock/fast_path.h pair a compiler barrier with the sleeper's
// heavy_fence only when it is set.
extern bool g_asymmetric_fences __asm__("ndislock_fast_asymmetric") NDISLOCK_API;
inline bool asymmetric() noexcept { return g_asymmetric_fences; }
#endif

// The hot side's fence: orders this thread's earlier stores before its later loads against a
// heavy_fence() on another thread. A compiler barrier when asymmetric(), else a full fence.
inline void light_fence() noexcept {
    if (asymmetric())
        std::atomic_signal_fence(std::memory_order_seq_cst);
    else
        std::atomic_thread_fence(std::memory_order_seq_cst);
}

// The rare side's fence: a full barrier on every running thread of the process (a system call,
// a few microseconds), or a seq_cst fence when !asymmetric().
void heavy_fence() noexcept;

} // namespace ndislock::platform
