// Dispatcher objects (ndislock/wdk_dispatcher.h): the signal states of events, mutexes and timers,
// and the waits over them (KeWaitForSingleObject, KeWaitForMultipleObjects, NdisWaitEvent).
//
// An object is any DISPATCHER_HEADER. Its Type decides what a satisfied wait does to it: a
// synchronization event or timer is reset, a mutex is taken by the waiting thread (recursively by
// its owner), a semaphore gives one of its count, anything else (a notification event or timer) is
// left signalled. Every wait parks
// (lock/park.h) and is recorded in the thread's wait record (WaitKind::Dispatcher), so the
// watchdog sees it; nothing here reports: the API layer does.
#pragma once

#include <cstdint>

#include "model/thread_state.h"
#include "ndislock/wdk_dispatcher.h"

namespace ndislock::interrupt {

inline constexpr std::uint64_t kWaitForever = ~std::uint64_t{0};

void event_init(PRKEVENT event, bool synchronization, bool signalled) noexcept;
// Both return the previous state. Setting wakes every wait on the event.
LONG event_set(PRKEVENT event) noexcept;
LONG event_reset(PRKEVENT event) noexcept;

void mutex_init(PRKMUTEX mutex) noexcept;

void semaphore_init(PRKSEMAPHORE semaphore, LONG count, LONG limit) noexcept;
// Adds adjustment to the count and wakes the waits it satisfies; *previous receives the count as
// it was. False, with nothing changed, when the count would pass the limit or adjustment is
// negative (Windows raises STATUS_SEMAPHORE_LIMIT_EXCEEDED).
bool semaphore_release(PRKSEMAPHORE semaphore, LONG adjustment, LONG *previous) noexcept;

// For code that signals an object on its own (a timer's expiry stores SignalState 1, then calls
// this, or lock::unpark_all on &Header.SignalState): wakes every wait on the object. The second
// form alone wakes the waits on that object only, and waits on several objects then see it at
// their next re-check (kForeignRecheckNs, see dispatcher.cpp).
void object_signalled(DISPATCHER_HEADER *header) noexcept;

struct WaitOutcome {
    bool satisfied;              // false: timed out
    std::uint32_t index;         // WaitAny: the object that satisfied the wait
    std::uint32_t mutexes_taken; // mutexes this wait took from free (each puts the thread in a critical region)
};

// Waits until one (wait_all false) or every (wait_all true) object is signalled, then applies
// the satisfied wait's effect. deadline_ns: 0 polls, kWaitForever never ends, anything else is a
// platform::monotonic_ns() time.
WaitOutcome wait_for(DISPATCHER_HEADER *const *objects, std::uint32_t count, bool wait_all, std::uint64_t deadline_ns,
                     model::ThreadState &t) noexcept;

enum class MutexRelease : std::uint8_t { StillOwned, Freed, NotOwned };
// One release by thread t; *previous receives SignalState as it was.
MutexRelease mutex_release(PRKMUTEX mutex, model::ThreadState &t, LONG *previous) noexcept;

// The thread that owns the mutex, or nullptr (any thread may ask: the watchdog's reports).
model::ThreadState *mutex_owner(PRKMUTEX mutex) noexcept;

// The identity a KMUTEX's OwnerThread (and a fast mutex's or resource's owner field) holds for
// thread t, and back (nullptr if none).
inline struct _KTHREAD *thread_tag(model::ThreadState &t) noexcept { return reinterpret_cast<struct _KTHREAD *>(&t); }
inline model::ThreadState *tagged_thread(const void *tag) noexcept {
    return const_cast<model::ThreadState *>(static_cast<const model::ThreadState *>(tag));
}

} // namespace ndislock::interrupt
