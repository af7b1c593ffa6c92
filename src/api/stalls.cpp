// Stalls and sleeps (ndislock/ndis.h): NdisMSleep, NdisStallExecution, KeStallExecutionProcessor.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/ndis.h"

#include <ctime>

#include "api/spin_lock_ops.h"
#include "lock/park.h"
#include "platform/clock.h"
#include "platform/cpu.h"
#include "platform/own_time.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// The processor's own time, busy. In an exploration's schedule no real time passes: the
// context's own virtual time and the schedule's clock move by the stall's length
// (platform/own_time.h), so a stall under a lock or in an ISR counts against its budget the
// same in every run and replay. The call is a scheduling point (announce).
void stall(ULONG microseconds) noexcept {
    if (platform::own_time_stall_virtual(std::uint64_t{microseconds} * 1000)) return;
    const std::uint64_t end = platform::monotonic_raw_ns() + std::uint64_t{microseconds} * 1000;
    while (platform::monotonic_raw_ns() < end)
        platform::cpu_relax();
}

// A sleep. In an exploration's schedule, a timed wait nobody ends, expired in virtual time as
// KeDelayExecutionThread's: the other threads run meanwhile, and no real time passes.
void sleep_for(ULONG microseconds) noexcept {
    if (lock::controlled()) return lock::park_until(platform::monotonic_ns() + std::uint64_t{microseconds} * 1000);
    timespec ts{static_cast<time_t>(microseconds / 1'000'000), static_cast<long>(microseconds % 1'000'000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

// ndis: an NDIS call (the verifier's NdisCallWhileHoldingLock). In an exploration each of these
// is a scheduling point: a stall in a loop that waits for another processor lets it run.
inline void announce(const char *name, bool blocking, const Site &site, bool ndis = true) noexcept {
    this_thread();
    if (observe::active()) observe::notify_other_call(name, blocking, ndis, site);
}

} // namespace

extern "C" {

NDISLOCK_API void ndislock_at_NdisMSleep(ULONG us, const char *f, int n, const char *fn) {
    announce("NdisMSleep", true, NDISLOCK_SITE(f, n, fn));
    check_passive_wait_irql(this_thread(), "NdisMSleep", NDISLOCK_SITE(f, n, fn));
    sleep_for(us);
}
NDISLOCK_API void NdisMSleep(ULONG us) {
    announce("NdisMSleep", true, NDISLOCK_SITE(nullptr, 0, nullptr));
    check_passive_wait_irql(this_thread(), "NdisMSleep", NDISLOCK_SITE(nullptr, 0, nullptr));
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
NDISLOCK_API void ndislock_at_KeStallExecutionProcessor(ULONG us, const char *f, int n, const char *fn) {
    announce("KeStallExecutionProcessor", false, NDISLOCK_SITE(f, n, fn), false);
    stall(us);
}
NDISLOCK_API void KeStallExecutionProcessor(ULONG us) {
    announce("KeStallExecutionProcessor", false, NDISLOCK_SITE(nullptr, 0, nullptr), false);
    stall(us);
}

} // extern "C"
