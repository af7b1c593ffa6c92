#include "verifier/held_locks.h"

#include <mutex>
#include <new>

#include "platform/diagnostics.h"
#include "verifier/shadow.h"

namespace ndislock::verifier {

std::atomic<std::uint32_t> g_table_epoch{1};

namespace {
std::mutex g_pool_mutex;
VerifierThread *g_free = nullptr; // tables of ended threads, reused: never freed, so a report
                                  // reading another thread's table never reads freed memory

// Empties a table for the current on-period. What the verifier learned about locks (classes,
// order, shadow entries) is global and stays; only this thread's view of what it holds goes.
void renew(VerifierThread &v) noexcept {
    v.depth.store(0, std::memory_order_relaxed);
    v.overflowed = false;
    v.callbacks.store(0, std::memory_order_relaxed);
    v.wanting.store(nullptr, std::memory_order_relaxed);
    v.wanting_shadow = nullptr;
    // An exploration takes back what a schedule taught the classes, then starts a new epoch.
    for (std::uint16_t &known : v.class_low_known)
        known = kOverflowClass;
    v.wait_depth.store(0, std::memory_order_relaxed);
    v.wait_overflowed = false;
    v.wait_chain = kChainStart;
    v.wait_wanting.store(nullptr, std::memory_order_relaxed);
    v.last_released.lock.store(nullptr, std::memory_order_relaxed);
    v.owed_irql = VerifierThread::kNoOwedIrql; // a table reused by a new thread owes it nothing
    v.raised_from_passive = observe::Site{};
    v.outer_hold.store(kNoSeq, std::memory_order_relaxed);
    v.outer_run.store(kNoSeq, std::memory_order_relaxed);
    v.beats_seen.store(v.beats_sent.load(std::memory_order_relaxed), std::memory_order_relaxed); // a beat lost
    v.epoch.store(g_table_epoch.load(std::memory_order_relaxed), std::memory_order_release);
}
} // namespace

void start_table_epoch() noexcept {
    forget_recently_freed();
    g_table_epoch.fetch_add(1, std::memory_order_relaxed);
}

VerifierThread &attach_verifier_thread(model::ThreadState &t) noexcept {
    if (VerifierThread *stale = verifier_table_of(t); stale != nullptr) { // from an earlier on-period
        renew(*stale);
        return *stale;
    }
    VerifierThread *v = nullptr;
    {
        std::lock_guard<std::mutex> guard(g_pool_mutex);
        if (g_free != nullptr) {
            v = g_free;
            g_free = v->next_free;
        }
    }
    if (v == nullptr) v = new (std::nothrow) VerifierThread;
    if (v == nullptr) platform::fatal("verifier: out of memory for a thread's held-lock table");
    // Given back when the thread ends even if the verifier is off by then (no observer call).
    model::set_thread_data_release(kVerifierData, release_verifier_thread);
    renew(*v);
    // The thread's own-time witness is opened now (system calls taking up to a millisecond), not
    // inside its first timed hold or routine, where the sentinel would charge it to the driver.
    (void)platform::own_time_now();
    v->next_free = nullptr;
    t.observer_data[kVerifierData].store(v, std::memory_order_release);
    return *v;
}

void release_verifier_thread(model::ThreadState &t) noexcept {
    auto *v = verifier_table_of(t);
    if (v == nullptr) return;
    t.observer_data[kVerifierData].store(nullptr, std::memory_order_release);
    v->depth.store(0, std::memory_order_relaxed);
    v->wait_depth.store(0, std::memory_order_relaxed);
    v->wait_wanting.store(nullptr, std::memory_order_relaxed);
    v->callbacks.store(0, std::memory_order_relaxed);
    std::lock_guard<std::mutex> guard(g_pool_mutex);
    v->next_free = g_free;
    g_free = v;
}

unsigned pooled_verifier_tables() noexcept {
    std::lock_guard<std::mutex> guard(g_pool_mutex);
    unsigned n = 0;
    for (const VerifierThread *v = g_free; v != nullptr; v = v->next_free)
        ++n;
    return n;
}

model::ThreadState *live_holder(const Shadow *s, const void *lock, std::uint32_t *id) noexcept {
    if (s == nullptr) return nullptr;
    const std::uint32_t holder = s->holder.load(std::memory_order_acquire);
    if (holder == 0) return nullptr;
    model::ThreadState *t = model::thread_by_id(holder);
    if (t == nullptr) return nullptr;
    const VerifierThread *v = verifier_thread_of(*t);
    if (v == nullptr || find_held(*v, lock) < 0) return nullptr;
    if (id != nullptr) *id = holder;
    return t;
}

} // namespace ndislock::verifier
