// The library's one histogram (platform/histogram.h): bucket edges, percentiles within 1/16,
// the powers-of-two view of the C API, both ways of recording, and reset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

#include "platform/histogram.h"

using namespace ndislock::platform;

TEST(Histogram, BucketsAreMonotonicAndBoundTheirValuesWithinOneSixteenth) {
    unsigned previous = 0;
    for (std::uint64_t v = 0; v < (std::uint64_t{1} << 44); v = v < 64 ? v + 1 : v + v / 7) {
        const unsigned b = histogram_bucket(v);
        EXPECT_GE(b, previous);
        previous = b;
        EXPECT_LE(histogram_bucket_lower(b), v) << v;
        EXPECT_GE(histogram_bucket_upper(b), v) << v;
        EXPECT_LE(histogram_bucket_upper(b) - v, std::max<std::uint64_t>(v / 16, 1)) << v;
    }
}

TEST(Histogram, BucketsTileTheRangeWithoutGapsOrOverlaps) {
    for (unsigned b = 1; b < kHistogramBuckets; ++b)
        EXPECT_EQ(histogram_bucket_lower(b), histogram_bucket_upper(b - 1) + 1) << "bucket " << b;
    // Beyond 2^45 ns everything lands in the last bucket.
    EXPECT_EQ(histogram_bucket(std::uint64_t{1} << 50), kHistogramBuckets - 1);
}

TEST(Histogram, PercentilesAreWithinOneSixteenthAndNeverAboveTheMax) {
    Histogram<> h;
    for (std::uint64_t v = 1; v <= 1000; ++v)
        h.record(v * 1000); // 1 us .. 1 ms
    EXPECT_EQ(h.count(), 1000u);
    EXPECT_EQ(h.max_ns(), 1'000'000u);
    const std::uint64_t p50 = h.percentile(0.50), p99 = h.percentile(0.99);
    EXPECT_GE(p50, 500'000u);
    EXPECT_LE(p50, 500'000u + 500'000u / 16);
    EXPECT_GE(p99, 990'000u);
    EXPECT_LE(p99, 1'000'000u); // capped at the largest value recorded
    EXPECT_EQ(h.percentile(1.0), 1'000'000u);
    Histogram<> empty;
    EXPECT_EQ(empty.percentile(0.5), 0u);
}

TEST(Histogram, PowersOfTwoViewSumsEachPowersBuckets) {
    Histogram<std::uint32_t> h;
    h.record_by_holder(0);                      // power 0
    h.record_by_holder(1);                      // power 0
    h.record_by_holder(3);                      // power 1: [2, 4)
    h.record_by_holder(1000);                   // power 9: [512, 1024)
    h.record_by_holder(1023);                   // power 9
    h.record_by_holder(25'000);                 // power 14
    h.record_by_holder(std::uint64_t{1} << 42); // beyond the view below: its last power
    std::uint64_t powers[40];
    h.copy_powers(powers, 40);
    EXPECT_EQ(powers[0], 2u);
    EXPECT_EQ(powers[1], 1u);
    EXPECT_EQ(powers[9], 2u);
    EXPECT_EQ(powers[14], 1u);
    EXPECT_EQ(powers[39], 1u);
    std::uint64_t sum = 0;
    for (std::uint64_t p : powers)
        sum += p;
    EXPECT_EQ(sum, h.count());
    EXPECT_EQ(h.max_ns(), std::uint64_t{1} << 42);
}

TEST(Histogram, ConcurrentRecordsAreAllCounted) {
    Histogram<> h;
    constexpr int kPerThread = 20'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) // 4 threads on 2 cores: interleaved by preemption too
        threads.emplace_back([&h, t] {
            for (int i = 0; i < kPerThread; ++i)
                h.record(static_cast<std::uint64_t>(t * 100 + i % 100));
        });
    for (auto &t : threads)
        t.join();
    EXPECT_EQ(h.count(), 4u * kPerThread);
    std::uint64_t all[kHistogramBuckets];
    h.copy(all);
    std::uint64_t sum = 0;
    for (std::uint64_t c : all)
        sum += c;
    EXPECT_EQ(sum, 4u * kPerThread);
    EXPECT_EQ(h.max_ns(), 399u);
}

TEST(Histogram, ResetEmptiesIt) {
    Histogram<> h;
    h.record(5);
    h.record(5'000);
    h.reset();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.max_ns(), 0u);
    EXPECT_EQ(h.bucket(histogram_bucket(5)), 0u);
    EXPECT_EQ(h.percentile(0.99), 0u);
}
