// Kernel events, KeWaitForSingleObject / KeWaitForMultipleObjects, kernel mutexes and
// KeDelayExecutionThread (ndislock/wdk_dispatcher.h), over the dispatcher (interrupt/dispatcher.h).
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <cstdio>
#include <ctime>

#include "api/critical_region.h"
#include "api/spin_lock_ops.h"
#include "api/wait_locks.h"
#include "api/wdk_time.h"
#include "interrupt/dispatcher.h"
#include "lock/park.h"
#include "lock/wait_observer.h"
#include "platform/clock.h"

using namespace ndislock;
using namespace ndislock::api;
using observe::WaitLockPhase;

namespace {

// A wait that may sleep (any but a poll) needs IRQL <= APC_LEVEL and no spin lock held: the
// verifier's BlockingAtDispatch, as for NdisWaitEvent. A poll is allowed at DISPATCH_LEVEL.
void announce_wait(const char *name, std::uint64_t deadline, const Site &site) noexcept {
    if (deadline != 0 && observe::active()) observe::notify_other_call(name, true, false, site);
}

// Ends the process as Windows would (bug check 0xC): a wait that names more objects than it has
// wait blocks for.
[[noreturn]] void too_many_objects(ULONG count, bool have_blocks, const Site &site) noexcept {
    char detail[300];
    std::snprintf(detail, sizeof detail,
                  "KeWaitForMultipleObjects with Count %u%s: bug check 0xC MAXIMUM_WAIT_OBJECTS_EXCEEDED (at most "
                  "THREAD_WAIT_OBJECTS (3) objects without a WaitBlockArray, MAXIMUM_WAIT_OBJECTS (64) with one)",
                  count, have_blocks ? "" : " and no WaitBlockArray");
    observe::report_misuse(observe::Rule::BugCheck, site, detail);
    platform::fatal("BugCheck: %s", detail); // reached only if an observer let it go on
}

NTSTATUS wait_multiple(ULONG count, PVOID objects[], WAIT_TYPE type, PLARGE_INTEGER timeout, PKWAIT_BLOCK blocks,
                       const char *name, const Site &site) noexcept {
    ThreadState &t = this_thread();
    if (count == 0 || objects == nullptr || count > MAXIMUM_WAIT_OBJECTS ||
        (count > THREAD_WAIT_OBJECTS && blocks == nullptr))
        too_many_objects(count, blocks != nullptr, site);
    const std::uint64_t deadline = wait_deadline(timeout);
    announce_wait(name, deadline, site);
    DISPATCHER_HEADER *headers[MAXIMUM_WAIT_OBJECTS];
    for (ULONG i = 0; i < count; ++i) {
        headers[i] = static_cast<DISPATCHER_HEADER *>(objects[i]);
        if (blocks != nullptr) { // what the kernel records in the caller's wait blocks
            blocks[i].Thread = interrupt::thread_tag(t);
            blocks[i].Object = objects[i];
            blocks[i].WaitKey = static_cast<USHORT>(i);
            blocks[i].WaitType = static_cast<UCHAR>(type);
        }
    }
    for (ULONG i = 0; i < count; ++i)
        tell_wait_lock(headers[i], wait_lock_kind(headers[i]), WaitLockPhase::Acquiring, name, site, t, deadline != 0);
    const interrupt::WaitOutcome out = interrupt::wait_for(headers, count, type == WaitAll, deadline, t);
    for (std::uint32_t i = 0; i < out.mutexes_taken; ++i)
        enter_critical_region();
    if (out.satisfied) // what the wait took: every mutex of a WaitAll, the one object of a WaitAny
        for (ULONG i = type == WaitAll ? 0 : out.index; i < (type == WaitAll ? count : out.index + 1); ++i)
            if (wait_lock_kind(headers[i]) == observe::WaitLockKind::Mutex)
                tell_wait_lock(headers[i], observe::WaitLockKind::Mutex, WaitLockPhase::Acquired, name, site, t);
    tell_wait_lock(headers[0], wait_lock_kind(headers[0]), WaitLockPhase::WaitEnded, name, site, t);
    if (!out.satisfied) return STATUS_TIMEOUT;
    return type == WaitAll ? STATUS_SUCCESS : static_cast<NTSTATUS>(STATUS_WAIT_0 + out.index);
}

NTSTATUS wait_single(PVOID object, PLARGE_INTEGER timeout, const Site &site) noexcept {
    ThreadState &t = this_thread();
    if (object == nullptr) {
        observe::report_misuse(observe::Rule::BugCheck, site,
                               "KeWaitForSingleObject with a NULL Object: bug check 0x50 / 0xD1 (a NULL dereference)");
        platform::fatal("BugCheck: KeWaitForSingleObject with a NULL Object");
    }
    const std::uint64_t deadline = wait_deadline(timeout);
    announce_wait("KeWaitForSingleObject", deadline, site);
    DISPATCHER_HEADER *const header = static_cast<DISPATCHER_HEADER *>(object);
    const observe::WaitLockKind kind = wait_lock_kind(header);
    tell_wait_lock(header, kind, WaitLockPhase::Acquiring, "KeWaitForSingleObject", site, t, deadline != 0);
    const interrupt::WaitOutcome out = interrupt::wait_for(&header, 1, false, deadline, t);
    if (out.mutexes_taken != 0) enter_critical_region();
    if (out.satisfied && kind == observe::WaitLockKind::Mutex)
        tell_wait_lock(header, kind, WaitLockPhase::Acquired, "KeWaitForSingleObject", site, t);
    tell_wait_lock(header, kind, WaitLockPhase::WaitEnded, "KeWaitForSingleObject", site, t);
    return out.satisfied ? STATUS_SUCCESS : STATUS_TIMEOUT;
}

LONG release_mutex(PRKMUTEX mutex, const Site &site) noexcept {
    ThreadState &t = this_thread();
    LONG previous = 0;
    const interrupt::MutexRelease released = interrupt::mutex_release(mutex, t, &previous);
    if (released != interrupt::MutexRelease::NotOwned)
        tell_wait_lock(mutex, observe::WaitLockKind::Mutex, WaitLockPhase::Releasing, "KeReleaseMutex", site, t);
    switch (released) {
    case interrupt::MutexRelease::Freed:
        leave_critical_region();
        break;
    case interrupt::MutexRelease::StillOwned:
        break;
    case interrupt::MutexRelease::NotOwned: {
        model::ThreadState *owner = interrupt::mutex_owner(mutex);
        char whose[48] = "it is free";
        if (owner != nullptr)
            std::snprintf(whose, sizeof whose, "its owner is thread %d", owner->os_tid.load(std::memory_order_relaxed));
        char detail[300];
        std::snprintf(detail, sizeof detail,
                      "KeReleaseMutex(%p) by thread %d, which does not own it (%s): Windows raises "
                      "STATUS_MUTEX_NOT_OWNED; the mutex is left as it was",
                      static_cast<void *>(mutex), t.os_tid.load(std::memory_order_relaxed), whose);
        observe::report_misuse(observe::Rule::MutexNotOwned, site, detail);
        break;
    }
    }
    return previous;
}

NTSTATUS delay(PLARGE_INTEGER interval, const Site &site) noexcept {
    this_thread();
    if (interval == nullptr) return STATUS_SUCCESS;
    const std::uint64_t deadline = wait_deadline(interval);
    if (observe::active()) observe::notify_other_call("KeDelayExecutionThread", true, false, site);
    if (deadline == 0) return STATUS_SUCCESS;
    if (lock::controlled()) { // in an exploration: expired in virtual time
        lock::park_until(deadline);
        return STATUS_SUCCESS;
    }
    for (;;) {
        const std::uint64_t now = platform::monotonic_ns();
        if (now >= deadline) return STATUS_SUCCESS;
        const std::uint64_t left = deadline - now;
        timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
        nanosleep(&ts, nullptr);
    }
}

} // namespace

extern "C" {

NDISLOCK_API VOID KeInitializeEvent(PRKEVENT event, EVENT_TYPE type, BOOLEAN state) {
    this_thread();
    interrupt::event_init(event, type == SynchronizationEvent, state != FALSE);
}

NDISLOCK_API LONG KeSetEvent(PRKEVENT event, KPRIORITY, BOOLEAN wait) {
    // Wait TRUE: a KeWaitFor* call follows at once, so APC_LEVEL at most (KeSetEvent's page).
    check_call_irql(this_thread(), wait != FALSE ? APC_LEVEL : DISPATCH_LEVEL, "KeSetEvent",
                    NDISLOCK_SITE(nullptr, 0, nullptr));
    return interrupt::event_set(event);
}

NDISLOCK_API VOID KeClearEvent(PRKEVENT event) {
    check_call_irql(this_thread(), DISPATCH_LEVEL, "KeClearEvent", NDISLOCK_SITE(nullptr, 0, nullptr));
    interrupt::event_reset(event);
}

NDISLOCK_API LONG KeResetEvent(PRKEVENT event) {
    check_call_irql(this_thread(), DISPATCH_LEVEL, "KeResetEvent", NDISLOCK_SITE(nullptr, 0, nullptr));
    return interrupt::event_reset(event);
}

NDISLOCK_API LONG KeReadStateEvent(PRKEVENT event) {
    return std::atomic_ref<LONG>(const_cast<LONG &>(event->Header.SignalState)).load(std::memory_order_acquire);
}

NDISLOCK_API NTSTATUS ndislock_at_KeWaitForSingleObject(PVOID object, KWAIT_REASON, KPROCESSOR_MODE, BOOLEAN,
                                                        PLARGE_INTEGER timeout, const char *f, int n, const char *fn) {
    return wait_single(object, timeout, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API NTSTATUS KeWaitForSingleObject(PVOID object, KWAIT_REASON, KPROCESSOR_MODE, BOOLEAN,
                                            PLARGE_INTEGER timeout) {
    return wait_single(object, timeout, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API NTSTATUS ndislock_at_KeWaitForMultipleObjects(ULONG count, PVOID objects[], WAIT_TYPE type, KWAIT_REASON,
                                                           KPROCESSOR_MODE, BOOLEAN, PLARGE_INTEGER timeout,
                                                           PKWAIT_BLOCK blocks, const char *f, int n, const char *fn) {
    return wait_multiple(count, objects, type, timeout, blocks, "KeWaitForMultipleObjects", NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API NTSTATUS KeWaitForMultipleObjects(ULONG count, PVOID objects[], WAIT_TYPE type, KWAIT_REASON,
                                               KPROCESSOR_MODE, BOOLEAN, PLARGE_INTEGER timeout, PKWAIT_BLOCK blocks) {
    return wait_multiple(count, objects, type, timeout, blocks, "KeWaitForMultipleObjects",
                         NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API NTSTATUS ndislock_at_KeDelayExecutionThread(KPROCESSOR_MODE, BOOLEAN, PLARGE_INTEGER interval,
                                                         const char *f, int n, const char *fn) {
    return delay(interval, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE, BOOLEAN, PLARGE_INTEGER interval) {
    return delay(interval, NDISLOCK_SITE(nullptr, 0, nullptr));
}

static void init_mutex(PRKMUTEX mutex, const Site &site) noexcept {
    ThreadState &t = this_thread();
    interrupt::mutex_init(mutex);
    tell_wait_lock(mutex, observe::WaitLockKind::Mutex, WaitLockPhase::Initialized, "KeInitializeMutex", site, t);
}
NDISLOCK_API VOID ndislock_at_KeInitializeMutex(PRKMUTEX mutex, ULONG, const char *f, int n, const char *fn) {
    init_mutex(mutex, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID KeInitializeMutex(PRKMUTEX mutex, ULONG) { init_mutex(mutex, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API LONG KeReadStateMutex(PRKMUTEX mutex) {
    return std::atomic_ref<LONG>(const_cast<LONG &>(mutex->Header.SignalState)).load(std::memory_order_acquire);
}

NDISLOCK_API LONG ndislock_at_KeReleaseMutex(PRKMUTEX mutex, BOOLEAN, const char *f, int n, const char *fn) {
    return release_mutex(mutex, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API LONG KeReleaseMutex(PRKMUTEX mutex, BOOLEAN) {
    return release_mutex(mutex, NDISLOCK_SITE(nullptr, 0, nullptr));
}

} // extern "C"
