// How the checks write a report: the holds open on the reporting thread go untimed, a site inside
// library code names the driver's frame, and the common fields come from the lock event.
#include "verifier/checks_internal.h"

#include "platform/diagnostics.h"

namespace ndislock::verifier {

// Marks the holds now open on the reporting thread, and the callbacks it is running, as untimed:
// a report takes far longer (formatting, symbolizing, writing) than any hold budget, and is not
// the driver's time.
void untime_holds(model::ThreadState *t) noexcept {
    if (t == nullptr) return;
    if (VerifierThread *v = verifier_thread_of(*t)) {
        for (unsigned i = 0, d = v->depth.load(std::memory_order_relaxed); i < d && i < kMaxHeld; ++i)
            v->held[i].untimed = true;
        for (unsigned i = 0, n = v->callbacks.load(std::memory_order_relaxed); i < n && i < kMaxCallbackNesting; ++i)
            v->callback[i].untimed = true;
    }
}

// A report's own site inside library code (sites.h: library_file) names the driver's frame on this
// thread's stack, found only now: a release, an IRQL change, a free or another call keeps no site
// unless it reports, so those walk the stack only then. (Stored sites, r.other's, were resolved
// when they were kept.)
void emit(const Report &r) {
    untime_holds(r.thread);
    if (__builtin_expect(!library_file(r.site.file), 1)) return report(r);
    Report driver = r;
    driver.site = driver_site_from_stack(r.site);
    report(driver);
}
// A report whose site was kept (resolved when it was stored, or found unresolvable then): this
// thread's stack now says nothing of it.
void emit_kept_site(const Report &r) {
    untime_holds(r.thread);
    report(r);
}

Report base(Rule rule, const LockEvent &e, const Shadow *s, std::string explanation) {
    Report r(rule);
    r.site = e.site;
    r.explanation = std::move(explanation);
    r.lock = e.lock;
    r.lock_class = s != nullptr ? s->lock_class.load(std::memory_order_relaxed) : kOverflowClass;
    r.thread = e.thread;
    r.irql = e.irql;
    return r;
}

Report report_base(Rule rule, const LockEvent &e, const Shadow *s, std::string explanation) {
    return base(rule, e, s, std::move(explanation));
}
void emit_report(const Report &r) { emit(r); }

// Where the holder of lock (entry s) took it, if the holder is known.
bool holder_site(const Shadow *s, const void *lock, Site *out, int *os_tid) noexcept {
    model::ThreadState *ht = live_holder(s, lock);
    if (ht == nullptr) return false;
    VerifierThread *hv = verifier_thread_of(*ht);
    if (hv == nullptr) return false;
    unsigned slot = s->holder_slot.load(std::memory_order_relaxed);
    if (slot >= kMaxHeld || hv->held[slot].lock.load(std::memory_order_relaxed) != lock) {
        const int found = find_held(*hv, lock); // the slot was rewritten meanwhile
        if (found < 0) return false;
        slot = static_cast<unsigned>(found);
    }
    *out = hv->held[slot].site();
    *os_tid = ht->os_tid.load(std::memory_order_relaxed);
    return true;
}

void untime_open_holds(model::ThreadState *t) noexcept { untime_holds(t); }

} // namespace ndislock::verifier
