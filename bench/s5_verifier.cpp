// S5 of ../shared/spec/benchmarks.md, alone: what the verifier costs an uncontended
// NdisAcquireSpinLock + NdisReleaseSpinLock pair, one thread, as ratios to the verifier-off pair
// measured in the same run. The modes alternate round by round (so a machine that drifts between
// a fast and a slow state drifts under all of them alike), and each keeps its fastest round:
//
//   off           the inline path (ndislock/fast_path.h), verifier off
//   off, calls    the exported functions, (NdisAcquireSpinLock)(&L), verifier off
//   on            the verifier on, hold times sampled as by default (NDISLOCK_HOLD_SAMPLE)
//   on, every     the verifier on, every hold timed (NdislockVerifierSetHoldSampling(1))
//
//   build/default/bench/ndislock-bench-s5 [rounds, default 10] [pairs per round, default 300000]
#include <chrono>
#include <cstdio>

#include "alternating_rounds.h"

#include "ndislock/ndis.h"
#include "ndislock/verifier.h"

namespace {

alignas(64) NDIS_SPIN_LOCK g_lock;

template <bool Calls> double ns_per_pair(long pairs) {
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < pairs; ++i) {
        if constexpr (Calls) {
            (NdisAcquireSpinLock)(&g_lock);
            asm volatile("" ::: "memory");
            (NdisReleaseSpinLock)(&g_lock);
        } else {
            NdisAcquireSpinLock(&g_lock);
            asm volatile("" ::: "memory");
            NdisReleaseSpinLock(&g_lock);
        }
    }
    const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    return took.count() / static_cast<double>(pairs);
}

struct Mode {
    const char *name;
    NDISLOCK_VERIFIER_MODE verifier;
    ULONG sampling; // NdislockVerifierSetHoldSampling: 0 = the default
    bool calls;
    double best = 1e300;
};

} // namespace

int main(int argc, char **argv) {
    const auto [rounds, pairs] = parse_rounds(argc, argv, 300'000);
    NdislockVerifierSetHoldBudget(~ULONG64{0} / 2); // long holds are not under test here
    Mode modes[] = {{"off (inline)", NDISLOCK_VERIFIER_OFF, 0, false},
                    {"off, calls", NDISLOCK_VERIFIER_OFF, 0, true},
                    {"on", NDISLOCK_VERIFIER_ON, 0, false},
                    {"on, every hold timed", NDISLOCK_VERIFIER_ON, 1, false}};
    alternate_rounds(modes, rounds, [pairs = pairs](const Mode &m) {
        NdislockVerifierSetMode(m.verifier);
        NdislockVerifierSetHoldSampling(m.sampling);
        NdisAllocateSpinLock(&g_lock);  // after the switch, so the verifier sees it allocated
        (void)ns_per_pair<false>(1000); // warm the caches and the verifier's entries
        const double ns = m.calls ? ns_per_pair<true>(pairs) : ns_per_pair<false>(pairs);
        NdisFreeSpinLock(&g_lock);
        return ns;
    });
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdislockVerifierSetHoldSampling(0);
    std::printf("S5 uncontended NdisAcquireSpinLock+NdisReleaseSpinLock, fastest of %d alternating rounds of %ld "
                "pairs:\n",
                rounds, pairs);
    for (const Mode &m : modes)
        std::printf("  %-22s %7.2f ns   %5.2fx verifier off\n", m.name, m.best, m.best / modes[0].best);
    std::printf("target (benchmarks.md): verifier on at most 4x verifier off\n");
    return 0;
}
