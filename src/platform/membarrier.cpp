#include "platform/membarrier.h"

#include <cerrno>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ndislock::platform {

#if !NDISLOCK_TSAN
bool g_asymmetric_fences = false;

namespace {
long membarrier(int cmd) noexcept { return syscall(SYS_membarrier, cmd, 0u, 0); }

// Before main() and before any thread of the program exists, so every reader sees the final
// value. Registration is what lets PRIVATE_EXPEDITED be used later without a failure path.
[[gnu::constructor(101)]] void register_membarrier() noexcept {
    const long supported = membarrier(MEMBARRIER_CMD_QUERY);
    if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    g_asymmetric_fences = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}
} // namespace

void heavy_fence() noexcept {
    if (asymmetric()) {
        // Cannot fail once registered; a seq_cst fence keeps the local ordering in any case.
        const int saved = errno;
        std::atomic_thread_fence(std::memory_order_seq_cst);
        membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        errno = saved;
    } else {
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
}
#else
void heavy_fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }
#endif

} // namespace ndislock::platform
