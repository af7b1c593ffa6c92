// bench/machine.h: the benchmark's clock, its unit of work and the machine it runs on (part of
// ndislock_bench.cpp, which alone includes it).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <x86intrin.h>

#include <benchmark/benchmark.h>

namespace ndislock_bench {

inline double g_tsc_per_ns = 1.0;
inline double g_work_iters_per_ns = 1.0;
// Wall time of each timed run (S1-S3); NDISLOCK_BENCH_RUN_MS overrides it.
inline std::chrono::milliseconds kTimedRun{200};

inline std::uint64_t ticks() noexcept { return __rdtsc(); }

// Work that touches no shared memory: a dependent chain of multiply-adds.
[[gnu::noinline]] inline std::uint64_t spin_work(std::uint64_t iterations, std::uint64_t seed) noexcept {
    for (std::uint64_t i = 0; i < iterations; ++i) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        asm volatile("" : "+r"(seed));
    }
    return seed;
}
inline std::uint64_t work_iterations(double ns) { return static_cast<std::uint64_t>(ns * g_work_iters_per_ns + 0.5); }

inline void calibrate() {
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    const std::uint64_t c0 = ticks();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::uint64_t c1 = ticks();
    auto t1 = clock::now();
    g_tsc_per_ns = double(c1 - c0) / double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    double best = 0;
    for (int r = 0; r < 5; ++r) {
        constexpr std::uint64_t n = 2'000'000;
        t0 = clock::now();
        benchmark::DoNotOptimize(spin_work(n, 1));
        t1 = clock::now();
        best =
            std::max(best, double(n) / double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    }
    g_work_iters_per_ns = best;
}

inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

inline long rss_kib() {
    std::ifstream in("/proc/self/statm");
    long size = 0, resident = 0;
    in >> size >> resident;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

inline unsigned cores() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

} // namespace ndislock_bench
