// Per-class hold-time histograms (powers of two, in ns) for the verifier: every timed release
// adds one sample; holds the OS descheduled are counted apart.
#pragma once

#include <cstdint>

#include "ndislock/verifier_stats.h"

namespace ndislock::verifier {

void record_hold_time(std::uint32_t lock_class, std::uint64_t ns_or_descheduled) noexcept;

// Whether a timed hold of ns (wall time during which the holder was never descheduled) is a
// LockHeldTooLong finding. Wall time still includes interrupt and softirq work the kernel ran on
// the holder's CPU (IPIs and VM exits from other threads' futex wakes, scheduler and RCU
// softirqs: holds of 30-100 us, about 1 in 10^4, on a loaded 2-vCPU guest), and without a PMU
// nothing cheaper than a system call can tell that time apart. A genuinely long critical section
// overruns every time; that noise does not strike two holds of a class in a row. So an overrun is
// reported when the class's previous timed hold overran too; an in-budget hold clears the streak.
bool confirm_overrun(std::uint32_t lock_class, std::uint64_t ns, std::uint64_t budget_ns) noexcept;
unsigned copy_class_hold_times(NDISLOCK_CLASS_HOLD_TIMES *out, unsigned max) noexcept;

} // namespace ndislock::verifier
