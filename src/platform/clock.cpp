#include "platform/clock.h"

#include <ctime>

namespace ndislock::platform {

static std::uint64_t read_clock(clockid_t id) noexcept {
    timespec ts{};
    clock_gettime(id, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t monotonic_ns() noexcept { return read_clock(CLOCK_MONOTONIC); }
std::uint64_t monotonic_raw_ns() noexcept { return read_clock(CLOCK_MONOTONIC_RAW); }
std::uint64_t thread_cpu_ns() noexcept { return read_clock(CLOCK_THREAD_CPUTIME_ID); }

} // namespace ndislock::platform
