// The verifier's settings (ndislock/verifier.h): read from the environment when the library
// loads, changeable through the C API.
#pragma once

#include <atomic>
#include <cstdint>

#include "ndislock/ext.h"
#include "ndislock/verifier.h"

namespace ndislock::verifier {

// Each default once. 25 us is NDIS's guidance both for a spin lock's hold and for an ISR; the public
// NDISLOCK_HOLD_BUDGET_NS_DEFAULT (ndislock/ext.h, which the statistics use too) writes it.
inline constexpr std::uint64_t kDefaultHoldBudgetNs = NDISLOCK_HOLD_BUDGET_NS_DEFAULT; // LockHeldTooLong
inline constexpr std::uint64_t kDefaultIsrBudgetNs =
    NDISLOCK_HOLD_BUDGET_NS_DEFAULT;                          // IsrTooLong: ISR, synchronize, enable/disable
inline constexpr std::uint64_t kDefaultDpcBudgetNs = 100'000; // DpcTooLong: MiniportInterruptDPC, KDPC routines
// The hold-time sampling period. A timed hold costs two reads of the cheapest clock (the TSC,
// 8.6-13 ns each on the VMs measured, behind the witness load: platform/own_time.h) and a
// mispredicted branch now and then: at one hold in 8 that was more than all the acquire's checks
// together (docs/verifier.md, "Cost").
inline constexpr std::uint32_t kDefaultHoldSamplePeriod = NDISLOCK_HOLD_SAMPLE_DEFAULT;
inline constexpr std::uint32_t kMaxHoldSamplePeriod = 1'000'000;

struct Settings {
    std::atomic<int> mode{NDISLOCK_VERIFIER_ON};
    std::atomic<std::uint64_t> hold_budget_ns{kDefaultHoldBudgetNs};
    // One hold in this many is timed, on each thread: NDISLOCK_HOLD_SAMPLE (verifier.h).
    std::atomic<std::uint32_t> hold_sample_period{kDefaultHoldSamplePeriod};
    std::atomic<std::uint64_t> isr_budget_ns{kDefaultIsrBudgetNs};
    std::atomic<std::uint64_t> dpc_budget_ns{kDefaultDpcBudgetNs};
    std::atomic<int> exit_code{NDISLOCK_VERIFIER_EXITCODE_DEFAULT};
    // True when the verifier has watched every lock since the process started, so a lock it has
    // not seen allocated really is uninitialized (otherwise it is adopted).
    std::atomic<bool> on_since_start{false};
};

extern Settings g_settings;

// Reads the environment (NDISLOCK_VERIFIER and friends) once: at the first call into ndislock.
void configure_once() noexcept;

// Applies a mode: registers or removes the verifier's observer.
void apply_mode(NDISLOCK_VERIFIER_MODE mode) noexcept;
bool fatal_mode() noexcept;

// Where SARIF goes at exit ("" = nowhere).
void set_sarif_path(const char *path) noexcept;
const char *sarif_path() noexcept;
// True when the SARIF path set cannot be written (said at once on stderr; the exit status is the
// verifier's exit code then, findings or not).
extern std::atomic<bool> g_sarif_unwritable;

} // namespace ndislock::verifier
