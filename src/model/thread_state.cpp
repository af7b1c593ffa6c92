#include "model/thread_state.h"

#include <mutex>
#include <new>
#include <pthread.h>
#include <unistd.h>

#include "model/processors.h"
#include "platform/diagnostics.h"
#include "platform/context_local.h"

namespace ndislock::model {

constinit thread_local ThreadState *tls_thread __attribute__((tls_model("initial-exec"))) = nullptr;
NDISLOCK_CONTEXT_LOCAL(tls_thread); // follows the context (platform/context_local.h)

namespace {

std::mutex g_registry_mutex;
// By id; [0] unused. Read without the mutex (reports look up a holder by id), so atomic. States
// are never freed, only recycled through g_free_states: a report that reads a state its thread
// just left reads a live object, at worst one already describing a newer thread.
std::atomic<ThreadState *> g_threads[kMaxThreads + 1];
ThreadState *g_free_states = nullptr;
std::uint32_t g_next_fresh_id = 1;
std::uint32_t g_free_ids[kMaxThreads];
std::uint32_t g_free_count = 0;
pthread_key_t g_exit_key;

void unregister(ThreadState *t) {
    std::lock_guard<std::mutex> guard(g_registry_mutex);
    g_threads[t->id()].store(nullptr, std::memory_order_release);
    g_free_ids[g_free_count++] = t->id();
    t->next_free = g_free_states;
    g_free_states = t;
}

std::atomic<ThreadDataRelease> g_data_release[kThreadDataSlots];
std::atomic<ThreadExitHook> g_thread_exit_hook{nullptr};

// pthread key destructor: runs as the thread ends.
void on_thread_exit(void *state) {
    auto *t = static_cast<ThreadState *>(state);
    if (const ThreadExitHook hook = g_thread_exit_hook.load(std::memory_order_acquire)) hook(*t);
    for (unsigned i = 0; i < kThreadDataSlots; ++i) // what no observer took back
        if (t->observer_data[i].load(std::memory_order_acquire) != nullptr)
            if (const ThreadDataRelease release = g_data_release[i].load(std::memory_order_acquire)) release(*t);
    const KIRQL irql = t->irql().load(std::memory_order_relaxed);
    if (irql >= DISPATCH_LEVEL) {
        // On Windows the processor would stay at this IRQL for good; here its other threads would
        // wait forever. Free it and say so (the verifier reports ThreadExitHoldingLock too).
        platform::diagnostic("thread %d (processor %u) ended at IRQL %u; releasing its processor. "
                             "A thread must return to PASSIVE_LEVEL before it ends.",
                             t->os_tid.load(std::memory_order_relaxed), dispatch_index(*t),
                             static_cast<unsigned>(irql));
        lower_irql(*t, PASSIVE_LEVEL);
    }
    tls_thread = nullptr;
    lock::tls_wait_record = nullptr;
    unregister(t);
}

// A fork while another thread (the watchdog, in observe/watchdog.cpp, reads the registry every
// few tens of milliseconds) holds the registry's mutex would leave it locked for good in the
// child, whose first registration would then hang: the fork waits for it, and the child gets it
// unlocked.
void lock_registry_for_fork() { g_registry_mutex.lock(); }
void unlock_registry_after_fork() { g_registry_mutex.unlock(); }

void init_once() {
    if (pthread_key_create(&g_exit_key, on_thread_exit) != 0) platform::fatal("pthread_key_create failed");
    // A fiber's end is its thread's end (platform/context_local.h).
    platform::register_context_key(g_exit_key, on_thread_exit);
    pthread_atfork(lock_registry_for_fork, unlock_registry_after_fork, unlock_registry_after_fork);
}

} // namespace

void set_thread_exit_hook(ThreadExitHook hook) noexcept { g_thread_exit_hook.store(hook, std::memory_order_release); }

ThreadState &register_current_thread() noexcept { return register_current_thread_on(kAnyProcessor); }

ThreadState &register_current_thread_on(std::uint32_t processor) noexcept {
    static std::once_flag once;
    std::call_once(once, init_once);
    ThreadState *t = nullptr;
    {
        std::lock_guard<std::mutex> guard(g_registry_mutex);
        if (g_free_states != nullptr) {
            t = g_free_states;
            g_free_states = t->next_free;
            t->irql().store(PASSIVE_LEVEL, std::memory_order_relaxed);
            t->bound = false;
            t->wait.kind.store(lock::WaitKind::None, std::memory_order_relaxed);
            t->wait.object.store(nullptr, std::memory_order_relaxed);
            t->wait.parked_on.store(nullptr, std::memory_order_relaxed);
            t->callback.kind.store(0, std::memory_order_relaxed);
            t->callback.object.store(nullptr, std::memory_order_relaxed);
            t->preemption.interrupting.store(0, std::memory_order_relaxed);
            t->preemption.preempted_by.store(0, std::memory_order_relaxed);
            for (auto &data : t->observer_data)
                data.store(nullptr, std::memory_order_relaxed);
            t->next_free = nullptr;
        } else {
            t = new (std::nothrow) ThreadState;
            if (t == nullptr) platform::fatal("out of memory registering a thread");
        }
        if (g_free_count > 0) {
            t->fast.Id = g_free_ids[--g_free_count];
        } else if (g_next_fresh_id <= kMaxThreads) {
            t->fast.Id = g_next_fresh_id++;
        } else {
            platform::fatal("more than %u threads use ndislock at once", kMaxThreads);
        }
        // Under the registry's mutex: the watchdog reads it there (observe/watchdog.cpp), of
        // states that may be recycled meanwhile.
        t->system = processor != kAnyProcessor;
        g_threads[t->id()].store(t, std::memory_order_release);
    }
    t->os_tid.store(static_cast<int>(gettid()), std::memory_order_relaxed);
    t->bound = processor != kAnyProcessor;
    t->processor().store(t->bound ? processor : assign_processor(), std::memory_order_relaxed);
    pthread_setspecific(g_exit_key, t);
    lock::tls_wait_record = &t->wait;
    tls_thread = t;
    return *t;
}

void set_thread_data_release(unsigned index, ThreadDataRelease release) noexcept {
    if (index < kThreadDataSlots) g_data_release[index].store(release, std::memory_order_release);
}

ThreadState *thread_by_id(std::uint32_t id) noexcept {
    return id != 0 && id <= kMaxThreads ? g_threads[id].load(std::memory_order_acquire) : nullptr;
}

void for_each_thread(void (*f)(ThreadState &, void *), void *context) {
    std::lock_guard<std::mutex> guard(g_registry_mutex);
    for (std::uint32_t id = 1; id < g_next_fresh_id; ++id)
        if (ThreadState *t = g_threads[id].load(std::memory_order_acquire)) f(*t, context);
}

} // namespace ndislock::model
