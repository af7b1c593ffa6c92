// What the verifier costs a C++ lock pair taken through the standard library's guards, whose
// location arguments name libstdc++'s header (the verifier then finds the driver's line itself:
// src/verifier/sites.h), next to ndislock's own guard, which passes the driver's line. One
// thread, one NdisSpinLock, verifier on; ratios to ndislock::LockGuard with the verifier off, in
// the same run. Modes alternate round by round and each keeps its fastest round (as s5_verifier).
//
//   build/default/bench/ndislock-bench-cpp-sites [rounds, default 10] [pairs per round, default 200000]
//
// Built with the preset's flags (-O2: the guard is inlined into this loop and the call's return
// address already names the line). For the -O0 case (a stack walk per acquire), build it alone:
//   g++ -std=c++20 -O0 -g bench/cpp_guard_sites.cpp -Iinclude -Lbuild/default/src -lndislock \
//       -Wl,-rpath,build/default/src -o /tmp/cpp-sites-O0 && /tmp/cpp-sites-O0
#include <chrono>
#include <cstdio>
#include <mutex>

#include "alternating_rounds.h"

#include "ndislock/ndislock.hpp"
#include "ndislock/verifier.h"

namespace {

template <bool Std> double ns_per_pair(ndislock::NdisSpinLock &lock, long pairs) {
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < pairs; ++i) {
        if constexpr (Std) {
            std::lock_guard<ndislock::NdisSpinLock> guard(lock);
            asm volatile("" ::: "memory");
        } else {
            ndislock::LockGuard<ndislock::NdisSpinLock> guard(lock);
            asm volatile("" ::: "memory");
        }
    }
    const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    return took.count() / static_cast<double>(pairs);
}

struct Mode {
    const char *name;
    NDISLOCK_VERIFIER_MODE verifier;
    bool std_guard;
    double best = 1e300;
};

} // namespace

int main(int argc, char **argv) {
    const auto [rounds, pairs] = parse_rounds(argc, argv, 200'000);
    NdislockVerifierSetHoldBudget(~ULONG64{0} / 2); // long holds are not under test here
    ndislock::NdisSpinLock lock("bench.cpp-sites");
    Mode modes[] = {{"LockGuard, verifier off", NDISLOCK_VERIFIER_OFF, false},
                    {"LockGuard, verifier on", NDISLOCK_VERIFIER_ON, false},
                    {"std::lock_guard, on", NDISLOCK_VERIFIER_ON, true}};
    for (Mode &m : modes) { // warm up: first sights of each return address are symbolized here
        NdislockVerifierSetMode(m.verifier);
        m.std_guard ? ns_per_pair<true>(lock, 1000) : ns_per_pair<false>(lock, 1000);
    }
    alternate_rounds(modes, rounds, [&lock, pairs = pairs](const Mode &m) {
        NdislockVerifierSetMode(m.verifier);
        return m.std_guard ? ns_per_pair<true>(lock, pairs) : ns_per_pair<false>(lock, pairs);
    });
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    std::printf("C++ guard pairs on one NdisSpinLock, fastest of %d alternating rounds of %ld pairs\n", rounds, pairs);
    for (const Mode &m : modes)
        std::printf("  %-26s %7.2f ns   %5.2fx LockGuard off   %5.2fx LockGuard on\n", m.name, m.best,
                    m.best / modes[0].best, m.best / modes[1].best);
    return 0;
}
