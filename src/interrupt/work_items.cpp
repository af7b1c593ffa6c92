#include "interrupt/work_items.h"

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "interrupt/callback_scope.h"
#include "lock/park.h"
#include "platform/diagnostics.h"
#include "model/thread_state.h"

// The item itself: opaque to drivers (ndislock/wdk_work_items.h declares only its name).
struct _IO_WORKITEM {
    // kQueued while on the queue, kRunning while its routine runs (both when it was queued again
    // from its own routine); kFreeing once freed while busy: the worker frees it when it is idle.
    std::atomic<std::uint32_t> state{0};
    std::atomic<bool> live{false};
    bool ndis = false;
    void *owner = nullptr;
    void (*routine)() = nullptr;
    void *context = nullptr;
    std::atomic<std::uint32_t> runner{0}; // the worker's thread id while it runs
    _IO_WORKITEM *next_pending = nullptr; // the pending list's link
    // The free list's link: index + 1, 0 = end. Atomic: a pop may read it while the item, popped
    // and pushed again by others meanwhile, is rewritten (that pop's exchange then fails).
    std::atomic<std::uint32_t> next_free{0};
};

namespace ndislock::interrupt {

namespace {

constexpr std::uint32_t kQueued = 1, kRunning = 2, kFreeing = 4;

// A fixed pool: an allocation from an interrupt cannot call malloc.
constexpr std::uint32_t kPoolSize = 1024;
_IO_WORKITEM g_items[kPoolSize];

// The free list, a stack of indexes with a tag against ABA: (tag << 32) | (index + 1).
std::atomic<std::uint64_t> g_free{0};
std::once_flag g_pool_once;

void push_free(_IO_WORKITEM *item) noexcept {
    const auto index = static_cast<std::uint32_t>(item - g_items);
    std::uint64_t head = g_free.load(std::memory_order_relaxed);
    do {
        item->next_free.store(static_cast<std::uint32_t>(head), std::memory_order_relaxed);
    } while (!g_free.compare_exchange_weak(head, ((head >> 32) + 1) << 32 | (index + 1), std::memory_order_release,
                                           std::memory_order_relaxed));
}

_IO_WORKITEM *pop_free() noexcept {
    std::uint64_t head = g_free.load(std::memory_order_acquire);
    for (;;) {
        const auto top = static_cast<std::uint32_t>(head);
        if (top == 0) return nullptr;
        _IO_WORKITEM *item = &g_items[top - 1];
        const std::uint64_t next = ((head >> 32) + 1) << 32 | item->next_free.load(std::memory_order_relaxed);
        if (g_free.compare_exchange_weak(head, next, std::memory_order_acquire, std::memory_order_acquire)) return item;
    }
}

// Queued items not yet taken by a worker: a stack anyone pushes on, taken whole by a worker.
std::atomic<_IO_WORKITEM *> g_pending{nullptr};
// Bumped by every queueing before it wakes a worker: what idle workers park on.
std::atomic<std::uint32_t> g_work_seq{0};

// Items taken from g_pending, in queue order, for the workers (worker threads only: a mutex).
std::mutex g_ready_mutex;
_IO_WORKITEM *g_ready_head = nullptr;
_IO_WORKITEM *g_ready_tail = nullptr;

constexpr unsigned kWorkers = 2;
std::atomic<bool> g_workers_started{false};

// Moves what is pending to the end of the ready list (reversed: the stack is newest first), and
// returns the first ready item, or nullptr.
_IO_WORKITEM *next_ready(bool *more) noexcept {
    _IO_WORKITEM *taken = g_pending.exchange(nullptr, std::memory_order_acquire);
    _IO_WORKITEM *in_order = nullptr;
    while (taken != nullptr) {
        _IO_WORKITEM *next = taken->next_pending;
        taken->next_pending = in_order;
        in_order = taken;
        taken = next;
    }
    const std::lock_guard<std::mutex> guard(g_ready_mutex);
    for (_IO_WORKITEM *item = in_order; item != nullptr;) {
        _IO_WORKITEM *next = item->next_pending;
        item->next_pending = nullptr;
        if (g_ready_tail != nullptr)
            g_ready_tail->next_pending = item;
        else
            g_ready_head = item;
        g_ready_tail = item;
        item = next;
    }
    _IO_WORKITEM *first = g_ready_head;
    if (first != nullptr) {
        g_ready_head = first->next_pending;
        if (g_ready_head == nullptr) g_ready_tail = nullptr;
        first->next_pending = nullptr;
    }
    *more = g_ready_head != nullptr;
    return first;
}

void release(_IO_WORKITEM *item) noexcept {
    item->live.store(false, std::memory_order_release);
    item->state.store(0, std::memory_order_relaxed);
    push_free(item);
}

void run(_IO_WORKITEM *item, model::ThreadState &t) noexcept {
    // Taken off the queue: queued no more, running now (one step, so a queueing sees either).
    std::uint32_t s = item->state.load(std::memory_order_acquire);
    while (!item->state.compare_exchange_weak(s, (s | kRunning) & ~kQueued, std::memory_order_acq_rel)) {
    }
    item->runner.store(t.id(), std::memory_order_relaxed);
    void (*const routine)() = item->routine;
    void *const context = item->context;
    {
        CallbackScope scope(t, observe::Callback::WorkItem, reinterpret_cast<const void *>(routine), item,
                            observe::Site{nullptr, 0, nullptr, reinterpret_cast<const void *>(routine)});
        if (item->ndis)
            reinterpret_cast<NDIS_IO_WORKITEM_ROUTINE>(routine)(context, item);
        else
            reinterpret_cast<PIO_WORKITEM_ROUTINE>(routine)(static_cast<PDEVICE_OBJECT>(item->owner), context);
        scope.finish();
    }
    item->runner.store(0, std::memory_order_relaxed);
    const std::uint32_t after = item->state.fetch_and(~kRunning, std::memory_order_acq_rel) & ~kRunning;
    if (after == kFreeing) release(item); // freed meanwhile, and not queued again
}

void *worker_main(void *) {
    pthread_setname_np(pthread_self(), "ndis-worker");
    model::ThreadState &t = model::register_current_thread();
    for (;;) {
        const std::uint32_t seen = g_work_seq.load(std::memory_order_acquire);
        bool more = false;
        _IO_WORKITEM *item = next_ready(&more);
        if (item == nullptr) {
            lock::park(&g_work_seq, seen, lock::kParkBoundNs);
            continue;
        }
        if (more) lock::unpark_one(&g_work_seq); // another worker may take the next one meanwhile
        run(item, t);
    }
    return nullptr;
}

void start_workers() noexcept {
    std::call_once(g_pool_once, [] {
        for (std::uint32_t i = kPoolSize; i-- > 0;)
            push_free(&g_items[i]);
        for (unsigned i = 0; i < kWorkers; ++i) {
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            pthread_t thread;
            pthread_create(&thread, &attr, worker_main, nullptr);
            pthread_attr_destroy(&attr);
        }
        g_workers_started.store(true, std::memory_order_release);
    });
}

} // namespace

PIO_WORKITEM work_item_allocate(void *owner, bool ndis) noexcept {
    if (!g_workers_started.load(std::memory_order_acquire)) {
        if (model::current_thread().irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL) {
            // Said, not silent: Windows allocates here (platform::diagnostic is usable anywhere).
            static std::atomic<bool> said{false};
            if (!said.exchange(true))
                platform::diagnostic("a work item allocated at DISPATCH_LEVEL or above before any at PASSIVE_LEVEL: "
                                     "NULL (ndislock starts its worker threads at the first allocation below "
                                     "DISPATCH_LEVEL; allocate one during initialization; docs/waits.md)");
            return nullptr;
        }
        start_workers();
    }
    _IO_WORKITEM *item = pop_free();
    if (item == nullptr) {
        static std::atomic<bool> said{false};
        if (!said.exchange(true))
            platform::diagnostic("more than %u work items allocated at once: NULL (ndislock's pool is fixed; "
                                 "docs/waits.md)",
                                 kPoolSize);
        return nullptr;
    }
    item->ndis = ndis;
    item->owner = owner;
    item->routine = nullptr;
    item->context = nullptr;
    item->state.store(0, std::memory_order_relaxed);
    item->live.store(true, std::memory_order_release);
    return item;
}

bool work_item_valid(PIO_WORKITEM item) noexcept {
    if (item < g_items || item >= g_items + kPoolSize) return false;
    return item->live.load(std::memory_order_acquire) && (item->state.load(std::memory_order_relaxed) & kFreeing) == 0;
}

bool work_item_busy(PIO_WORKITEM item) noexcept {
    return (item->state.load(std::memory_order_acquire) & (kQueued | kRunning)) != 0;
}

WorkItemUse work_item_queue(PIO_WORKITEM item, void (*routine)(), void *context) noexcept {
    if ((item->state.fetch_or(kQueued, std::memory_order_acq_rel) & kQueued) != 0) return WorkItemUse::AlreadyQueued;
    item->routine = routine;
    item->context = context;
    _IO_WORKITEM *head = g_pending.load(std::memory_order_relaxed);
    do {
        item->next_pending = head;
    } while (!g_pending.compare_exchange_weak(head, item, std::memory_order_release, std::memory_order_relaxed));
    g_work_seq.fetch_add(1, std::memory_order_release);
    lock::unpark_one(&g_work_seq);
    return WorkItemUse::Done;
}

WorkItemUse work_item_free(PIO_WORKITEM item) noexcept {
    const std::uint32_t s = item->state.fetch_or(kFreeing, std::memory_order_acq_rel);
    if ((s & (kQueued | kRunning)) == 0) {
        release(item);
        return WorkItemUse::Done;
    }
    // Busy: the worker frees it once it is idle. Its own routine may free it: that is the rule.
    model::ThreadState *t = model::tls_thread;
    const bool own_routine = s == kRunning && t != nullptr && item->runner.load(std::memory_order_relaxed) == t->id();
    return own_routine ? WorkItemUse::Done : WorkItemUse::FreedWhileBusy;
}

} // namespace ndislock::interrupt
