#include "observe/lock_stats.h"

#include <algorithm>
#include <atomic>

#include "observe/hooks.h"
#include "observe/lock_names.h"
#include "observe/report_samples.h"
#include "platform/diagnostics.h"
#include "platform/histogram.h"
#include "platform/own_time.h"
#include "platform/context_local.h"

namespace ndislock::observe::stats {

namespace {

struct Entry {
    std::atomic<const void *> lock{nullptr};
    std::atomic<std::uint64_t> acquisitions{0};
    std::atomic<std::uint64_t> contended{0};
    std::atomic<std::uint64_t> over_budget{0};
    std::atomic<std::uint64_t> descheduled{0};
    platform::Histogram<std::uint32_t> holds; // the timed holds (32-bit counts: 256 of them)
};

Entry g_entries[NDISLOCK_STATS_MAX_LOCKS];
std::atomic<std::uint64_t> g_budget_ns{NDISLOCK_HOLD_BUDGET_NS_DEFAULT};

// Locks this thread holds with their start stamps (nesting deeper than this is not timed).
constexpr unsigned kMaxNested = 32;
struct Stamp {
    const void *lock;
    Entry *entry;
    platform::OwnTimeStamp start;
};
thread_local Stamp tls_stamps[kMaxNested];
NDISLOCK_CONTEXT_LOCAL(tls_stamps); // follows the context (platform/context_local.h)
thread_local unsigned tls_depth = 0;
NDISLOCK_CONTEXT_LOCAL(tls_depth); // follows the context (platform/context_local.h)

// Adds one to a counter of a lock's entry. A load and a store, not an atomic add: the lock's holder
// is the only writer (acquired runs once the lock is held, releasing before it is freed), and the
// lock's own acquire/release orders one holder's update before the next one's. An atomic add would
// cost the pair two read-modify-writes. (Two locks share no entry; reset() racing with a holder may
// lose a count, as before.)
template <class T> void bump(std::atomic<T> &counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// A lock's entry: open addressing over a short probe window. A lock that finds its window full is
// not tracked; bounding the window keeps that answer cheap (the table full of other locks, a
// full scan per acquire cost ~300 ns), at the price of leaving a lock untracked now and then
// before all NDISLOCK_STATS_MAX_LOCKS entries are taken.
constexpr unsigned kMaxProbe = 16;

Entry *entry_for(const void *lock) noexcept {
    auto x = reinterpret_cast<std::uintptr_t>(lock);
    x *= 0x9E3779B97F4A7C15ull;
    unsigned s = static_cast<unsigned>(x >> 56) % NDISLOCK_STATS_MAX_LOCKS;
    for (unsigned i = 0; i < kMaxProbe; ++i, s = (s + 1) % NDISLOCK_STATS_MAX_LOCKS) {
        const void *key = g_entries[s].lock.load(std::memory_order_acquire);
        if (key == lock) return &g_entries[s];
        if (key == nullptr) {
            if (g_entries[s].lock.compare_exchange_strong(key, lock, std::memory_order_acq_rel) || key == lock)
                return &g_entries[s];
        }
    }
    return nullptr; // table full: not tracked
}

void on_acquired(const LockEvent &e, bool contended) noexcept {
    Entry *entry = entry_for(e.lock);
    if (entry == nullptr) return;
    bump(entry->acquisitions);
    if (contended) bump(entry->contended);
    if (samples::on()) samples::lock_acquired(static_cast<unsigned>(entry - g_entries), contended);
    if (tls_depth < kMaxNested) tls_stamps[tls_depth] = {e.lock, entry, platform::own_time_now()};
    ++tls_depth;
}

void on_releasing(const LockEvent &e) noexcept {
    // Usually the innermost; out-of-order releases search down.
    for (unsigned i = std::min(tls_depth, kMaxNested); i-- > 0;) {
        if (tls_stamps[i].lock != e.lock) continue;
        Entry *entry = tls_stamps[i].entry;
        const std::uint64_t held = platform::own_time_since(tls_stamps[i].start);
        for (unsigned j = i + 1; j < std::min(tls_depth, kMaxNested); ++j)
            tls_stamps[j - 1] = tls_stamps[j];
        --tls_depth;
        if (held == platform::kDescheduled) {
            // The OS took the holder off the CPU: its own time is unknown and is not charged.
            bump(entry->descheduled);
            return;
        }
        entry->holds.record_by_holder(held);
        if (held > g_budget_ns.load(std::memory_order_relaxed)) bump(entry->over_budget);
        return;
    }
    // Released by a thread that did not time its acquire (statistics turned on while held, or a
    // release by another thread, which the verifier reports): nothing to time.
}

void on_thread_exiting(model::ThreadState &) noexcept { platform::own_time_thread_exit(); }

// ISR and DPC run times, for the report while it samples.
void on_callback_returned(const CallbackEvent &e, std::uint64_t own_ns) noexcept {
    if (own_ns != platform::kDescheduled && samples::on()) samples::routine_ran(e.kind, own_ns);
}

constexpr Observer kObserver = [] {
    Observer o;
    o.acquired = on_acquired;
    o.releasing = on_releasing;
    o.thread_exiting = on_thread_exiting;
    o.callback_returned = on_callback_returned;
    return o;
}();

} // namespace

void enable(bool on, std::uint64_t budget_ns) noexcept {
    g_budget_ns.store(budget_ns != 0 ? budget_ns : NDISLOCK_HOLD_BUDGET_NS_DEFAULT, std::memory_order_relaxed);
    if (!on) {
        remove_observer(&kObserver);
    } else if (add_observer(&kObserver) < 0) {
        platform::diagnostic("lock statistics: no free observer slot; statistics stay off");
    }
}

unsigned collect(NDISLOCK_LOCK_STATS *out, unsigned max) noexcept {
    unsigned tracked = 0;
    NDISLOCK_LOCK_STATS all[NDISLOCK_STATS_MAX_LOCKS];
    for (const Entry &e : g_entries) {
        const void *lock = e.lock.load(std::memory_order_acquire);
        if (lock == nullptr) continue;
        all[tracked++] = NDISLOCK_LOCK_STATS{lock,
                                             last_lock_name(lock),
                                             e.acquisitions.load(std::memory_order_relaxed),
                                             e.contended.load(std::memory_order_relaxed),
                                             e.holds.percentile(0.50),
                                             e.holds.percentile(0.99),
                                             e.holds.max_ns(),
                                             e.over_budget.load(std::memory_order_relaxed),
                                             e.descheduled.load(std::memory_order_relaxed)};
    }
    std::sort(all, all + tracked, [](const auto &a, const auto &b) { return a.Acquisitions > b.Acquisitions; });
    if (out != nullptr) std::copy(all, all + std::min(tracked, max), out);
    return tracked;
}

int histogram(const void *lock, std::uint64_t *out) noexcept {
    for (unsigned i = 0; i < NDISLOCK_STATS_MAX_LOCKS; ++i) {
        if (lock == nullptr || g_entries[i].lock.load(std::memory_order_acquire) != lock) continue;
        g_entries[i].holds.copy(out);
        return static_cast<int>(i);
    }
    return -1;
}

void reset() noexcept {
    samples::forget_locks();
    for (Entry &e : g_entries) {
        e.acquisitions.store(0, std::memory_order_relaxed);
        e.contended.store(0, std::memory_order_relaxed);
        e.over_budget.store(0, std::memory_order_relaxed);
        e.descheduled.store(0, std::memory_order_relaxed);
        e.holds.reset();
        e.lock.store(nullptr, std::memory_order_release);
    }
}

} // namespace ndislock::observe::stats
