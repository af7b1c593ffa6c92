// Calls other than the lock calls that a held spin lock or the IRQL forbids: BlockingAtDispatch,
// NdisCallWhileHoldingLock.
#include "verifier/checks_internal.h"

namespace ndislock::verifier {

// NdisMSleep and friends: a call that can sleep needs PASSIVE_LEVEL and no spin lock held; any
// NDIS call other than the spin-lock ones needs no NDIS spin lock held. The worse finding wins.
void on_other_call(const char *name, bool blocking, bool ndis, const Site &site) noexcept {
    model::ThreadState &t = model::current_thread();
    VerifierThread &v = verifier_thread(t);
    if (v.overflowed) return;
    const KIRQL irql = t.irql().load(std::memory_order_relaxed);
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    int ndis_held = -1;
    for (unsigned i = 0; i < depth; ++i)
        if (v.held[i].variant == Variant::NdisAcquire || v.held[i].variant == Variant::NdisDpr)
            ndis_held = static_cast<int>(i);
    if (blocking && (irql >= DISPATCH_LEVEL || depth != 0)) {
        Report r(Rule::BlockingAtDispatch);
        r.site = site;
        r.thread = &t;
        r.explanation = format("%s can put the thread to sleep, here at IRQL %u%s: a processor at DISPATCH_LEVEL or "
                               "holding a spin lock cannot wait (on Windows a bug check or a deadlock)",
                               name, irql, depth != 0 ? " with a spin lock held" : "");
        if (depth != 0) {
            r.lock = v.held[depth - 1].lock.load(std::memory_order_relaxed);
            r.lock_class = v.held[depth - 1].lock_class;
            r.other = v.held[depth - 1].site();
            r.other_role = "the lock held was acquired at";
        }
        emit(r);
    } else if (ndis && ndis_held >= 0) {
        Report r(Rule::NdisCallWhileHoldingLock);
        r.site = site;
        r.thread = &t;
        r.lock = v.held[ndis_held].lock.load(std::memory_order_relaxed);
        r.lock_class = v.held[ndis_held].lock_class;
        r.explanation = format("%s called while an NDIS spin lock is held: release NDIS spin locks before calling "
                               "NDIS functions other than the spin-lock and interlocked ones",
                               name);
        r.other = v.held[ndis_held].site();
        r.other_role = "the NDIS lock held was acquired at";
        emit(r);
    }
}

} // namespace ndislock::verifier
