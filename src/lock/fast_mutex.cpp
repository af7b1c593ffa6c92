#include "lock/fast_mutex.h"

#include <atomic>

#include "lock/park.h"
#include "lock/wait_observer.h"

namespace ndislock::lock {

namespace {

std::atomic_ref<LONG> count(PFAST_MUTEX m) noexcept { return std::atomic_ref<LONG>(const_cast<LONG &>(m->Count)); }
std::atomic_ref<PVOID> owner_of(PFAST_MUTEX m) noexcept { return std::atomic_ref<PVOID>(m->Owner); }

} // namespace

void fast_mutex_init(PFAST_MUTEX m) noexcept {
    owner_of(m).store(nullptr, std::memory_order_relaxed);
    m->Contention = 0;
    m->OldIrql = 0;
    m->Event.Header.Type = 1; // EventSynchronizationObject, as ExInitializeFastMutex leaves it
    m->Event.Header.Size = sizeof(KEVENT) / sizeof(LONG);
    m->Event.Header.SignalState = 0;
    m->Event.Header.WaitListHead.Flink = m->Event.Header.WaitListHead.Blink = &m->Event.Header.WaitListHead;
    count(m).store(FM_LOCK_BIT, std::memory_order_release);
}

bool fast_mutex_try(PFAST_MUTEX m, void *owner) noexcept {
    LONG free = FM_LOCK_BIT;
    if (!count(m).compare_exchange_strong(free, 0, std::memory_order_acquire, std::memory_order_relaxed)) return false;
    owner_of(m).store(owner, std::memory_order_relaxed);
    return true;
}

void fast_mutex_acquire(PFAST_MUTEX m, void *owner) noexcept {
    if (fast_mutex_try(m, owner)) return;
    // Sequentially consistent with the release's store and load: a waiter that counted itself
    // after the release looked finds the mutex free in its park's compare.
    std::atomic_ref<ULONG>(m->Contention).fetch_add(1, std::memory_order_seq_cst);
    const WaitScope wait(WaitKind::FastMutex, m);
    while (!fast_mutex_try(m, owner))
        park(const_cast<LONG *>(&m->Count), 0, kParkBoundNs);
}

void fast_mutex_release(PFAST_MUTEX m) noexcept {
    owner_of(m).store(nullptr, std::memory_order_relaxed);
    count(m).store(FM_LOCK_BIT, std::memory_order_seq_cst);
    // Every release wakes one waiter, if any: each waiter is woken by a release after its park,
    // and one taken by a thread that came in between leaves it to the next release.
    if (std::atomic_ref<ULONG>(m->Contention).load(std::memory_order_seq_cst) != 0) {
        note_slow_path();
        unpark_one(const_cast<LONG *>(&m->Count));
    }
}

void *fast_mutex_owner(PFAST_MUTEX m) noexcept { return owner_of(m).load(std::memory_order_relaxed); }

} // namespace ndislock::lock
