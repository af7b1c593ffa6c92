// KeBugCheckEx and KeBugCheck (ndislock/wdk_base.h): the driver stops the machine on purpose. A
// BugCheck report with the code and the four parameters, as Windows' blue screen and crash dump
// show them, then the end of the process, with the verifier on or off.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <cstdio>
#include <cstdlib>

#include "api/spin_lock_ops.h"

using namespace ndislock;
using namespace ndislock::api;

extern "C" {

NDISLOCK_API void ndislock_at_KeBugCheckEx(ULONG code, ULONG_PTR p1, ULONG_PTR p2, ULONG_PTR p3, ULONG_PTR p4,
                                           const char *f, int n, const char *fn) {
    ThreadState &t = this_thread();
    char detail[300];
    std::snprintf(detail, sizeof detail,
                  "the driver called KeBugCheckEx at IRQL %u: bug check 0x%08X (0x%llx, 0x%llx, 0x%llx, 0x%llx)",
                  t.irql().load(std::memory_order_relaxed), static_cast<unsigned>(code),
                  static_cast<unsigned long long>(p1), static_cast<unsigned long long>(p2),
                  static_cast<unsigned long long>(p3), static_cast<unsigned long long>(p4));
    observe::report_misuse(observe::Rule::BugCheck, NDISLOCK_SITE(f, n, fn), detail);
    platform::fatal("BugCheck: %s", detail); // a terminal rule: reached only if an observer let it go on
}

NDISLOCK_API void KeBugCheckEx(ULONG code, ULONG_PTR p1, ULONG_PTR p2, ULONG_PTR p3, ULONG_PTR p4) {
    ndislock_at_KeBugCheckEx(code, p1, p2, p3, p4, nullptr, 0, nullptr);
}

NDISLOCK_API void KeBugCheck(ULONG code) { ndislock_at_KeBugCheckEx(code, 0, 0, 0, 0, nullptr, 0, nullptr); }

} // extern "C"
