// Clocks. monotonic_ns: wall time, for wait limits. monotonic_raw_ns: wall time not slewed by
// NTP, to calibrate the TSC against. thread_cpu_ns: this thread's own CPU time,
// for hold times (a holder the OS descheduled did not hold the lock "for" that time in the sense
// the NDIS 25 us budget means: a Windows holder at DISPATCH_LEVEL is never descheduled).
#pragma once

#include <atomic>
#include <cstdint>

namespace ndislock::platform {

std::uint64_t monotonic_ns() noexcept;
// Virtual time (an exploration's schedule, docs/explore.md "Virtual time"): monotonic_ns on a
// thread whose tls_virtual_clock is set returns g_virtual_clock() instead of the OS clock, so the
// budgets, the watchdog's durations and the timeouts the scheduler's threads read depend on the
// schedule's choices, never on the machine's speed. Both set by the explorer for its threads.
using VirtualClock = std::uint64_t (*)() noexcept;
extern std::atomic<VirtualClock> g_virtual_clock;
// Moves the schedule's clock forward by ns (a stall's length: own_time.h). Set with g_virtual_clock.
using VirtualAdvance = void (*)(std::uint64_t ns) noexcept;
extern std::atomic<VirtualAdvance> g_virtual_advance;
// initial-exec, as the library's other thread-locals: a plain load, no __tls_get_addr call in the
// shared library, on every clock read.
extern constinit thread_local bool tls_virtual_clock __attribute__((tls_model("initial-exec")));
// Wall-clock time (CLOCK_REALTIME) in ns since 1970: what the WDK's system time is counted from,
// once shifted to 1601 (interrupt/timers.h).
std::uint64_t realtime_ns() noexcept;
std::uint64_t monotonic_raw_ns() noexcept;
std::uint64_t thread_cpu_ns() noexcept;
// Another thread's CPU time, by its kernel thread id (0 if it cannot be read: the thread ended).
std::uint64_t thread_cpu_ns_of(int os_tid) noexcept;
// This thread's context switches so far: voluntary (it blocked: slept, waited; or a fiber on it
// was switched out, below) and involuntary (the OS preempted it). A system call,
// async-signal-safe in practice (getrusage reads the task's counters); both 0 if it fails.
void thread_switches(std::uint64_t *voluntary, std::uint64_t *involuntary) noexcept;
// Switches between fibers on this OS thread so far (platform/fiber.h counts them). The thread's
// CPU clock runs on through a switch, for whichever fiber runs: an interval of a fiber's that
// spans one is not its own running time (own_time.h reports it as descheduled, and
// thread_switches counts it as the fiber blocking). Per OS thread, not per fiber.
extern constinit thread_local std::uint32_t tls_fiber_switches __attribute__((tls_model("initial-exec")));

} // namespace ndislock::platform
