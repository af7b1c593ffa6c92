// The one parking primitive: how every thread that waits inside ndislock blocks.
//
// In the spirit of WebKit's ParkingLot, over the kernel's futex instead of a user-space queue:
//   park(address, expected, timeout, validate, context)
//       blocks the calling thread on the 32-bit word at address, unless validate(context) says no
//       (it runs after the thread is registered as parked: a waker that changes state after it
//       and then unparks cannot be missed) or the word no longer holds expected (the kernel's
//       compare, atomic with unpark: the waker changes the word, or a bucket epoch, first).
//   unpark_one(address) / unpark_all(address)
//       wake one / every thread parked on address.
// A return is not a promise: park returns on an unpark, a timeout, a signal or a spurious wake,
// and every caller re-checks its own condition in a loop. So an unpark on an address nobody
// parks on (an in-stack queue entry reused since) is harmless.
//
// Waiters keep their own spin strategy before parking (lock/backoff.h, the queued lock's budgets,
// the processors' adaptive budget): parking is the blocking step only, the one place every block
// passes. Async-signal-safe (atomics and system calls, errno preserved): a thread stopped by an
// emulated interrupt parks from a signal handler (model/preemption.cpp).
#pragma once

#include <atomic>
#include <cstdint>

namespace ndislock::lock {

enum class ParkResult : std::uint8_t {
    Unparked, // woken, or the word had changed, or a signal: re-check
    Invalid,  // validate(context) returned false: never slept
    TimedOut,
};

// True if the thread should still sleep. Runs on the parking thread, possibly in a signal
// handler when the parker does: it must be async-signal-safe too.
using ParkValidation = bool (*)(const void *context);

ParkResult park(const void *address, std::uint32_t expected, std::uint64_t timeout_ns,
                ParkValidation validate = nullptr, const void *context = nullptr) noexcept;

void unpark_one(const void *address) noexcept;
void unpark_all(const void *address) noexcept;

// Controlled mode (an exploration, src/explore, docs/explore.md): the threads of a scenario run
// one at a time under a scheduler, and a wait is a scheduling decision, not a sleep. The scheduler
// sets g_park_control for the exploration's life and tls_controlled on each thread it runs; park()
// of a controlled thread then goes to control->park, which returns once the scheduler runs the
// thread again (after an unpark of the address, which every unpark reports to control->unpark
// first). Set from above (the explore module itself), never read on a fast path: park and unpark
// are slow paths, and the lock algorithms read controlled() only in their contended loops.
// timeout_ns is the park's: below kParkBoundNs (lock/wait_observer.h) it is a real timeout, which
// the scheduler expires in virtual time; at or above it, a re-check bound, which it ignores.
struct ParkControl {
    ParkResult (*park)(const void *address, std::uint32_t expected, std::uint64_t timeout_ns, ParkValidation validate,
                       const void *context) noexcept;
    void (*unpark)(const void *address) noexcept;
};
extern std::atomic<const ParkControl *> g_park_control;
// The calling thread runs under an exploration's scheduler. Initial-exec: read in signal handlers.
extern constinit thread_local bool tls_controlled __attribute__((tls_model("initial-exec")));

// Whether the calling thread is controlled: its waits then spin no budget (nothing else runs while
// it spins, so a spin can only fail) and take no decision from the clock (starvation hand-offs), so
// that a schedule depends on the scheduler's choices only.
inline bool controlled() noexcept { return tls_controlled; }

// A controlled thread's sleep (KeDelayExecutionThread, NdisMSleep): a timed park nobody ends,
// until platform::monotonic_ns() (the schedule's virtual clock) reaches deadline_ns, which the
// scheduler expires in virtual time while the other threads run.
void park_until(std::uint64_t deadline_ns) noexcept;

} // namespace ndislock::lock
