// Long holds and long callback runs, caught the first time they happen.
//
// The sampled hold timing (hold_times.h) times one hold in 16 and wants three overruns of a class
// in a row, which is right for marginal overruns (preemption and host noise live there) but lets
// a single hold of milliseconds pass unseen. A hold far over budget needs a proof, not a sample.
// Neither clock gives one alone on a virtual machine: wall time counts the time the OS
// deschedules the holder, and the thread CPU clock counts the time the host takes the holder's
// virtual CPU away (measured here: gaps of 0.1-1.9 ms in a busy thread's CPU clock, several a
// second, with no steal time reported to the guest). So the proof is a heartbeat:
//
//   - The sentinel, one thread of the verifier's, looks every kSentinelPeriodNs at each thread's
//     first-taken lock still held and first-entered driver routine still running, by number
//     (HeldLock::seq, CallbackFrame::run). The lock path reads no clock for it.
//   - At a hold's first sight the sentinel reads the holder's CPU clock (one system call, on the
//     sentinel's thread) and the baselines of a count. Seen again kBeatAfterBudgets budgets after
//     it (at a later look), the same hold may be far over budget: the sentinel asks the thread to
//     count the hold from the first sight, and beats it at once. From then on, at each look where
//     the holder ran for at least half the time since the last one (by its CPU clock), it sends
//     the holder a heartbeat signal (beat_signal()), one at a time. A holder that sleeps or waits
//     gets none: waking it would charge the kernel's work for each beat to the hold. (Shorter
//     holds get none either: a signal's delivery disturbs the scheduler witness that the sampled
//     timing of marginal overruns uses; a hold that got beats has its count stand in for that
//     timing.)
//   - The holder's handler reads its own CPU clock. A stretch (from the sentinel's reading to the
//     first beat, then from beat to beat, the last one up to the release or return) counts the
//     CPU time the thread ran in it, less the wall time the verifier's own hooks took in it
//     (VerifierThread::verifier_ns) and the wall time of the CPU clock reads that bound it (a
//     read is a system call charged to the thread, milliseconds of it on a busy virtual machine),
//     and nothing if the thread took an emulated interrupt or an interrupt signal, blocked, or the
//     beat landed inside a verifier hook, ndislock's own bookkeeping (model::NoPreempt) or the
//     interrupt signal's handler. Each stretch counts at most what it
//     could have run had its beat arrived at once (from its start to the beat's sending, plus
//     kPromptNs); a later beat counts only if the OS preempted the thread meanwhile (its CPU clock
//     stood still then), not if the host took the virtual CPU away (that time passes on the
//     thread's CPU clock), and at most stretch_cap_ns: a report takes three stretches or more.
//     So stolen time only enters a count in pieces that fit between two looks, and a correct
//     hold never gathers far_over_ns of them (long_holds.cpp, stretch_ns).
//   - When the count reaches far_over_ns(budget) (kFarOverFactor budgets, kFarOverMinNs at
//     least), the hold is reported at once: LockHeldTooLong, IsrTooLong or DpcTooLong, "for at
//     least" that time.
//
// What is not counted is the part of a hold before the sentinel's first sight: up to two look
// intervals (kIdleIntervals after a look that found nothing held; a look interval is one budget,
// kSentinelPeriodNs at least, about 50 us measured at the default). So with the sentinel on
// time, a hold (or an ISR run) of 10x its budget or more is reported the first time at the 25 us
// default (5 counted + about 4 uncounted budgets). A machine
// that gives the sentinel no processor delays its looks; such a hold falls back to the sampled
// timing. When no thread holds a lock or runs a routine for kQuietTicksBeforeNap looks, the
// sentinel naps, and the next outermost acquire or routine entry wakes it (one system call, once
// per nap).
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>

#include "verifier/settings.h"

namespace ndislock::verifier {

inline constexpr std::uint64_t kFarOverFactor = 5;      // counted budgets that make a report...
inline constexpr std::uint64_t kFarOverMinNs = 100'000; // ...and not under this: kernel and verifier overheads
// of a few microseconds each (a context switch, a signal's delivery, a hook) add up to tens of
// microseconds in a hold, which a budget under 20 us could mistake for far over.
inline constexpr std::uint64_t far_over_ns(std::uint64_t budget_ns) noexcept {
    return kFarOverFactor * budget_ns > kFarOverMinNs ? kFarOverFactor * budget_ns : kFarOverMinNs;
}
// One stretch counts at most this share (in fifths) of far_over_ns: a report needs three stretches
// or more, and a stretch the host stole from (or a verifier hook the count missed) is not enough.
inline constexpr std::uint64_t kStretchCapFifths = 2;
inline constexpr std::uint64_t stretch_cap_ns(std::uint64_t budget_ns) noexcept {
    return far_over_ns(budget_ns) * kStretchCapFifths / 5;
}
inline constexpr std::uint64_t kBeatAfterBudgets = 1; // seen for this long (and at two looks): count it
inline constexpr std::uint64_t kSentinelPeriodNs = kDefaultHoldBudgetNs; // at the default budgets (one budget)...
inline constexpr std::uint64_t kMaxSentinelPeriodNs = 100'000;           // ...and no longer with larger ones
inline constexpr std::uint64_t kIdleIntervals = 2;                       // after a look that saw nothing held
inline constexpr std::uint64_t kLateAfterIntervals = 8; // a pass more intervals than this after the last: late
inline constexpr std::uint64_t kPromptNs = 50'000;      // a beat handled later than this after its sending: late
inline constexpr unsigned kQuietTicksBeforeNap = 80;    // looks of nothing held in a row (4-8 ms)
inline constexpr std::uint64_t kSentinelNapNs = 20'000'000;

inline constexpr std::uint64_t kNoSeq = ~std::uint64_t{0};

// The heartbeat signal: a real-time signal next to the emulated interrupts' (SIGRTMIN + 7).
inline int beat_signal() noexcept { return SIGRTMIN + 8; }

// What the sentinel saw of one thread's outermost hold (or run) at its last look, and since when.
struct SentinelSight {
    std::uint64_t seq = kNoSeq;
    std::uint64_t at_ns = 0;
    // Once it counts the hold: the thread's CPU clock at the last look, and when that was.
    std::uint64_t cpu_ns = 0, looked_ns = 0;
    // At the first sight: the baselines a count starts from (BeatClock's *_at_want), read then so
    // that the count covers the hold from its first sight, not from the look after it (with looks
    // about 50 us apart here, a hold of 10 budgets is seen at 4-5 looks: starting at the second
    // left it under far_over_ns about one time in six).
    std::uint64_t first_cpu_ns = 0, first_wall_ns = 0, first_verifier_ns = 0;
    std::uint32_t first_stops = 0;
};

// One thread's heartbeat count of one long hold (or routine run). `want` is written by the
// sentinel; the rest by the thread itself, in its signal handler and at the release, which reads
// it under `version` (odd while the handler writes).
struct BeatClock {
    std::atomic<std::uint64_t> want{kNoSeq}; // the hold (run) the sentinel asks to count
    // Written by the sentinel before `want`: the thread's CPU clock when it asked, and when.
    std::atomic<std::uint64_t> cpu_at_want{0}, wall_at_want{0};
    // ...and the most one stretch may count: kStretchCapShare of far_over_ns(budget), so that a
    // report takes several stretches, whatever one of them holds.
    std::atomic<std::uint64_t> cap_ns{0};
    // ... and the thread's model::interrupt_marks and VerifierThread::verifier_ns then.
    std::atomic<std::uint32_t> stops_at_want{0};
    std::atomic<std::uint64_t> verifier_ns_at_want{0};
    std::atomic<std::uint32_t> version{0};
    std::uint64_t counting = kNoSeq; // the hold (run) counted below
    std::uint64_t counted_ns = 0;    // own time of the driver's stretches in this hold
    std::uint64_t last_wall_ns = 0, last_cpu_ns = 0, last_verifier_ns = 0;
    std::uint64_t last_blocked = 0, last_preempted = 0;
    std::uint64_t last_read_ns = 0; // the wall time of the CPU clock read that began the stretch
    std::uint32_t last_stops = 0;
};

// What a beat (or the release) reads: the thread's clocks and context switches, the emulated
// interrupts it took (ThreadState::preemption.ack) and the verifier's time on it
// (VerifierThread::in_verifier, VerifierThread::verifier_ns).
struct BeatSample {
    std::uint64_t wall = 0, cpu = 0, verifier_ns = 0;
    // The wall time the read of `cpu` took. The thread CPU clock is a system call that charges its
    // own kernel time to the thread, and on a busy virtual machine one read took milliseconds of it
    // (the kernel waiting for a processor's run queue, or the host taking the virtual CPU away),
    // which is no driver code: a stretch counts none of the reads that bound it.
    std::uint64_t read_ns = 0;
    std::uint64_t blocked = 0, preempted = 0; // the thread's voluntary and involuntary context switches
    std::uint32_t stops = 0, in_verifier = 0;
};

// Starts the sentinel and installs the heartbeat's handler (once per process; the first switch
// of the verifier to on).
void start_sentinel() noexcept;

// 1 while the sentinel naps; the thread that takes a first lock or enters a first routine wakes it.
extern std::atomic<std::uint32_t> g_sentinel_napping;
void wake_sentinel() noexcept;

// How many looks the sentinel has taken so far. Tests use it to tell a round where the machine
// gave the sentinel no processor (a virtual CPU the host did not run for milliseconds) from one
// where the verifier missed a long hold.
std::uint64_t sentinel_looks() noexcept;
inline void wake_sentinel_if_napping() noexcept {
    if (__builtin_expect(g_sentinel_napping.load(std::memory_order_relaxed) != 0, 0)) wake_sentinel();
}

// For the thread itself, at the release (return) of hold (run) seq, from inside the verifier's
// hook: the own time its heartbeat counted, the stretch since the last beat included; 0 if the
// sentinel never asked to count it. stops is the thread's ThreadState::preemption.ack now,
// verifier_ns its VerifierThread::verifier_ns.
std::uint64_t counted_own_ns(BeatClock &clock, std::uint64_t seq, std::uint32_t stops,
                             std::uint64_t verifier_ns) noexcept;

} // namespace ndislock::verifier
