// The benchmark suite of ../shared/spec/benchmarks.md: every contender in one binary, scenarios
// S0-S6, Google Benchmark JSON out. bench/run.sh builds it, runs it and turns the JSON into
// docs-ready tables and a plot (bench/report.py); docs/performance.md has the results.
//
//   S0  uncontended acquire+release, one thread (ns per pair; Acquire, Dpr and nested variants)
//   S1  hand-off: two threads ping-pong the lock (ns per hand-off)
//   S2  threads = cores, critical section ~25 ns / ~250 ns, random work outside (ops/s)
//   S3  oversubscribed: 2x, 4x, 8x threads per core, short critical section (ops/s, mean and max
//       wait, CPU time per op)
//   S4  fairness under S2 and S3 (counters min_max and jain on those runs)
//   S5  verifier overhead: the ndis_verifier contender against ndis (report.py takes the ratio)
//   S6  footprint: 10^6 locks allocated, each taken once, then freed (bytes per lock, RSS)
//   S7  read-mostly: 2, 4, 8 threads, 95% reads, reader/writer locks (s7_read_mostly.cpp)
//
// The timed scenarios S1-S3 run every thread for a fixed wall time and count what each thread
// did, so per-thread fairness is measured rather than imposed by a fixed iteration count.
// S2/<cs>/rounds and S3/<x>/rounds measure the S2 and S3 targets in rounds: the contenders back to
// back, the ratio taken within each round (this guest's state changes cannot split it), each round
// between two probes of that state (handoff_probe.h; NDISLOCK_BENCH_PER_ROUND=1 prints each round).
// S2/S3 also count how often the lock moved between threads (counter moved), and
// S3/serial_bound/bare_tas runs the critical sections back to back on one thread: the ceiling of
// any lock's throughput there. Every timed run (S1-S3, S7) is taken between two probes of the guest's
// state (counters handoff_ns, slow_state; state_counters.h), and the JSON keeps every repetition, so
// report.py judges each target in each state. NDISLOCK_BENCH_PER_THREAD=1 prints every thread's figures.
// Each lock lives on its own 64-byte line. Peers are compiled in when their Debian package was
// found (NDISLOCK_BENCH_HAVE_*), and named in a printed note when not.
//
// This file has the scenarios S0, S1 and S6, the registration and main; beside it, included only
// here: contenders.h (the locks), machine.h (clock, work, machine), timed_runs.h (the timed loop
// of S1-S4 and its counters), rounds.h (S2 and S3 in rounds), handoff_probe.h (the state probe) and
// state_counters.h (the state as counters).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <memory>
#include <string>
#include <sys/utsname.h>
#include <vector>

#include <benchmark/benchmark.h>

#include "contenders.h"
#include "machine.h"
#include "rounds.h"
#include "s7_read_mostly.h"
#include "timed_runs.h"

namespace ndislock_bench {
namespace {

// ---------------------------------------------------------------------------------------------
// S0: one thread, hot line.

template <class L> void s0_pair(benchmark::State &state) {
    static L lock;
    lock.begin();
    for (auto _ : state)
        lock.locked([] { benchmark::ClobberMemory(); });
    lock.end();
}

void s0_ndis_dpr(benchmark::State &state) {
    static NdisLock lock;
    lock.begin();
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    for (auto _ : state) {
        NdisDprAcquireSpinLock(&lock.lock);
        benchmark::ClobberMemory();
        NdisDprReleaseSpinLock(&lock.lock);
    }
    KeLowerIrql(old);
}

template <class L> void s0_nested(benchmark::State &state) {
    static L outer, inner;
    outer.begin();
    inner.begin();
    for (auto _ : state)
        outer.locked([] { inner.locked([] { benchmark::ClobberMemory(); }); });
    outer.end();
}

// S1: two threads; a hand-off is a lock acquisition that finds it is this thread's turn.
template <class L> PerThread pingpong_loop(L &lock, Shared &shared, int me) {
    PerThread mine;
    const std::uint64_t cpu0 = thread_cpu_ns();
    const auto deadline = std::chrono::steady_clock::now() + kTimedRun;
    for (;;) {
        for (int k = 0; k < 64; ++k) {
            bool mine_turn = false;
            const std::uint64_t t0 = ticks();
            std::uint64_t t1 = 0;
            lock.locked([&] {
                t1 = ticks();
                if (shared.turn == me) {
                    shared.turn = 1 - me;
                    mine_turn = true;
                }
            });
            mine.handoffs += mine_turn;
            mine.wait_ticks += t1 - t0;
            mine.max_wait_ticks = std::max(mine.max_wait_ticks, t1 - t0);
            ++mine.ops;
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
    }
    mine.cpu_ns = thread_cpu_ns() - cpu0;
    return mine;
}

template <class L> void s1_pingpong(benchmark::State &state) { timed_run<L>(state, true, pingpong_loop<L>); }

// S6: 10^6 locks allocated, each taken once, then freed.
void s6_footprint(benchmark::State &state, Mode mode) {
    constexpr std::size_t kLocks = 1'000'000;
    set_mode(mode);
    double beyond = 0, peak = 0, after_free = 0;
    for (auto _ : state) {
        malloc_trim(0);
        const long base = rss_kib();
        auto *locks = static_cast<NDIS_SPIN_LOCK *>(std::malloc(kLocks * sizeof(NDIS_SPIN_LOCK)));
        // Touch every page for real (a memset of 0 after malloc may become calloc's no-op).
        for (std::size_t i = 0; i < kLocks; ++i) {
            locks[i].SpinLock = 1;
            benchmark::DoNotOptimize(locks[i]);
        }
        const long with_structs = rss_kib();
        for (std::size_t i = 0; i < kLocks; ++i)
            NdisAllocateSpinLock(&locks[i]);
        for (std::size_t i = 0; i < kLocks; ++i) {
            NdisAcquireSpinLock(&locks[i]);
            NdisReleaseSpinLock(&locks[i]);
        }
        const long taken = rss_kib();
        for (std::size_t i = 0; i < kLocks; ++i)
            NdisFreeSpinLock(&locks[i]);
        std::free(locks);
        malloc_trim(0);
        const long freed = rss_kib();
        beyond = double(taken - with_structs) * 1024.0 / double(kLocks);
        peak = double(taken - base) / 1024.0;
        after_free = double(freed - base);
    }
    state.counters["bytes_per_lock_beyond_struct"] = beyond;
    state.counters["struct_bytes"] = double(sizeof(NDIS_SPIN_LOCK));
    state.counters["peak_rss_growth_mib"] = peak;
    state.counters["rss_after_free_kib"] = after_free;
    set_mode(Mode::Off);
}

// ---------------------------------------------------------------------------------------------
// Registration. Every benchmark reports median, min and max over its repetitions.

benchmark::internal::Benchmark *with_min_max(benchmark::internal::Benchmark *b) {
    return b
        ->ComputeStatistics("min", [](const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); })
        ->ComputeStatistics("max", [](const std::vector<double> &v) { return *std::max_element(v.begin(), v.end()); });
}
template <class F> benchmark::internal::Benchmark *reg(const std::string &name, F &&f) {
    return with_min_max(benchmark::RegisterBenchmark(
        name.c_str(), [name = std::make_shared<const std::string>(name), f = std::forward<F>(f)](benchmark::State &s) {
            g_running.store(name->c_str(), std::memory_order_relaxed);
            f(s);
        }));
}

template <class L> void register_contender(const char *name) {
    const unsigned n = cores();
    reg(std::string("S0/pair/") + name, s0_pair<L>);
    reg(std::string("S1/handoff/") + name, s1_pingpong<L>)->Threads(2)->Iterations(1)->UseRealTime();
    for (double cs : {25.0, 250.0})
        reg(std::string("S2/cs") + std::to_string(int(cs)) + "ns/" + name,
            [cs](benchmark::State &s) { timed_throughput<L>(s, cs); })
            ->Threads(int(n))
            ->Iterations(1)
            ->UseRealTime();
    for (unsigned x : {2u, 4u, 8u})
        reg(std::string("S3/x") + std::to_string(x) + "/" + name,
            [](benchmark::State &s) { timed_throughput<L>(s, 25.0); })
            ->Threads(int(std::min<unsigned>(x * n, kMaxBenchThreads)))
            ->Iterations(1)
            ->UseRealTime();
}

// The scheduler's floor for S3/S4: NoLock, timed like the contenders.
void register_os_floor() {
    const unsigned n = cores();
    for (unsigned x : {2u, 4u, 8u})
        reg(std::string("S3/x") + std::to_string(x) + "/os_floor_no_lock",
            [](benchmark::State &s) { timed_throughput<NoLock>(s, 25.0); })
            ->Threads(int(std::min<unsigned>(x * n, kMaxBenchThreads)))
            ->Iterations(1)
            ->UseRealTime();
}

void register_all() {
    register_os_floor();
    reg("S3/serial_bound/bare_tas", [](benchmark::State &s) { timed_throughput<BareTas>(s, 25.0, false); })
        ->Threads(1)
        ->Iterations(1)
        ->UseRealTime();
    register_contender<BareTas>("bare_tas");
    reg("S0/pair/bare_tas_2calls", s0_pair<BareTasCalls>);
    register_contender<NdisLock>("ndislock");
    register_contender<NdisStatsLock>("ndislock_stats_observer");
#ifdef NDISLOCK_BENCH_HAVE_VERIFIER
    register_contender<NdisVerifierLock>("ndislock_verifier");
#endif
    register_contender<KeQueuedLock>("ndislock_queued");
    // The queued hand-off without its IRQL halves (contenders.h): the algorithm's own share.
    reg("S1/handoff/ndislock_queued_at_dpc",
        [](benchmark::State &s) {
            if (!skip_unless_processor_per_thread(s)) s1_pingpong<KeQueuedLockAtDpc>(s);
        })
        ->Threads(2)
        ->Iterations(1)
        ->UseRealTime();
    for (double cs : {25.0, 250.0})
        reg(std::string("S2/cs") + std::to_string(int(cs)) + "ns/rounds",
            [cs](benchmark::State &s) { s2_paired_rounds(s, cs); })
            ->Threads(int(cores()))
            ->Iterations(1)
            ->Repetitions(1)
            ->UseRealTime();
    for (unsigned x : {2u, 4u, 8u})
        reg(std::string("S3/x") + std::to_string(x) + "/rounds", s3_paired_rounds)
            ->Threads(int(std::min<unsigned>(x * cores(), kMaxBenchThreads)))
            ->Iterations(1)
            ->Repetitions(1)
            ->UseRealTime();
    for (double cs : {25.0, 250.0})
        reg(std::string("S2/cs") + std::to_string(int(cs)) + "ns/ndislock_dpr_word",
            [cs](benchmark::State &s) {
                if (!skip_unless_processor_per_thread(s)) timed_throughput<NdisDprWord>(s, cs);
            })
            ->Threads(int(cores()))
            ->Iterations(1)
            ->UseRealTime();
    reg("S0/dpr/ndislock", s0_ndis_dpr);
    reg("S0/nested/ndislock", s0_nested<NdisLock>);
    reg("S0/nested/bare_tas", s0_nested<BareTas>);
    register_contender<PthreadSpin>("pthread_spinlock");
    register_contender<PthreadMutex>("pthread_mutex");
    register_contender<StdMutex>("std_mutex");
#ifdef NDISLOCK_BENCH_HAVE_ABSL
    register_contender<AbslMutex>("absl_mutex");
    register_contender<AbslSpinLock>("absl_spinlock");
#else
    std::printf("note: abseil not found at build time (libabsl-dev; bench/setup.sh): absl contenders skipped\n");
#endif
#ifdef NDISLOCK_BENCH_HAVE_TBB
    register_contender<TbbSpinMutex>("tbb_spin_mutex");
    register_contender<TbbQueuingMutex>("tbb_queuing_mutex");
#else
    std::printf("note: oneTBB not found at build time (libtbb-dev; bench/setup.sh): tbb contenders skipped\n");
#endif
#ifdef NDISLOCK_BENCH_HAVE_CK
    register_contender<CkFas>("ck_spinlock_fas");
    register_contender<CkTicket>("ck_spinlock_ticket");
    register_contender<CkMcs>("ck_spinlock_mcs");
#else
    std::printf("note: Concurrency Kit not found at build time (libck-dev; bench/setup.sh): ck contenders skipped\n");
#endif
    register_s7();
    reg("S6/footprint/ndislock", [](benchmark::State &s) { s6_footprint(s, Mode::Off); })->Iterations(1);
#ifdef NDISLOCK_BENCH_HAVE_VERIFIER
    reg("S6/footprint/ndislock_verifier", [](benchmark::State &s) { s6_footprint(s, Mode::Verifier); })->Iterations(1);
#endif
    reg("S6/footprint/ndislock_stats_observer", [](benchmark::State &s) {
        s6_footprint(s, Mode::Stats);
    })->Iterations(1);
}

} // namespace
} // namespace ndislock_bench

int main(int argc, char **argv) {
    ndislock_bench::set_mode(ndislock_bench::Mode::Off);
    if (const char *ms = std::getenv("NDISLOCK_BENCH_RUN_MS"); ms != nullptr && std::atoi(ms) > 0)
        ndislock_bench::kTimedRun = std::chrono::milliseconds(std::atoi(ms));
    ndislock_bench::calibrate();
    utsname u{};
    uname(&u);
    benchmark::AddCustomContext("cpu_model", ndislock_bench::cpu_model());
    benchmark::AddCustomContext("cores", std::to_string(ndislock_bench::cores()));
    benchmark::AddCustomContext("kernel", std::string(u.sysname) + " " + u.release);
    benchmark::AddCustomContext("virtual_processors", std::to_string(KeQueryActiveProcessorCountEx(0)));
    benchmark::AddCustomContext("timed_run_ms", std::to_string(ndislock_bench::kTimedRun.count()));
    std::printf("machine: %s, %u cores, %s %s; ndislock virtual processors: %lu\n", ndislock_bench::cpu_model().c_str(),
                ndislock_bench::cores(), u.sysname, u.release,
                static_cast<unsigned long>(KeQueryActiveProcessorCountEx(0)));
    ndislock_bench::register_all();
    // Protocol defaults (each overridable on the command line, later flags win): medians of
    // interleaved repetitions, with min and max, on the console; the JSON file keeps every
    // repetition besides, so that report.py can group a contender's repetitions by the guest's
    // state (counter slow_state) and judge each target in each state.
    std::vector<char *> args(argv, argv + argc);
    std::string reps = "--benchmark_repetitions=5", interleave = "--benchmark_enable_random_interleaving=true",
                aggregates = "--benchmark_display_aggregates_only=true";
    args.insert(args.begin() + 1, {reps.data(), interleave.data(), aggregates.data()});
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
}
