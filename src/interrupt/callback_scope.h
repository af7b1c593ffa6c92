// Running a driver routine: what every ISR, DPC, synchronize function and miniport handler call
// goes through. It marks the thread as inside the routine (for the watchdog and the verifier's
// messages), tells observers before and after (with the routine's own running time), and puts
// the IRQL back to what the routine was entered at if the routine changed it (the verifier has
// reported LockHeldAtCallbackReturn by then), so one broken routine does not wreck the model.
#pragma once

#include <cstdio>

#include "model/apc_state.h"
#include "model/processors.h"
#include "observe/hooks.h"
#include "platform/clock.h"
#include "platform/diagnostics.h"
#include "platform/own_time.h"

namespace ndislock::interrupt {

class CallbackScope {
public:
    CallbackScope(model::ThreadState &t, observe::Callback kind, const void *routine, const void *object,
                  const observe::Site &site) noexcept
        : t_(t), event_{kind, routine, object, t.irql().load(std::memory_order_relaxed), site, &t},
          saved_kind_(t.callback.kind.load(std::memory_order_relaxed)),
          saved_object_(t.callback.object.load(std::memory_order_relaxed)),
          saved_since_(t.callback.since_ns.load(std::memory_order_relaxed)),
          saved_routine_(t.callback.routine.load(std::memory_order_relaxed)) {
        t.callback.object.store(object, std::memory_order_relaxed);
        t.callback.routine.store(routine, std::memory_order_relaxed);
        t.callback.since_ns.store(platform::monotonic_ns(), std::memory_order_relaxed);
        t.callback.kind.store(static_cast<std::uint8_t>(kind), std::memory_order_release);
        if (observe::active()) observe::notify_callback_entered(event_);
        const model::ApcState &apc = model::this_thread_apc_state();
        critical_at_entry_ = apc.critical;
        guarded_at_entry_ = apc.guarded;
        start_ = platform::own_time_now();
    }

    // After the routine returned: its own running time (or platform::kDescheduled).
    std::uint64_t finish() noexcept {
        const std::uint64_t own = platform::own_time_since(start_);
        if (observe::active()) observe::notify_callback_returned(event_, own);
        check_regions();
        restore_irql();
        t_.callback.kind.store(saved_kind_, std::memory_order_release);
        t_.callback.object.store(saved_object_, std::memory_order_relaxed);
        t_.callback.since_ns.store(saved_since_, std::memory_order_relaxed);
        t_.callback.routine.store(saved_routine_, std::memory_order_relaxed);
        return own;
    }

    CallbackScope(const CallbackScope &) = delete;
    CallbackScope &operator=(const CallbackScope &) = delete;

private:
    // A routine that returns inside a critical or guarded region it entered (KeEnter*Region, or an
    // acquire that enters one: a kernel or guarded mutex it still owns) is the bug check Windows
    // makes of it, with the verifier on or off; the verifier has said what it still holds.
    void check_regions() noexcept {
        const model::ApcState &apc = model::this_thread_apc_state();
        const bool critical = apc.critical > critical_at_entry_;
        if (!critical && apc.guarded <= guarded_at_entry_) return;
        const char *region = critical ? "Critical" : "Guarded";
        char detail[400];
        std::snprintf(detail, sizeof detail,
                      "%s (%p) returns inside a %s region it entered (KeEnter%sRegion, or a mutex acquire that "
                      "enters one, without its leave or release): bug check 0x1 APC_INDEX_MISMATCH%s on Windows",
                      observe::callback_role(event_.kind), event_.routine, critical ? "critical" : "guarded", region,
                      event_.kind == observe::Callback::WorkItem ? " (parameter 4: 1, a worker routine)" : "");
        const observe::Site site = event_.site.file != nullptr || event_.site.return_address != nullptr
                                       ? event_.site
                                       : observe::Site{nullptr, 0, nullptr, event_.routine};
        observe::report_misuse(observe::Rule::BugCheck, site, detail);
        platform::fatal("BugCheck: %s", detail); // reached only if an observer let it go on
    }

    void restore_irql() noexcept {
        const KIRQL now = t_.irql().load(std::memory_order_relaxed);
        const KIRQL want = event_.irql;
        if (now == want) return;
        if (now < DISPATCH_LEVEL && want >= DISPATCH_LEVEL)
            model::raise_irql(t_, want); // it dropped its processor: take it again
        else if (now >= DISPATCH_LEVEL && want < DISPATCH_LEVEL)
            model::lower_irql(t_, want);
        else
            t_.irql().store(want, std::memory_order_relaxed);
    }

    model::ThreadState &t_;
    observe::CallbackEvent event_;
    std::uint8_t saved_kind_;
    const void *saved_object_;
    std::uint64_t saved_since_;
    const void *saved_routine_;
    platform::OwnTimeStamp start_{};
    std::uint32_t critical_at_entry_ = 0;
    std::uint32_t guarded_at_entry_ = 0;
};

} // namespace ndislock::interrupt
