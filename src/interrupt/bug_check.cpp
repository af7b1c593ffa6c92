// The bug checks the interrupt side finds: a DPC whose routine is NULL. NT queues such a DPC
// (KeInsertQueueDpc does not look at the routine) and faults when it calls it, at DISPATCH_LEVEL:
// bug check 0xD1, DRIVER_IRQL_NOT_LESS_OR_EQUAL, reading address 0 for execution. ndislock says
// so as a BugCheck report (terminal, with the verifier on or off) and ends the process.
#include <cstdio>

#include "interrupt/processor_context.h"
#include "observe/hooks.h"
#include "platform/diagnostics.h"

namespace ndislock::interrupt {

void null_dpc_routine(const KDPC *dpc, model::ThreadState &t) noexcept {
    char detail[300];
    std::snprintf(detail, sizeof detail,
                  "the KDPC at %p was run with a NULL DeferredRoutine (KeInitializeDpc was given NULL, or the "
                  "object was never initialized): Windows calls address 0 at DISPATCH_LEVEL; bug check 0xD1 "
                  "DRIVER_IRQL_NOT_LESS_OR_EQUAL (0x0, 0x%x, 0x8, 0x0)",
                  static_cast<const void *>(dpc), t.irql().load(std::memory_order_relaxed));
    observe::report_misuse(observe::Rule::BugCheck, observe::Site{nullptr, 0, nullptr, nullptr}, detail);
    platform::fatal("BugCheck: %s", detail); // reached only if an observer let it go on
}

} // namespace ndislock::interrupt
