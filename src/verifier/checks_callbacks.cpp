// The driver routines ndislock runs (ISRs, DPCs, synchronize functions...): a routine that returns
// holding spin locks or at another IRQL (LockHeldAtCallbackReturn), or runs over its budget
// (IsrTooLong, DpcTooLong); and which routine runs now, for other reports.
#include "verifier/checks_internal.h"

#include <cstdio>

#include "model/apc_state.h"
#include "platform/membarrier.h"
#include "verifier/hold_times.h"
#include "verifier/lock_classes.h"
#include "verifier/long_holds.h"
#include "verifier/settings.h"

namespace ndislock::verifier {

namespace {

// Where a callback report points: the call that ran it (NdisMSynchronizeWithInterruptEx's caller)
// when the core knows it, else the routine itself (its address, which resolves to the routine:
// note_routine in sites.h).
Site callback_site(const observe::CallbackEvent &e) noexcept {
    if (e.site.file != nullptr || e.site.return_address != nullptr) return e.site;
    return Site{nullptr, 0, nullptr, e.routine};
}

// LockHeldAtCallbackReturn: locks the routine took and still holds, or another IRQL than it was
// entered at (thread->irql is still what the routine left: the core restores it afterwards).
// A routine that returns at its IRQL with no spin lock of its own, but holding a mutex, fast mutex
// or resource it took (LockHeldAtCallbackReturn). A fast mutex shows as the IRQL already
// (APC_LEVEL): that report is the one made. A region it entered is the core's BugCheck after this.
void check_callback_return_sleeping_locks(const observe::CallbackEvent &e, const CallbackFrame &f, VerifierThread &v,
                                          model::ThreadState &t) {
    const unsigned wait_depth = v.wait_overflowed ? 0 : v.wait_depth.load(std::memory_order_relaxed);
    const std::string who = callback_description(e.kind, e.routine);
    if (wait_depth > f.wait_depth_at_entry && f.wait_depth_at_entry < kMaxWaitHeld) {
        const WaitHeld &w = v.wait_held[f.wait_depth_at_entry];
        const unsigned kept = wait_depth - f.wait_depth_at_entry;
        Report r(Rule::LockHeldAtCallbackReturn);
        r.site = callback_site(e);
        r.thread = &t;
        r.other = w.site();
        r.other_role = "it was acquired at";
        r.explanation = format("%s returns holding %u mutex%s, fast mutex%s or resource%s it acquired (%p%s): the "
                               "next work the thread runs, and every thread waiting for it, waits for a release "
                               "that never comes",
                               who.c_str(), kept, kept == 1 ? "" : "es", kept == 1 ? "" : "es", kept == 1 ? "" : "s",
                               w.object.load(std::memory_order_relaxed), kept == 1 ? "" : ", the first is shown");
        return emit(r);
    }
    // Inside a region it entered: the core's BugCheck (interrupt/callback_scope.h), on every build.
}

void check_callback_return(const observe::CallbackEvent &e, const CallbackFrame &f, VerifierThread &v,
                           model::ThreadState &t) {
    const KIRQL now = t.irql().load(std::memory_order_relaxed);
    const unsigned depth = v.overflowed ? 0 : v.depth.load(std::memory_order_relaxed);
    unsigned taken = 0;
    int first = -1;
    for (unsigned i = 0; i < depth && i < kMaxHeld; ++i) {
        if (v.held[i].seq < f.first_seq) continue;
        if (first < 0) first = static_cast<int>(i);
        ++taken;
    }
    if (taken == 0 && now == e.irql) return check_callback_return_sleeping_locks(e, f, v, t);
    Report r(Rule::LockHeldAtCallbackReturn);
    r.site = callback_site(e);
    r.thread = &t;
    const std::string who = callback_description(e.kind, e.routine);
    char irql_part[160] = "";
    if (now != e.irql)
        std::snprintf(irql_part, sizeof irql_part,
                      "; it also returns at IRQL %u (%s), not at the IRQL %u (%s) it was entered at", now,
                      irql_name(now), e.irql, irql_name(e.irql));
    if (taken != 0) {
        const HeldLock &h = v.held[first];
        r.lock = h.lock.load(std::memory_order_relaxed);
        r.lock_class = h.lock_class;
        r.other = h.site();
        r.other_role = "the lock was acquired at";
        r.explanation =
            format("%s returns holding %u spin lock%s it acquired (%s%s)%s: a callback must release every "
                   "lock it takes before it returns; left held, %s every later acquire spin, on any "
                   "processor",
                   who.c_str(), taken, taken == 1 ? "" : "s", class_string(h.lock_class).c_str(),
                   taken == 1 ? "" : ", the first is shown", irql_part, taken == 1 ? "it makes" : "they make");
    } else {
        r.explanation = format("%s was entered at IRQL %u (%s) and returns at IRQL %u (%s): a callback must return at "
                               "the IRQL it was called at (ndislock puts the IRQL back; Windows would run the rest of "
                               "the processor's work at the wrong IRQL)",
                               who.c_str(), e.irql, irql_name(e.irql), now, irql_name(now));
    }
    emit(r);
    // A routine run inline on a driver thread (a DPC delivered as that thread dropped its IRQL):
    // the locks it left held are not the thread's, whose next wait or exit would otherwise be a
    // finding of its own about locks it never took, present or not as the DPC ran inline or on
    // its processor's DPC thread. On ndislock's own DPC and interrupt threads they stay: a later
    // routine of that processor may release them, as on Windows.
    if (taken != 0 && !t.system) forget_holds_from(v, f.first_seq);
}

// IsrTooLong / DpcTooLong: the routine's own running time against its budget. A run far over
// budget by the heartbeat's count (counted_ns, long_holds.h) is reported the first time; a
// marginal overrun on the third overrun in a row of the same routine (hold_times.h says why).
void check_callback_time(const observe::CallbackEvent &e, std::uint64_t own_ns, std::uint64_t counted_ns,
                         model::ThreadState &t) {
    const bool device = at_device_level(e.kind);
    if (!device && !is_dpc(e.kind)) return;
    const std::uint64_t budget = device ? g_settings.isr_budget_ns.load(std::memory_order_relaxed)
                                        : g_settings.dpc_budget_ns.load(std::memory_order_relaxed);
    // A run the heartbeat reached has lost its wall-time witness (a signal's delivery moves it): its
    // count stands in when it shows an overrun (a lower bound says nothing under the budget).
    if (own_ns == platform::kDescheduled && counted_ns > budget) own_ns = counted_ns;
    // In an exploration's schedule own_ns is virtual (platform/own_time.h): exact, so the first
    // run over budget is the finding, and a replay finds it again.
    const bool exact = platform::tls_virtual_clock && own_ns != platform::kDescheduled;
    const bool streak = !exact && confirm_callback_overrun(e.routine, own_ns, budget);
    const std::uint64_t proven = counted_ns;
    const bool far_over = !exact && proven >= far_over_ns(budget);
    if (exact ? own_ns <= budget : !far_over && !streak) return;
    Report r(device ? Rule::IsrTooLong : Rule::DpcTooLong);
    r.site = callback_site(e);
    r.thread = &t;
    const std::string who = callback_description(e.kind, e.routine);
    const std::string how =
        exact ? format("ran for %.1f us of its own time in the schedule's virtual time (%.1fx the budget), over",
                       static_cast<double>(own_ns) / 1000.0, static_cast<double>(own_ns) / static_cast<double>(budget))
        : far_over
            ? format("ran for at least %.1f us of its own running time (%.0fx the budget: reported the first "
                     "time), over",
                     static_cast<double>(proven) / 1000.0, static_cast<double>(proven) / static_cast<double>(budget))
            : format("ran for %.1f us of its own running time (the third run in a row over budget), over",
                     static_cast<double>(own_ns) / 1000.0);
    const double budget_us = static_cast<double>(budget) / 1000.0;
    if (device)
        r.explanation = format("%s %s the %.1f us budget for code at DIRQL: nothing else runs on its processor "
                               "meanwhile, not even DPCs; do the minimum there (read and acknowledge the device, save "
                               "what the DPC needs) and leave the rest to MiniportInterruptDPC",
                               who.c_str(), how.c_str(), budget_us);
    else
        r.explanation = format("%s %s the %.1f us DPC budget: every other DPC and thread of its processor waits "
                               "meanwhile; bound the work per DPC (a receive budget per call, then queue the DPC "
                               "again) or move it to a work item at PASSIVE_LEVEL",
                               who.c_str(), how.c_str(), budget_us);
    emit(r);
}

} // namespace

void on_callback_entered(const observe::CallbackEvent &e) noexcept {
    model::ThreadState &t = e.thread != nullptr ? *e.thread : model::current_thread();
    VerifierThread &v = verifier_thread(t);
    note_routine(e.routine); // its address now resolves to it (sites.h)
    const unsigned n = v.callbacks.load(std::memory_order_relaxed);
    if (n < kMaxCallbackNesting) {
        CallbackFrame &f = v.callback[n];
        f.routine.store(e.routine, std::memory_order_relaxed);
        f.kind.store(static_cast<std::uint8_t>(e.kind), std::memory_order_relaxed);
        f.object = e.object;
        f.first_seq = v.next_seq;
        f.run = v.next_run++;
        f.untimed = false;
        f.wait_depth_at_entry = v.wait_depth.load(std::memory_order_relaxed);
        if (n == 0) {
            v.outer_run.store(f.run, std::memory_order_release);
            platform::light_fence(); // a first routine: as for a first lock (push_held)
            wake_sentinel_if_napping();
        }
    }
    v.callbacks.store(n + 1, std::memory_order_release);
}

void on_callback_returned(const observe::CallbackEvent &e, std::uint64_t own_ns) noexcept {
    model::ThreadState &t = e.thread != nullptr ? *e.thread : model::current_thread();
    VerifierThread &v = verifier_thread(t);
    unsigned n = v.callbacks.load(std::memory_order_relaxed);
    if (n == 0) return; // entered before the verifier was on
    --n;
    v.callbacks.store(n, std::memory_order_release);
    if (n >= kMaxCallbackNesting) return; // nested too deep to be tracked
    CallbackFrame &f = v.callback[n];
    if (f.routine.load(std::memory_order_relaxed) != e.routine ||
        f.kind.load(std::memory_order_relaxed) != static_cast<std::uint8_t>(e.kind) || f.object != e.object) {
        // Out of step (a routine's return that does not match its entry, which the nesting of
        // callbacks rules out unless the record was lost): start afresh. A switch of the verifier
        // inside a callback empties the record (held_locks.cpp), so that return finds none.
        v.callbacks.store(0, std::memory_order_release);
        v.outer_run.store(kNoSeq, std::memory_order_release);
        return;
    }
    // Before a report below marks the outer callbacks. A schedule's run is timed in virtual time,
    // which nothing makes untimed and the heartbeat's real-time count does not measure.
    const bool virtual_time = platform::tls_virtual_clock;
    const bool untimed = f.untimed && !virtual_time;
    const std::uint64_t counted_ns =
        !virtual_time && !f.untimed && v.run_beat.want.load(std::memory_order_relaxed) == f.run
            ? counted_own_ns(v.run_beat, f.run, model::interrupt_marks(t),
                             v.verifier_ns.load(std::memory_order_relaxed))
            : 0;
    if (n == 0) {
        v.outer_run.store(kNoSeq, std::memory_order_release);
        v.beat_counted.store(false, std::memory_order_relaxed);
    }
    check_callback_return(e, f, v, t);
    check_callback_time(e, untimed ? platform::kDescheduled : own_ns, counted_ns, t);
}

std::string callback_description(observe::Callback kind, const void *routine) {
    const char *role = observe::callback_role(kind);
    if (routine == nullptr) return role;
    return std::string(role) + " " + routine_name(routine);
}

RunningCallback running_callback(model::ThreadState &t) noexcept {
    RunningCallback out;
    VerifierThread *v = verifier_thread_of(t);
    if (v == nullptr) return out;
    const unsigned n = v->callbacks.load(std::memory_order_acquire);
    if (n == 0 || n > kMaxCallbackNesting) return out;
    out.kind = static_cast<observe::Callback>(v->callback[n - 1].kind.load(std::memory_order_relaxed));
    out.routine = v->callback[n - 1].routine.load(std::memory_order_relaxed);
    return out;
}

} // namespace ndislock::verifier
