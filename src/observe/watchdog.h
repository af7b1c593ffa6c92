// The watchdog: one thread that looks at every wait in ndislock, so that no wait has to wake up
// to be seen.
//
// Every thread that waits inside ndislock says so in its wait record (lock/wait_observer.h:
// what it waits for, since when, where it is parked), written by the lock layer's WaitScope and
// park() and kept in the thread's ThreadState. Every kPollNs the watchdog reads the records of
// all threads and tells the observers (Observer::wait, WaitPhase::StillWaiting) about each wait
// that has lasted kStillWaitingNs or more: the verifier decides from there whether it is a
// Deadlock. The waiting threads themselves sleep until they are woken.
#pragma once

#include <cstdint>

namespace ndislock::observe {

// How often the watchdog looks, and how old a wait must be before it is "still waiting": a wait
// younger than that is the common, short kind (a hand-over in flight), not worth an observer's
// look.
inline constexpr std::uint64_t kWatchdogPollNs = 50'000'000;
inline constexpr std::uint64_t kStillWaitingNs = 50'000'000;

// Starts the watchdog thread (once; later calls do nothing). Not async-signal-safe.
void start_watchdog() noexcept;

} // namespace ndislock::observe
