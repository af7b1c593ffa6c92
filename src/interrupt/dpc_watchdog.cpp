// The modelled DPC watchdog's figures (KeQueryDpcWatchdogInformation): how long the running DPC
// and its processor's current run of back-to-back DPCs may still go on before their limits
// (observe/watchdog.h). The two clocks are the DPC thread's: its routine's start
// (ThreadState::callback.since_ns, kept by CallbackScope) and the run's (ProcessorContext::run_since_ns).
#include "interrupt/processor_context.h"
#include "observe/hooks.h"
#include "observe/watchdog.h"
#include "platform/clock.h"

namespace ndislock::interrupt {

namespace {

ULONG micros(std::uint64_t ns) noexcept {
    const std::uint64_t us = ns / 1000;
    return us > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<ULONG>(us);
}

ULONG left(std::uint64_t limit, std::uint64_t since, std::uint64_t now) noexcept {
    const std::uint64_t ran = since != 0 && now > since ? now - since : 0;
    return ran >= limit ? 0 : micros(limit - ran);
}

} // namespace

bool dpc_watchdog_information(const model::ThreadState &t, KDPC_WATCHDOG_INFORMATION *out) noexcept {
    *out = KDPC_WATCHDOG_INFORMATION{};
    const auto kind = static_cast<observe::Callback>(t.callback.kind.load(std::memory_order_acquire));
    if (kind != observe::Callback::KernelDpc && kind != observe::Callback::InterruptDpc) return false;
    const ProcessorContext &c = g_contexts[t.processor().load(std::memory_order_relaxed) % NDISLOCK_MAX_PROCESSORS];
    // A DPC routine runs on its processor's DPC thread, or on the thread that drops that
    // processor's IRQL below DISPATCH_LEVEL (dpc_queue.cpp, drain_at_drop): both set run_since_ns.
    if (c.dpc_thread.load(std::memory_order_acquire) != &t && c.run_since_ns.load(std::memory_order_relaxed) == 0)
        return false;
    const std::uint64_t now = platform::monotonic_ns();
    const std::uint64_t single = observe::dpc_time_limit_ns(), cumulative = observe::dpc_watchdog_limit_ns();
    out->DpcTimeLimit = micros(single);
    out->DpcTimeCount = left(single, t.callback.since_ns.load(std::memory_order_relaxed), now);
    out->DpcWatchdogLimit = micros(cumulative);
    out->DpcWatchdogCount = left(cumulative, c.run_since_ns.load(std::memory_order_relaxed), now);
    return true;
}

} // namespace ndislock::interrupt
