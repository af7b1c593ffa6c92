// The interrupt counters' time distributions (delivery latency, DPC latency, ISR and DPC run
// times): the library's one histogram (platform/histogram.h), updated from ISRs, summarized for
// NDISLOCK_INTERRUPT_STATS.
#pragma once

#include "ndislock/device.h"
#include "platform/histogram.h"

namespace ndislock::interrupt {

using LatencyHistogram = platform::Histogram<>;

inline NDISLOCK_LATENCY summarize(const LatencyHistogram &h) noexcept {
    NDISLOCK_LATENCY out{};
    out.Count = h.count();
    out.MaxNs = h.max_ns();
    out.P50Ns = h.percentile(0.50);
    out.P99Ns = h.percentile(0.99);
    return out;
}

} // namespace ndislock::interrupt
