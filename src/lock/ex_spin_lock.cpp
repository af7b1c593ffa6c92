#include "lock/ex_spin_lock.h"

#include "lock/backoff.h"
#include "lock/parking.h"
#include "lock/wait_observer.h"

namespace ndislock::lock {

namespace {

constexpr unsigned kSpinPauses = 256; // as the spin lock's (spin_word.cpp)

bool shared_taken(const void *lock) noexcept {
    return ex_try_shared(static_cast<volatile LONG *>(const_cast<void *>(lock)));
}

// One look of a waiting exclusive acquirer: take the lock if no one holds it, else make sure new
// shared acquires see that an exclusive one waits (a release of a previous exclusive holder, or
// another waiter's take, cleared the bit).
bool exclusive_taken(const void *lock) noexcept {
    auto *l = static_cast<volatile LONG *>(const_cast<void *>(lock));
    if (ex_try_exclusive(l)) return true;
    auto w = ex_word(l);
    if ((w.load(std::memory_order_relaxed) & kExWaiting) == 0) w.fetch_or(kExWaiting, std::memory_order_seq_cst);
    return ex_try_exclusive(l);
}

bool wait_for(volatile LONG *lock, bool (*taken)(const void *)) noexcept {
    const WaitScope wait(WaitKind::SpinLock, const_cast<LONG *>(lock));
    const void *key = const_cast<LONG *>(lock);
    for (;;) {
        for (Backoff backoff(kSpinPauses);;) {
            if (taken(key)) return true;
            if (!backoff.pause()) break;
        }
        if (parking::sleep_unless(key, taken, key, kParkBoundNs)) return true;
    }
}

} // namespace

bool ex_acquire_shared_slow(volatile LONG *lock) noexcept { return wait_for(lock, shared_taken); }
bool ex_acquire_exclusive_slow(volatile LONG *lock) noexcept { return wait_for(lock, exclusive_taken); }

bool ex_release_shared(volatile LONG *lock) noexcept {
    auto w = ex_word(lock);
    std::uint32_t v = w.load(std::memory_order_relaxed);
    do {
        if ((v & kExShared) == 0 || (v & kExExclusive) != 0) return false;
    } while (!w.compare_exchange_weak(v, v - 1, std::memory_order_seq_cst, std::memory_order_relaxed));
    // The last shared holder gone while an exclusive acquirer waits: it may sleep.
    if (((v - 1) & kExShared) == 0 && (v & kExWaiting) != 0) parking::wake_if_sleepers(const_cast<LONG *>(lock));
    return true;
}

bool ex_release_exclusive(volatile LONG *lock) noexcept {
    auto w = ex_word(lock);
    if ((w.load(std::memory_order_relaxed) & kExExclusive) == 0) return false;
    w.fetch_and(~kExExclusive, std::memory_order_seq_cst); // a waiter's bit 30 stays
    parking::wake_if_sleepers(const_cast<LONG *>(lock));
    return true;
}

bool ex_try_convert_exclusive(volatile LONG *lock) noexcept {
    auto w = ex_word(lock);
    std::uint32_t v = w.load(std::memory_order_relaxed);
    while ((v & (kExShared | kExExclusive)) == 1)
        if (w.compare_exchange_weak(v, kExExclusive | (v & kExWaiting), std::memory_order_seq_cst,
                                    std::memory_order_relaxed))
            return true;
    return false;
}

} // namespace ndislock::lock
