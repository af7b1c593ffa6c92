// IRQL calls (ndislock/ndis.h): KeGetCurrentIrql, KeRaiseIrql, KeRaiseIrqlToDpcLevel, KeLowerIrql.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/ndis.h"

#include "api/spin_lock_ops.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

inline KIRQL raise_to(KIRQL new_irql, const Site &site) noexcept {
    ThreadState &t = this_thread();
    return with_observation([&](auto observed) { return raise<decltype(observed)::value>(t, new_irql, site); });
}

inline void lower_to(KIRQL new_irql, const Site &site) noexcept {
    ThreadState &t = this_thread();
    with_observation([&](auto observed) { lower<decltype(observed)::value>(t, new_irql, site); });
}

} // namespace

namespace ndislock::api {

void report_call_irql(KIRQL irql, KIRQL max, const char *call, const Site &site) noexcept {
    static constexpr const char *kNames[] = {"PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL"};
    observe::report_if_observedf(observe::Rule::IrqlTooHighForCall, site,
                                 "%s at IRQL %u: its documentation allows IRQL <= %s (%u)%s", call, irql,
                                 max < 3 ? kNames[max] : "DIRQL", max,
                                 irql > DISPATCH_LEVEL ? " (an ISR or a synchronize routine runs at DIRQL: leave "
                                                         "the work to a DPC, which may make this call)"
                                                       : "");
}

} // namespace ndislock::api

extern "C" {

NDISLOCK_API KIRQL KeGetCurrentIrql(void) { return this_thread().irql().load(std::memory_order_relaxed); }

NDISLOCK_API KIRQL ndislock_at_KeRaiseIrql(KIRQL new_irql, const char *f, int n, const char *fn) {
    return raise_to(new_irql, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeRaiseIrql(KIRQL new_irql, PKIRQL old_irql) {
    *old_irql = raise_to(new_irql, NDISLOCK_SITE(nullptr, 0, nullptr));
}
NDISLOCK_API KIRQL KeRaiseIrqlToDpcLevel(void) { return raise_to(DISPATCH_LEVEL, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API void ndislock_at_KeLowerIrql(KIRQL new_irql, const char *f, int n, const char *fn) {
    lower_to(new_irql, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API void KeLowerIrql(KIRQL new_irql) { lower_to(new_irql, NDISLOCK_SITE(nullptr, 0, nullptr)); }

} // extern "C"
