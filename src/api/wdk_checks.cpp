// The WDK face's checks that need the library (ndislock/wdk_base.h, wdk_list.h, ndis_flags.h,
// wdk_processors.h): a failed assertion, a corrupt list, PAGED_CODE() and the DISPATCH_LEVEL
// flags. Each reports through observe::report_misuse, so the verifier (when on) makes it a finding
// at the driver's line; the two terminal rules then end the process whatever happened.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <cstdio>
#include <cstdlib>

#include "api/spin_lock_ops.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// The non-terminal checks run only while an observer checks rules (the verifier on): with it off
// a driver pays one load, as a free build's PAGED_CODE() costs nothing.
bool verifying() noexcept { return observe::rules_checked(); }

} // namespace

extern "C" {

NDISLOCK_API void ndislock_assertion_failed(const char *expression, const char *message, const char *file, int line,
                                            const char *function) {
    this_thread();
    if (message != nullptr)
        observe::report_misusef(observe::Rule::AssertionFailed, NDISLOCK_SITE(file, line, function),
                                "assertion failed: %s (%s)", expression, message);
    else
        observe::report_misusef(observe::Rule::AssertionFailed, NDISLOCK_SITE(file, line, function),
                                "assertion failed: %s", expression);
    std::abort(); // a terminal rule: the report above ends the process; this is the belt to its braces
}

NDISLOCK_API void ndislock_list_corrupted(const char *operation, const void *entry, const char *detail,
                                          const char *file, int line, const char *function) {
    this_thread();
    observe::report_misusef(observe::Rule::ListCorrupted, NDISLOCK_SITE(file, line, function),
                            "%s found the list corrupt at entry %p: %s; the links were not followed", operation, entry,
                            detail);
    std::abort();
}

NDISLOCK_API void ndislock_at_PagedCode(const char *file, int line, const char *function) {
    ThreadState &t = this_thread();
    if (!verifying()) return;
    const KIRQL irql = t.irql().load(std::memory_order_relaxed);
    if (irql <= APC_LEVEL) return;
    observe::report_misusef(
        observe::Rule::PagedCodeAtRaisedIrql, NDISLOCK_SITE(file, line, function),
        "PAGED_CODE() at IRQL %u: pageable code must run at APC_LEVEL or below (on Windows a page fault "
        "here is a bug check)",
        irql);
}

NDISLOCK_API BOOLEAN ndislock_at_TestDispatchFlag(ULONG flags, ULONG flag, const char *flag_name, const char *file,
                                                  int line, const char *function) {
    ThreadState &t = this_thread();
    const bool set = (flags & flag) == flag;
    if (verifying()) {
        const KIRQL irql = t.irql().load(std::memory_order_relaxed);
        if (set && irql != DISPATCH_LEVEL)
            observe::report_misusef(
                observe::Rule::DispatchFlagMismatch, NDISLOCK_SITE(file, line, function),
                "%s is set but the IRQL is %u, not DISPATCH_LEVEL: code trusting it takes Dpr spin-lock "
                "paths that require DISPATCH_LEVEL",
                flag_name, irql);
        else if (!set && irql == DISPATCH_LEVEL)
            observe::report_misusef(observe::Rule::DispatchFlagMismatch, NDISLOCK_SITE(file, line, function),
                                    "%s is clear but the IRQL is DISPATCH_LEVEL: the flag must say the caller's IRQL "
                                    "(whoever built these flags passed the wrong one)",
                                    flag_name);
    }
    return set ? TRUE : FALSE;
}

NDISLOCK_API KIRQL KeRaiseIrqlToSynchLevel(void) { return ndislock_at_KeRaiseIrql(SYNCH_LEVEL, nullptr, 0, nullptr); }

} // extern "C"
