// What the lock algorithms tell the world about a wait: each thread's wait record (what it waits
// for, since when, where it is parked), and begin/end/slow-path notifications to one observer.
//
// The record is the registry a watchdog reads: written by the waiting thread only (WaitScope, and
// park() in lock/park.cpp), read by any thread, never by waking the waiter. So a wait sleeps until
// it is woken; nothing in the lock algorithms wakes up only to say "still waiting". The execution
// model embeds one record in each ThreadState and points tls_wait_record at it when the thread
// registers; a thread ndislock never registered waits without a record. The observer is set by
// whoever starts the library. Both are used on slow paths only, never on an uncontended acquire or
// release.
#pragma once

#include <atomic>
#include <cstdint>

#include "platform/clock.h"

namespace ndislock::lock {

// Dispatcher: a KeWaitFor* wait (object: the first DISPATCHER_HEADER waited for); FastMutex and
// Resource: a FAST_MUTEX or ERESOURCE acquire (object: the lock). Their owners are in the objects.
enum class WaitKind : std::uint8_t {
    None,
    SpinLock,
    QueuedSpinLock,
    QueueSuccessorLink,
    Processor,
    Dispatcher,
    FastMutex,
    Resource
};

// What a wait of this kind waits for, as reports name it ("spin lock", "virtual processor"); None
// is a wait the lock layer did not describe: "address". One table, beside the kinds it names.
constexpr const char *wait_kind_name(WaitKind kind) noexcept {
    switch (kind) {
    case WaitKind::SpinLock:
        return "spin lock";
    case WaitKind::QueuedSpinLock:
        return "queued spin lock";
    case WaitKind::QueueSuccessorLink:
        return "queue successor of lock";
    case WaitKind::Processor:
        return "virtual processor";
    case WaitKind::Dispatcher:
        return "dispatcher object";
    case WaitKind::FastMutex:
        return "fast mutex";
    case WaitKind::Resource:
        return "resource";
    case WaitKind::None:
        break;
    }
    return "address";
}

struct WaitRecord {
    std::atomic<WaitKind> kind{WaitKind::None}; // stored last (release) as a wait begins
    std::atomic<const void *> object{nullptr};  // the lock or processor waited for
    std::atomic<std::uint64_t> since_ns{0};     // platform::monotonic_ns() as the wait began
    // The address the thread is blocked on in park(), or nullptr while it spins or runs. Also set
    // by waits without a WaitScope (an idle interrupt or DPC thread, a stopped thread).
    std::atomic<const void *> parked_on{nullptr};
    // When a wait with a timeout ends by itself (platform::monotonic_ns()), 0 for a wait without
    // one: only a wait without a timeout can be a deadlock.
    std::atomic<std::uint64_t> until_ns{0};
};

// The calling thread's record, or nullptr. Initial-exec: read from signal handlers too.
extern constinit thread_local WaitRecord *tls_wait_record __attribute__((tls_model("initial-exec")));

struct WaitObserver {
    void (*begin)(WaitKind kind, const void *object) noexcept;
    void (*end)() noexcept;
    // A system call on a slow path that is not a wait (waking a sleeper): like a wait, time the
    // kernel spends here is not the caller's own (a Windows release hands over without one).
    void (*slow_path)() noexcept;
};

extern std::atomic<const WaitObserver *> g_wait_observer;

// How long a lock wait stays parked before it re-checks on its own. No algorithm relies on it
// (every state change that can end a wait unparks the waiters) and no watchdog needs it (waits are
// seen through their records): it only turns a wake-up lost to a bug into a delay, not a hang.
inline constexpr std::uint64_t kParkBoundNs = 1'000'000'000;

// Before a wake-up system call on a release path.
inline void note_slow_path() noexcept {
    if (const WaitObserver *o = g_wait_observer.load(std::memory_order_acquire)) o->slow_path();
}

// Brackets one wait: records it and tells the observer on construction, the reverse on
// destruction.
class WaitScope {
public:
    WaitScope(WaitKind kind, const void *object, std::uint64_t until_ns = 0) noexcept
        : record_(tls_wait_record), observer_(g_wait_observer.load(std::memory_order_acquire)) {
        if (record_ != nullptr) {
            record_->object.store(object, std::memory_order_relaxed);
            record_->until_ns.store(until_ns, std::memory_order_relaxed);
            record_->since_ns.store(platform::monotonic_ns(), std::memory_order_relaxed);
            record_->kind.store(kind, std::memory_order_release);
        }
        if (observer_ != nullptr) observer_->begin(kind, object);
    }
    ~WaitScope() {
        if (observer_ != nullptr) observer_->end();
        if (record_ != nullptr) {
            record_->kind.store(WaitKind::None, std::memory_order_release);
            record_->object.store(nullptr, std::memory_order_relaxed);
        }
    }
    WaitScope(const WaitScope &) = delete;
    WaitScope &operator=(const WaitScope &) = delete;

private:
    WaitRecord *record_;
    const WaitObserver *observer_;
};

} // namespace ndislock::lock
