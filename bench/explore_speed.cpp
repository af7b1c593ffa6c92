// Exploration speed (issue #21, docs/explore.md "Speed"): schedules per second of a 3-processor
// scenario of about 50 scheduling points, and the same scenario run on free-running threads, in
// alternated rounds of one run, with the ratio of their costs per run.
//
//   build/default/bench/ndislock-bench-explore [rounds] [runs-per-round]     (default 5, 2000)
//
// The scenario: three threads, one per virtual processor, each adding to a counter four times
// under one NDIS spin lock (an acquire, an annotated read, a release: 4 points per iteration) and
// the check that the counter is 12. Explored: random walk, each schedule a fresh counter and lock,
// the three threads spawned with NdislockExploreSpawn (the exploration keeps its contexts: fibers,
// or OS threads with NDISLOCK_EXPLORE_CONTEXTS=threads).
// Free-running: the same setup, three std::threads bound to processors 0..2, joined, checked: what
// one run of the scenario costs without the scheduler (thread creation included, which the
// exploration does not pay per schedule).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "ndislock/explore.h"
#include "ndislock/ndis.h"
#include "ndislock/verifier.h"

namespace {

namespace ex = ndislock::explore;

constexpr int kThreads = 3;
constexpr int kIterations = 4;

struct Counter {
    NDIS_SPIN_LOCK lock;
    int value = 0;
};

void add_four_times(Counter &c) {
    for (int j = 0; j < kIterations; ++j) {
        NdisAcquireSpinLock(&c.lock);
        c.value = NDISLOCK_SHARED_ACCESS(c.value) + 1;
        NdisReleaseSpinLock(&c.lock);
    }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Explored {
    double seconds;
    double points_per_schedule;
};

Explored explore_round(unsigned schedules, unsigned round) {
    ex::Options o;
    o.strategy = NDISLOCK_EXPLORE_RANDOM;
    o.seed = 1000 + round;
    o.schedules = schedules;
    const auto start = std::chrono::steady_clock::now();
    const ex::Result r = ex::explore(o, [](ex::Run &run) {
        auto c = std::make_shared<Counter>();
        NdisAllocateSpinLock(&c->lock);
        for (int i = 0; i < kThreads; ++i)
            run.spawn([c] { add_four_times(*c); });
        run.check([c] { return c->value == kThreads * kIterations; });
    });
    const double s = seconds_since(start);
    if (r.status != NDISLOCK_OK || r.found || r.schedules != schedules) {
        std::fprintf(stderr, "ndislock-bench-explore: the exploration did not run clean: %s\n", r.message.c_str());
        std::exit(1);
    }
    return {s, double(r.steps) / schedules};
}

double free_running_round(unsigned runs) {
    const auto start = std::chrono::steady_clock::now();
    for (unsigned n = 0; n < runs; ++n) {
        Counter c;
        NdisAllocateSpinLock(&c.lock);
        std::thread threads[kThreads];
        for (int i = 0; i < kThreads; ++i)
            threads[i] = std::thread([&c, i] {
                NdislockBindCurrentThread(static_cast<ULONG>(i));
                add_four_times(c);
            });
        for (std::thread &t : threads)
            t.join();
        NdisFreeSpinLock(&c.lock);
        if (c.value != kThreads * kIterations) {
            std::fprintf(stderr, "ndislock-bench-explore: the free-running scenario lost an update\n");
            std::exit(1);
        }
    }
    return seconds_since(start);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
    const int runs = argc > 2 ? std::atoi(argv[2]) : 2000;
    if (rounds < 1 || runs < 1) {
        std::fprintf(stderr, "usage: ndislock-bench-explore [rounds >= 1] [runs-per-round >= 1]\n");
        return 2;
    }
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF); // exploration runs with the verifier off
    if (NdislockSetProcessorCount(kThreads) != NDISLOCK_OK) return 1;
    std::printf("explore speed: %d threads on %d virtual processors, %d locked additions each; %d rounds of "
                "%d runs, explored and free-running alternated; %u cores\n",
                kThreads, kThreads, kIterations, rounds, runs, std::thread::hardware_concurrency());
    std::vector<double> ratios;
    for (int round = 0; round < rounds; ++round) {
        const Explored e = explore_round(static_cast<unsigned>(runs), static_cast<unsigned>(round));
        const double f = free_running_round(static_cast<unsigned>(runs));
        ratios.push_back(e.seconds / f);
        std::printf("round %d: explored %8.0f schedules/s (%.1f points each, %9.0f points/s)   free-running "
                    "%8.0f runs/s   explored / free-running cost per run %.2fx\n",
                    round + 1, runs / e.seconds, e.points_per_schedule, runs * e.points_per_schedule / e.seconds,
                    runs / f, e.seconds / f);
    }
    std::printf("median explored / free-running cost per run: %.2fx (target: 10,000 schedules/s explored)\n",
                median(ratios));
    return 0;
}
