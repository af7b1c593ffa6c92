// What the HTML report (verifier/report.h, NDISLOCK_REPORT) needs beyond the lock statistics:
// each tracked lock's acquisitions and contended acquisitions per time bucket (contention over
// time), and the run times of ISRs and DPCs as histograms.
//
// Fed by the lock statistics observer (lock_stats.cpp) and only while sampling is on, which the
// report turns on with the statistics. Everything is fixed-size and allocation-free on the lock
// path and in ISRs (async-signal-safe: relaxed atomics only). The per-lock time buckets form a
// ring of kTimeBuckets per lock: a long run keeps its last kTimeBuckets buckets.
#pragma once

#include <cstdint>

#include "observe/hooks.h"

namespace ndislock::observe::samples {

inline constexpr unsigned kTimeBuckets = 120;
inline constexpr std::uint64_t kDefaultBucketNs = 50'000'000; // 50 ms: the last 6 s

// Starts sampling now with buckets of bucket_ns (0: the default), forgetting earlier samples.
// Allocates the table the first time (so call it at PASSIVE_LEVEL); false if that failed.
bool start(std::uint64_t bucket_ns) noexcept;
void stop() noexcept;
bool on() noexcept;

// From the statistics observer. entry is the lock's index in the statistics table (below
// NDISLOCK_STATS_MAX_LOCKS); the lock's holder is the only writer of its entry (as there).
void lock_acquired(unsigned entry, bool contended) noexcept;
void routine_ran(Callback kind, std::uint64_t own_ns) noexcept;
// The statistics table forgot its locks (NdislockStatsReset): their time buckets go too.
void forget_locks() noexcept;

struct TimeBucket {
    std::uint32_t acquisitions;
    std::uint32_t contended;
};
struct Timeline {
    std::uint64_t bucket_ns = 0;
    std::uint64_t first_bucket = 0; // the absolute index of out[0] (buckets since start)
    unsigned buckets = 0;           // how many of out[] are filled (up to kTimeBuckets)
};
// The last buckets of entry up to now, oldest first; empty if sampling never started.
Timeline lock_timeline(unsigned entry, TimeBucket *out /* kTimeBuckets */) noexcept;

// The ISR (Callback::Isr) and DPC (InterruptDpc and KernelDpc together) run times, in the lock
// library's histogram buckets (platform/histogram.h); out has platform::kHistogramBuckets
// entries. Returns the count; *max_ns the longest.
enum class RoutineKind : std::uint8_t { Isr, Dpc };
std::uint64_t routine_histogram(RoutineKind kind, std::uint64_t *out, std::uint64_t *max_ns) noexcept;

} // namespace ndislock::observe::samples
