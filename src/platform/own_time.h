// Own time: how long this thread itself ran between two points, cheaply.
//
// A spin-lock hold on Windows runs at DISPATCH_LEVEL and is never descheduled, so its budget
// (25 us) is about the holder's own running time. Here the OS may deschedule a holder at any
// instant. CLOCK_THREAD_CPUTIME_ID would answer, but costs 0.6-2.5 us a read on virtual machines
// (a system call); a lock pair is ~10 ns. So:
//   - wall time comes from the TSC on x86-64 (~8 ns, rate calibrated once against
//     CLOCK_MONOTONIC_RAW: calibrate_ns_per_tick), else from CLOCK_MONOTONIC (vDSO, ~25 ns);
//   - a per-thread witness tells whether the thread was descheduled in between: the sequence
//     word of a perf task-clock event's mmap page, which the kernel bumps whenever it switches
//     the thread out or in (reading it is one load);
//   - a second witness counts the thread's page faults: a sampling perf event on them, whose ring
//     head moves at each one. A first touch of a page costs 9 us at the median and hundreds at
//     the 90th percentile on this project's 2-vCPU guest (the host backs the page too), and a
//     thread's first holds touch the verifier's tables and code for the first time: three such
//     holds in a row were a false LockHeldTooLong on a loaded machine. A Windows driver holding a
//     spin lock runs in resident memory and never pays for a fault, so that time is not its own;
//   - an interval with unchanged witnesses ran entirely on the CPU with no page fault: its own
//     time is its wall time. An interval whose witness moved is reported as descheduled; its own
//     time is unknown and never charged against a budget (the long-hold sentinel, which reads the
//     holder's CPU clock, still sees a hold that lasts). Under ThreadSanitizer, whose runtime
//     touches new pages of its trace all the time, faults are not watched.
// Where perf events are not available (seccomp, perf_event_paranoid, no kernel support), the
// thread CPU clock is read at both ends instead: slower, exact, "descheduled" only across a switch
// of fiber. An interval of a fiber (platform/fiber.h) that spans a switch to another fiber on the
// same thread is reported as descheduled too (platform/clock.h, tls_fiber_switches).
#pragma once

#include <cstdint>

namespace ndislock::platform {

struct OwnTimeStamp {
    std::uint64_t ns; // wall ticks (TSC on x86-64, else ns), or CPU ns when exact_clock, or virtual ns
    std::uint32_t witness;
    bool exact_clock;  // ns is thread CPU time (fallback), not wall time
    bool virtual_time; // taken in an exploration's schedule: ns is the context's virtual own time
};

inline constexpr std::uint64_t kDescheduled = ~std::uint64_t{0};

// In an exploration's schedule (platform/clock.h, tls_virtual_clock) own time is virtual, so that
// budgets never depend on the machine's speed (docs/explore.md, "Virtual time"): a context's own
// time moves kVirtualStepOwnNs at each of its scheduling points (a call into ndislock) and by
// the length of each stall (KeStallExecutionProcessor, NdisStallExecution), and at nothing else.
// Such an interval is exact: never descheduled, the same in every replay.
inline constexpr std::uint64_t kVirtualStepOwnNs = 20;

OwnTimeStamp own_time_now() noexcept;
// Own time since start, or kDescheduled.
std::uint64_t own_time_since(const OwnTimeStamp &start) noexcept;
// In a schedule: the calling context ran ns of its own (a step, a stall). Nothing outside one.
void own_time_charge_virtual(std::uint64_t ns) noexcept;
// In a schedule: the context stalls for ns: its own time and the schedule's clock move by ns at
// once, and no real time passes (true). Outside one, false: the caller stalls for real.
bool own_time_stall_virtual(std::uint64_t ns) noexcept;
// Releases the calling thread's witness (call as the thread ends).
void own_time_thread_exit() noexcept;
// Makes threads that have not measured yet use the thread CPU clock (the fallback; for tests).
void own_time_disable_witness() noexcept;

// The rate of a tick counter in ns per tick, measured against a ns clock over span_ns. Each end
// is the tightest of 8 paired readings (the clock read between two counter reads), so whatever
// comes between a counter read and a clock read (an interrupt, a preemption: 1 us of it is 0.1%
// of a 1 ms span) does not skew it. The TSC's rate is this over 1 ms against
// CLOCK_MONOTONIC_RAW; the clocks are parameters so that tests can give it clocks that stall.
double calibrate_ns_per_tick(std::uint64_t (*ticks)(), std::uint64_t (*ns)(), std::uint64_t span_ns) noexcept;

} // namespace ndislock::platform
