// The verifier's own work (a stack walk for the driver's site, a new chain's graph search) credited
// to the sampled holds open on the thread, so it is not taken for the driver's time.
#include "verifier/checks_internal.h"

namespace ndislock::verifier {

// The verifier's own work since `before` (a stack walk, a new chain's graph search) is not the
// driver's time: the sampled holds open on the thread are credited with it (their start moves
// later by its length). Work of unknown length (the thread was descheduled in it: it read debug
// information from disk, or waited for the order graph's mutex) leaves them untimed.
void credit_verifier_work(VerifierThread &v, unsigned depth, const platform::OwnTimeStamp &before) noexcept {
    const platform::OwnTimeStamp after = platform::own_time_now();
    for (unsigned i = 0; i < depth && i < kMaxHeld; ++i) {
        HeldLock &h = v.held[i];
        if (!h.timed || h.untimed) continue;
        if (h.start.exact_clock != after.exact_clock || after.ns < before.ns) {
            h.untimed = true;
            continue;
        }
        h.start.ns += after.ns - before.ns; // a deschedule meanwhile still shows in the witness
    }
}

} // namespace ndislock::verifier
