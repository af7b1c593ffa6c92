// The watchdog: one thread that looks at every wait in ndislock and at every ISR and DPC, so that
// no wait has to wake up to be seen and a routine that never returns ends in a report, not a hang.
//
// Every thread that waits inside ndislock says so in its wait record (lock/wait_observer.h:
// what it waits for, since when, where it is parked), written by the lock layer's WaitScope and
// park() and kept in the thread's ThreadState. Periodically (kWatchdogPollNs) the watchdog reads
// the records of all threads and
//   - while an observer is registered, tells it (Observer::wait, WaitPhase::StillWaiting) about
//     each wait that has lasted kStillWaitingNs or more: the verifier decides from there whether
//     it is a Deadlock;
//   - while no observer checks rules (the verifier off), judges those waits itself: one without
//     a timeout that has lasted past the watchdog limit never ends, and gets a plain Deadlock
//     report (the thread, its processor and IRQL, what it waits for) through the observer seam,
//     then the end, as a free build hangs there; the verifier, when on, writes the report
//     instead, enriched with the holder, its acquire's line and every waiting thread. Not during
//     an exploration (the explorer finds its deadlocks itself);
//   - verifier on or off, hands each interrupt or DPC thread whose routine has run longer than
//     the watchdog limit to the callback-hang reporter (the interrupt side's, which writes the
//     Deadlock report through the observer seam and ends the process).
// The waiting threads themselves sleep until they are woken.
#pragma once

#include <atomic>
#include <cstdint>

namespace ndislock::model {
struct ThreadState;
}

namespace ndislock::observe {

// How often the watchdog looks: every 50 ms (the period at which waits used to wake up to be
// seen), every 20 ms once interrupts are in use (the period of the ISR/DPC monitor it replaces).
// Each look wakes a thread on a small machine, and may deschedule a timed hold: no more often
// than that. And how old a wait must be before it is "still waiting": a wait younger than that is
// the common, short kind (a hand-over in flight), not worth an observer's look.
inline constexpr std::uint64_t kWatchdogPollNs = 50'000'000;
inline constexpr std::uint64_t kWatchdogCallbackPollNs = 20'000'000;
inline constexpr std::uint64_t kStillWaitingNs = 50'000'000;

// The watchdog limit: a wait, ISR or DPC longer than this never ends (NDISLOCK_WATCHDOG_MS,
// NdislockVerifierSetWatchdog). Written by whoever reads the settings.
inline constexpr std::uint64_t kDefaultWatchdogLimitNs = 2'000'000'000;
extern std::atomic<std::uint64_t> g_watchdog_limit_ns;

// The modelled DPC watchdog's limits, which KeQueryDpcWatchdogInformation reports
// (NDISLOCK_DPC_TIME_LIMIT_MS, NDISLOCK_DPC_WATCHDOG_LIMIT_MS, NdislockSetDpcWatchdogLimits); 0
// means the default: the single-DPC limit is the watchdog limit, the cumulative limit six times
// the single one. Reported, not enforced (ndislock/ext.h).
extern std::atomic<std::uint64_t> g_dpc_time_limit_ns;
extern std::atomic<std::uint64_t> g_dpc_watchdog_limit_ns;
std::uint64_t dpc_time_limit_ns() noexcept;
std::uint64_t dpc_watchdog_limit_ns() noexcept;

// Told of an interrupt or DPC thread whose routine has run ran_ns, over the limit. Does not
// return if it reports (the report is terminal).
using CallbackHangReporter = void (*)(model::ThreadState &t, std::uint64_t ran_ns) noexcept;
void set_callback_hang_reporter(CallbackHangReporter reporter) noexcept;

// While an exploration runs, the watchdog does not judge its threads (they read its virtual clock,
// and it witnesses its own deadlocks): it calls the explorer's probe instead at each look, with
// its real clock and the watchdog limit, so that a context stuck without a scheduling point ends
// in a report, not a hang (explore/scheduler.cpp). Set once by the explorer.
using ExplorationProbe = void (*)(std::uint64_t real_now_ns, std::uint64_t limit_ns) noexcept;
void set_exploration_probe(ExplorationProbe probe) noexcept;

// Starts the watchdog thread (once; later calls do nothing; again in a forked child). Started by
// the composition root (root/startup.cpp) on a process's first call, verifier on or off. Not
// async-signal-safe.
void start_watchdog() noexcept;

} // namespace ndislock::observe
