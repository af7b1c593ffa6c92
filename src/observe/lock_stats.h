// Per-lock statistics (ndislock/ext.h, NdislockStats*): an observer that counts acquisitions and
// waits and keeps a histogram of hold times per lock (platform/histogram.h: a percentile is within
// 1/16 of the true value). Hold time is the holder's own running time
// (platform/own_time.h); holds during which the OS descheduled the holder are counted apart.
#pragma once

#include <cstdint>

#include "ndislock/ext.h"

namespace ndislock::observe::stats {

void enable(bool on, std::uint64_t budget_ns) noexcept;
unsigned collect(NDISLOCK_LOCK_STATS *out, unsigned max) noexcept;
void reset() noexcept;

// A tracked lock's hold-time histogram (platform::kHistogramBuckets counts) and its index in the table (the
// entry samples:: keys its time buckets by); -1 if the lock is not tracked. For the report.
int histogram(const void *lock, std::uint64_t *out) noexcept;

} // namespace ndislock::observe::stats
