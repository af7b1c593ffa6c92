// NDIS events (ndislock/ndis_interrupt.h).
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/ndis.h"

#include "api/spin_lock_ops.h"
#include "api/wait_locks.h"
#include "interrupt/events.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

BOOLEAN wait_at(PNDIS_EVENT event, UINT ms, const Site &site) noexcept {
    ThreadState &t = this_thread();
    if (observe::active()) observe::notify_other_call("NdisWaitEvent", true, true, site);
    check_passive_wait_irql(t, "NdisWaitEvent", site);
    // The wait's start and end, as KeWaitForSingleObject tells them: a wait that never ends is
    // reported at this call, as an NdisWaitEvent.
    const void *object = &event->Event.Header;
    tell_wait_lock(object, observe::WaitLockKind::Object, observe::WaitLockPhase::Acquiring, "NdisWaitEvent", site, t,
                   true);
    const bool set = interrupt::event_wait(event, ms);
    tell_wait_lock(object, observe::WaitLockKind::Object, observe::WaitLockPhase::WaitEnded, "NdisWaitEvent", site, t);
    return set ? TRUE : FALSE;
}

} // namespace

extern "C" {

NDISLOCK_API VOID NdisInitializeEvent(PNDIS_EVENT event) {
    check_call_irql(this_thread(), PASSIVE_LEVEL, "NdisInitializeEvent", NDISLOCK_SITE(nullptr, 0, nullptr));
    interrupt::event_initialize(event);
}
NDISLOCK_API VOID NdisSetEvent(PNDIS_EVENT event) {
    check_call_irql(this_thread(), DISPATCH_LEVEL, "NdisSetEvent", NDISLOCK_SITE(nullptr, 0, nullptr));
    interrupt::event_set(event);
}
NDISLOCK_API VOID NdisResetEvent(PNDIS_EVENT event) {
    check_call_irql(this_thread(), DISPATCH_LEVEL, "NdisResetEvent", NDISLOCK_SITE(nullptr, 0, nullptr));
    interrupt::event_reset(event);
}
NDISLOCK_API BOOLEAN ndislock_at_NdisWaitEvent(PNDIS_EVENT event, UINT ms, const char *f, int n, const char *fn) {
    return wait_at(event, ms, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API BOOLEAN NdisWaitEvent(PNDIS_EVENT event, UINT ms) {
    return wait_at(event, ms, NDISLOCK_SITE(nullptr, 0, nullptr));
}

} // extern "C"
