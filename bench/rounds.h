// bench/rounds.h: S2 and S3 in rounds, each round between two probes of the guest's state (part
// of ndislock_bench.cpp, which alone includes it).
#pragma once

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <benchmark/benchmark.h>

#include "contenders.h"
#include "handoff_probe.h"
#include "timed_runs.h"

namespace ndislock_bench {

// S2 and S3 in rounds: the targets' ratios with each lock measured next to the others in time.
// This 2-vCPU guest switches between a fast and a slow state for seconds to minutes (moving a
// cache line between its CPUs takes 6-8 times longer in the slow one); with the repetitions
// shuffled over the whole run, a switch can land on one contender's median and not the other's.
// Here each round runs every contender once, back to back in a shuffled order, and the ratio is
// taken within the round: a state change moves the whole round, and the median of the rounds'
// ratios ignores it. A probe of that state (handoff_probe.h) before and after each round lets
// each ratio be read against it too: the counters <ratio>_fast_state and <ratio>_slow_state are
// the medians over the rounds that stayed in one state, and NDISLOCK_BENCH_PER_ROUND=1 prints
// every round.
constexpr int kPairedRounds = 5;

struct RoundTurn { // one contender in one round, as thread 0 sums it up
    std::uint64_t ops = 0;
    double min_max = 0; // per-thread operations, fewest over most
};

// One contender's turn in a round, run by every thread; the result is thread 0's.
template <class L> RoundTurn paired_turn(int me, int threads, double cs_ns, std::barrier<> &sync) {
    static L lock;
    static Shared shared;
    if (me == 0) {
        shared = Shared{};
        lock.begin();
    }
    sync.arrive_and_wait();
    lock.bind(me);
    const std::uint64_t cs_iters = work_iterations(cs_ns);
    shared.threads[me] = timed_loop(lock, shared, me, cs_iters, outside_max(cs_iters, true));
    lock.unbind();
    sync.arrive_and_wait();
    if (me != 0) return {};
    lock.end();
    RoundTurn turn;
    for (int i = 0; i < threads; ++i)
        turn.ops += shared.threads[i].ops;
    turn.min_max = min_max_ops(shared, threads);
    return turn;
}

struct PairedContender {
    const char *name;
    RoundTurn (*turn)(int, int, double, std::barrier<> &);
    bool spinner; // S2: a candidate for "the best spinning contender"
};

struct Round {
    std::vector<RoundTurn> turns; // per contender
    // The state probes taken before and after the round (0: not measured). The state can change
    // within a round: only a round whose two probes agree counts as fast or slow.
    double handoff_before_ns = 0, handoff_after_ns = 0;
    GuestState state() const { return guest_state(handoff_before_ns, handoff_after_ns); }
};

// Every contender once per round, in an order shuffled per round (the same on every thread),
// between thread 0's probes of the guest's state (the others wait in a turn's barrier meanwhile).
// Returns the rounds on thread 0, nothing on the others.
inline std::vector<Round> run_rounds(benchmark::State &state, double cs_ns,
                                     const std::vector<PairedContender> &contenders) {
    const int me = state.thread_index(), threads = state.threads();
    static std::optional<std::barrier<>> sync;
    if (me == 0) sync.emplace(threads);
    std::vector<Round> rounds(kPairedRounds, Round{std::vector<RoundTurn>(contenders.size())});
    for (auto _ : state) { // the loop's start barrier publishes sync
        for (Round &round : rounds) {
            const auto r = static_cast<unsigned>(&round - rounds.data());
            if (me == 0) round.handoff_before_ns = handoff_probe_ns();
            std::vector<std::size_t> order(contenders.size());
            for (std::size_t i = 0; i < order.size(); ++i)
                order[i] = i;
            std::mt19937 shuffle(r * 7919u + 1u);
            std::shuffle(order.begin(), order.end(), shuffle);
            for (const std::size_t i : order)
                round.turns[i] = contenders[i].turn(me, threads, cs_ns, *sync);
            if (me == 0) round.handoff_after_ns = handoff_probe_ns();
        }
    }
    if (me != 0) return {};
    static const bool per_round = std::getenv("NDISLOCK_BENCH_PER_ROUND") != nullptr;
    const double seconds = std::chrono::duration<double>(kTimedRun).count();
    for (std::size_t r = 0; per_round && r < rounds.size(); ++r) {
        std::fprintf(stderr, "%s round %zu: hand-off %.0f then %.0f ns (%s state);",
                     g_running.load(std::memory_order_relaxed), r + 1, rounds[r].handoff_before_ns,
                     rounds[r].handoff_after_ns, state_name(rounds[r].state()));
        for (std::size_t i = 0; i < contenders.size(); ++i)
            std::fprintf(stderr, " %s %.2fM (min/max %.2f)", contenders[i].name,
                         double(rounds[r].turns[i].ops) / seconds / 1e6, rounds[r].turns[i].min_max);
        std::fprintf(stderr, "\n");
    }
    return rounds;
}

inline double median(std::vector<double> v) { return median_of(std::move(v)); }

// The median over the rounds of f(round) as counter `name`, and over the rounds of each state as
// `name`_fast_state and `name`_slow_state (absent when no round was in that state throughout);
// with the rounds' counts, the median of their probes and each contender's ops/s.
template <class F>
inline void round_counters(benchmark::State &state, const std::vector<PairedContender> &contenders,
                           const std::vector<Round> &rounds, const char *name, F &&f) {
    std::vector<double> all, fast, slow, probes;
    for (const Round &round : rounds) {
        double v;
        if constexpr (std::is_invocable_v<F, const Round &>)
            v = f(round);
        else
            v = f(round.turns);
        all.push_back(v);
        if (round.state() == GuestState::Fast) fast.push_back(v);
        if (round.state() == GuestState::Slow) slow.push_back(v);
        for (const double probe : {round.handoff_before_ns, round.handoff_after_ns})
            if (probe > 0) probes.push_back(probe); // not measured: a process allowed on one CPU only
    }
    auto &c = state.counters;
    c[name] = median(all);
    if (!fast.empty()) c[std::string(name) + "_fast_state"] = median(fast);
    if (!slow.empty()) c[std::string(name) + "_slow_state"] = median(slow);
    c["rounds"] = double(rounds.size());
    c["rounds_fast_state"] = double(fast.size());
    c["rounds_slow_state"] = double(slow.size());
    if (!probes.empty()) c["handoff_ns"] = median(probes);
    const double seconds = std::chrono::duration<double>(kTimedRun).count();
    for (std::size_t i = 0; i < contenders.size(); ++i) {
        std::vector<double> ops;
        for (const Round &round : rounds)
            ops.push_back(double(round.turns[i].ops) / seconds);
        c[std::string("ops_per_s_") + contenders[i].name] = median(ops);
    }
}

// The index of the contender called `name`, or contenders.size() when it was not compiled in.
inline std::size_t contender_index(const std::vector<PairedContender> &contenders, const char *name) {
    for (std::size_t i = 0; i < contenders.size(); ++i)
        if (std::string(contenders[i].name) == name) return i;
    return contenders.size();
}

// S2: ndislock (index 0) and the bare lock word (index 1) over the best spinner of each round, and
// the in-stack queued lock (index 2) over ck_spinlock_mcs when Concurrency Kit is compiled in.
inline void s2_paired_rounds(benchmark::State &state, double cs_ns) {
    if (skip_unless_processor_per_thread(state)) return; // NdisDprWord is among the contenders
    static const std::vector<PairedContender> contenders = [] {
        std::vector<PairedContender> c = {
            {"ndislock", paired_turn<NdisLock>, false},
            {"ndislock_dpr_word", paired_turn<NdisDprWord>, false},
            {"ndislock_queued", paired_turn<KeQueuedLock>, false},             // index 2: the queued lock's target
            {"ndislock_queued_at_dpc", paired_turn<KeQueuedLockAtDpc>, false}, // index 3: its IRQL-free layer
            {"bare_tas", paired_turn<BareTas>, true},
            {"pthread_spinlock", paired_turn<PthreadSpin>, true},
        };
#ifdef NDISLOCK_BENCH_HAVE_ABSL
        c.push_back({"absl_spinlock", paired_turn<AbslSpinLock>, true});
#endif
#ifdef NDISLOCK_BENCH_HAVE_TBB
        c.push_back({"tbb_spin_mutex", paired_turn<TbbSpinMutex>, true});
#endif
#ifdef NDISLOCK_BENCH_HAVE_CK
        c.push_back({"ck_spinlock_fas", paired_turn<CkFas>, true});
        c.push_back({"ck_spinlock_ticket", paired_turn<CkTicket>, true});
        c.push_back({"ck_spinlock_mcs", paired_turn<CkMcs>, true});
#endif
        return c;
    }();
    const auto rounds = run_rounds(state, cs_ns, contenders);
    if (state.thread_index() != 0) return;
    const auto over_best = [](const std::vector<RoundTurn> &round, std::size_t who) {
        std::uint64_t best = 0;
        for (std::size_t i = 0; i < contenders.size(); ++i)
            if (contenders[i].spinner) best = std::max(best, round[i].ops);
        return best == 0 ? 0.0 : double(round[who].ops) / double(best);
    };
    round_counters(state, contenders, rounds, "ndislock_over_best_spinner",
                   [&](const std::vector<RoundTurn> &round) { return over_best(round, 0); });
    round_counters(state, contenders, rounds, "dpr_word_over_best_spinner",
                   [&](const std::vector<RoundTurn> &round) { return over_best(round, 1); });
    // The in-stack queued lock against the queue lock it should match (issue #22: >= MCS).
    const std::size_t mcs = contender_index(contenders, "ck_spinlock_mcs");
    if (mcs < contenders.size())
        round_counters(state, contenders, rounds, "queued_over_mcs", [&](const std::vector<RoundTurn> &round) {
            return round[mcs].ops == 0 ? 0.0 : double(round[2].ops) / double(round[mcs].ops);
        });
    if (mcs < contenders.size())
        round_counters(state, contenders, rounds, "queued_at_dpc_over_mcs", [&](const std::vector<RoundTurn> &round) {
            return round[mcs].ops == 0 ? 0.0 : double(round[3].ops) / double(round[mcs].ops);
        });
}

// S3: ndislock (index 0) over std::mutex (1) and pthread_spinlock (2), ndislock's min/max, the
// scheduler's floor's min/max (3) with the same threads in the same rounds, and the in-stack
// queued lock (4) over std::mutex (issue #22: >= 0.8, no collapse with threads outnumbering cores).
inline void s3_paired_rounds(benchmark::State &state) {
    static const std::vector<PairedContender> contenders = {
        {"ndislock", paired_turn<NdisLock>, false},
        {"std_mutex", paired_turn<StdMutex>, false},
        {"pthread_spinlock", paired_turn<PthreadSpin>, false},
        {"os_floor_no_lock", paired_turn<NoLock>, false},
        {"ndislock_queued", paired_turn<KeQueuedLock>, false},
    };
    const auto rounds = run_rounds(state, 25.0, contenders);
    if (state.thread_index() != 0) return;
    const auto over = [](const std::vector<RoundTurn> &round, std::size_t other, std::size_t who = 0) {
        return round[other].ops == 0 ? 0.0 : double(round[who].ops) / double(round[other].ops);
    };
    round_counters(state, contenders, rounds, "ndislock_over_std_mutex",
                   [&](const std::vector<RoundTurn> &round) { return over(round, 1); });
    round_counters(state, contenders, rounds, "ndislock_over_pthread_spinlock",
                   [&](const std::vector<RoundTurn> &round) { return over(round, 2); });
    round_counters(state, contenders, rounds, "ndislock_min_max",
                   [](const std::vector<RoundTurn> &round) { return round[0].min_max; });
    round_counters(state, contenders, rounds, "floor_min_max",
                   [](const std::vector<RoundTurn> &round) { return round[3].min_max; });
    round_counters(state, contenders, rounds, "queued_over_std_mutex",
                   [&](const std::vector<RoundTurn> &round) { return over(round, 1, 4); });
    // Why a FIFO lock cannot follow std::mutex in the slow state: a lock that hands over at every
    // acquisition moves at least two lines between the CPUs per acquisition, one after the other
    // (the grant, then the data the critical section touches), so it does at most
    // 1 / (2 x the line hand-off the round's probes measured) acquisitions per second, where
    // std::mutex lets a running thread re-take the lock without any move. This ceiling over
    // std::mutex is what queued_over_std_mutex is to be read against (info, not a target).
    round_counters(state, contenders, rounds, "fifo_ceiling_over_std_mutex", [&](const Round &round) {
        const double probe_ns = (round.handoff_before_ns + round.handoff_after_ns) / 2;
        const double seconds = std::chrono::duration<double>(kTimedRun).count();
        const double mutex_per_s = double(round.turns[1].ops) / seconds;
        return probe_ns <= 0 || mutex_per_s == 0 ? 0.0 : 1e9 / (2 * probe_ns) / mutex_per_s;
    });
}

} // namespace ndislock_bench
