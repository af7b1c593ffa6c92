#include "interrupt/dispatcher.h"

#include <sched.h>

#include <atomic>
#include <optional>

#include "interrupt/scheduled_delivery.h"
#include "lock/park.h"
#include "lock/wait_observer.h"
#include "model/preemption.h"
#include "observe/hooks.h"
#include "platform/clock.h"
#include "platform/cpu.h"

namespace ndislock::interrupt {

namespace {

static_assert(sizeof(LONG) == sizeof(std::uint32_t), "SignalState is a parking word");

// How a wait is woken.
//   - A wait on one object parks on the object's SignalState: every change that can satisfy it
//     (an event or timer set, a mutex freed) changes that word before it wakes its waiters, so
//     the futex compare or the wake-up cannot be missed.
//   - A wait on several objects cannot park on all their words at once. It parks on g_epoch,
//     which every signal of this file bumps before it wakes; signallers wake g_epoch's parkers
//     only while g_multi_waiters says there are some (sequentially consistent on both sides:
//     a waiter counted after the signaller looked reads the bumped epoch, and then the state).
//     An object signalled by code that only wakes its own word (a timer that calls
//     lock::unpark_all on its SignalState) is seen at the next re-check: such a wait parks at most
//     kForeignRecheckNs at a time. Types signalled through wake() (events, mutexes, and timers, whose expiry calls
//     object_signalled) need no re-check.
std::atomic<std::uint32_t> g_epoch{0};
std::atomic<std::uint32_t> g_multi_waiters{0};
constexpr std::uint64_t kForeignRecheckNs = 1'000'000;

// The dispatcher lock: serializes what consumes a signal state (a satisfied wait resetting a
// synchronization object or taking a mutex; WaitAll taking all its objects together; a reset)
// as the kernel's dispatcher lock does. Setting goes without it (it only ever signals). Held for
// a few instructions, under model::NoPreempt: an interrupt (a DPC that sets an event) never
// lands on a thread that holds it.
std::atomic<std::uint32_t> g_dispatcher_lock{0};

class DispatcherLock {
public:
    DispatcherLock() noexcept {
        for (unsigned spins = 0; g_dispatcher_lock.exchange(1, std::memory_order_acquire) != 0;) {
            if (++spins < 256) {
                platform::cpu_relax();
            } else {
                sched_yield(); // its holder was descheduled
                spins = 0;
            }
        }
    }
    ~DispatcherLock() { g_dispatcher_lock.store(0, std::memory_order_release); }
    DispatcherLock(const DispatcherLock &) = delete;
    DispatcherLock &operator=(const DispatcherLock &) = delete;

private:
    model::NoPreempt no_interrupt_; // constructed first, destroyed last
};

std::atomic_ref<LONG> state(DISPATCHER_HEADER *h) noexcept {
    return std::atomic_ref<LONG>(const_cast<LONG &>(h->SignalState));
}

void set_owner(PRKMUTEX m, model::ThreadState *t) noexcept {
    std::atomic_ref<struct _KTHREAD *>(m->OwnerThread)
        .store(t != nullptr ? thread_tag(*t) : nullptr, std::memory_order_release);
}

void wake(DISPATCHER_HEADER *h) noexcept {
    g_epoch.fetch_add(1, std::memory_order_seq_cst);
    lock::unpark_all(const_cast<LONG *>(&h->SignalState));
    if (g_multi_waiters.load(std::memory_order_seq_cst) != 0) lock::unpark_all(&g_epoch);
}

bool resets_on_wait(const DISPATCHER_HEADER *h) noexcept {
    return h->Type == EventSynchronizationObject || h->Type == TimerSynchronizationObject;
}

bool signalled_for(DISPATCHER_HEADER *h, model::ThreadState &t) noexcept {
    if (h->Type == MutantObject) {
        return state(h).load(std::memory_order_acquire) > 0 || mutex_owner(reinterpret_cast<KMUTANT *>(h)) == &t;
    }
    // A semaphore is signalled while its count is above 0 (a count made negative is not).
    if (h->Type == SemaphoreObject) return state(h).load(std::memory_order_acquire) > 0;
    return state(h).load(std::memory_order_acquire) != 0;
}

// WaitAll naming one semaphore n times takes n of its count: it is satisfied only with n there.
bool enough_for_all(DISPATCHER_HEADER *const *objects, std::uint32_t count, std::uint32_t i) noexcept {
    if (objects[i]->Type != SemaphoreObject) return true;
    LONG wanted = 0;
    for (std::uint32_t j = 0; j < count; ++j)
        wanted += objects[j] == objects[i] ? 1 : 0;
    return state(objects[i]).load(std::memory_order_acquire) >= wanted;
}

// The satisfied wait's effect on one object; true if it took a free mutex.
bool take(DISPATCHER_HEADER *h, model::ThreadState &t) noexcept {
    if (h->Type == MutantObject) {
        auto *m = reinterpret_cast<KMUTANT *>(h);
        const bool was_free = state(h).fetch_sub(1, std::memory_order_acq_rel) > 0;
        if (was_free) set_owner(m, &t);
        return was_free;
    }
    if (h->Type == SemaphoreObject)
        state(h).fetch_sub(1, std::memory_order_acq_rel); // under the dispatcher lock: the count was above 0
    else if (resets_on_wait(h))
        state(h).store(0, std::memory_order_release);
    return false;
}

// Under the dispatcher lock: whether the wait is satisfied now, and if so its effect.
bool try_satisfy(DISPATCHER_HEADER *const *objects, std::uint32_t count, bool wait_all, model::ThreadState &t,
                 WaitOutcome &out) noexcept {
    if (wait_all) {
        for (std::uint32_t i = 0; i < count; ++i)
            if (!signalled_for(objects[i], t) || !enough_for_all(objects, count, i)) return false;
        for (std::uint32_t i = 0; i < count; ++i)
            out.mutexes_taken += take(objects[i], t) ? 1 : 0;
        out.index = 0;
        return true;
    }
    for (std::uint32_t i = 0; i < count; ++i) {
        if (!signalled_for(objects[i], t)) continue;
        out.mutexes_taken += take(objects[i], t) ? 1 : 0;
        out.index = i;
        return true;
    }
    return false;
}

bool signalled_elsewhere(DISPATCHER_HEADER *const *objects, std::uint32_t count) noexcept {
    for (std::uint32_t i = 0; i < count; ++i)
        if (objects[i]->Type != EventNotificationObject && objects[i]->Type != EventSynchronizationObject &&
            objects[i]->Type != MutantObject && objects[i]->Type != SemaphoreObject &&
            objects[i]->Type != TimerNotificationObject &&
            objects[i]->Type != TimerSynchronizationObject) // timers call object_signalled (timers.cpp)
            return true;
    return false;
}

// Counts the thread as a wait on several objects for its life.
class MultiWaiter {
public:
    explicit MultiWaiter(bool multi) noexcept : multi_(multi) {
        if (multi_) g_multi_waiters.fetch_add(1, std::memory_order_seq_cst);
    }
    ~MultiWaiter() {
        if (multi_) g_multi_waiters.fetch_sub(1, std::memory_order_seq_cst);
    }
    MultiWaiter(const MultiWaiter &) = delete;
    MultiWaiter &operator=(const MultiWaiter &) = delete;

private:
    bool multi_;
};

} // namespace

void event_init(PRKEVENT event, bool synchronization, bool signalled) noexcept {
    event->Header.Type = synchronization ? EventSynchronizationObject : EventNotificationObject;
    event->Header.Signalling = 0;
    event->Header.Size = sizeof(KEVENT) / sizeof(LONG);
    event->Header.Reserved1 = 0;
    event->Header.WaitListHead.Flink = event->Header.WaitListHead.Blink = &event->Header.WaitListHead;
    state(&event->Header).store(signalled ? 1 : 0, std::memory_order_release);
}

LONG event_set(PRKEVENT event) noexcept {
    if (const ScheduleControl *schedule = scheduled()) schedule->point(); // an exploration's point
    observe::notify_synchronizes(&event->Header, true); // what the setter did is before the waits it ends
    const LONG previous = state(&event->Header).exchange(1, std::memory_order_seq_cst);
    if (previous == 0) wake(&event->Header);
    return previous;
}

LONG event_reset(PRKEVENT event) noexcept {
    const DispatcherLock locked;
    return state(&event->Header).exchange(0, std::memory_order_acq_rel);
}

void mutex_init(PRKMUTEX mutex) noexcept {
    mutex->Header.Type = MutantObject;
    mutex->Header.Signalling = 0;
    mutex->Header.Size = sizeof(KMUTEX) / sizeof(LONG);
    mutex->Header.Reserved1 = 0;
    mutex->Header.WaitListHead.Flink = mutex->Header.WaitListHead.Blink = &mutex->Header.WaitListHead;
    mutex->MutantListEntry.Flink = mutex->MutantListEntry.Blink = &mutex->MutantListEntry;
    set_owner(mutex, nullptr);
    mutex->Abandoned = FALSE;
    mutex->ApcDisable = 1;
    state(&mutex->Header).store(1, std::memory_order_release);
}

void semaphore_init(PRKSEMAPHORE semaphore, LONG count, LONG limit) noexcept {
    semaphore->Header.Type = SemaphoreObject;
    semaphore->Header.Signalling = 0;
    semaphore->Header.Size = sizeof(KSEMAPHORE) / sizeof(LONG);
    semaphore->Header.Reserved1 = 0;
    semaphore->Header.WaitListHead.Flink = semaphore->Header.WaitListHead.Blink = &semaphore->Header.WaitListHead;
    semaphore->Limit = limit;
    state(&semaphore->Header).store(count, std::memory_order_release);
}

bool semaphore_release(PRKSEMAPHORE semaphore, LONG adjustment, LONG *previous) noexcept {
    if (const ScheduleControl *schedule = scheduled()) schedule->point(); // an exploration's point
    observe::notify_synchronizes(&semaphore->Header, true); // the releaser's work is before the waits it ends
    {
        // Under the dispatcher lock: a satisfied wait's take is one step with its look.
        const DispatcherLock locked;
        const LONG old = state(&semaphore->Header).load(std::memory_order_acquire);
        *previous = old;
        LONG sum = 0;
        if (adjustment < 0 || __builtin_add_overflow(old, adjustment, &sum) || sum > semaphore->Limit) return false;
        if (adjustment == 0) return true;
        state(&semaphore->Header).store(sum, std::memory_order_release);
    }
    wake(&semaphore->Header);
    return true;
}

void object_signalled(DISPATCHER_HEADER *header) noexcept { wake(header); }

model::ThreadState *mutex_owner(PRKMUTEX mutex) noexcept {
    return tagged_thread(std::atomic_ref<struct _KTHREAD *>(mutex->OwnerThread).load(std::memory_order_acquire));
}

WaitOutcome wait_for(DISPATCHER_HEADER *const *objects, std::uint32_t count, bool wait_all, std::uint64_t deadline_ns,
                     model::ThreadState &t) noexcept {
    WaitOutcome out{false, 0, 0};
    const bool multi = count > 1;
    const MultiWaiter counted(multi);
    const std::uint64_t slice_limit =
        multi && signalled_elsewhere(objects, count) ? kForeignRecheckNs : lock::kParkBoundNs;
    const std::uint64_t until = deadline_ns == kWaitForever ? 0 : deadline_ns;
    std::optional<lock::WaitScope> recorded; // from the first sleep on, the watchdog sees the wait
    for (;;) {
        const std::uint32_t epoch = g_epoch.load(std::memory_order_seq_cst);
        std::uint32_t word = 0;
        // What the wait is recorded as waiting for (the watchdog's report names it): WaitAll's first
        // object that is not signalled, which is what it lacks; any object of a WaitAny.
        std::uint32_t lacking = 0;
        {
            const DispatcherLock locked;
            if (try_satisfy(objects, count, wait_all, t, out)) {
                out.satisfied = true;
                break;
            }
            word = static_cast<std::uint32_t>(state(objects[0]).load(std::memory_order_acquire));
            if (wait_all)
                while (lacking + 1 < count && signalled_for(objects[lacking], t) &&
                       enough_for_all(objects, count, lacking))
                    ++lacking;
        }
        if (deadline_ns == 0) break;
        std::uint64_t slice = slice_limit;
        if (deadline_ns != kWaitForever) {
            const std::uint64_t now = platform::monotonic_ns();
            if (now >= deadline_ns) break;
            if (deadline_ns - now < slice)
                slice = deadline_ns - now;
            else if (lock::controlled())
                slice = lock::kParkBoundNs - 1; // a timeout, which the explorer's virtual time expires
        }
        if (!recorded) recorded.emplace(lock::WaitKind::Dispatcher, objects[lacking], until);
        if (multi)
            lock::park(&g_epoch, epoch, slice);
        else
            lock::park(const_cast<LONG *>(&objects[0]->SignalState), word, slice);
    }
    if (out.satisfied) // the satisfied wait is after the signals it saw
        for (std::uint32_t i = wait_all ? 0 : out.index; i < (wait_all ? count : out.index + 1); ++i)
            observe::notify_synchronizes(objects[i], false);
    return out;
}

MutexRelease mutex_release(PRKMUTEX mutex, model::ThreadState &t, LONG *previous) noexcept {
    bool freed = false;
    {
        const DispatcherLock locked;
        *previous = state(&mutex->Header).load(std::memory_order_relaxed);
        if (mutex_owner(mutex) != &t || *previous > 0) return MutexRelease::NotOwned;
        if (*previous == 0) {
            set_owner(mutex, nullptr);
            freed = true;
        }
        state(&mutex->Header).fetch_add(1, std::memory_order_acq_rel);
    }
    if (!freed) return MutexRelease::StillOwned;
    wake(&mutex->Header);
    return MutexRelease::Freed;
}

} // namespace ndislock::interrupt
