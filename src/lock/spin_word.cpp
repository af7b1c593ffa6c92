#include "lock/spin_word.h"

#include "lock/backoff.h"
#include "lock/park.h"
#include "lock/wait_observer.h"
#include "platform/clock.h"
#include "platform/membarrier.h"

namespace ndislock::lock {

// Pauses before sleeping: long enough to cover a short critical section running on another core
// (a few hundred ns to a few us), short enough that a descheduled holder costs little. The word is
// read between them at growing intervals (lock/backoff.h).
static constexpr unsigned kSpinPauses = 256;

// Wait after which a sleeper asks for a direct hand-off. Long enough that the fast, unfair path
// (a running thread re-taking the lock costs nothing; waking a sleeper costs a context switch)
// carries nearly all the traffic, short enough that no thread starves.
static constexpr std::uint64_t kStarveNs = 200'000;
static constexpr std::uintptr_t kHandedOver = 1;

static std::uintptr_t address(PKSPIN_LOCK lock) noexcept { return reinterpret_cast<std::uintptr_t>(lock); }

// One spin of the waiter's budget: true once it took the lock.
static bool spin_to_acquire(PKSPIN_LOCK lock, unsigned pauses) noexcept {
    auto word = spin_word(lock);
    for (Backoff backoff(pauses);;) {
        if (word.load(std::memory_order_relaxed) == 0 && spin_try_acquire(lock)) return true;
        if (!backoff.pause()) return false;
    }
}

void spin_acquire_contended(PKSPIN_LOCK lock) noexcept {
    auto word = spin_word(lock);
    const bool controlled = lock::controlled(); // an exploration: no spin, no clock (lock/park.h)
    // The first spin is not announced (WaitScope: the watchdog, the verifier's untimed holds, the
    // trace): most contended acquires end within it, and the announcement's clock reads and
    // observer calls cost as much as a hand-over between two cores. A wait that lasts (an endless
    // one included) is announced from the end of this spin on.
    if (spin_to_acquire(lock, controlled ? 0 : kSpinPauses)) return;
    const WaitScope wait(WaitKind::SpinLock, lock);
    parking::Bucket &bucket = parking::bucket_for(lock);
    const std::uint64_t since = platform::monotonic_ns();
    bool starving = false; // this thread is the bucket's starving sleeper
    for (bool first = true;; first = false) {
        if (!starving) {
            if (!first && spin_to_acquire(lock, controlled ? 0 : kSpinPauses)) return;
            if (!controlled && platform::monotonic_ns() - since > kStarveNs) {
                std::uintptr_t none = 0;
                starving = bucket.starving.compare_exchange_strong(none, address(lock), std::memory_order_relaxed,
                                                                   std::memory_order_relaxed);
            }
        }
        bucket.waiters().fetch_add(1, std::memory_order_seq_cst);
        const std::uint32_t epoch = bucket.epoch.load(std::memory_order_seq_cst);
        // The releaser reads `waiters` after its store of 0 with only a compiler barrier between
        // them; this fence makes that pair ordered: either the re-check below sees the 0, or the
        // releaser sees our count and bumps the epoch.
        platform::heavy_fence();
        // A hand-over sets the mark before it bumps the epoch: checked before sleeping and after.
        if (starving && bucket.starving.load(std::memory_order_acquire) == (address(lock) | kHandedOver)) {
            bucket.starving.store(0, std::memory_order_relaxed);
            bucket.waiters().fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        KSPIN_LOCK expected = 0;
        if (word.compare_exchange_strong(expected, kSpinHeld, std::memory_order_seq_cst, std::memory_order_relaxed)) {
            // Withdraw the mark while we hold the lock: no release can hand it over meanwhile.
            if (starving) bucket.starving.store(0, std::memory_order_relaxed);
            bucket.waiters().fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        park(&bucket.epoch, epoch, kParkBoundNs);
        bucket.waiters().fetch_sub(1, std::memory_order_relaxed);
        if (starving && bucket.starving.load(std::memory_order_acquire) == (address(lock) | kHandedOver)) {
            bucket.starving.store(0, std::memory_order_relaxed);
            return;
        }
    }
}

void spin_release_slow(PKSPIN_LOCK lock) noexcept {
    parking::Bucket &bucket = parking::bucket_for(lock);
    if (bucket.starving.load(std::memory_order_relaxed) == address(lock)) {
        // Take the lock back on the starving sleeper's behalf, then tell it. If its mark is gone
        // (it took the lock itself and released it since), give the lock back.
        KSPIN_LOCK expected = 0;
        if (spin_word(lock).compare_exchange_strong(expected, kSpinHeld, std::memory_order_acq_rel,
                                                    std::memory_order_relaxed)) {
            std::uintptr_t mark = address(lock);
            if (!bucket.starving.compare_exchange_strong(mark, address(lock) | kHandedOver, std::memory_order_acq_rel,
                                                         std::memory_order_relaxed))
                spin_word(lock).store(0, std::memory_order_seq_cst);
        }
    }
    parking::wake_all(lock);
}

} // namespace ndislock::lock
