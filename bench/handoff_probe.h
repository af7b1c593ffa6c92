// The cost of moving one cache line between two CPUs, measured now: the state of this guest.
//
// Why: this 2-vCPU guest switches, for seconds to minutes at a time, between a fast state (a line
// crosses between its two CPUs in 20-30 ns, as between cores that share a cache) and a slow one
// (160-200 ns, as between cores that do not): the host moves the vCPUs. Locks whose line moves
// between the CPUs at many acquisitions (ndislock and the spinners) lose most in the slow state.
// The rounds (rounds.h) take this probe before and after each round, so a ratio can be
// read against the state it was measured in rather than guessed at.
//
// Two fresh threads, pinned one to each of the process's first two CPUs, pass a turn back and
// forth through one atomic for `run`; the result is wall time per pass. Returns 0 (not measured)
// when the process may run on fewer than two CPUs or a pin fails. Bounded by `run` either way.
// guest_state() below reads two probes taken around an interval.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <pthread.h>
#include <sched.h>
#include <thread>
#include <x86intrin.h>

inline double handoff_probe_ns(std::chrono::milliseconds run = std::chrono::milliseconds(20)) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
    int cpu[2], found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
        if (CPU_ISSET(c, &allowed)) cpu[found++] = c;
    if (found < 2) return 0;

    struct alignas(64) Line {
        std::atomic<int> turn{0};
    } line;
    alignas(64) std::atomic<bool> go{false}, stop{false};
    std::atomic<int> pinned{0}, failed{0};
    std::uint64_t passes[2] = {0, 0};
    const auto player = [&](int me) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu[me], &one);
        if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0) failed.store(1);
        pinned.fetch_add(1);
        while (!go.load(std::memory_order_acquire) && !stop.load(std::memory_order_relaxed))
            _mm_pause();
        std::uint64_t n = 0;
        // Bounded by `stop`, not by a count: a player that never gets its turn (its partner not
        // running) still ends when the caller's sleep does.
        while (!stop.load(std::memory_order_relaxed)) {
            if (line.turn.load(std::memory_order_acquire) != me) {
                _mm_pause();
                continue;
            }
            line.turn.store(1 - me, std::memory_order_release);
            ++n;
        }
        passes[me] = n;
    };
    std::thread a(player, 0), b(player, 1);
    while (pinned.load() < 2)
        std::this_thread::yield();
    const auto t0 = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release); // passes count from here
    std::this_thread::sleep_for(run);
    stop.store(true, std::memory_order_relaxed);
    const auto t1 = std::chrono::steady_clock::now();
    a.join();
    b.join();
    const std::uint64_t total = passes[0] + passes[1];
    if (failed.load() != 0 || total == 0) return 0;
    return double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()) / double(total);
}

// Between the fast state's 18-43 ns per pass and the slow state's 156-345 ns (nine in ten 161-199)
// in the 500 probes of the rounds of 2026-11-27 07:30-07:58. The threshold is this guest's: on a
// machine that does not switch, every run lands on one side, and the probe's ns are what to read.
inline constexpr double kSlowStateHandoffNs = 80;

// The guest's state over an interval, from probes at its two ends: fast or slow when both agree.
enum class GuestState { Unmeasured, Fast, Slow, Changed };

inline GuestState guest_state(double before_ns, double after_ns) {
    if (before_ns <= 0 || after_ns <= 0) return GuestState::Unmeasured;
    const bool slow_before = before_ns >= kSlowStateHandoffNs;
    if (slow_before != (after_ns >= kSlowStateHandoffNs)) return GuestState::Changed;
    return slow_before ? GuestState::Slow : GuestState::Fast;
}

inline const char *state_name(GuestState s) {
    switch (s) {
    case GuestState::Fast:
        return "fast";
    case GuestState::Slow:
        return "slow";
    case GuestState::Changed:
        return "changed";
    default:
        return "unmeasured";
    }
}
