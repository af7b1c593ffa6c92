// S0 of ../shared/spec/benchmarks.md, the part the foundation owns: one thread, hot line, the
// uncontended cost of each acquire+release pair, reported as a ratio to the physical floor (a
// bare exchange(1, acquire) / store(0, release) pair) measured in the same run, medians of
// interleaved repetitions. The full protocol (every contender, S0-S6) is ndislock_bench.cpp.
//
//   build/default/bench/ndislock-bench-s0 [google-benchmark flags]
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <pthread.h>
#include <string>

#include <benchmark/benchmark.h>

#include "ratio_reporter.h"

#include "ndislock/ndis.h"
#if __has_include("ndislock/verifier.h")
#include "ndislock/verifier.h"
#endif

namespace {

struct alignas(64) BareLock {
    std::atomic<int> word{0};
};
BareLock g_bare;
alignas(64) NDIS_SPIN_LOCK g_ndis;
alignas(64) KSPIN_LOCK g_ke;
alignas(64) std::mutex g_mutex;
alignas(64) pthread_spinlock_t g_pthread_spin;

void bare_tas_pair(benchmark::State &state) {
    for (auto _ : state) {
        while (g_bare.word.exchange(1, std::memory_order_acquire) != 0) {
        }
        benchmark::ClobberMemory();
        g_bare.word.store(0, std::memory_order_release);
    }
}

void ndis_acquire_release(benchmark::State &state) {
    for (auto _ : state) {
        NdisAcquireSpinLock(&g_ndis);
        benchmark::ClobberMemory();
        NdisReleaseSpinLock(&g_ndis);
    }
}

void ndis_dpr_at_dispatch(benchmark::State &state) {
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    for (auto _ : state) {
        NdisDprAcquireSpinLock(&g_ndis);
        benchmark::ClobberMemory();
        NdisDprReleaseSpinLock(&g_ndis);
    }
    KeLowerIrql(old);
}

void ndis_nested_pair(benchmark::State &state) {
    static NDIS_SPIN_LOCK inner;
    NdisAllocateSpinLock(&inner);
    for (auto _ : state) {
        NdisAcquireSpinLock(&g_ndis);
        NdisAcquireSpinLock(&inner);
        benchmark::ClobberMemory();
        NdisReleaseSpinLock(&inner);
        NdisReleaseSpinLock(&g_ndis);
    }
}

void ke_acquire_release(benchmark::State &state) {
    for (auto _ : state) {
        KIRQL old;
        KeAcquireSpinLock(&g_ke, &old);
        benchmark::ClobberMemory();
        KeReleaseSpinLock(&g_ke, old);
    }
}

void ke_in_stack_queued(benchmark::State &state) {
    for (auto _ : state) {
        KLOCK_QUEUE_HANDLE handle;
        KeAcquireInStackQueuedSpinLock(&g_ke, &handle);
        benchmark::ClobberMemory();
        KeReleaseInStackQueuedSpinLock(&handle);
    }
}

void raise_lower_dispatch(benchmark::State &state) {
    for (auto _ : state) {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        benchmark::ClobberMemory();
        KeLowerIrql(old);
    }
}

void pthread_spin_pair(benchmark::State &state) {
    for (auto _ : state) {
        pthread_spin_lock(&g_pthread_spin);
        benchmark::ClobberMemory();
        pthread_spin_unlock(&g_pthread_spin);
    }
}

void std_mutex_pair(benchmark::State &state) {
    for (auto _ : state) {
        g_mutex.lock();
        benchmark::ClobberMemory();
        g_mutex.unlock();
    }
}

} // namespace

BENCHMARK(bare_tas_pair);
BENCHMARK(ndis_acquire_release);
BENCHMARK(ndis_dpr_at_dispatch);
BENCHMARK(ndis_nested_pair);
BENCHMARK(ke_acquire_release);
BENCHMARK(ke_in_stack_queued);
BENCHMARK(raise_lower_dispatch);
BENCHMARK(pthread_spin_pair);
BENCHMARK(std_mutex_pair);

int main(int argc, char **argv) {
#if __has_include("ndislock/verifier.h")
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF); // measure the verifier-off path
#endif
    NdisAllocateSpinLock(&g_ndis);
    KeInitializeSpinLock(&g_ke);
    pthread_spin_init(&g_pthread_spin, PTHREAD_PROCESS_PRIVATE);
    std::vector<char *> args(argv, argv + argc);
    std::string reps = "--benchmark_repetitions=7", interleave = "--benchmark_enable_random_interleaving=true",
                aggregates = "--benchmark_report_aggregates_only=true";
    args.insert(args.begin() + 1, {reps.data(), interleave.data(), aggregates.data()});
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    RatioReporter reporter("bare_tas_pair");
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios("S0 uncontended pair, median of repetitions, as a ratio to bare exchange/store (same run):");
    benchmark::Shutdown();
}
