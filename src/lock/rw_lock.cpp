#include "lock/rw_lock.h"

#include "lock/backoff.h"
#include "lock/parking.h"
#include "lock/wait_observer.h"

namespace ndislock::lock {

namespace {

// As the spin lock's (spin_word.cpp): long enough for a short critical section on another core,
// short enough that a descheduled holder costs little.
constexpr unsigned kSpinPauses = 256;
// A writer waiting for a processor's readers to leave sleeps at most this long between looks: a
// reader's release does not always wake it (rw_read_release).
constexpr std::uint64_t kDrainSleepNs = 100'000;

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

// Spins, then sleeps in the lock's parking bucket, until done(context). The wait is announced
// (WaitScope: the watchdog, the verifier's untimed holds) only once the spin is spent: a reader
// stepping aside for a writer's few hundred nanoseconds is the common case under writes, and
// announcing it (clock reads, observer calls) cost more than the wait itself.
void wait_until(const RwView &v, bool (*done)(const void *), const void *context,
                std::uint64_t sleep_ns = kParkBoundNs) noexcept {
    for (Backoff backoff(kSpinPauses);;) {
        if (done(context)) return;
        if (!backoff.pause()) break;
    }
    const WaitScope wait(WaitKind::SpinLock, v.lock);
    for (;;) {
        if (parking::sleep_unless(v.lock, done, context, sleep_ns)) return;
        for (Backoff backoff(kSpinPauses);;) {
            if (done(context)) return;
            if (!backoff.pause()) break;
        }
    }
}

} // namespace

bool rw_read_acquire_slow(const RwView &v, std::uint32_t processor, std::uintptr_t token) noexcept {
    const WriterFree free{&v};
    for (;;) {
        // Step back so the writer can drain this processor, then wait behind it.
        if (v.count(processor).fetch_sub(1, std::memory_order_seq_cst) == 1) parking::wake_if_sleepers(v.lock);
        wait_until(v, writer_free, &free);
        v.count(processor).fetch_add(1, std::memory_order_seq_cst);
        const KSPIN_LOCK w = v.writer_word().load(std::memory_order_seq_cst);
        if (w == 0 || w == token) return true;
    }
}

bool rw_read_release(const RwView &v, std::uint32_t processor, bool sole_writer) noexcept {
    auto count = v.count(processor);
    std::uint32_t n = count.load(std::memory_order_relaxed);
    if (__builtin_expect(n == 0, 0)) return false;
    if (sole_writer) {
        // Only this processor's DISPATCH_LEVEL owner writes its count: a plain release store, no
        // locked instruction (the one a read pair can do without; the acquire's is needed for
        // exclusion). The store may still sit in the store buffer when the writer word is read
        // below, so a writer that went to sleep on the drain in between is not woken: the drain's
        // sleeps are short (kDrainSleepNs) for that reason.
        count.store(--n, std::memory_order_release);
    } else {
        n = count.fetch_sub(1, std::memory_order_seq_cst) - 1;
    }
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
        const WriterFree free{&v};
        for (;;) {
            wait_until(v, writer_free, &free);
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
        const CountDrained drained{&v, p};
        wait_until(v, count_drained, &drained, kDrainSleepNs);
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
