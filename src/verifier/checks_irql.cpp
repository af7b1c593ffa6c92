// IRQL changes (an IRQL dropped while spin locks are held) and the misuse the lower layers report
// themselves (observe::Observer::misuse).
#include "verifier/checks_internal.h"

namespace ndislock::verifier {

void check_irql_drop(VerifierThread &v, model::ThreadState *thread, KIRQL to, const Site &site) {
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    if (depth == 0) return;
    Report r(Rule::IrqlDroppedWhileHoldingLock);
    r.site = site;
    r.thread = thread;
    r.lock = v.held[0].lock.load(std::memory_order_relaxed);
    r.lock_class = v.held[0].lock_class;
    r.explanation = format("the IRQL drops to %u while %u spin lock%s still held: the code after this runs "
                           "preemptible with the lock held (release spin locks in the reverse order of their "
                           "acquires; each release restores the IRQL its own acquire saved)",
                           to, depth, depth == 1 ? " is" : "s are");
    r.other = v.held[0].site();
    r.other_role = "still held, acquired at";
    emit(r);
}

// KeLowerIrql (and KeRaiseIrql); releases check their own IRQL drop in on_releasing.
void on_irql_changed(const observe::IrqlEvent &ev) noexcept {
    if (ev.to > ev.from) {
        if (ev.from == PASSIVE_LEVEL) verifier_thread(*ev.thread).raised_from_passive = ev.site;
        return;
    }
    if (ev.to != PASSIVE_LEVEL && (ev.to >= DISPATCH_LEVEL || ev.from < DISPATCH_LEVEL)) return;
    VerifierThread &v = verifier_thread(*ev.thread); // once: every lowering release comes here
    if (ev.to == PASSIVE_LEVEL && v.raised_from_passive.file != nullptr) v.raised_from_passive = Site{};
    if (ev.to >= DISPATCH_LEVEL || ev.from < DISPATCH_LEVEL) return;
    v.owed_irql = VerifierThread::kNoOwedIrql; // a saved IRQL handed on is restored (or dropped below)
    if (!v.overflowed) check_irql_drop(v, ev.thread, ev.to, ev.site);
}

bool on_misuse(Rule rule, const Site &site, const char *detail) noexcept {
    Report r(rule);
    r.site = site;
    r.explanation = detail;
    model::ThreadState *about = observe::misuse_thread();
    r.thread = about != nullptr ? about : &model::current_thread();
    emit(r);
    return true;
}

} // namespace ndislock::verifier
