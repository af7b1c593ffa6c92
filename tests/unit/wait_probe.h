// Knowing, instead of guessing with a sleep, that another thread has reached a wait inside
// ndislock: a test that needs "the waiter is at the lock now" polls the waiter's model state
// (ThreadState::wait.kind / wait.object, set when its slow path begins), with a wall-time bound so
// that a waiter that never gets there fails the test instead of stalling it.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "model/thread_state.h"
#include "ndislock/ndis.h"

namespace ndislock_test {

// The calling thread's ndislock state, registering the thread first if needed. A waiter publishes
// it (through a std::atomic) for the thread that polls it; the state stays the thread's while the
// thread lives, and the waiter cannot end while it waits.
inline ndislock::model::ThreadState *current_thread_state() {
    (void)KeGetCurrentIrql(); // the first call registers the thread
    return ndislock::model::tls_thread;
}

// True once the thread whose state `who` publishes waits inside ndislock on `object` (a lock word,
// an NDIS_SPIN_LOCK, a processor); false when it has not within `limit`.
inline bool eventually_waiting_on(const std::atomic<ndislock::model::ThreadState *> &who, const void *object,
                                  std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        const ndislock::model::ThreadState *t = who.load(std::memory_order_acquire);
        if (t != nullptr && t->wait.kind.load(std::memory_order_acquire) != ndislock::model::WaitKind::None &&
            t->wait.object.load(std::memory_order_relaxed) == object)
            return true;
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::yield();
    }
}

} // namespace ndislock_test
