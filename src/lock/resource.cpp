#include "lock/resource.h"

#include <sched.h>

#include <atomic>

#include "lock/park.h"
#include "lock/wait_observer.h"
#include "platform/cpu.h"
#include "platform/context_local.h"

namespace ndislock::lock {

namespace {

// The resources this thread holds shared, and how often. A thread holds few at once; past
// kSharedSlots its further shared holds are counted on the resource only (a recursive shared
// acquire of one of them then waits behind exclusive waiters, which Windows would not make it do).
constexpr unsigned kSharedSlots = 16;
struct SharedHold {
    const ERESOURCE *resource;
    unsigned count;
};
thread_local SharedHold t_shared[kSharedSlots];
NDISLOCK_CONTEXT_LOCAL(t_shared); // follows the context (platform/context_local.h)

SharedHold *shared_hold(const ERESOURCE *r) noexcept {
    for (SharedHold &h : t_shared)
        if (h.resource == r && h.count != 0) return &h;
    return nullptr;
}

void note_shared(const ERESOURCE *r) noexcept {
    if (SharedHold *h = shared_hold(r)) {
        ++h->count;
        return;
    }
    for (SharedHold &h : t_shared)
        if (h.count == 0) {
            h = SharedHold{r, 1};
            return;
        }
}

std::atomic_ref<KSPIN_LOCK> guard_word(PERESOURCE r) noexcept { return std::atomic_ref<KSPIN_LOCK>(r->SpinLock); }
std::atomic_ref<ULONG> generation(PERESOURCE r) noexcept { return std::atomic_ref<ULONG>(r->ContentionCount); }
std::atomic_ref<ERESOURCE_THREAD> owner_word(PERESOURCE r) noexcept {
    return std::atomic_ref<ERESOURCE_THREAD>(r->OwnerEntry.OwnerThread);
}

// The internal guard of the fields: held for a few instructions (resources are used at
// IRQL <= APC_LEVEL: never from an interrupt).
class Guard {
public:
    explicit Guard(PERESOURCE r) noexcept : r_(r) {
        for (unsigned spins = 0; guard_word(r_).exchange(1, std::memory_order_acquire) != 0;) {
            if (++spins < 256) {
                platform::cpu_relax();
            } else {
                sched_yield();
                spins = 0;
            }
        }
    }
    ~Guard() { guard_word(r_).store(0, std::memory_order_release); }
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;

private:
    PERESOURCE r_;
};

bool exclusive(const ERESOURCE *r) noexcept { return (r->Flag & ResourceOwnedExclusive) != 0; }

// Under the guard: takes it exclusively if it can.
bool take_exclusive(PERESOURCE r, std::uintptr_t owner) noexcept {
    if (exclusive(r) && owner_word(r).load(std::memory_order_relaxed) == owner) {
        ++r->ActiveCount;
        return true;
    }
    if (r->ActiveCount != 0) return false;
    r->Flag |= ResourceOwnedExclusive;
    owner_word(r).store(owner, std::memory_order_relaxed);
    r->ActiveCount = 1;
    return true;
}

// Under the guard: takes it shared if it can (an exclusive owner's shared acquire is one more
// exclusive recursion, released as such).
bool take_shared(PERESOURCE r, std::uintptr_t owner, bool queued_behind_writers) noexcept {
    if (exclusive(r)) {
        if (owner_word(r).load(std::memory_order_relaxed) != owner) return false;
        ++r->ActiveCount;
        return true;
    }
    if (shared_hold(r) == nullptr && queued_behind_writers &&
        std::atomic_ref<ULONG>(r->NumberOfExclusiveWaiters).load(std::memory_order_relaxed) != 0)
        return false;
    ++r->ActiveCount;
    note_shared(r);
    return true;
}

template <class Take> bool acquire(PERESOURCE r, bool wait, ULONG &waiters, Take take_now) noexcept {
    {
        const Guard g(r);
        if (take_now()) return true;
        if (!wait) return false;
        std::atomic_ref<ULONG>(waiters).fetch_add(1, std::memory_order_relaxed); // read by reports and tests
    }
    const WaitScope scope(WaitKind::Resource, r);
    for (;;) {
        const ULONG seen = generation(r).load(std::memory_order_acquire);
        {
            const Guard g(r);
            if (take_now()) {
                std::atomic_ref<ULONG>(waiters).fetch_sub(1, std::memory_order_relaxed);
                return true;
            }
        }
        park(&r->ContentionCount, seen, kParkBoundNs);
    }
}

void wake_all(PERESOURCE r) noexcept {
    generation(r).fetch_add(1, std::memory_order_release);
    note_slow_path();
    unpark_all(&r->ContentionCount);
}

} // namespace

void resource_init(PERESOURCE r) noexcept {
    r->SystemResourcesList.Flink = r->SystemResourcesList.Blink = &r->SystemResourcesList;
    r->OwnerTable = nullptr;
    r->ActiveCount = 0;
    r->Flag = 0;
    r->SharedWaiters = r->ExclusiveWaiters = nullptr;
    owner_word(r).store(0, std::memory_order_relaxed);
    r->OwnerEntry.TableSize = 0;
    r->ActiveEntries = 0;
    generation(r).store(0, std::memory_order_relaxed);
    r->NumberOfSharedWaiters = r->NumberOfExclusiveWaiters = 0;
#if defined(__x86_64__) || defined(__aarch64__)
    r->Reserved2 = nullptr;
#endif
    r->Address = nullptr;
    guard_word(r).store(0, std::memory_order_release);
}

bool resource_acquire_exclusive(PERESOURCE r, std::uintptr_t owner, bool wait) noexcept {
    return acquire(r, wait, r->NumberOfExclusiveWaiters, [&] { return take_exclusive(r, owner); });
}

bool resource_acquire_shared(PERESOURCE r, std::uintptr_t owner, bool wait) noexcept {
    return acquire(r, wait, r->NumberOfSharedWaiters, [&] { return take_shared(r, owner, true); });
}

bool resource_release(PERESOURCE r, std::uintptr_t owner) noexcept {
    bool freed = false;
    {
        const Guard g(r);
        if (exclusive(r) && owner_word(r).load(std::memory_order_relaxed) == owner) {
            if (--r->ActiveCount == 0) {
                r->Flag &= static_cast<USHORT>(~ResourceOwnedExclusive);
                owner_word(r).store(0, std::memory_order_relaxed);
                freed = true;
            }
        } else if (SharedHold *h = shared_hold(r); h != nullptr && !exclusive(r)) {
            --h->count;
            freed = --r->ActiveCount == 0;
        } else {
            return false;
        }
    }
    if (freed) wake_all(r);
    return true;
}

std::uintptr_t resource_exclusive_owner(PERESOURCE r) noexcept { return owner_word(r).load(std::memory_order_relaxed); }

unsigned resource_held_exclusive(PERESOURCE r, std::uintptr_t owner) noexcept {
    const Guard g(r);
    return exclusive(r) && owner_word(r).load(std::memory_order_relaxed) == owner
               ? static_cast<unsigned>(r->ActiveCount)
               : 0;
}

unsigned resource_held_shared(PERESOURCE r) noexcept {
    const Guard g(r);
    const SharedHold *h = shared_hold(r);
    return h != nullptr ? h->count : 0;
}

bool resource_busy(PERESOURCE r) noexcept {
    const Guard g(r);
    return r->ActiveCount != 0;
}

} // namespace ndislock::lock
