// The time queries (ndislock/wdk_dispatcher.h): performance counter, tick count, interrupt time,
// system time. Any IRQL; no observer is told (they neither block nor touch a lock).
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include "api/wdk_time.h"
#include "platform/clock.h"

using namespace ndislock;

namespace {

// The clock tick Windows reports by default: 15.625 ms, in 100 ns units.
constexpr ULONG kTimeIncrement = 156'250;

// The one conversion the timers use too (interrupt/timers.h).
std::uint64_t interrupt_time() noexcept { return interrupt::interrupt_time_100ns(); }

} // namespace

extern "C" {

NDISLOCK_API LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER frequency) {
    if (frequency != nullptr) frequency->QuadPart = 10'000'000; // 100 ns ticks
    LARGE_INTEGER count;
    count.QuadPart = static_cast<LONGLONG>(interrupt_time());
    return count;
}

NDISLOCK_API ULONG KeQueryTimeIncrement(VOID) { return kTimeIncrement; }

NDISLOCK_API VOID KeQueryTickCount(PLARGE_INTEGER count) {
    count->QuadPart = static_cast<LONGLONG>(interrupt_time() / kTimeIncrement);
}

NDISLOCK_API ULONGLONG KeQueryInterruptTime(VOID) { return interrupt_time(); }

NDISLOCK_API ULONGLONG KeQueryUnbiasedInterruptTime(VOID) { return interrupt_time(); }

NDISLOCK_API VOID NdisGetSystemUpTimeEx(PLARGE_INTEGER up) {
    up->QuadPart = static_cast<LONGLONG>(interrupt_time() / 10'000); // 100 ns units to ms
}

NDISLOCK_API VOID KeQuerySystemTime(PLARGE_INTEGER time) { time->QuadPart = static_cast<LONGLONG>(api::system_time()); }

NDISLOCK_API VOID KeQuerySystemTimePrecise(PLARGE_INTEGER time) {
    time->QuadPart = static_cast<LONGLONG>(api::system_time());
}

NDISLOCK_API VOID NdisGetCurrentSystemTime(PLARGE_INTEGER time) {
    time->QuadPart = static_cast<LONGLONG>(api::system_time());
}

} // extern "C"
