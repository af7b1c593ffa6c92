#include "interrupt/work_items.h"

#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <cstdint>
#include <mutex>

#include "interrupt/callback_scope.h"
#include "lock/park.h"
#include "lock/wait_observer.h"
#include "platform/diagnostics.h"
#include "model/thread_state.h"

namespace ndislock::interrupt {
// What a pool item serves (work_items.h): none yet, an allocated item, the pool side of an
// initialized one, or one queueing of a WORK_QUEUE_ITEM.
enum class ItemKind : unsigned char { Unused, Allocated, Initialized, Executive };
} // namespace ndislock::interrupt

// The pool item: opaque to drivers (ndislock/wdk_work_items.h declares only its name). Every
// member starts zero, so the pool is constant-initialized: its pages stay untouched (not resident)
// until an item in them is first handed out.
struct _IO_WORKITEM {
    // kQueued while on the queue, kRunning while its routine runs (both when it was queued again
    // from its own routine); kFreeing once freed while busy: the worker frees it when it is idle.
    std::atomic<std::uint32_t> state{0};
    std::atomic<bool> live{false};
    std::atomic<ndislock::interrupt::ItemKind> kind{ndislock::interrupt::ItemKind::Unused};
    ndislock::interrupt::WorkRoutine shape = ndislock::interrupt::WorkRoutine::Io; // set by each queueing
    void *owner = nullptr;
    // What the routine receives as its work item, and what names this item: the item itself
    // (allocated), the caller's storage (initialized); nullptr while free. Atomic: a stale
    // CallerWorkItem may be resolved against an item that is being handed out again.
    std::atomic<PIO_WORKITEM> handle{nullptr};
    PWORK_QUEUE_ITEM executive = nullptr; // the WORK_QUEUE_ITEM of an executive item
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

// The CallerWorkItem cookies: initialized with a pool item, or without one (the pool was empty).
constexpr std::uint64_t kCallerCookie = 0x6d65'7469'6b72'6f77ULL;   // "workitem", little-endian
constexpr std::uint64_t kCallerUnbacked = 0x6c6c'756e'6b72'6f77ULL; // "worknull"

// A fixed pool: an allocation from an interrupt cannot call malloc. Entries never used yet are
// handed out by g_unused (their pages are touched only then); given back, they go on the free list,
// which is used first.
constexpr std::uint32_t kPoolSize = 16384;
_IO_WORKITEM g_items[kPoolSize];
std::atomic<std::uint32_t> g_unused{0};

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

// A free item: from the free list, else one never used; nullptr when all kPoolSize are in use.
_IO_WORKITEM *take_item() noexcept {
    if (_IO_WORKITEM *item = pop_free()) return item;
    std::uint32_t n = g_unused.load(std::memory_order_relaxed);
    while (n < kPoolSize)
        if (g_unused.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return &g_items[n];
    return nullptr;
}

// Whether p is the address of one of the pool's items.
bool in_pool(const void *p) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p), first = reinterpret_cast<std::uintptr_t>(g_items);
    return a >= first && a < first + sizeof g_items && (a - first) % sizeof(_IO_WORKITEM) == 0;
}

// The CallerWorkItem in a driver's storage, read and written with atomic accesses: another thread
// may resolve it while its owner initializes or uninitializes it (misuse, but no torn reads).
CallerWorkItem *header(PIO_WORKITEM storage) noexcept { return reinterpret_cast<CallerWorkItem *>(storage); }
std::uint64_t cookie_of(PIO_WORKITEM storage) noexcept {
    return __atomic_load_n(&header(storage)->cookie, __ATOMIC_ACQUIRE);
}
void set_header(PIO_WORKITEM storage, std::uint64_t cookie, _IO_WORKITEM *item) noexcept {
    __atomic_store_n(&header(storage)->item, item, __ATOMIC_RELAXED);
    __atomic_store_n(&header(storage)->cookie, cookie, __ATOMIC_RELEASE);
}

// The pool item the driver's storage names, if it is still bound to that storage.
_IO_WORKITEM *resolve_caller(PIO_WORKITEM storage) noexcept {
    if (storage == nullptr || in_pool(storage) || cookie_of(storage) != kCallerCookie) return nullptr;
    _IO_WORKITEM *item = __atomic_load_n(&header(storage)->item, __ATOMIC_ACQUIRE);
    if (!in_pool(item) || item->handle.load(std::memory_order_acquire) != storage) return nullptr;
    return item;
}

bool unbacked(PIO_WORKITEM storage) noexcept {
    return storage != nullptr && !in_pool(storage) && cookie_of(storage) == kCallerUnbacked;
}

// The pool item behind a driver's handle (an allocated item, or initialized storage), or nullptr.
_IO_WORKITEM *resolve(PIO_WORKITEM handle) noexcept {
    if (handle == nullptr) return nullptr;
    if (in_pool(handle)) return handle->kind.load(std::memory_order_relaxed) == ItemKind::Allocated ? handle : nullptr;
    return resolve_caller(handle);
}

bool live(const _IO_WORKITEM *item) noexcept {
    return item->live.load(std::memory_order_acquire) && (item->state.load(std::memory_order_relaxed) & kFreeing) == 0;
}

void prepare(_IO_WORKITEM *item, ItemKind kind, void *owner, PIO_WORKITEM handle) noexcept {
    item->owner = owner;
    item->routine = nullptr;
    item->context = nullptr;
    item->executive = nullptr;
    item->state.store(0, std::memory_order_relaxed);
    item->kind.store(kind, std::memory_order_relaxed);
    item->live.store(true, std::memory_order_release);
    item->handle.store(handle, std::memory_order_release);
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

void push_pending(_IO_WORKITEM *item) noexcept {
    _IO_WORKITEM *head = g_pending.load(std::memory_order_relaxed);
    do {
        item->next_pending = head;
    } while (!g_pending.compare_exchange_weak(head, item, std::memory_order_release, std::memory_order_relaxed));
    g_work_seq.fetch_add(1, std::memory_order_release);
    lock::unpark_one(&g_work_seq);
}

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
    item->handle.store(nullptr, std::memory_order_relaxed); // a stale CallerWorkItem no longer names it
    item->live.store(false, std::memory_order_release);
    item->state.store(0, std::memory_order_relaxed);
    push_free(item);
}

// A queued WORK_QUEUE_ITEM whose List.Flink no longer holds ndislock's mark: the driver freed (or
// overwrote) it while it was queued. Windows finds a queued item in freed pool the same way.
[[noreturn]] void overwritten_executive_item(const WORK_QUEUE_ITEM *queued) noexcept {
    char detail[300];
    std::snprintf(detail, sizeof detail,
                  "the WORK_QUEUE_ITEM at %p was freed or overwritten while it was queued (ExQueueWorkItem): its "
                  "routine is not run. Free it only once its routine has begun: bug check 0xE4 WORKER_INVALID",
                  static_cast<const void *>(queued));
    observe::report_misuse(observe::Rule::BugCheck, observe::Site{nullptr, 0, nullptr, nullptr}, detail);
    platform::fatal("BugCheck: %s", detail); // reached only if an observer let it go on
}

void run(_IO_WORKITEM *item, model::ThreadState &t) noexcept {
    // Taken off the queue: queued no more, running now (one step, so a queueing sees either).
    std::uint32_t s = item->state.load(std::memory_order_acquire);
    while (!item->state.compare_exchange_weak(s, (s | kRunning) & ~kQueued, std::memory_order_acq_rel)) {
    }
    item->runner.store(t.id(), std::memory_order_relaxed);
    const WorkRoutine shape = item->shape;
    void (*routine)() = item->routine;
    void *context = item->context;
    PIO_WORKITEM const handle = item->handle.load(std::memory_order_relaxed);
    const void *object = handle;
    if (shape == WorkRoutine::Worker) {
        // The executive's item: read its routine and Parameter, then take it off the queue (its
        // mark in List.Flink) before the routine runs, which may queue it again or free it. From
        // here on the WORK_QUEUE_ITEM is the driver's alone. Without the mark its memory was
        // freed and reused, or overwritten, while it was queued: its routine is not called.
        PWORK_QUEUE_ITEM queued = item->executive;
        if (__atomic_load_n(&queued->List.Flink, __ATOMIC_ACQUIRE) != reinterpret_cast<PLIST_ENTRY>(item))
            overwritten_executive_item(queued);
        routine = reinterpret_cast<void (*)()>(queued->WorkerRoutine);
        context = queued->Parameter;
        object = queued;
        PLIST_ENTRY mark = reinterpret_cast<PLIST_ENTRY>(item);
        __atomic_compare_exchange_n(&queued->List.Flink, &mark, nullptr, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    }
    {
        CallbackScope scope(t, observe::Callback::WorkItem, reinterpret_cast<const void *>(routine), object,
                            observe::Site{nullptr, 0, nullptr, reinterpret_cast<const void *>(routine)});
        switch (shape) {
        case WorkRoutine::Io:
            reinterpret_cast<PIO_WORKITEM_ROUTINE>(routine)(static_cast<PDEVICE_OBJECT>(item->owner), context);
            break;
        case WorkRoutine::IoEx:
            reinterpret_cast<PIO_WORKITEM_ROUTINE_EX>(routine)(item->owner, context, handle);
            break;
        case WorkRoutine::Ndis:
            reinterpret_cast<NDIS_IO_WORKITEM_ROUTINE>(routine)(context, handle);
            break;
        case WorkRoutine::Worker:
            reinterpret_cast<PWORKER_THREAD_ROUTINE>(routine)(context);
            break;
        }
        scope.finish();
    }
    // Only the pool item from here on: the driver's storage may be gone.
    item->runner.store(0, std::memory_order_relaxed);
    const std::uint32_t after = item->state.fetch_and(~kRunning, std::memory_order_acq_rel) & ~kRunning;
    if (after == kFreeing) release(item); // freed meanwhile (an executive item: always), and not queued again
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

// Starts the workers if none runs yet, unless the caller runs over an interrupted thread (an ISR,
// at DIRQL): that thread is stopped wherever it was, perhaps inside the C library's thread or
// memory code, which a thread start would wait for forever. At DISPATCH_LEVEL (a DPC, a driver
// holding a spin lock) the start is allowed, as the DPC threads' is (dpc_queue.cpp), and is
// ndislock's time, not the caller's hold. False: none runs.
bool ensure_workers() noexcept {
    if (g_workers_started.load(std::memory_order_acquire)) return true;
    model::ThreadState &t = model::current_thread();
    if (t.irql().load(std::memory_order_relaxed) > DISPATCH_LEVEL ||
        t.preemption.interrupting.load(std::memory_order_relaxed) != 0)
        return false;
    lock::note_slow_path();
    start_workers();
    return true;
}

// A queueing before any worker runs, from an ISR: the item waits for the workers.
void say_no_workers_yet() noexcept {
    static std::atomic<bool> said{false};
    if (!said.exchange(true))
        platform::diagnostic("a work item queued above DISPATCH_LEVEL (from an ISR) before ndislock's worker threads "
                             "started: it runs once they start (at the next work item call made at DISPATCH_LEVEL or "
                             "below; docs/waits.md)");
}

// The pool is empty: what that means for the call that wanted an item, said once per call kind.
void say_exhausted(std::atomic<bool> &said, const char *what) noexcept {
    if (!said.exchange(true))
        platform::diagnostic("more than %u work items in use at once: %s (ndislock's pool is fixed; docs/waits.md)",
                             kPoolSize, what);
}

// Frees the pool item behind an allocated or initialized item: now if idle, else once its routine
// has returned.
WorkItemUse free_pool_item(_IO_WORKITEM *item) noexcept {
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

} // namespace

PIO_WORKITEM work_item_allocate(void *owner) noexcept {
    if (!ensure_workers()) {
        // Said, not silent: Windows allocates here (platform::diagnostic is usable anywhere).
        static std::atomic<bool> said{false};
        if (!said.exchange(true))
            platform::diagnostic("a work item allocated above DISPATCH_LEVEL (from an ISR) before ndislock's worker "
                                 "threads started: NULL (they cannot be started from an interrupt; the call is for "
                                 "IRQL <= DISPATCH_LEVEL anyway; docs/waits.md)");
        return nullptr;
    }
    _IO_WORKITEM *item = take_item();
    if (item == nullptr) {
        static std::atomic<bool> said{false};
        if (!said.exchange(true))
            platform::diagnostic("more than %u work items allocated at once: NULL (ndislock's pool is fixed; "
                                 "docs/waits.md)",
                                 kPoolSize);
        return nullptr;
    }
    prepare(item, ItemKind::Allocated, owner, item);
    return item;
}

ULONG work_item_caller_size() noexcept { return sizeof(CallerWorkItem); }

WorkItemUse work_item_initialize(void *owner, PIO_WORKITEM storage) noexcept {
    (void)ensure_workers(); // none yet at DISPATCH_LEVEL: its queueings wait for them (said then)
    if (_IO_WORKITEM *old = resolve_caller(storage);
        old != nullptr && live(old) && old->kind.load(std::memory_order_relaxed) == ItemKind::Initialized) {
        // Never uninitialized: keep the one item (a second would leak the first, or, queued,
        // corrupt the queue on Windows). Idle, it now belongs to the new owner.
        if ((old->state.load(std::memory_order_acquire) & (kQueued | kRunning)) == 0) old->owner = owner;
        return WorkItemUse::InitializedAgain;
    }
    _IO_WORKITEM *item = take_item();
    if (item == nullptr) {
        static std::atomic<bool> said{false};
        say_exhausted(said, "IoInitializeWorkItem got no pool entry, and queueing that item runs nothing");
        set_header(storage, kCallerUnbacked, nullptr);
        return WorkItemUse::NoItem;
    }
    prepare(item, ItemKind::Initialized, owner, storage);
    set_header(storage, kCallerCookie, item);
    return WorkItemUse::Done;
}

bool work_item_valid(PIO_WORKITEM handle) noexcept {
    if (handle == nullptr) return false;
    if (in_pool(handle)) return handle->kind.load(std::memory_order_relaxed) == ItemKind::Allocated && live(handle);
    if (unbacked(handle)) return true;
    _IO_WORKITEM *item = resolve_caller(handle);
    return item != nullptr && item->kind.load(std::memory_order_relaxed) == ItemKind::Initialized && live(item);
}

bool work_item_is_initialized(PIO_WORKITEM handle) noexcept { return handle != nullptr && !in_pool(handle); }

bool work_item_busy(PIO_WORKITEM handle) noexcept {
    const _IO_WORKITEM *item = resolve(handle);
    return item != nullptr && (item->state.load(std::memory_order_acquire) & (kQueued | kRunning)) != 0;
}

WorkItemUse work_item_queue(PIO_WORKITEM handle, WorkRoutine shape, void (*routine)(), void *context) noexcept {
    if (unbacked(handle)) {
        static std::atomic<bool> said{false};
        say_exhausted(said, "a work item IoInitializeWorkItem could not back was queued, and its routine does not run");
        return WorkItemUse::NoItem;
    }
    _IO_WORKITEM *item = resolve(handle);
    if (item == nullptr) return WorkItemUse::NoItem; // the API layer reported it as no live item
    if (!ensure_workers()) say_no_workers_yet();
    if ((item->state.fetch_or(kQueued, std::memory_order_acq_rel) & kQueued) != 0) return WorkItemUse::AlreadyQueued;
    item->shape = shape;
    item->routine = routine;
    item->context = context;
    push_pending(item);
    return WorkItemUse::Done;
}

WorkItemUse work_item_queue_executive(PWORK_QUEUE_ITEM queued) noexcept {
    PLIST_ENTRY seen = __atomic_load_n(&queued->List.Flink, __ATOMIC_ACQUIRE);
    if (in_pool(seen)) return WorkItemUse::AlreadyQueued; // its mark: still queued
    if (!ensure_workers()) say_no_workers_yet();
    _IO_WORKITEM *item = take_item();
    if (item == nullptr) {
        static std::atomic<bool> said{false};
        say_exhausted(said, "ExQueueWorkItem got no pool entry, and that routine does not run");
        return WorkItemUse::NoItem;
    }
    prepare(item, ItemKind::Executive, nullptr, nullptr);
    item->executive = queued;
    item->shape = WorkRoutine::Worker;
    item->state.store(kQueued | kFreeing, std::memory_order_relaxed); // given back after its run
    // Mark it queued; a queueing of the same item by another thread meanwhile wins.
    while (!__atomic_compare_exchange_n(&queued->List.Flink, &seen, reinterpret_cast<PLIST_ENTRY>(item), false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        if (in_pool(seen)) {
            release(item);
            return WorkItemUse::AlreadyQueued;
        }
    }
    push_pending(item);
    return WorkItemUse::Done;
}

WorkItemUse work_item_free(PIO_WORKITEM handle) noexcept {
    if (!in_pool(handle)) return WorkItemUse::WrongKind; // initialized storage: IoUninitializeWorkItem's
    return free_pool_item(handle);
}

WorkItemUse work_item_uninitialize(PIO_WORKITEM handle) noexcept {
    if (in_pool(handle)) return WorkItemUse::WrongKind; // allocated: IoFreeWorkItem's
    if (unbacked(handle)) {
        set_header(handle, 0, nullptr);
        return WorkItemUse::Done;
    }
    _IO_WORKITEM *item = resolve_caller(handle);
    // The storage is no work item from now on; the worker never reads it (a pending run gets its
    // pointer as an argument only).
    set_header(handle, 0, nullptr);
    if (item == nullptr) return WorkItemUse::Done; // the API layer reported it as no live item
    return free_pool_item(item);
}

} // namespace ndislock::interrupt
