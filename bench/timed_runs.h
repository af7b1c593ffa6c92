// bench/timed_runs.h: the timed multi-thread runs (S1-S4): per-thread counts, the timed loop and
// the counters it reports (part of ndislock_bench.cpp, which alone includes it).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#include <benchmark/benchmark.h>

#include "contenders.h"
#include "handoff_probe.h"
#include "machine.h"
#include "state_counters.h"

namespace ndislock_bench {

// Timed multi-thread runs (S1-S4). Thread 0 sets up before the start barrier of the loop and
// summarizes after its end barrier; each thread runs for kTimedRun inside the single iteration.

constexpr int kMaxBenchThreads = 64;

struct alignas(64) PerThread {
    std::uint64_t ops = 0, handoffs = 0, wait_ticks = 0, max_wait_ticks = 0, cpu_ns = 0;
    std::uint64_t moves = 0;           // acquisitions that found the lock last held by another thread
    std::uint64_t cpu_moves = 0;       // critical sections run on another CPU than the one before
    std::uint64_t ops_on_cpu0 = 0;     // critical sections run on CPU 0: where the scheduler ran it
    long sleeps = 0, preemptions = 0;  // voluntary and involuntary context switches in the run
    std::uint64_t private_counter = 0; // the no_lock floor's "protected" data (no exclusion, no race)
};

struct Shared {
    PerThread threads[kMaxBenchThreads];
    alignas(64) std::uint64_t protected_counter = 0;
    int last_holder = -1; // on protected_counter's line, written only by the holder
    int last_cpu = -1;    // the CPU the last critical section ran on, likewise
    int turn = 0;
};

inline std::uint64_t thread_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

// The benchmark running now, for NDISLOCK_BENCH_PER_THREAD's lines (set by every thread of a run).
inline std::atomic<const char *> g_running{""};

inline rusage thread_rusage() {
    rusage r{};
    getrusage(RUSAGE_THREAD, &r);
    return r;
}

// Per-thread operations, fewest over most (S4).
inline double min_max_ops(const Shared &sh, int n) {
    std::uint64_t lo = ~0ull, hi = 0;
    for (int i = 0; i < n; ++i) {
        lo = std::min(lo, sh.threads[i].ops);
        hi = std::max(hi, sh.threads[i].ops);
    }
    return hi == 0 ? 0.0 : double(lo) / double(hi);
}

inline void summarize(benchmark::State &state, Shared &sh, bool handoff) {
    const int n = state.threads();
    std::uint64_t total = 0, waits = 0, max_wait = 0, cpu = 0, handoffs = 0;
    std::uint64_t moves = 0;
    double sum_sq = 0;
    static const bool per_thread = std::getenv("NDISLOCK_BENCH_PER_THREAD") != nullptr;
    for (int i = 0; i < n; ++i) {
        const PerThread &p = sh.threads[i];
        if (per_thread)
            std::fprintf(
                stderr,
                "%s thread %d of %d: ops %llu cpu_ms %.2f moves %llu cpu_moves %llu on_cpu0 %.2f max_wait_us %.0f "
                "sleeps %ld preemptions %ld\n",
                g_running.load(std::memory_order_relaxed), i, n, static_cast<unsigned long long>(p.ops),
                double(p.cpu_ns) / 1e6, static_cast<unsigned long long>(p.moves),
                static_cast<unsigned long long>(p.cpu_moves), p.ops == 0 ? 0.0 : double(p.ops_on_cpu0) / double(p.ops),
                double(p.max_wait_ticks) / g_tsc_per_ns / 1000.0, p.sleeps, p.preemptions);
        moves += p.moves;
        total += p.ops;
        sum_sq += double(p.ops) * double(p.ops);
        waits += p.wait_ticks;
        max_wait = std::max(max_wait, p.max_wait_ticks);
        cpu += p.cpu_ns;
        handoffs += p.handoffs;
    }
    const double seconds = std::chrono::duration<double>(kTimedRun).count();
    auto &c = state.counters;
    c["ops_per_s"] = double(total) / seconds;
    c["min_max"] = min_max_ops(sh, n);
    c["jain"] = sum_sq == 0 ? 0.0 : double(total) * double(total) / (n * sum_sq);
    c["mean_wait_ns"] = total == 0 ? 0.0 : double(waits) / g_tsc_per_ns / double(total);
    c["max_wait_us"] = double(max_wait) / g_tsc_per_ns / 1000.0;
    c["cpu_ns_per_op"] = total == 0 ? 0.0 : double(cpu) / double(total);
    // How often the lock changed threads: a lock that lets its holder re-take it moves less (and
    // its line stays in one cache); one that hands over at every release moves every time.
    // (Not for the no-lock floor, which moves nothing.)
    // (The per-thread lines give the moves across CPUs too: nearly all moves are, since a CPU
    // runs one thread for milliseconds at a time. So each is a line transfer at the guest's
    // hand-off cost, handoff_probe.h.)
    if (!handoff && moves != 0) c["moved"] = double(moves) / double(total);
    if (handoff) c["ns_per_handoff"] = handoffs == 0 ? 0.0 : seconds * 1e9 / double(handoffs);
}

// S2/S3/S4: every thread: random work outside, then the lock around cs_ns of work on shared data,
// for kTimedRun. Returns what this thread did.
template <class L>
PerThread timed_loop(L &lock, Shared &shared, int me, std::uint64_t cs_iters, std::uint64_t out_max) {
    PerThread mine;
    std::uint64_t seed = 0x9E3779B97F4A7C15ull * std::uint64_t(me + 1);
    const rusage before = thread_rusage();
    const std::uint64_t cpu0 = thread_cpu_ns();
    const auto deadline = std::chrono::steady_clock::now() + kTimedRun;
    for (;;) {
        for (int k = 0; k < 16; ++k) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            benchmark::DoNotOptimize(spin_work(seed % out_max, seed));
            const std::uint64_t t0 = ticks();
            std::uint64_t t1 = 0;
            int cpu = 0;
            lock.locked([&] {
                t1 = ticks();
                cpu = sched_getcpu(); // glibc reads it from rseq: a load, not a system call
                std::uint64_t &data = L::kExclusive ? shared.protected_counter : mine.private_counter;
                data = spin_work(cs_iters, data);
                if constexpr (L::kExclusive) {
                    if (shared.last_holder != me) {
                        shared.last_holder = me;
                        ++mine.moves;
                    }
                    if (shared.last_cpu != cpu) {
                        shared.last_cpu = cpu;
                        ++mine.cpu_moves;
                    }
                }
            });
            mine.ops_on_cpu0 += cpu == 0;
            const std::uint64_t w = t1 - t0;
            mine.wait_ticks += w;
            mine.max_wait_ticks = std::max(mine.max_wait_ticks, w);
            ++mine.ops;
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
    }
    mine.cpu_ns = thread_cpu_ns() - cpu0;
    const rusage after = thread_rusage();
    mine.sleeps = after.ru_nvcsw - before.ru_nvcsw;
    mine.preemptions = after.ru_nivcsw - before.ru_nivcsw;
    return mine;
}

// Outside work uniform in [0, 2 cs]; none for the serial bound.
inline std::uint64_t outside_max(std::uint64_t cs_iters, bool outside) { return outside ? 2 * cs_iters + 1 : 1; }

// The frame of every timed run (S1-S4): thread 0 sets the run up and probes the guest's state
// while the others wait in the loop's start barrier; each thread, bound to its processor, runs
// loop(lock, shared, me) -> PerThread inside the single iteration; thread 0 probes again and
// summarizes. handoff (S1): the items are hand-offs, not operations.
template <class L, class Loop> void timed_run(benchmark::State &state, bool handoff, Loop &&loop) {
    static L lock;
    static Shared shared;
    static double probe_before_ns;
    const int me = state.thread_index();
    if (me == 0) {
        shared = Shared{};
        lock.begin();
        probe_before_ns = handoff_probe_ns();
    }
    lock.bind(me);
    for (auto _ : state)
        shared.threads[me] = loop(lock, shared, me);
    lock.unbind();
    const PerThread &mine = shared.threads[me];
    state.SetItemsProcessed(std::int64_t(handoff ? mine.handoffs : mine.ops));
    if (me == 0) {
        state_counters(state, probe_before_ns, handoff_probe_ns());
        summarize(state, shared, handoff);
        lock.end();
    }
}

// Without outside work on one thread it measures the serial bound: critical sections back to
// back, which no lock on any number of cores can beat, since they never overlap.
template <class L> void timed_throughput(benchmark::State &state, double cs_ns, bool outside = true) {
    const std::uint64_t cs_iters = work_iterations(cs_ns);
    timed_run<L>(state, false, [&](L &lock, Shared &shared, int me) {
        return timed_loop(lock, shared, me, cs_iters, outside_max(cs_iters, outside));
    });
}

// NdisDprWord keeps each thread at DISPATCH_LEVEL through its run: with fewer virtual processors
// than threads, one would wait for a processor held for the whole run. Skips the run then.
inline bool skip_unless_processor_per_thread(benchmark::State &state) {
    if (KeQueryActiveProcessorCountEx(0) >= static_cast<ULONG>(state.threads())) return false;
    state.SkipWithError("needs a virtual processor per thread (NDISLOCK_PROCESSORS)");
    return true;
}

} // namespace ndislock_bench
