// Running a driver routine: what every ISR, DPC, synchronize function and miniport handler call
// goes through. It marks the thread as inside the routine (for the watchdog and the verifier's
// messages), tells observers before and after (with the routine's own running time), and puts
// the IRQL back to what the routine was entered at if the routine changed it (the verifier has
// reported LockHeldAtCallbackReturn by then), so one broken routine does not wreck the model.
#pragma once

#include "model/processors.h"
#include "observe/hooks.h"
#include "platform/clock.h"
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
        start_ = platform::own_time_now();
    }

    // After the routine returned: its own running time (or platform::kDescheduled).
    std::uint64_t finish() noexcept {
        const std::uint64_t own = platform::own_time_since(start_);
        if (observe::active()) observe::notify_callback_returned(event_, own);
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
};

} // namespace ndislock::interrupt
