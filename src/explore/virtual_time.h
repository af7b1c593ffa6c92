// A schedule's clock (docs/explore.md, "Virtual time"). Inside a schedule the scheduler's threads
// read this instead of CLOCK_MONOTONIC (platform::g_virtual_clock): it starts at kStartNs, moves
// kStepNs per scheduling point, and jumps forward to a blocked thread's deadline when every
// thread is blocked and one of them waits with a timeout (which then expires, as a real timeout
// would once the others can do nothing). So budgets, durations and timeouts depend on the
// schedule's choices alone, and a replay sees the same times.
#pragma once

#include <cstdint>

namespace ndislock::explore::virtual_time {

inline constexpr std::uint64_t kStartNs = 1'000'000'000; // not 0: 0 means "never" to many readers
inline constexpr std::uint64_t kStepNs = 1'000;

// Installs (steps: the schedule's step counter, read by now()) or removes the clock.
void install(const std::uint64_t *steps) noexcept;
// A schedule begins: time back to kStartNs.
void begin() noexcept;
std::uint64_t now() noexcept;
// Time moves forward to at least ns.
void advance_to(std::uint64_t ns) noexcept;
// Whether a park's timeout is one (below lock::kParkBoundNs), not a re-check bound.
bool is_timeout(std::uint64_t timeout_ns) noexcept;

} // namespace ndislock::explore::virtual_time
