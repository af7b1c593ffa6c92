#include "lock/spin_word.h"

#include "lock/wait_observer.h"
#include "platform/futex.h"

namespace ndislock::lock {

// Pauses before sleeping: long enough to cover a short critical section running on another core
// (a few hundred ns to a few us), short enough that a descheduled holder costs little.
static constexpr int kSpinPauses = 256;

void spin_acquire_contended(PKSPIN_LOCK lock) noexcept {
    auto word = spin_word(lock);
    WaitScope wait(WaitKind::SpinLock, lock);
    parking::Bucket &bucket = parking::bucket_for(lock);
    for (;;) {
        for (int i = 0; i < kSpinPauses; ++i) {
            if (word.load(std::memory_order_relaxed) == 0 && spin_try_acquire(lock)) return;
            platform::cpu_relax();
        }
        bucket.waiters.fetch_add(1, std::memory_order_seq_cst);
        const std::uint32_t epoch = bucket.epoch.load(std::memory_order_seq_cst);
        KSPIN_LOCK expected = 0;
        if (word.compare_exchange_strong(expected, kSpinHeld, std::memory_order_seq_cst,
                                         std::memory_order_relaxed)) {
            bucket.waiters.fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        platform::futex_wait(&bucket.epoch, epoch, kWaitTickNs);
        bucket.waiters.fetch_sub(1, std::memory_order_relaxed);
        wait.tick();
    }
}

} // namespace ndislock::lock
