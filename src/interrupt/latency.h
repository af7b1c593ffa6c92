// A latency histogram cheap enough to update from an ISR: log-linear buckets (8 per power of
// two, so a percentile is within 1/8 of the value), relaxed atomic counters, no allocation.
#pragma once

#include <atomic>
#include <cstdint>

#include "ndislock/device.h"

namespace ndislock::interrupt {

class LatencyHistogram {
public:
    static constexpr unsigned kSubBits = 3;
    static constexpr unsigned kBuckets = 64 << kSubBits;

    void record(std::uint64_t ns) noexcept {
        buckets_[index(ns)].fetch_add(1, std::memory_order_relaxed);
        count_.fetch_add(1, std::memory_order_relaxed);
        std::uint64_t max = max_.load(std::memory_order_relaxed);
        while (ns > max && !max_.compare_exchange_weak(max, ns, std::memory_order_relaxed)) {
        }
    }

    NDISLOCK_LATENCY summary() const noexcept {
        NDISLOCK_LATENCY out{};
        out.Count = count_.load(std::memory_order_relaxed);
        out.MaxNs = max_.load(std::memory_order_relaxed);
        out.P50Ns = percentile(out.Count, 50);
        out.P99Ns = percentile(out.Count, 99);
        if (out.P50Ns > out.MaxNs) out.P50Ns = out.MaxNs;
        if (out.P99Ns > out.MaxNs) out.P99Ns = out.MaxNs;
        return out;
    }

    void reset() noexcept {
        for (auto &b : buckets_) b.store(0, std::memory_order_relaxed);
        count_.store(0, std::memory_order_relaxed);
        max_.store(0, std::memory_order_relaxed);
    }

private:
    static unsigned index(std::uint64_t ns) noexcept {
        if (ns < (1u << kSubBits)) return static_cast<unsigned>(ns);
        const unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(ns));
        const unsigned sub = static_cast<unsigned>(ns >> (msb - kSubBits)) & ((1u << kSubBits) - 1);
        return ((msb - kSubBits + 1) << kSubBits) + sub;
    }
    // The upper bound of bucket i (what a percentile in it reports).
    static std::uint64_t upper(unsigned i) noexcept {
        if (i < (1u << kSubBits)) return i;
        const unsigned msb = (i >> kSubBits) + kSubBits - 1;
        const std::uint64_t sub = i & ((1u << kSubBits) - 1);
        return ((std::uint64_t{1} << kSubBits) + sub + 1) << (msb - kSubBits);
    }
    std::uint64_t percentile(std::uint64_t count, unsigned p) const noexcept {
        if (count == 0) return 0;
        const std::uint64_t rank = (count * p + 99) / 100; // the rank-th smallest value, 1-based
        std::uint64_t seen = 0;
        for (unsigned i = 0; i < kBuckets; ++i) {
            seen += buckets_[i].load(std::memory_order_relaxed);
            if (seen >= rank) return upper(i);
        }
        return max_.load(std::memory_order_relaxed);
    }

    std::atomic<std::uint64_t> buckets_[kBuckets] = {};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> max_{0};
};

} // namespace ndislock::interrupt
