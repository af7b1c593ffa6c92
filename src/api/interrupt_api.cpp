// The NDIS 6 interrupt calls and kernel DPCs (ndislock/ndis_interrupt.h) and ndislock's stand-in
// for NDIS around them (ndislock/device.h), over interrupt/.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/device.h"
#include "ndislock/ndis.h"
#include "ndislock/wdk_base.h" // STATUS_*

#include "api/spin_lock_ops.h"
#include "interrupt/interrupts.h"
#include "interrupt/processor_context.h"
#include "model/processors.h"
#include "observe/tool_annotations.h"
#include "observe/watchdog.h"
#include "platform/diagnostics.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// NDIS calls other than the spin-lock ones are seen by the verifier before they run
// (NdisCallWhileHoldingLock, BlockingAtDispatch).
inline void announce(const char *name, bool blocking, bool ndis, const Site &site) noexcept {
    this_thread();
    if (observe::active()) observe::notify_other_call(name, blocking, ndis, site);
}

NDIS_STATUS register_at(NDIS_HANDLE a, NDIS_HANDLE c, PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ch, PNDIS_HANDLE h,
                        const Site &site) noexcept {
    // Not a blocking call: off PASSIVE_LEVEL it is InterruptRegistrationMisuse, reported by the core.
    announce("NdisMRegisterInterruptEx", false, true, site);
    return interrupt::register_interrupt(a, c, ch, h, site);
}

// NdisMDeregisterInterruptEx returns once the interrupt's running ISRs and DPCs (each message's,
// for a message-signalled one) have returned, which it waits for with atomics. Observers hear the
// return as a synchronization on each of those interrupts' handles, named before they go stale
// (the Valgrind tools' observer pairs it with each routine's return, observe/tool_annotations.cpp,
// so the halt path's writes after it are not races with the routines).
void deregister_at(NDIS_HANDLE h, const Site &site) noexcept {
    announce("NdisMDeregisterInterruptEx", true, true, site);
    NDIS_HANDLE waited[interrupt::kMaxMessages];
    std::uint32_t count = 0;
    interrupt::Lookup how{};
    if (observe::active())
        if (const interrupt::Interrupt *i = interrupt::find_interrupt(h, &how); i != nullptr && i->primary == i) {
            waited[count++] = i->handle();
            for (std::uint32_t m = 1; i->msi && m < i->message_count && count < interrupt::kMaxMessages; ++m)
                waited[count++] = interrupt::g_interrupts[i->message_slots[m]].handle();
        }
    interrupt::deregister_interrupt(h, site);
    for (std::uint32_t k = 0; k < count; ++k)
        observe::notify_synchronizes(waited[k], false);
}

BOOLEAN synchronize_at(NDIS_HANDLE h, ULONG m, MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER f, PVOID c,
                       const Site &site) noexcept {
    this_thread(); // callable with spin locks held: no NdisCallWhileHoldingLock
    return interrupt::synchronize(h, m, f, c, site);
}

void flush_at(const Site &site) noexcept {
    announce("KeFlushQueuedDpcs", true, false, site);
    interrupt::flush_dpcs();
    observe::notify_synchronizes(&observe::g_dpcs_flushed, false); // after the DPCs it waited for
}

} // namespace

extern "C" {

NDISLOCK_API NDIS_STATUS ndislock_at_NdisMRegisterInterruptEx(NDIS_HANDLE a, NDIS_HANDLE c,
                                                              PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ch,
                                                              PNDIS_HANDLE h, const char *f, int n, const char *fn) {
    return register_at(a, c, ch, h, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API NDIS_STATUS NdisMRegisterInterruptEx(NDIS_HANDLE a, NDIS_HANDLE c,
                                                  PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ch, PNDIS_HANDLE h) {
    return register_at(a, c, ch, h, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_NdisMDeregisterInterruptEx(NDIS_HANDLE h, const char *f, int n, const char *fn) {
    deregister_at(h, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID NdisMDeregisterInterruptEx(NDIS_HANDLE h) { deregister_at(h, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API BOOLEAN ndislock_at_NdisMSynchronizeWithInterruptEx(NDIS_HANDLE h, ULONG m,
                                                                 MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER fn_, PVOID c,
                                                                 const char *f, int n, const char *fn) {
    return synchronize_at(h, m, fn_, c, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API BOOLEAN NdisMSynchronizeWithInterruptEx(NDIS_HANDLE h, ULONG m, MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER fn_,
                                                     PVOID c) {
    return synchronize_at(h, m, fn_, c, NDISLOCK_SITE(nullptr, 0, nullptr));
}

namespace {
// The interrupt's DPCs are medium importance: one queued toward the caller's own processor from
// below DISPATCH_LEVEL has run by the time the call returns, as KeInsertQueueDpc's (below).
KAFFINITY queue_and_deliver(ThreadState &t, NDIS_HANDLE h, ULONG m, KAFFINITY targets, PVOID context) noexcept {
    const KAFFINITY queued = interrupt::queue_interrupt_dpcs(h, m, targets, context);
    const std::uint32_t here = t.processor().load(std::memory_order_relaxed);
    if (here < 8 * sizeof(KAFFINITY) && ((queued >> here) & 1u) != 0) interrupt::run_queued_dpcs_now(t);
    return queued;
}
} // namespace

NDISLOCK_API KAFFINITY NdisMQueueDpcEx(NDIS_HANDLE h, ULONG m, PGROUP_AFFINITY targets, PVOID context) {
    ThreadState &t = this_thread();
    if (targets == nullptr || targets->Group != 0) {
        platform::diagnostic("NdisMQueueDpcEx: %s",
                             targets == nullptr ? "TargetProcessors is NULL" : "only processor group 0 exists");
        return 0;
    }
    return queue_and_deliver(t, h, m, targets->Mask, context);
}

NDISLOCK_API ULONG NdisMQueueDpc(NDIS_HANDLE h, ULONG m, ULONG targets, PVOID context) {
    return static_cast<ULONG>(queue_and_deliver(this_thread(), h, m, targets, context));
}

// As NT's KiInitializeDpc: the fields it sets, and no others. DpcListEntry and the system
// arguments are left as they were (a driver or a test may read them; the insert writes them).
NDISLOCK_API VOID KeInitializeDpc(PRKDPC dpc, PKDEFERRED_ROUTINE routine, PVOID context) {
    dpc->Type = DpcObject;
    dpc->Importance = MediumImportance;
    dpc->Number = 0;
    dpc->ProcessorHistory = 0;
    dpc->DeferredRoutine = routine;
    dpc->DeferredContext = context;
    __atomic_store_n(&dpc->DpcData, nullptr, __ATOMIC_RELEASE);
}

NDISLOCK_API VOID KeInitializeThreadedDpc(PRKDPC dpc, PKDEFERRED_ROUTINE routine, PVOID context) {
    KeInitializeDpc(dpc, routine, context);
    dpc->Type = ThreadedDpcObject; // run as an ordinary DPC: the header says why
}

NDISLOCK_API VOID KeSetTargetProcessorDpc(PRKDPC dpc, CCHAR number) {
    dpc->Number = static_cast<USHORT>(MAXIMUM_PROCESSORS + static_cast<UCHAR>(number));
}

NDISLOCK_API NTSTATUS KeSetTargetProcessorDpcEx(PKDPC dpc, PPROCESSOR_NUMBER number) {
    this_thread();
    if (number == nullptr || number->Group != 0 || number->Number >= model::processor_count())
        return STATUS_INVALID_PARAMETER;
    dpc->Number = static_cast<USHORT>(MAXIMUM_PROCESSORS + number->Number);
    return STATUS_SUCCESS;
}

NDISLOCK_API VOID KeSetImportanceDpc(PRKDPC dpc, KDPC_IMPORTANCE importance) {
    dpc->Importance = static_cast<UCHAR>(importance);
}

NDISLOCK_API NTSTATUS KeQueryDpcWatchdogInformation(PKDPC_WATCHDOG_INFORMATION information) {
    return interrupt::dpc_watchdog_information(this_thread(), information) ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}

NDISLOCK_API BOOLEAN KeInsertQueueDpc(PRKDPC dpc, PVOID argument1, PVOID argument2) {
    ThreadState &t = this_thread();
    const std::uint32_t target = interrupt::dpc_target(dpc, t);
    const UCHAR importance = dpc->Importance;
    // A NULL routine is queued as NT queues it; running it is the bug check (dpc_queue.cpp).
    if (!interrupt::insert_dpc(dpc, target, argument1, argument2)) return FALSE;
    // Toward this processor from below DISPATCH_LEVEL (medium or high importance): it has run by
    // the time the insert returns, as on Windows. Importance is read before the insert: once
    // queued, the DPC may run (and be freed or reinitialized) on another thread.
    if (importance != LowImportance && target == t.processor().load(std::memory_order_relaxed))
        interrupt::run_queued_dpcs_now(t);
    return TRUE;
}

NDISLOCK_API BOOLEAN KeRemoveQueueDpc(PRKDPC dpc) {
    this_thread();
    return interrupt::remove_dpc(dpc) ? TRUE : FALSE;
}

NDISLOCK_API VOID ndislock_at_KeGenericCallDpc(PKDEFERRED_ROUTINE routine, PVOID context, const char *f, int n,
                                               const char *fn) {
    const Site site = NDISLOCK_SITE(f, n, fn);
    announce("KeGenericCallDpc", true, false, site); // the verifier: BlockingAtDispatch at DISPATCH_LEVEL
    ThreadState &t = this_thread();
    if (routine == nullptr) platform::fatal("KeGenericCallDpc: the Routine is NULL (a bug check on Windows)");
    if (t.irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL)
        platform::fatal("KeGenericCallDpc at IRQL %u: it waits for a DPC on every processor, this one included, "
                        "which cannot run until this caller drops below DISPATCH_LEVEL (call it at PASSIVE_LEVEL or "
                        "APC_LEVEL)",
                        t.irql().load(std::memory_order_relaxed));
    interrupt::generic_call(routine, context, t);
}
NDISLOCK_API VOID KeGenericCallDpc(PKDEFERRED_ROUTINE routine, PVOID context) {
    ndislock_at_KeGenericCallDpc(routine, context, nullptr, 0, nullptr);
}

NDISLOCK_API LOGICAL KeSignalCallDpcSynchronize(PVOID system_argument2) {
    return interrupt::signal_call_dpc_synchronize(system_argument2, this_thread()) ? TRUE : FALSE;
}

NDISLOCK_API VOID KeSignalCallDpcDone(PVOID system_argument1) {
    interrupt::signal_call_dpc_done(system_argument1, this_thread());
}

NDISLOCK_API VOID ndislock_at_KeFlushQueuedDpcs(const char *f, int n, const char *fn) {
    flush_at(NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID KeFlushQueuedDpcs(VOID) { flush_at(NDISLOCK_SITE(nullptr, 0, nullptr)); }

// ---- ndislock/device.h ----

NDISLOCK_API NDIS_STATUS NdislockMiniportInitialize(MINIPORT_INITIALIZE_HANDLER initialize, NDIS_HANDLE driver_context,
                                                    PNDIS_HANDLE adapter) {
    this_thread();
    return interrupt::initialize_miniport(initialize, driver_context, adapter);
}

NDISLOCK_API VOID NdislockMiniportHalt(NDIS_HANDLE adapter, MINIPORT_HALT_HANDLER halt, NDIS_HANDLE adapter_context) {
    this_thread();
    interrupt::halt_miniport(adapter, halt, adapter_context);
}

NDISLOCK_API NDISLOCK_STATUS NdislockAssertInterrupt(NDIS_HANDLE h, ULONG processor) {
    this_thread();
    return interrupt::assert_interrupt(h, 0, processor);
}

NDISLOCK_API NDISLOCK_STATUS NdislockAssertInterruptMessage(NDIS_HANDLE h, ULONG message, ULONG processor) {
    this_thread();
    return interrupt::assert_interrupt(h, message, processor);
}

NDISLOCK_API NDISLOCK_STATUS NdislockSetAdapterMessageCount(NDIS_HANDLE adapter, ULONG count) {
    this_thread();
    return interrupt::set_adapter_message_count(adapter, count);
}

NDISLOCK_API NDISLOCK_STATUS NdislockEnableInterrupt(NDIS_HANDLE h) {
    this_thread();
    return interrupt::run_enable_disable(h, true);
}
NDISLOCK_API NDISLOCK_STATUS NdislockDisableInterrupt(NDIS_HANDLE h) {
    this_thread();
    return interrupt::run_enable_disable(h, false);
}

NDISLOCK_API NDISLOCK_STATUS NdislockGetInterruptStats(NDIS_HANDLE h, NDISLOCK_INTERRUPT_STATS *out) {
    return interrupt::interrupt_stats(h, out);
}
NDISLOCK_API void NdislockSetDpcWatchdogLimits(ULONG64 single_ns, ULONG64 cumulative_ns) {
    observe::g_dpc_time_limit_ns.store(single_ns, std::memory_order_relaxed);
    observe::g_dpc_watchdog_limit_ns.store(cumulative_ns, std::memory_order_relaxed);
}

NDISLOCK_API NDISLOCK_STATUS NdislockResetInterruptStats(NDIS_HANDLE h) { return interrupt::reset_interrupt_stats(h); }

} // extern "C"
