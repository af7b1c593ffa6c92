#include "platform/clock.h"
#include "platform/context_local.h"

#include <ctime>
#include <sys/resource.h>

namespace ndislock::platform {

static std::uint64_t read_clock(clockid_t id) noexcept {
    timespec ts{};
    clock_gettime(id, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::atomic<VirtualClock> g_virtual_clock{nullptr};
std::atomic<VirtualAdvance> g_virtual_advance{nullptr};
constinit thread_local bool tls_virtual_clock __attribute__((tls_model("initial-exec"))) = false;
constinit thread_local std::uint32_t tls_fiber_switches __attribute__((tls_model("initial-exec"))) = 0;
NDISLOCK_CONTEXT_LOCAL(tls_virtual_clock); // follows the context (platform/context_local.h)

std::uint64_t monotonic_ns() noexcept {
    if (__builtin_expect(tls_virtual_clock, 0))
        if (const VirtualClock clock = g_virtual_clock.load(std::memory_order_acquire)) return clock();
    return read_clock(CLOCK_MONOTONIC);
}
std::uint64_t realtime_ns() noexcept { return read_clock(CLOCK_REALTIME); }
std::uint64_t monotonic_raw_ns() noexcept { return read_clock(CLOCK_MONOTONIC_RAW); }
std::uint64_t thread_cpu_ns() noexcept { return read_clock(CLOCK_THREAD_CPUTIME_ID); }

// The kernel's per-thread CPU clock id, as pthread_getcpuclockid builds it from a thread id
// (CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED): the sentinel knows threads by kernel id only.
std::uint64_t thread_cpu_ns_of(int os_tid) noexcept {
    const clockid_t id = static_cast<clockid_t>((~static_cast<unsigned>(os_tid) << 3) | 6u);
    timespec ts{};
    if (clock_gettime(id, &ts) != 0) return 0;
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void thread_switches(std::uint64_t *voluntary, std::uint64_t *involuntary) noexcept {
    rusage usage{};
    if (getrusage(RUSAGE_THREAD, &usage) != 0) usage = rusage{};
    *voluntary = static_cast<std::uint64_t>(usage.ru_nvcsw) + tls_fiber_switches;
    *involuntary = static_cast<std::uint64_t>(usage.ru_nivcsw);
}

} // namespace ndislock::platform
