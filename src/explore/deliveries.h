// Interrupts and DPCs delivered inside a schedule, at the scheduler's choice (docs/explore.md,
// "Interrupts and DPCs").
//
// While a schedule is set up or runs, an assert only makes its interrupt pending and a DPC insert
// only queues its DPC (interrupt/scheduled_delivery.h): no ISR or DPC thread runs. Pending work
// toward processor P is then run in one of two ways, both on controlled threads:
//   - inline, on a context running on P below the interrupt's DIRQL (at DISPATCH_LEVEL and owning
//     P, or below it with P free), at one of its scheduling points: the strategy is offered the
//     delivery there as one more option (Strategy::take_extra). The ISR runs on that context at
//     DIRQL and returns to the interrupted code, as an interrupt does;
//   - on P's delivery context: a controlled context the scheduler adds when work becomes pending
//     toward P and none is live. It runs when the strategy picks it, like any context: it takes P
//     as a raise takes it (waiting while P's code is at DISPATCH_LEVEL or above), delivers the
//     pending interrupts, then runs P's DPCs, with a scheduling point between two, and returns
//     when nothing is pending toward P.
// A DPC also runs where Windows runs it: at the drop below DISPATCH_LEVEL of the context that
// owns its processor (model::lower_irql drains the queue), and before KeInsertQueueDpc returns
// toward the caller's own processor from below DISPATCH_LEVEL.
#pragma once

#include <cstdint>

#include "model/thread_state.h"

namespace ndislock::explore {

// The schedule's deliveries begin (before its setup) or the exploration ends: nothing pending,
// no delivery context (interrupt::reset_scheduled_state).
void reset_deliveries() noexcept;
// Installs (true) or removes the interrupt side's ScheduleControl; controls() reads running.
void control_deliveries(bool install, bool (*controls)() noexcept) noexcept;

// Timers (virtual time, explore/virtual_time.h): expires those due by now; the earliest due time
// of a timer still set, in ns of virtual time (0: none).
void fire_due_timers() noexcept;
std::uint64_t next_timer_ns() noexcept;

// Whether an interrupt pending toward t's processor could be delivered on t at this point.
bool can_deliver_here(const model::ThreadState &t) noexcept;
// Delivers it (the strategy took the option).
void deliver_here(model::ThreadState &t) noexcept;

} // namespace ndislock::explore
