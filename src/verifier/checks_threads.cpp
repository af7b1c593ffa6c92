// A thread ending, or ending the process, while it holds spin locks or is above PASSIVE_LEVEL
// (ThreadExitHoldingLock).
#include "verifier/checks_internal.h"

#include "verifier/settings.h"

namespace ndislock::verifier {

// ThreadExitHoldingLock for thread t, ending (how: "ends", or the process's end).
void check_thread_end(model::ThreadState &t, const char *how) {
    VerifierThread *v = verifier_thread_of(t);
    const KIRQL irql = t.irql().load(std::memory_order_relaxed);
    const unsigned depth = v != nullptr && !v->overflowed ? v->depth.load(std::memory_order_relaxed) : 0;
    if (depth == 0 && irql == PASSIVE_LEVEL) return;
    Report r(Rule::ThreadExitHoldingLock);
    r.thread = &t;
    if (depth != 0) {
        r.site = v->held[depth - 1].site();
        r.lock = v->held[depth - 1].lock.load(std::memory_order_relaxed);
        r.lock_class = v->held[depth - 1].lock_class;
        r.explanation = format("thread %d %s holding %u spin lock%s (the last taken is shown), at IRQL %u: "
                               "whoever waits for them waits forever",
                               t.os_tid.load(std::memory_order_relaxed), how, depth, depth == 1 ? "" : "s", irql);
    } else {
        r.explanation = format("thread %d %s at IRQL %u: a thread must return to PASSIVE_LEVEL before it ends",
                               t.os_tid.load(std::memory_order_relaxed), how, irql);
        // Where it went up: KeRaiseIrql from PASSIVE_LEVEL, or else the acquire of the lock it
        // released last (a raising acquire released by a form that does not lower).
        if (v != nullptr && v->raised_from_passive.file != nullptr) {
            r.site = v->raised_from_passive;
            r.explanation += " (raised here, never lowered)";
        } else if (v != nullptr && v->last_released.lock.load(std::memory_order_relaxed) != nullptr) {
            r.site = v->last_released.site();
            r.lock = v->last_released.lock.load(std::memory_order_relaxed);
            if (const Shadow *shadow = shadow_find(r.lock); shadow != nullptr)
                r.lock_class = shadow->lock_class.load(std::memory_order_relaxed);
            else
                r.lock = nullptr; // freed since: its class is gone
            r.explanation += " (the last lock it released was acquired here: did its release restore the IRQL?)";
        }
    }
    emit_kept_site(r);
}

void on_thread_exiting(model::ThreadState &t) noexcept {
    check_thread_end(t, "ends");
    release_verifier_thread(t);
}

void check_process_exit() noexcept {
    // Only while the verifier is on (its observer registered), as for any other finding.
    if (g_settings.mode.load(std::memory_order_relaxed) == NDISLOCK_VERIFIER_OFF) return;
    model::ThreadState *t = model::tls_thread;
    if (t == nullptr || !observe::active()) return;
    check_thread_end(*t, "ends the process (a return from main, or exit)");
}

} // namespace ndislock::verifier
