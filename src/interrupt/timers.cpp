// The timer queue and its thread (KTIMER: timers.h says how the queue is kept).
#include "interrupt/timers.h"

#include "interrupt/dispatcher.h"

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include "interrupt/dispatcher.h"
#include "interrupt/processor_context.h"
#include "interrupt/scheduled_delivery.h"
#include "interrupt/timer_registry.h"
#include "lock/park.h"
#include "lock/wait_observer.h"
#include "model/preemption.h"
#include "platform/clock.h"
#include "platform/cpu.h"
#include "platform/short_spin.h"
#include "platform/diagnostics.h"

namespace ndislock::interrupt {

namespace {

// 100 ns units from 1 January 1601 to 1 January 1970: system time is counted from 1601.
constexpr std::uint64_t kUnixEpochIn100ns = 116'444'736'000'000'000ull;
constexpr std::uint64_t kFarFuture = ~std::uint64_t{0} >> 2; // beyond any due time that can come
// The timer thread sleeps at most this long with nothing due: a wake-up lost to a bug is a delay.
constexpr std::uint64_t kIdleParkNs = 1'000'000'000;

// The queue: a circular list through KTIMER::TimerListEntry with g_head as its sentinel, in
// due-time order (equal due times in the order set). g_seq is bumped when a timer becomes the
// earliest: the timer thread parks on it.
LIST_ENTRY g_head{&g_head, &g_head};
std::atomic<bool> g_queue_lock{false};
std::atomic<std::uint32_t> g_seq{0};
std::atomic<int> g_thread_started{0}; // 0 no, 1 starting, 2 running

class QueueLock {
public:
    QueueLock() noexcept : guard_(g_queue_lock) {}

private:
    platform::ShortSpinGuard guard_;
};

static_assert(sizeof(LONG) == sizeof(std::uint32_t), "SignalState is a parking word");

std::atomic_ref<LONG> signal_state(KTIMER *timer) noexcept {
    return std::atomic_ref<LONG>(const_cast<LONG &>(timer->Header.SignalState));
}

// Ends the process with a bug check about the timer queue, found broken under its lock: the queue
// is dropped (nothing follows the bad links again) and the lock let go, so the report's own way out
// (the exit checks walk the queue) finds it usable.
[[noreturn]] void broken_queue(const char *detail) noexcept {
    g_head.Flink = g_head.Blink = &g_head;
    registry_clear();
    g_queue_lock.store(false, std::memory_order_release);
    observe::report_misuse(observe::Rule::BugCheck, observe::Site{nullptr, 0, nullptr, nullptr}, detail);
    platform::fatal("BugCheck: %s", detail); // reached only if an observer let it go on
}

constexpr const char *kCancelFirst = "Cancel a timer (KeCancelTimer, NdisCancelTimerObject) before freeing its memory: "
                                     "bug check 0xC7 TIMER_OR_DPC_INVALID";

// A queued timer whose memory no longer holds a timer: freed and reused, or overwritten, while it
// was set. Following its links would crash without a word; Windows's bug check names it.
[[noreturn]] void overwritten_timer(const KTIMER *timer) noexcept {
    char detail[400];
    std::snprintf(detail, sizeof detail,
                  "the timer queue holds the KTIMER at %p, but its memory no longer holds a timer (type 0x%02x, size "
                  "%u): it was freed or overwritten while the timer was set. %s",
                  static_cast<const void *>(timer), static_cast<unsigned>(timer->Header.Type),
                  static_cast<unsigned>(timer->Header.Size), kCancelFirst);
    broken_queue(detail);
}

// A link that leads to no set timer: the memory of the timer holding it (`from`, when known) was
// freed and reused, its header left as it was, while the timer was set.
[[noreturn]] void broken_link(const void *from, const void *to) noexcept {
    char whose[64] = "";
    if (from != nullptr) std::snprintf(whose, sizeof whose, " (the KTIMER at %p)", from);
    char detail[400];
    std::snprintf(detail, sizeof detail,
                  "the timer queue's links are broken%s: they lead to %p, which is no set timer. A set KTIMER's "
                  "memory was freed and reused while the timer was set. %s",
                  whose, to, kCancelFirst);
    broken_queue(detail);
}

KTIMER *entry_timer(LIST_ENTRY *entry) noexcept {
    return reinterpret_cast<KTIMER *>(reinterpret_cast<char *>(entry) - offsetof(KTIMER, TimerListEntry));
}

// Whether a link read from the queue leads where a link may: the head, or a set timer.
bool link_ok(LIST_ENTRY *entry) noexcept { return entry == &g_head || registry_known(entry_timer(entry)); }

// The timer a queue entry other than the head belongs to, checked: every walk of the queue comes
// through here before it reads the timer's due time or follows its links.
KTIMER *timer_of(LIST_ENTRY *entry) noexcept {
    KTIMER *timer = entry_timer(entry);
    if (__builtin_expect(!registry_known(timer), 0)) broken_link(nullptr, timer);
    if (__builtin_expect(
            (timer->Header.Type != TimerNotificationObject && timer->Header.Type != TimerSynchronizationObject) ||
                timer->Header.Size != sizeof(KTIMER) / sizeof(LONG),
            0))
        overwritten_timer(timer);
    return timer;
}

// Under the queue lock. Linked and known: a timer of a dropped queue (an exploration's) is in none.
bool in_queue(const KTIMER *timer) noexcept { return timer->TimerListEntry.Flink != nullptr && registry_known(timer); }

void unlink(KTIMER *timer) noexcept {
    LIST_ENTRY *e = &timer->TimerListEntry;
    if (__builtin_expect(!link_ok(e->Flink), 0)) broken_link(timer, e->Flink);
    if (__builtin_expect(!link_ok(e->Blink), 0)) broken_link(timer, e->Blink);
    e->Blink->Flink = e->Flink;
    e->Flink->Blink = e->Blink;
    e->Flink = e->Blink = nullptr;
    registry_remove(timer);
}

// Returns true if the timer is now the earliest.
bool insert_sorted(KTIMER *timer) noexcept {
    LIST_ENTRY *at = g_head.Flink;
    while (at != &g_head && timer_of(at)->DueTime.QuadPart <= timer->DueTime.QuadPart)
        at = at->Flink;
    if (__builtin_expect(!link_ok(at->Blink), 0)) broken_link(at == &g_head ? nullptr : entry_timer(at), at->Blink);
    LIST_ENTRY *e = &timer->TimerListEntry;
    e->Flink = at;
    e->Blink = at->Blink;
    at->Blink->Flink = e;
    at->Blink = e;
    registry_add(timer);
    return g_head.Flink == e;
}

// Whether timer is linked into the queue: a scan, for KeInitializeTimerEx, whose timer's links
// may be anything (a fresh allocation).
bool queued_by_scan(const KTIMER *timer) noexcept {
    for (LIST_ENTRY *at = g_head.Flink; at != &g_head; at = at->Flink)
        if (timer_of(at) == timer) return true;
    return false;
}

// One expiry, under the queue lock. Everything is read from the timer before it is signalled: a
// waiter may free a one-shot timer as soon as it sees the signal, and the DPC routine as soon as
// its DPC is queued.
void expire(KTIMER *timer, std::uint64_t now) noexcept {
    unlink(timer);
    KDPC *const dpc = timer->Dpc;
    const std::uint32_t processor = timer->Processor;
    if (const std::uint64_t period = std::uint64_t{timer->Period} * 10'000; period != 0) {
        std::uint64_t due = timer->DueTime.QuadPart + period;
        if (due <= now) due = now + period; // behind by a period or more: missed periods are not replayed
        timer->DueTime.QuadPart = due;
        insert_sorted(timer);
    }
    signal_state(timer).store(1, std::memory_order_release);
    object_signalled(&timer->Header); // its waits, on it alone or on several objects (dispatcher.h)
    if (dpc != nullptr) {
        const std::uint64_t system = system_time_100ns();
        insert_dpc(dpc, dpc_target_from(dpc, processor),
                   reinterpret_cast<PVOID>(static_cast<ULONG_PTR>(system & 0xFFFFFFFFu)),
                   reinterpret_cast<PVOID>(static_cast<ULONG_PTR>(system >> 32)));
    }
}

void *timer_thread_main(void *) {
    for (;;) {
        const std::uint32_t seen = g_seq.load(std::memory_order_acquire);
        if (scheduled() != nullptr) { // an exploration expires the timers itself, in virtual time
            lock::park(&g_seq, seen, kIdleParkNs);
            continue;
        }
        const std::uint64_t now = interrupt_time_100ns();
        std::uint64_t next = 0;
        {
            QueueLock guard;
            while (g_head.Flink != &g_head) {
                KTIMER *first = timer_of(g_head.Flink);
                if (first->DueTime.QuadPart > now) {
                    next = first->DueTime.QuadPart;
                    break;
                }
                expire(first, now);
            }
        }
        std::uint64_t wait = kIdleParkNs;
        if (next != 0 && (next - now) < kIdleParkNs / 100) wait = (next - now) * 100;
        lock::park(&g_seq, seen, wait);
    }
    return nullptr;
}

// A periodic timer still in the queue at exit: never cancelled (docs/timers.md says why here).
void report_periodic_at_exit() noexcept;

void ensure_timer_thread() noexcept {
    if (__builtin_expect(g_thread_started.load(std::memory_order_acquire) == 2, 1)) return;
    int expected = 0;
    if (g_thread_started.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
        lock::note_slow_path(); // the thread's creation is not the caller's hold (dpc_queue.cpp)
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t thread;
        if (pthread_create(&thread, &attr, timer_thread_main, nullptr) != 0)
            platform::fatal("cannot start the timer thread");
        pthread_setname_np(thread, "ndis-timer");
        pthread_attr_destroy(&attr);
        std::atexit(report_periodic_at_exit);
        g_thread_started.store(2, std::memory_order_release);
        return;
    }
    while (g_thread_started.load(std::memory_order_acquire) != 2)
        platform::yield_core();
}

std::uint64_t due_from(LONGLONG due_time, std::uint64_t now) noexcept {
    if (due_time < 0) {
        const std::uint64_t relative = std::uint64_t{0} - static_cast<std::uint64_t>(due_time);
        return relative >= kFarFuture - now ? kFarFuture : now + relative;
    }
    const std::uint64_t system = system_time_100ns();
    const auto absolute = static_cast<std::uint64_t>(due_time);
    if (absolute <= system) return now; // in the past: expires at once
    return absolute - system >= kFarFuture - now ? kFarFuture : now + (absolute - system);
}

} // namespace

std::uint64_t interrupt_time_100ns() noexcept { return platform::monotonic_ns() / 100; }
std::uint64_t system_time_100ns() noexcept { return platform::realtime_ns() / 100 + kUnixEpochIn100ns; }

void timer_initialize(KTIMER *timer, TIMER_TYPE type) noexcept {
    bool was_queued = false;
    {
        model::NoPreempt no_preempt;
        QueueLock guard;
        if (queued_by_scan(timer)) {
            unlink(timer);
            was_queued = true;
        }
        timer->Header.Type = type == SynchronizationTimer ? TimerSynchronizationObject : TimerNotificationObject;
        timer->Header.Signalling = 0;
        timer->Header.Size = sizeof(KTIMER) / sizeof(LONG);
        timer->Header.Reserved1 = 0;
        timer->Header.WaitListHead.Flink = timer->Header.WaitListHead.Blink = &timer->Header.WaitListHead;
        signal_state(timer).store(0, std::memory_order_release);
        timer->DueTime.QuadPart = 0;
        timer->TimerListEntry.Flink = timer->TimerListEntry.Blink = nullptr;
        timer->Dpc = nullptr;
        timer->Processor = 0;
        timer->Period = 0;
    }
    if (was_queued)
        platform::diagnostic("KeInitializeTimer(Ex) on timer %p, which is in the timer queue (set and not expired): "
                             "it is taken out of the queue first (Windows would corrupt its timer table)",
                             static_cast<void *>(timer));
}

bool timer_set(KTIMER *timer, LONGLONG due_time, LONG period_ms, KDPC *dpc, std::uint32_t processor) noexcept {
    if (period_ms < 0)
        platform::fatal("KeSetTimerEx / NdisSetTimerObject: the period %d ms is negative (the WDK requires >= 0)",
                        static_cast<int>(period_ms));
    const bool schedule = scheduled() != nullptr; // an exploration's timers: no timer or DPC thread
    if (!schedule) ensure_timer_thread();
    if (dpc != nullptr && !schedule)
        ensure_processor_threads(dpc_target_from(dpc, processor)); // not at expiry, under the lock
    const std::uint64_t now = interrupt_time_100ns();
    const std::uint64_t due = due_from(due_time, now);
    bool was_queued, first;
    {
        model::NoPreempt no_preempt;
        QueueLock guard;
        was_queued = in_queue(timer);
        if (was_queued) unlink(timer);
        signal_state(timer).store(0, std::memory_order_release);
        timer->DueTime.QuadPart = due;
        timer->Period = static_cast<ULONG>(period_ms);
        timer->Dpc = dpc;
        timer->Processor = processor;
        first = insert_sorted(timer);
    }
    if (first) {
        g_seq.fetch_add(1, std::memory_order_release);
        lock::unpark_one(&g_seq);
    }
    return was_queued;
}

bool timer_cancel(KTIMER *timer) noexcept {
    model::NoPreempt no_preempt;
    QueueLock guard;
    if (!in_queue(timer)) return false;
    unlink(timer); // the earliest gone: the timer thread wakes at its old time and finds the next
    return true;
}

bool timer_signalled(const KTIMER *timer) noexcept {
    return signal_state(const_cast<KTIMER *>(timer)).load(std::memory_order_acquire) != 0;
}

// ---- Used by the NDIS timer objects (timer_objects.cpp) -----------------------------------------

bool timer_unlink_if_queued(KTIMER *timer, ULONG *period) noexcept {
    model::NoPreempt no_preempt;
    QueueLock guard;
    *period = timer->Period;
    if (!in_queue(timer)) return false;
    unlink(timer);
    return true;
}

ULONG timer_queued_period(KTIMER *timer) noexcept {
    model::NoPreempt no_preempt;
    QueueLock guard;
    return in_queue(timer) ? timer->Period : 0;
}

namespace {

void report_periodic_at_exit() noexcept {
    // Collected under the lock, reported outside it (a report may symbolize and allocate).
    constexpr unsigned kMost = 16;
    KTIMER *found[kMost];
    ULONG periods[kMost];
    const void *routines[kMost];
    unsigned n = 0;
    {
        model::NoPreempt no_preempt;
        QueueLock guard;
        for (LIST_ENTRY *at = g_head.Flink; at != &g_head && n < kMost; at = at->Flink) {
            KTIMER *t = timer_of(at);
            if (t->Period == 0 || timer_reported_at_halt(t)) continue;
            found[n] = t;
            periods[n] = t->Period;
            routines[n] = t->Dpc == nullptr ? nullptr : timer_routine_of(t->Dpc);
            ++n;
        }
    }
    for (unsigned i = 0; i < n; ++i) {
        char detail[400];
        std::snprintf(detail, sizeof detail,
                      "the periodic timer %p (every %u ms, routine %p) is still set as the process exits: it was "
                      "never cancelled (cancel periodic timers in MiniportHaltEx or the driver's Unload)",
                      static_cast<void *>(found[i]), static_cast<unsigned>(periods[i]), routines[i]);
        observe::report_if_observed(observe::Rule::PeriodicTimerNotCancelled,
                                    observe::Site{nullptr, 0, nullptr, routines[i]}, detail);
    }
}

} // namespace

std::uint64_t next_timer_due_100ns() noexcept {
    model::NoPreempt no_preempt;
    QueueLock guard;
    return g_head.Flink == &g_head ? 0 : timer_of(g_head.Flink)->DueTime.QuadPart;
}

void expire_due_timers(std::uint64_t now) noexcept {
    model::NoPreempt no_preempt;
    QueueLock guard;
    while (g_head.Flink != &g_head && timer_of(g_head.Flink)->DueTime.QuadPart <= now)
        expire(timer_of(g_head.Flink), now);
}

void drop_timer_queue() noexcept {
    model::NoPreempt no_preempt;
    QueueLock guard;
    g_head.Flink = g_head.Blink = &g_head; // the timers' own links are the scenario's: not touched
    registry_clear();
}

} // namespace ndislock::interrupt
