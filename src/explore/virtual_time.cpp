#include "explore/virtual_time.h"

#include <atomic>

#include "lock/wait_observer.h"
#include "platform/clock.h"

namespace ndislock::explore::virtual_time {

namespace {

// Read and written by the baton's holder only (the clock is read on the scheduler's threads).
const std::uint64_t *g_steps = nullptr;
std::uint64_t g_skipped = 0; // the jumps so far in this schedule

std::uint64_t clock() noexcept { return now(); }
void stalled(std::uint64_t ns) noexcept { advance_to(now() + ns); }

} // namespace

void install(const std::uint64_t *steps) noexcept {
    g_steps = steps;
    g_skipped = 0;
    platform::g_virtual_advance.store(steps != nullptr ? stalled : nullptr, std::memory_order_release);
    platform::g_virtual_clock.store(steps != nullptr ? clock : nullptr, std::memory_order_release);
}

void begin() noexcept { g_skipped = 0; }

std::uint64_t now() noexcept { return kStartNs + (g_steps != nullptr ? *g_steps : 0) * kStepNs + g_skipped; }

void advance_to(std::uint64_t ns) noexcept {
    const std::uint64_t current = now();
    if (ns > current) g_skipped += ns - current;
}

bool is_timeout(std::uint64_t timeout_ns) noexcept { return timeout_ns < lock::kParkBoundNs; }

} // namespace ndislock::explore::virtual_time
