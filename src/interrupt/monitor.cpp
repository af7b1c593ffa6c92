// The report of an ISR or DPC that never returns: Windows' DPC watchdog (bug check 0x133),
// verifier on or off. The watchdog thread (observe/watchdog.h) finds it and calls report_hang.
//
// An ISR or DPC that has not returned after the watchdog limit (NDISLOCK_WATCHDOG_MS, default
// 2000 ms) never will: typically an ISR spinning on a spin lock held by the very code it
// interrupted, which cannot run again on that processor until the ISR returns. The report names
// the routine, what it waits for, the interrupted thread, where that thread was stopped and its
// stack (so the frame that took the lock is visible even without the verifier's acquisition
// records); then the process ends, instead of hanging CI. With the verifier on, its own
// same-processor check usually reports the deadlock first, at the ISR's acquire.
#include <string>

#include "interrupt/processor_context.h"
#include "model/preemption.h"
#include "model/processors.h"
#include "observe/hooks.h"
#include "observe/lock_names.h"
#include "observe/watchdog.h"
#include "platform/diagnostics.h"
#include "platform/format.h"
#include "platform/symbolizer.h"

namespace ndislock::interrupt {

namespace {

using platform::format;

// Sites hold return addresses, which the verifier's resolver looks up one byte back (the call); a
// code address that is not a return address (a routine's entry) is passed one byte on, so the
// lookup lands on it.
const void *as_return_address(const void *code) { return static_cast<const char *>(code) + 1; }

// The source frame of the instruction at pc that the driver wrote, as the verifier's reports name
// it (platform::pick_driver_frame): an atomic load or an ndislock inline function inlined there
// is reported at the driver's line that used it. Straight from the symbolizer (the report this
// serves ends the process: nothing is worth caching). Runs on the watchdog's thread, not in an
// emulated interrupt.
struct Where {
    std::string file, function;
    int line = 0;
};
Where resolve(const void *pc) {
    platform::Symbolized s;
    if (!platform::symbolize(pc, &s) || s.frames.empty()) return Where{"", s.symbol, 0};
    const platform::InlinedFrame f = platform::pick_driver_frame(s.frames);
    return Where{f.file, f.function, f.line};
}

std::string where(const void *pc) {
    const Where w = resolve(pc);
    std::string out;
    if (!w.file.empty())
        out += format("%s:%d in %s", w.file.c_str(), w.line, w.function.empty() ? "?" : w.function.c_str());
    else
        out += format("%p (%s)", pc, w.function.empty() ? "no symbol" : w.function.c_str());
    return out;
}

// The stopped thread's frames outside ndislock's stopping machinery, symbolized.
std::string stack_of(model::ThreadState &stopped) {
    void *frames[24];
    const int n = model::stopped_stack(stopped, frames, 24);
    std::string out;
    int shown = 0;
    for (int k = 0; k < n && shown < 6; ++k) {
        // Frames are return addresses: look at the call, one byte back.
        const Where r = resolve(static_cast<const char *>(frames[k]) - 1);
        // Skip the stopping machinery itself: ndislock's handler and a sanitizer's signal relay.
        if (r.file.empty() || r.file.find("model/preemption") != std::string::npos ||
            r.file.find("libsanitizer") != std::string::npos)
            continue;
        out += format("\n      %s:%d in %s", r.file.c_str(), r.line, r.function.empty() ? "?" : r.function.c_str());
        ++shown;
    }
    return out;
}

// The callback-hang reporter of the watchdog: t, an ISR or DPC thread, has run its routine for
// ran_ns, over the limit.
[[noreturn]] void report_hang(model::ThreadState &t, std::uint64_t ran_ns) noexcept {
    const std::uint32_t index = t.processor().load(std::memory_order_relaxed); // an interrupt thread's, for good
    const std::uint64_t ran_ms = ran_ns / 1'000'000;
    const auto kind = static_cast<observe::Callback>(t.callback.kind.load(std::memory_order_acquire));
    const void *routine = t.callback.routine.load(std::memory_order_relaxed);
    std::string text = format("%s on processor %u has not returned after %llu ms (the watchdog limit is %llu ms)",
                              observe::callback_name(kind), index, static_cast<unsigned long long>(ran_ms),
                              static_cast<unsigned long long>(observe::g_watchdog_limit_ns.load() / 1'000'000));
    if (t.wait.kind.load(std::memory_order_acquire) != lock::WaitKind::None) {
        const void *object = t.wait.object.load(std::memory_order_relaxed);
        const char *name = observe::lock_name(object);
        text +=
            format("; it spins on %s %p%s%s%s", t.wait.kind.load() == lock::WaitKind::Processor ? "processor" : "lock",
                   object, name != nullptr ? " \"" : "", name != nullptr ? name : "", name != nullptr ? "\"" : "");
    }
    if (model::ThreadState *stopped = model::thread_by_id(t.preemption.interrupting.load(std::memory_order_acquire))) {
        text += format("; it interrupted thread %d at IRQL %u, stopped at %s, which cannot run again on this processor "
                       "until the ISR returns",
                       stopped->os_tid.load(std::memory_order_relaxed), stopped->preemption.stopped_irql.load(),
                       where(stopped->preemption.stopped_at.load()).c_str());
        const std::string stack = stack_of(*stopped);
        if (!stack.empty()) text += "; the interrupted thread's stack (the frame holding the lock is here):" + stack;
    }
    text += ". On Windows: a hang, then bug check 0x133 DPC_WATCHDOG_VIOLATION";
    // About the routine's thread (its processor and IRQL), not the watchdog's that writes it.
    observe::report_misuse_for(t, observe::Rule::Deadlock,
                               observe::Site{nullptr, 0, nullptr, as_return_address(routine)}, text.c_str());
    platform::fatal("Deadlock: %s", text.c_str()); // an observer reported it and returned: end anyway
}

} // namespace

// The watchdog thread itself is started by the composition root (root/startup.cpp); from here on
// it also looks at the interrupt and DPC threads' routines.
void start_monitor() noexcept { observe::set_callback_hang_reporter(report_hang); }

} // namespace ndislock::interrupt
