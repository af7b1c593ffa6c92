#include "lock/rw_lock.h"

#include "lock/backoff.h"
#include "lock/parking.h"
#include "lock/wait_observer.h"

namespace ndislock::lock {

namespace {

// As the spin lock's (spin_word.cpp): long enough for a short critical section on another core,
// short enough that a descheduled holder costs little.
constexpr unsigned kSpinPauses = 256;

struct WriterFree {
    const RwView *v;
};
bool writer_free(const void *c) noexcept {
    return static_cast<const WriterFree *>(c)->v->writer_word().load(std::memory_order_seq_cst) == 0;
}

struct CountDrained {
    const RwView *v;
    std::uint32_t processor;
};
bool count_drained(const void *c) noexcept {
    const auto *d = static_cast<const CountDrained *>(c);
    return d->v->count(d->processor).load(std::memory_order_seq_cst) == 0;
}

// Spins, then sleeps in the lock's parking bucket, until done(context).
void wait_until(const RwView &v, bool (*done)(const void *), const void *context, const WaitScope &wait) noexcept {
    for (;;) {
        for (Backoff backoff(kSpinPauses);;) {
            if (done(context)) return;
            if (!backoff.pause()) break;
        }
        if (parking::sleep_unless(v.lock, done, context, kWaitTickNs)) return;
        wait.tick();
    }
}

} // namespace

bool rw_read_acquire_slow(const RwView &v, std::uint32_t processor, std::uintptr_t token) noexcept {
    WaitScope wait(WaitKind::SpinLock, v.lock);
    const WriterFree free{&v};
    for (;;) {
        // Step back so the writer can drain this processor, then wait behind it.
        if (v.count(processor).fetch_sub(1, std::memory_order_seq_cst) == 1) parking::wake_if_sleepers(v.lock);
        wait_until(v, writer_free, &free, wait);
        v.count(processor).fetch_add(1, std::memory_order_seq_cst);
        const KSPIN_LOCK w = v.writer_word().load(std::memory_order_seq_cst);
        if (w == 0 || w == token) return true;
    }
}

bool rw_read_release(const RwView &v, std::uint32_t processor) noexcept {
    auto count = v.count(processor);
    std::uint32_t n = count.load(std::memory_order_relaxed);
    if (__builtin_expect(n == 0, 0)) return false;
    n = count.fetch_sub(1, std::memory_order_seq_cst) - 1;
    // The last read of this processor gone while a writer waits: it may sleep on the drain.
    if (n == 0 && v.writer_word().load(std::memory_order_seq_cst) != 0) parking::wake_if_sleepers(v.lock);
    return true;
}

bool rw_write_acquire(const RwView &v, std::uint32_t processor, std::uintptr_t token, bool skip_own) noexcept {
    auto word = v.writer_word();
    if (word.load(std::memory_order_relaxed) == token) { // recursive write: only the owner writes depth
        ++*v.depth;
        return false;
    }
    bool waited = false;
    KSPIN_LOCK expected = 0;
    if (!word.compare_exchange_strong(expected, token, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        waited = true;
        WaitScope wait(WaitKind::SpinLock, v.lock);
        const WriterFree free{&v};
        for (;;) {
            wait_until(v, writer_free, &free, wait);
            expected = 0;
            if (word.compare_exchange_strong(expected, token, std::memory_order_seq_cst, std::memory_order_relaxed))
                break;
        }
    }
    *v.depth = 0;
    // New readers step back from here on; wait for those already in.
    for (std::uint32_t p = 0; p < v.slots; ++p) {
        if (skip_own && p == processor % v.slots) continue;
        if (v.count(p).load(std::memory_order_seq_cst) == 0) continue;
        WaitScope wait(WaitKind::SpinLock, v.lock);
        const CountDrained drained{&v, p};
        wait_until(v, count_drained, &drained, wait);
        waited = true;
    }
    return waited;
}

bool rw_write_release(const RwView &v, std::uintptr_t token) noexcept {
    auto word = v.writer_word();
    if (__builtin_expect(word.load(std::memory_order_relaxed) != token, 0)) return false;
    if (*v.depth != 0) {
        --*v.depth;
        return true;
    }
    word.store(0, std::memory_order_seq_cst);
    parking::wake_if_sleepers(v.lock);
    return true;
}

bool rw_is_busy(const RwView &v) noexcept {
    if (v.writer_word().load(std::memory_order_acquire) != 0) return true;
    for (std::uint32_t p = 0; p < v.slots; ++p)
        if (v.count(p).load(std::memory_order_acquire) != 0) return true;
    return false;
}

} // namespace ndislock::lock
