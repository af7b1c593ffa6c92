// Where the uncontended cost of NdisAcquireSpinLock+NdisReleaseSpinLock goes, layer by layer,
// as ratios to a bare exchange/store pair measured in the same run (medians of interleaved
// repetitions): the lock word alone, the processor exclusion alone, both (the algorithm layer,
// inlined as the API inlines it), the public call pair, and that pair's inline path written out
// as it is, with the former separate busy mark added, and with its IRQL stores left out.
// White-box: links the internal headers.
//
//   build/default/bench/ndislock-bench-layers [google-benchmark flags]
#include <atomic>
#include <cstddef>
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

void processor_raise_lower(benchmark::State &state) {
    auto &t = ndislock::model::current_thread();
    for (auto _ : state) {
        const KIRQL old = ndislock::model::raise_irql(t, DISPATCH_LEVEL);
        benchmark::ClobberMemory();
        ndislock::model::lower_irql(t, old);
    }
}

void processor_and_lock_word(benchmark::State &state) {
    auto &t = ndislock::model::current_thread();
    for (auto _ : state) {
        const KIRQL old = ndislock::model::raise_irql(t, DISPATCH_LEVEL);
        ndislock::lock::spin_acquire(&g_word);
        benchmark::ClobberMemory();
        ndislock::lock::spin_release(&g_word);
        ndislock::model::lower_irql(t, old);
    }
}

void ndis_call_pair(benchmark::State &state) {
    for (auto _ : state) {
        NdisAcquireSpinLock(&g_ndis);
        benchmark::ClobberMemory();
        NdisReleaseSpinLock(&g_ndis);
    }
}

// The inline pair of ndislock/fast_path.h (what ndis_call_pair runs) written out step by step,
// on the library's own thread, processor and bucket state, with the model's bookkeeping varied:
// as written (the IRQL store is also the processor's busy mark), with a separate busy mark stored
// on the processor's line beside it (the design before: a second store each way), and with no
// IRQL stores at all (what the model's loads and checks cost alone). Not a lock anyone may use:
// only this thread runs here, so an IRQL never stored breaks nothing. Kept in every variant: the
// thread and observer check, the bias check and its re-read, the entry-mode check, the lock word,
// OldIrql and the parking bucket's read.
enum class Mark { IrqlStore, IrqlStoreAndBusyWord, None };

// The separate busy mark of the former design, in the processor line's padding (its last word),
// so the variant stores to the same line as before without touching a live field.
ULONG *former_busy_word(NDISLOCK_FAST_PROCESSOR_LINE *line) {
    static_assert(offsetof(ndislock::model::Processor, deferred_move_to) + sizeof(ULONG) <= 60,
                  "the word must lie in padding");
    return reinterpret_cast<ULONG *>(&line->Line[NDISLOCK_FAST_LINE - sizeof(ULONG)]);
}

template <Mark M> void inline_pair_marking(benchmark::State &state) {
    PKSPIN_LOCK s = &g_ndis.SpinLock;
    for (auto _ : state) {
        NDISLOCK_FAST_THREAD *t = ndislock_fast_thread();
        if (t == nullptr || t->Irql != PASSIVE_LEVEL)
            return state.SkipWithError("the thread is not on the inline path");
        const ULONG index = __atomic_load_n(&t->Processor, __ATOMIC_RELAXED);
        NDISLOCK_FAST_PROCESSOR_LINE *line = &ndislock_fast_processors[index];
        NDISLOCK_FAST_PROCESSOR *p = &line->Head;
        const ULONG biased = t->Id | NDISLOCK_FAST_BIASED;
        if (__atomic_load_n(&p->Owner, __ATOMIC_RELAXED) != biased) return state.SkipWithError("processor not biased");
        if (__atomic_load_n(&t->DispatchEntry, __ATOMIC_RELAXED) != (index | NDISLOCK_FAST_BIASED))
            return state.SkipWithError("entry mode not biased");
        if constexpr (M != Mark::None) __atomic_store_n(&t->Irql, (KIRQL)DISPATCH_LEVEL, __ATOMIC_RELAXED);
        if constexpr (M == Mark::IrqlStoreAndBusyWord)
            __atomic_store_n(former_busy_word(line), t->Id, __ATOMIC_RELAXED);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&p->Owner, __ATOMIC_RELAXED) != biased) return state.SkipWithError("bias revoked");
        if (!ndislock_fast_try_word(s)) return state.SkipWithError("lock word held");
        g_ndis.OldIrql = PASSIVE_LEVEL;
        benchmark::ClobberMemory();
        t = ndislock_fast_thread();
        if constexpr (M != Mark::None)
            if (__atomic_load_n(&t->Irql, __ATOMIC_RELAXED) != DISPATCH_LEVEL) return state.SkipWithError("IRQL lost");
        const KIRQL restore = g_ndis.OldIrql;
        if ((ndislock_fast_dispatch_entry(t) & NDISLOCK_FAST_BIASED) == 0)
            return state.SkipWithError("entry mode lost");
        ndislock_fast_release_word(s);
        if constexpr (M != Mark::None) __atomic_store_n(&t->Irql, restore, __ATOMIC_RELEASE);
        if constexpr (M == Mark::IrqlStoreAndBusyWord) __atomic_store_n(former_busy_word(line), 0u, __ATOMIC_RELEASE);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&p->Owner, __ATOMIC_RELAXED) != biased) return state.SkipWithError("bias revoked");
    }
}

void inline_pair_as_written(benchmark::State &state) { inline_pair_marking<Mark::IrqlStore>(state); }
void inline_pair_with_former_busy_word(benchmark::State &state) {
    inline_pair_marking<Mark::IrqlStoreAndBusyWord>(state);
}
void inline_pair_without_irql_stores(benchmark::State &state) { inline_pair_marking<Mark::None>(state); }

} // namespace

BENCHMARK(bare_tas_pair);
BENCHMARK(lock_word_pair);
BENCHMARK(processor_raise_lower);
BENCHMARK(processor_and_lock_word);
BENCHMARK(ndis_call_pair);
BENCHMARK(inline_pair_as_written);
BENCHMARK(inline_pair_with_former_busy_word);
BENCHMARK(inline_pair_without_irql_stores);

int main(int argc, char **argv) {
#if __has_include("ndislock/verifier.h")
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
#endif
    NdisAllocateSpinLock(&g_ndis);
    // Enough DISPATCH_LEVEL episodes for this thread's processor to become biased to it (the
    // inline path's condition; the inline_pair_* runs check it).
    for (int i = 0; i < 1000; ++i) {
        NdisAcquireSpinLock(&g_ndis);
        NdisReleaseSpinLock(&g_ndis);
    }
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
