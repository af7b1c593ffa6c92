// One histogram of durations for every distribution ndislock keeps: lock hold times (statistics
// and the verifier's per-class table), interrupt delivery latency, ISR and DPC run times.
//
// Log-linear buckets: values under 16 ns each have their own, then 16 buckets per power of two up
// to 2^44 ns (about 4.9 hours; longer values land in the last bucket). A value read back (a
// bucket's upper bound) is within 1/16 of the value recorded, and the powers-of-two view the C
// API's NDISLOCK_CLASS_HOLD_TIMES and the HTML report use is the sum of each power's 16 buckets.
//
// Counters are relaxed atomics and nothing allocates, so recording is async-signal-safe (an ISR's
// latency is recorded in an emulated interrupt). Two ways to record:
//   - record(): any number of concurrent writers, one atomic add per counter;
//   - record_by_holder(): writers already serialized (the holder of the lock being timed), a load
//     and a store per counter, which costs a release no read-modify-write. A rare racing writer
//     (two locks sharing one entry) may lose a count.
#pragma once

#include <atomic>
#include <cstdint>

namespace ndislock::platform {

inline constexpr unsigned kHistogramSubBits = 4;      // 16 buckets per power of two
inline constexpr unsigned kHistogramMaxExponent = 44; // the last power with buckets of its own
inline constexpr unsigned kHistogramBuckets = (kHistogramMaxExponent - kHistogramSubBits + 2) << kHistogramSubBits;

// The bucket of a value.
constexpr unsigned histogram_bucket(std::uint64_t ns) noexcept {
    if (ns < (1u << kHistogramSubBits)) return static_cast<unsigned>(ns);
    unsigned exponent = 63u - static_cast<unsigned>(__builtin_clzll(ns)); // >= kHistogramSubBits
    if (exponent > kHistogramMaxExponent) return kHistogramBuckets - 1;
    const auto sub = static_cast<unsigned>((ns >> (exponent - kHistogramSubBits)) & ((1u << kHistogramSubBits) - 1));
    return ((exponent - kHistogramSubBits + 1) << kHistogramSubBits) + sub;
}

// The smallest and the largest value a bucket holds (the last bucket also holds everything above).
constexpr std::uint64_t histogram_bucket_lower(unsigned bucket) noexcept {
    if (bucket < (1u << kHistogramSubBits)) return bucket;
    const unsigned exponent = (bucket >> kHistogramSubBits) + kHistogramSubBits - 1;
    const std::uint64_t sub = bucket & ((1u << kHistogramSubBits) - 1);
    return (std::uint64_t{1} << exponent) + (sub << (exponent - kHistogramSubBits));
}
constexpr std::uint64_t histogram_bucket_upper(unsigned bucket) noexcept {
    if (bucket < (1u << kHistogramSubBits)) return bucket;
    const unsigned exponent = (bucket >> kHistogramSubBits) + kHistogramSubBits - 1;
    return histogram_bucket_lower(bucket) + (std::uint64_t{1} << (exponent - kHistogramSubBits)) - 1;
}

// The power of two a bucket lies in: k for values in [2^k, 2^(k+1)), 0 for 0 and 1.
constexpr unsigned histogram_bucket_power(unsigned bucket) noexcept {
    const std::uint64_t lower = histogram_bucket_lower(bucket);
    return lower <= 1 ? 0 : 63u - static_cast<unsigned>(__builtin_clzll(lower));
}

static_assert(histogram_bucket(15) == 15 && histogram_bucket(16) == 16 && histogram_bucket(17) == 17);
static_assert(histogram_bucket_upper(histogram_bucket(1000)) >= 1000 &&
              histogram_bucket_lower(histogram_bucket(1000)) <= 1000);
static_assert(histogram_bucket(~std::uint64_t{0}) == kHistogramBuckets - 1);
static_assert(histogram_bucket_power(histogram_bucket(25'000)) == 14); // 2^14 <= 25 us < 2^15

// Count: the counter width (std::uint32_t for tables of many histograms).
template <typename Count = std::uint64_t> class Histogram {
public:
    void record(std::uint64_t ns) noexcept {
        buckets_[histogram_bucket(ns)].fetch_add(1, std::memory_order_relaxed);
        count_.fetch_add(1, std::memory_order_relaxed);
        raise_max(ns);
    }
    void record_by_holder(std::uint64_t ns) noexcept {
        bump(buckets_[histogram_bucket(ns)]);
        bump(count_);
        if (ns > max_.load(std::memory_order_relaxed)) max_.store(ns, std::memory_order_relaxed);
    }

    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
    std::uint64_t max_ns() const noexcept { return max_.load(std::memory_order_relaxed); }
    std::uint64_t bucket(unsigned b) const noexcept { return buckets_[b].load(std::memory_order_relaxed); }

    // The q-quantile (0 < q <= 1) by nearest rank: the upper bound of the bucket holding the
    // rank-th smallest value, never above the largest value recorded; 0 when empty.
    std::uint64_t percentile(double q) const noexcept {
        const std::uint64_t total = count();
        if (total == 0) return 0;
        const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
        const std::uint64_t max = max_ns();
        std::uint64_t seen = 0;
        for (unsigned b = 0; b < kHistogramBuckets; ++b) {
            seen += bucket(b);
            if (seen >= rank) return histogram_bucket_upper(b) < max ? histogram_bucket_upper(b) : max;
        }
        return max;
    }

    // out[kHistogramBuckets]: every bucket's count.
    void copy(std::uint64_t *out) const noexcept {
        for (unsigned b = 0; b < kHistogramBuckets; ++b)
            out[b] = bucket(b);
    }
    // out[powers]: counts by power of two (histogram_bucket_power), the last power also counting
    // everything above it.
    void copy_powers(std::uint64_t *out, unsigned powers) const noexcept {
        for (unsigned p = 0; p < powers; ++p)
            out[p] = 0;
        if (powers == 0 || count() == 0) return;
        for (unsigned b = 0; b < kHistogramBuckets; ++b) {
            const unsigned p = histogram_bucket_power(b);
            out[p < powers ? p : powers - 1] += bucket(b);
        }
    }

    void reset() noexcept {
        for (auto &b : buckets_)
            b.store(0, std::memory_order_relaxed);
        count_.store(0, std::memory_order_relaxed);
        max_.store(0, std::memory_order_relaxed);
    }

private:
    template <typename T> static void bump(std::atomic<T> &counter) noexcept {
        counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    void raise_max(std::uint64_t ns) noexcept {
        std::uint64_t max = max_.load(std::memory_order_relaxed);
        while (ns > max && !max_.compare_exchange_weak(max, ns, std::memory_order_relaxed)) {
        }
    }

    std::atomic<Count> buckets_[kHistogramBuckets] = {};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> max_{0};
};

} // namespace ndislock::platform
