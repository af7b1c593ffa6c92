// Per-class hold-time histograms for the verifier (platform/histogram.h, read out by powers of
// two for NDISLOCK_CLASS_HOLD_TIMES): every timed release adds one sample; holds the OS
// descheduled are counted apart.
#pragma once

#include <cstdint>

#include "ndislock/verifier_stats.h"

namespace ndislock::verifier {

// Records a hold of ns (or platform::kDescheduled) in its class's histogram, and returns whether
// it is a LockHeldTooLong finding (below). One call per release.
bool record_hold(std::uint32_t lock_class, std::uint64_t ns_or_descheduled, std::uint64_t budget_ns) noexcept;

// When a timed hold of ns (wall time during which the holder was never descheduled, waited, or
// made a system call) is a LockHeldTooLong finding, record_hold's answer. Wall time still includes interrupt,
// softirq and host (steal) time spent on the holder's CPU: IPIs and VM exits from other threads'
// futex wakes, scheduler and RCU softirqs, the hypervisor running another guest. On a loaded
// 2-vCPU guest that puts 30-100 us into about 1 hold in 10^4, and without a PMU nothing cheaper
// than a system call tells that time apart. A genuinely long critical section overruns every
// time; that noise does not strike kOverrunsToReport holds of a class in a row. So an overrun is
// reported when it completes such a streak; an in-budget hold ends the streak.
inline constexpr std::uint8_t kOverrunsToReport = 3;
// The same rule for driver callbacks (IsrTooLong, DpcTooLong), per routine: a run of ns of the
// routine's own time (platform::kDescheduled: not timed) over budget_ns completes a streak of
// kOverrunsToReport runs of that routine in a row. The noise is the same as for holds, and worse
// for an ISR, which runs on a thread that has just been woken: the first microseconds after a
// wake-up (cache and TLB misses, a host interrupt landing on the vCPU) are charged to the routine.
// A routine that really is too long overruns on every run; the noise does not strike three runs
// in a row. An untimed run (the thread was descheduled, waited, made a wake-up system call or
// wrote a report) neither counts nor ends the streak; an in-budget run ends it.
bool confirm_callback_overrun(const void *routine, std::uint64_t ns, std::uint64_t budget_ns) noexcept;

unsigned copy_class_hold_times(NDISLOCK_CLASS_HOLD_TIMES *out, unsigned max) noexcept;

} // namespace ndislock::verifier
