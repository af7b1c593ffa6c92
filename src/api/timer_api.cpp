// Kernel timers and NDIS timer objects (ndislock/wdk_timers.h), over interrupt/timers.h.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include "api/spin_lock_ops.h"
#include "interrupt/processor_context.h"
#include "interrupt/timers.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// KeSetTimer and KeSetTimerEx, each with its own caller's site.
BOOLEAN set_timer(PKTIMER timer, LARGE_INTEGER due, LONG period, PKDPC dpc, const char *call,
                  const Site &site) noexcept {
    ThreadState &t = this_thread();
    check_call_irql(t, DISPATCH_LEVEL, call, site);
    return interrupt::timer_set(timer, due.QuadPart, period, dpc, t.processor().load(std::memory_order_relaxed))
               ? TRUE
               : FALSE;
}

BOOLEAN set_object_at(NDIS_HANDLE h, LARGE_INTEGER due, LONG period, PVOID context, const Site &site) noexcept {
    ThreadState &t = this_thread();
    check_call_irql(t, DISPATCH_LEVEL, "NdisSetTimerObject", site);
    return interrupt::timer_object_set(h, due.QuadPart, period, context, t, site) ? TRUE : FALSE;
}

// A periodic timer's cancel waits, as KeFlushQueuedDpcs, for its routine: that is a wait, which
// the verifier sees (BlockingAtDispatch off PASSIVE_LEVEL) and which is skipped at DISPATCH_LEVEL,
// where it would wait for the caller's own processor.
BOOLEAN cancel_object_at(NDIS_HANDLE h, const Site &site) noexcept {
    ThreadState &t = this_thread();
    check_call_irql(t, DISPATCH_LEVEL, "NdisCancelTimerObject", site);
    bool periodic = false;
    const bool was_queued = interrupt::timer_object_cancel(h, &periodic, site);
    if (periodic) {
        if (observe::active()) observe::notify_other_call("NdisCancelTimerObject", true, true, site);
        if (t.irql().load(std::memory_order_relaxed) < DISPATCH_LEVEL) interrupt::flush_dpcs();
    }
    return was_queued ? TRUE : FALSE;
}

void free_object_at(NDIS_HANDLE h, const Site &site) noexcept {
    ThreadState &t = this_thread();
    interrupt::timer_object_free(h, t, site);
}

} // namespace

extern "C" {

NDISLOCK_API VOID KeInitializeTimer(PKTIMER timer) {
    this_thread();
    interrupt::timer_initialize(timer, NotificationTimer);
}
NDISLOCK_API VOID KeInitializeTimerEx(PKTIMER timer, TIMER_TYPE type) {
    this_thread();
    interrupt::timer_initialize(timer, type);
}

NDISLOCK_API BOOLEAN KeSetTimerEx(PKTIMER timer, LARGE_INTEGER due, LONG period, PKDPC dpc) {
    return set_timer(timer, due, period, dpc, "KeSetTimerEx", NDISLOCK_SITE(nullptr, 0, nullptr));
}
NDISLOCK_API BOOLEAN KeSetTimer(PKTIMER timer, LARGE_INTEGER due, PKDPC dpc) {
    return set_timer(timer, due, 0, dpc, "KeSetTimer", NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API BOOLEAN KeCancelTimer(PKTIMER timer) {
    check_call_irql(this_thread(), DISPATCH_LEVEL, "KeCancelTimer", NDISLOCK_SITE(nullptr, 0, nullptr));
    return interrupt::timer_cancel(timer) ? TRUE : FALSE;
}

NDISLOCK_API BOOLEAN KeReadStateTimer(PKTIMER timer) { return interrupt::timer_signalled(timer) ? TRUE : FALSE; }

NDISLOCK_API NDIS_STATUS NdisAllocateTimerObject(NDIS_HANDLE ndis_handle, PNDIS_TIMER_CHARACTERISTICS characteristics,
                                                 PNDIS_HANDLE out) {
    this_thread();
    return interrupt::timer_object_allocate(ndis_handle, characteristics, out);
}

NDISLOCK_API BOOLEAN ndislock_at_NdisSetTimerObject(NDIS_HANDLE h, LARGE_INTEGER due, LONG period, PVOID context,
                                                    const char *f, int n, const char *fn) {
    return set_object_at(h, due, period, context, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API BOOLEAN NdisSetTimerObject(NDIS_HANDLE h, LARGE_INTEGER due, LONG period, PVOID context) {
    return set_object_at(h, due, period, context, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API BOOLEAN ndislock_at_NdisCancelTimerObject(NDIS_HANDLE h, const char *f, int n, const char *fn) {
    return cancel_object_at(h, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API BOOLEAN NdisCancelTimerObject(NDIS_HANDLE h) {
    return cancel_object_at(h, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_NdisFreeTimerObject(NDIS_HANDLE h, const char *f, int n, const char *fn) {
    free_object_at(h, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID NdisFreeTimerObject(NDIS_HANDLE h) { free_object_at(h, NDISLOCK_SITE(nullptr, 0, nullptr)); }

} // extern "C"
