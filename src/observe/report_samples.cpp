// The report's samples (report_samples.h): a ring of time buckets per tracked lock, and two
// histograms of routine run times.
#include "observe/report_samples.h"

#include <algorithm>
#include <atomic>
#include <new>

#include "ndislock/ext.h"
#include "observe/lock_stats.h"
#include "platform/clock.h"
#include "platform/histogram.h"

namespace ndislock::observe::samples {

namespace {

// One lock's count in one time bucket. bucket is the absolute bucket index + 1 the counts belong
// to (0: never written); a writer that finds an older bucket there starts the cell over. Relaxed
// loads and stores, as in lock_stats.cpp: the lock's holder is the only writer of its cells.
struct Cell {
    std::atomic<std::uint64_t> bucket{0};
    std::atomic<std::uint32_t> acquisitions{0};
    std::atomic<std::uint32_t> contended{0};
};
struct Table {
    Cell cells[NDISLOCK_STATS_MAX_LOCKS][kTimeBuckets];
};

std::atomic<Table *> g_table{nullptr}; // allocated at the first start, kept for the process's life
std::atomic<bool> g_on{false};
std::atomic<std::uint64_t> g_start_ns{0};
std::atomic<std::uint64_t> g_bucket_ns{kDefaultBucketNs};
std::atomic<std::uint64_t> g_stop_ns{0}; // when sampling stopped (0: running): the timeline ends there

platform::Histogram<> g_routines[2]; // RoutineKind::Isr, RoutineKind::Dpc

std::uint64_t bucket_at(std::uint64_t now, std::uint64_t start, std::uint64_t width) noexcept {
    return now > start ? (now - start) / width : 0;
}

void clear_cells(Table &t) noexcept {
    for (auto &lock : t.cells)
        for (Cell &c : lock) {
            c.bucket.store(0, std::memory_order_relaxed);
            c.acquisitions.store(0, std::memory_order_relaxed);
            c.contended.store(0, std::memory_order_relaxed);
        }
}

} // namespace

bool start(std::uint64_t bucket_ns) noexcept {
    g_on.store(false, std::memory_order_relaxed);
    Table *t = g_table.load(std::memory_order_acquire);
    if (t == nullptr) {
        t = new (std::nothrow) Table;
        if (t == nullptr) return false;
        Table *expected = nullptr;
        if (!g_table.compare_exchange_strong(expected, t, std::memory_order_acq_rel)) {
            delete t;
            t = expected;
        }
    }
    clear_cells(*t);
    for (platform::Histogram<> &h : g_routines)
        h.reset();
    g_bucket_ns.store(bucket_ns != 0 ? bucket_ns : kDefaultBucketNs, std::memory_order_relaxed);
    g_start_ns.store(platform::monotonic_ns(), std::memory_order_relaxed);
    g_stop_ns.store(0, std::memory_order_relaxed);
    g_on.store(true, std::memory_order_release);
    return true;
}

void stop() noexcept {
    if (g_on.exchange(false, std::memory_order_relaxed))
        g_stop_ns.store(platform::monotonic_ns(), std::memory_order_relaxed);
}

bool on() noexcept { return g_on.load(std::memory_order_relaxed); }

void lock_acquired(unsigned entry, bool contended) noexcept {
    if (!on() || entry >= NDISLOCK_STATS_MAX_LOCKS) return;
    Table *t = g_table.load(std::memory_order_acquire);
    if (t == nullptr) return;
    const std::uint64_t b = bucket_at(platform::monotonic_ns(), g_start_ns.load(std::memory_order_relaxed),
                                      g_bucket_ns.load(std::memory_order_relaxed));
    Cell &c = t->cells[entry][b % kTimeBuckets];
    if (c.bucket.load(std::memory_order_relaxed) != b + 1) {
        c.acquisitions.store(1, std::memory_order_relaxed);
        c.contended.store(contended ? 1 : 0, std::memory_order_relaxed);
        c.bucket.store(b + 1, std::memory_order_release);
        return;
    }
    c.acquisitions.store(c.acquisitions.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (contended) c.contended.store(c.contended.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void routine_ran(Callback kind, std::uint64_t own_ns) noexcept {
    if (!on()) return;
    if (kind == Callback::Isr)
        g_routines[static_cast<unsigned>(RoutineKind::Isr)].record(own_ns);
    else if (kind == Callback::InterruptDpc || kind == Callback::KernelDpc)
        g_routines[static_cast<unsigned>(RoutineKind::Dpc)].record(own_ns);
}

void forget_locks() noexcept {
    if (Table *t = g_table.load(std::memory_order_acquire); t != nullptr) clear_cells(*t);
}

Timeline lock_timeline(unsigned entry, TimeBucket *out) noexcept {
    Timeline tl;
    Table *t = g_table.load(std::memory_order_acquire);
    if (t == nullptr || entry >= NDISLOCK_STATS_MAX_LOCKS) return tl;
    tl.bucket_ns = g_bucket_ns.load(std::memory_order_relaxed);
    const std::uint64_t stopped = g_stop_ns.load(std::memory_order_relaxed);
    const std::uint64_t last = bucket_at(stopped != 0 ? stopped : platform::monotonic_ns(),
                                         g_start_ns.load(std::memory_order_relaxed), tl.bucket_ns);
    tl.first_bucket = last + 1 > kTimeBuckets ? last + 1 - kTimeBuckets : 0;
    tl.buckets = static_cast<unsigned>(last + 1 - tl.first_bucket);
    for (unsigned i = 0; i < tl.buckets; ++i) {
        const std::uint64_t b = tl.first_bucket + i;
        const Cell &c = t->cells[entry][b % kTimeBuckets];
        const bool current = c.bucket.load(std::memory_order_acquire) == b + 1;
        out[i] = current ? TimeBucket{c.acquisitions.load(std::memory_order_relaxed),
                                      c.contended.load(std::memory_order_relaxed)}
                         : TimeBucket{0, 0};
    }
    return tl;
}

std::uint64_t routine_histogram(RoutineKind kind, std::uint64_t *out, std::uint64_t *max_ns) noexcept {
    const platform::Histogram<> &h = g_routines[static_cast<unsigned>(kind)];
    h.copy(out);
    if (max_ns != nullptr) *max_ns = h.max_ns();
    return h.count();
}

} // namespace ndislock::observe::samples
