// ndislock_interlocked_point: what the inline interlocked operations, ordered accesses and
// barriers of ndislock/wdk_interlocked.h call, before they run, while an observer of them is
// registered (ndislock_interlocked_observers != 0; only an exploration registers one, which makes
// each of them a scheduling point: docs/explore.md). Never called otherwise: the inline operations
// then pay one relaxed load and a predictable branch. Any IRQL, ISRs included.
#include "ndislock/export.h"
#include "observe/hooks.h"

extern "C" NDISLOCK_API void ndislock_interlocked_point(const volatile void *address) {
    ndislock::observe::notify_interlocked(address, __builtin_return_address(0));
}
