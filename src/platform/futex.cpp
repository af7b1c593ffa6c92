#include "platform/futex.h"

#include <cerrno>
#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ndislock::platform {

bool futex_wait(const void *addr, std::uint32_t expected, std::uint64_t timeout_ns) noexcept {
    timespec ts{static_cast<time_t>(timeout_ns / 1000000000u), static_cast<long>(timeout_ns % 1000000000u)};
    const int saved = errno; // may run in a signal handler's interrupted context: keep errno intact
    const long rc = syscall(SYS_futex, addr, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, expected, &ts, nullptr, 0);
    const bool timed_out = rc == -1 && errno == ETIMEDOUT;
    errno = saved;
    return !timed_out;
}

void futex_wake(const void *addr, int count) noexcept {
    const int saved = errno;
    syscall(SYS_futex, addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, nullptr, nullptr, 0);
    errno = saved;
}

} // namespace ndislock::platform
