#include "verifier/held_locks.h"

#include <mutex>
#include <new>

#include "platform/diagnostics.h"

namespace ndislock::verifier {

int g_verifier_slot = 0;

namespace {
std::mutex g_pool_mutex;
VerifierThread *g_free = nullptr; // tables of ended threads, reused: never freed, so a report
                                  // reading another thread's table never reads freed memory
} // namespace

void set_observer_slot(int slot) noexcept { g_verifier_slot = slot; }

VerifierThread &attach_verifier_thread(model::ThreadState &t) noexcept {
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
    v->depth.store(0, std::memory_order_relaxed);
    v->overflowed = false;
    v->callbacks.store(0, std::memory_order_relaxed);
    v->next_free = nullptr;
    t.observer_data[g_verifier_slot].store(v, std::memory_order_release);
    return *v;
}

void release_verifier_thread(model::ThreadState &t) noexcept {
    auto *v = verifier_thread_of(t);
    if (v == nullptr) return;
    t.observer_data[g_verifier_slot].store(nullptr, std::memory_order_release);
    v->depth.store(0, std::memory_order_relaxed);
    v->callbacks.store(0, std::memory_order_relaxed);
    std::lock_guard<std::mutex> guard(g_pool_mutex);
    v->next_free = g_free;
    g_free = v;
}

} // namespace ndislock::verifier
