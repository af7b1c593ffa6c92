// Processor queries (ndislock/ndis.h) and ndislock's own calls (ndislock/ext.h).
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/ndis.h"

#include "api/spin_lock_ops.h"
#include "model/processors.h"
#include "observe/lock_names.h"
#include "observe/lock_stats.h"
#include "observe/trace.h"

using namespace ndislock;
using ndislock::api::this_thread;

extern "C" {

NDISLOCK_API ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER number) {
    const std::uint32_t index = this_thread().processor().load(std::memory_order_relaxed);
    if (number != nullptr) *number = PROCESSOR_NUMBER{0, static_cast<UCHAR>(index), 0};
    return index;
}

NDISLOCK_API ULONG KeGetCurrentProcessorNumber(void) { return KeGetCurrentProcessorNumberEx(nullptr); }

NDISLOCK_API ULONG KeQueryActiveProcessorCountEx(USHORT group) {
    this_thread();
    return group == 0 || group == ALL_PROCESSOR_GROUPS ? model::processor_count() : 0;
}

NDISLOCK_API ULONG KeQueryActiveProcessorCount(PKAFFINITY active) {
    this_thread();
    const std::uint32_t n = model::processor_count();
    if (active != nullptr) *active = n >= 64 ? ~KAFFINITY{0} : (KAFFINITY{1} << n) - 1;
    return n;
}

NDISLOCK_API KAFFINITY KeQueryActiveProcessors(void) {
    KAFFINITY mask = 0;
    KeQueryActiveProcessorCount(&mask);
    return mask;
}

NDISLOCK_API NDISLOCK_STATUS NdislockSetProcessorCount(ULONG count) {
    this_thread();
    return model::set_processor_count(count);
}

NDISLOCK_API NDISLOCK_STATUS NdislockBindCurrentThread(ULONG processor) {
    this_thread();
    return model::bind_current_thread(processor);
}

NDISLOCK_API void NdislockSetLockName(const void *lock, const char *name) {
    this_thread();
    observe::set_lock_name(lock, name);
}

NDISLOCK_API void NdislockStatsEnable(BOOLEAN enable, ULONG64 budget_ns) {
    this_thread();
    observe::stats::enable(enable != FALSE, budget_ns);
}

NDISLOCK_API NDISLOCK_STATUS NdislockTraceStart(const char *path) {
    this_thread();
    if (path == nullptr) return NDISLOCK_INVALID_ARGUMENT;
    return observe::trace::start(path) ? NDISLOCK_OK : NDISLOCK_IO_ERROR;
}

NDISLOCK_API NDISLOCK_STATUS NdislockTraceStop(void) {
    return observe::trace::stop() ? NDISLOCK_OK : NDISLOCK_IO_ERROR;
}

NDISLOCK_API ULONG NdislockStatsCollect(NDISLOCK_LOCK_STATS *out, ULONG max_locks) {
    return observe::stats::collect(out, max_locks);
}

NDISLOCK_API void NdislockStatsReset(void) { observe::stats::reset(); }

} // extern "C"
