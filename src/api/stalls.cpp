// Stalls and sleeps (ndislock/ndis.h): NdisMSleep, NdisStallExecution, KeStallExecutionProcessor.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/ndis.h"

#include <ctime>

#include "api/spin_lock_ops.h"
#include "platform/clock.h"
#include "platform/cpu.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// The processor's own time, busy: on the OS's clock even in an exploration's schedule, whose
// virtual clock moves only at scheduling points (a stall has none) and would never reach the end.
// The verifier times holds in real running time, so a stall under a lock is seen as in a run.
void stall(ULONG microseconds) noexcept {
    const std::uint64_t end = platform::monotonic_raw_ns() + std::uint64_t{microseconds} * 1000;
    while (platform::monotonic_raw_ns() < end)
        platform::cpu_relax();
}

void sleep_for(ULONG microseconds) noexcept {
    timespec ts{static_cast<time_t>(microseconds / 1'000'000), static_cast<long>(microseconds % 1'000'000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

inline void announce(const char *name, bool blocking, const Site &site) noexcept {
    this_thread();
    if (observe::active()) observe::notify_other_call(name, blocking, true, site);
}

} // namespace

extern "C" {

NDISLOCK_API void ndislock_at_NdisMSleep(ULONG us, const char *f, int n, const char *fn) {
    announce("NdisMSleep", true, NDISLOCK_SITE(f, n, fn));
    sleep_for(us);
}
NDISLOCK_API void NdisMSleep(ULONG us) {
    announce("NdisMSleep", true, NDISLOCK_SITE(nullptr, 0, nullptr));
    sleep_for(us);
}

NDISLOCK_API void ndislock_at_NdisStallExecution(ULONG us, const char *f, int n, const char *fn) {
    announce("NdisStallExecution", false, NDISLOCK_SITE(f, n, fn));
    stall(us);
}
NDISLOCK_API void NdisStallExecution(ULONG us) {
    announce("NdisStallExecution", false, NDISLOCK_SITE(nullptr, 0, nullptr));
    stall(us);
}

// A kernel call, not an NDIS one: only its IRQL matters, and it never blocks.
NDISLOCK_API void ndislock_at_KeStallExecutionProcessor(ULONG us, const char *, int, const char *) {
    this_thread();
    stall(us);
}
NDISLOCK_API void KeStallExecutionProcessor(ULONG us) {
    this_thread();
    stall(us);
}

} // extern "C"
