// Where the uncontended cost of NdisAcquireSpinLock+NdisReleaseSpinLock goes, layer by layer,
// as ratios to a bare exchange/store pair measured in the same run (medians of interleaved
// repetitions): the lock word alone, the processor exclusion alone, both (the algorithm layer,
// inlined as the API inlines it), and the public call pair. White-box: links the internal headers.
//
//   build/default/bench/ndislock-bench-layers [google-benchmark flags]
#include <atomic>
#include <cstdio>
#include <map>
#include <string>

#include <benchmark/benchmark.h>

#include "ratio_reporter.h"

#include "lock/spin_word.h"
#include "model/processors.h"
#include "ndislock/ndis.h"
#if __has_include("ndislock/verifier.h")
#include "ndislock/verifier.h"
#endif

namespace {

alignas(64) std::atomic<int> g_bare{0};
alignas(64) KSPIN_LOCK g_word = 0;
alignas(64) NDIS_SPIN_LOCK g_ndis;

void bare_tas_pair(benchmark::State &state) {
    for (auto _ : state) {
        while (g_bare.exchange(1, std::memory_order_acquire) != 0) {
        }
        benchmark::ClobberMemory();
        g_bare.store(0, std::memory_order_release);
    }
}

void lock_word_pair(benchmark::State &state) {
    for (auto _ : state) {
        ndislock::lock::spin_acquire(&g_word);
        benchmark::ClobberMemory();
        ndislock::lock::spin_release(&g_word);
    }
}

void processor_enter_leave(benchmark::State &state) {
    auto &t = ndislock::model::current_thread();
    for (auto _ : state) {
        ndislock::model::enter_dispatch(t);
        benchmark::ClobberMemory();
        ndislock::model::leave_dispatch(t);
    }
}

void processor_and_lock_word(benchmark::State &state) {
    auto &t = ndislock::model::current_thread();
    for (auto _ : state) {
        ndislock::model::enter_dispatch(t);
        ndislock::lock::spin_acquire(&g_word);
        benchmark::ClobberMemory();
        ndislock::lock::spin_release(&g_word);
        ndislock::model::leave_dispatch(t);
    }
}

void ndis_call_pair(benchmark::State &state) {
    for (auto _ : state) {
        NdisAcquireSpinLock(&g_ndis);
        benchmark::ClobberMemory();
        NdisReleaseSpinLock(&g_ndis);
    }
}


} // namespace

BENCHMARK(bare_tas_pair);
BENCHMARK(lock_word_pair);
BENCHMARK(processor_enter_leave);
BENCHMARK(processor_and_lock_word);
BENCHMARK(ndis_call_pair);

int main(int argc, char **argv) {
#if __has_include("ndislock/verifier.h")
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
#endif
    NdisAllocateSpinLock(&g_ndis);
    std::printf("asymmetric fences (membarrier): %s\n", ndislock::platform::asymmetric() ? "yes" : "no");
    std::vector<char *> args(argv, argv + argc);
    std::string reps = "--benchmark_repetitions=7", interleave = "--benchmark_enable_random_interleaving=true",
                aggregates = "--benchmark_report_aggregates_only=true";
    args.insert(args.begin() + 1, {reps.data(), interleave.data(), aggregates.data()});
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    RatioReporter reporter("bare_tas_pair");
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios("Uncontended pair by layer, median, ratio to bare exchange/store (same run):");
    benchmark::Shutdown();
}
