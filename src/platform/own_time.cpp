#include "platform/own_time.h"

#include <atomic>
#include <cstring>
#include <ctime>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/context_local.h"
#include "platform/sanitizer.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace ndislock::platform {

namespace {

enum class WitnessState : std::uint8_t { Unopened, Open, Unavailable };

// The fault ring of a thread whose page-fault event could not be opened: its head never moves.
const perf_event_mmap_page g_no_fault_ring{};

struct Witness {
    WitnessState state = WitnessState::Unopened;
    int fd = -1;
    int fault_fd = -1;
    const volatile perf_event_mmap_page *page = nullptr;
    // The page-fault event's ring (own_time.h): its data_head moves by a record at each of the
    // thread's page faults.
    const volatile perf_event_mmap_page *fault_ring = &g_no_fault_ring;
};
// Initial-exec: read on every timed hold, and in libndislock.so the default model would make each
// read a __tls_get_addr call. 32 bytes of the static TLS block.
thread_local Witness tls_witness __attribute__((tls_model("initial-exec")));

std::uint64_t ticks_to_ns(std::uint64_t ticks) noexcept;

// A context's own virtual time in a schedule (own_time.h): follows the fiber, as its other state.
constinit thread_local std::uint64_t tls_virtual_own_ns __attribute__((tls_model("initial-exec"))) = 0;
NDISLOCK_CONTEXT_LOCAL(tls_virtual_own_ns); // follows the context (platform/context_local.h)

// Once perf events fail for one thread they are assumed unavailable for all.
std::atomic<bool> g_perf_unavailable{false};

// A software perf event on the calling thread, user mode only, its metadata page (and `pages` - 1
// pages of ring after it) mapped read-only: *fd and the mapping, or nullptr.
const volatile perf_event_mmap_page *open_thread_event(perf_event_attr attr, unsigned pages, int *fd) noexcept {
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof attr;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    const long opened = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (opened < 0) return nullptr;
    void *map = mmap(nullptr, pages * static_cast<size_t>(sysconf(_SC_PAGESIZE)), PROT_READ, MAP_SHARED,
                     static_cast<int>(opened), 0);
    if (map == MAP_FAILED) {
        close(static_cast<int>(opened));
        return nullptr;
    }
    *fd = static_cast<int>(opened);
    return static_cast<const volatile perf_event_mmap_page *>(map);
}

// The page-fault witness: a sampling event on the thread's own page faults, every fault a record
// in a ring of one page mapped read-only (so the kernel overwrites it and never waits for a
// reader), and no wake-up ever (the watermark is past the ring). The ring's head is the witness.
// Without it (a descriptor limit, an old kernel) faults go unseen, as before.
void open_fault_witness(Witness &w) noexcept {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.config = PERF_COUNT_SW_PAGE_FAULTS;
    attr.sample_period = 1;
    attr.sample_type = 0; // a bare header: the head's move is all that is read
    attr.watermark = 1;
    attr.wakeup_watermark = 1u << 30;
    if (const volatile perf_event_mmap_page *ring = open_thread_event(attr, 2, &w.fault_fd)) {
        w.fault_ring = ring;
        (void)w.fault_ring->data_head;
    }
}

bool open_witness(Witness &w) noexcept {
    if (g_perf_unavailable.load(std::memory_order_relaxed)) return false;
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    w.page = open_thread_event(attr, 1, &w.fd);
    if (w.page == nullptr) {
        g_perf_unavailable.store(true, std::memory_order_relaxed);
        return false;
    }
    (void)w.page->lock; // fault the page in now, not inside the first timed interval
    // Not under ThreadSanitizer: its runtime touches new pages of its trace all the time, so every
    // interval longer than a few microseconds would take a fault and none would be timed.
    if (!NDISLOCK_TSAN) open_fault_witness(w);
    (void)ticks_to_ns(0); // and calibrate the tick rate now
    return true;
}

// Wall time for short intervals. On x86-64 the TSC (constant and non-stop on every CPU ndislock
// targets; a migration between the two reads deschedules the thread, which the witness catches):
// ~8 ns a read instead of ~25 ns for clock_gettime. Its rate is calibrated once, over 1 ms,
// against CLOCK_MONOTONIC_RAW (calibrate_ns_per_tick below). With single readings at each end a
// preemption between the two clocks skewed it: CI once saw a 200 us hold measured as 199.6 us.
#if defined(__x86_64__)
std::atomic<double> g_ns_per_tick{0.0};

std::uint64_t wall_ticks() noexcept { return __rdtsc(); }

double ns_per_tick() noexcept {
    double rate = g_ns_per_tick.load(std::memory_order_relaxed);
    if (__builtin_expect(rate != 0.0, 1)) return rate;
    rate = calibrate_ns_per_tick(wall_ticks, monotonic_raw_ns, 1'000'000);
    g_ns_per_tick.store(rate, std::memory_order_relaxed);
    return rate;
}

std::uint64_t ticks_to_ns(std::uint64_t ticks) noexcept {
    return static_cast<std::uint64_t>(static_cast<double>(ticks) * ns_per_tick());
}
#else
std::uint64_t wall_ticks() noexcept { return monotonic_ns(); }
std::uint64_t ticks_to_ns(std::uint64_t ticks) noexcept { return ticks; }
#endif

Witness &witness() noexcept {
    Witness &w = tls_witness;
    if (__builtin_expect(w.state == WitnessState::Unopened, 0))
        w.state = open_witness(w) ? WitnessState::Open : WitnessState::Unavailable;
    return w;
}

// The counter and the clock at one instant: the clock read between two counter reads, the
// tightest of 8 tries.
struct ClockPair {
    std::uint64_t ticks, ns;
};
ClockPair paired_reading(std::uint64_t (*ticks)(), std::uint64_t (*ns)()) noexcept {
    ClockPair best{0, 0};
    std::uint64_t best_gap = ~std::uint64_t{0};
    for (int i = 0; i < 8; ++i) {
        const std::uint64_t before = ticks();
        const std::uint64_t at = ns();
        const std::uint64_t after = ticks();
        if (after - before < best_gap) {
            best_gap = after - before;
            best = ClockPair{before + best_gap / 2, at};
        }
    }
    return best;
}
} // namespace

double calibrate_ns_per_tick(std::uint64_t (*ticks)(), std::uint64_t (*ns)(), std::uint64_t span_ns) noexcept {
    const ClockPair start = paired_reading(ticks, ns);
    while (ns() - start.ns < span_ns) {
    }
    const ClockPair end = paired_reading(ticks, ns);
    return end.ticks > start.ticks
               ? static_cast<double>(end.ns - start.ns) / static_cast<double>(end.ticks - start.ticks)
               : 1.0;
}

OwnTimeStamp own_time_now() noexcept {
    if (__builtin_expect(tls_virtual_clock, 0)) return OwnTimeStamp{tls_virtual_own_ns, 0, false, true};
    Witness &w = witness();
    // The witness adds the fiber switches on this thread (clock.h): both only grow, so the sum
    // changes when either does, and an interval a fiber was switched out in is not its own.
    if (w.state != WitnessState::Open) return OwnTimeStamp{thread_cpu_ns(), tls_fiber_switches, true, false};
    const std::uint32_t seq = w.page->lock + static_cast<std::uint32_t>(w.fault_ring->data_head) + tls_fiber_switches;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    return OwnTimeStamp{wall_ticks(), seq, false, false};
}

std::uint64_t own_time_since(const OwnTimeStamp &start) noexcept {
    // A stamp of a schedule read outside it (or one of a run read in a schedule) spans the two.
    if (__builtin_expect(start.virtual_time || tls_virtual_clock, 0))
        return start.virtual_time && tls_virtual_clock ? tls_virtual_own_ns - start.ns : kDescheduled;
    if (start.exact_clock) return tls_fiber_switches != start.witness ? kDescheduled : thread_cpu_ns() - start.ns;
    const std::uint64_t now = wall_ticks();
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const Witness &w = tls_witness;
    if (w.page->lock + static_cast<std::uint32_t>(w.fault_ring->data_head) + tls_fiber_switches != start.witness)
        return kDescheduled;
    return ticks_to_ns(now - start.ns);
}

void own_time_charge_virtual(std::uint64_t ns) noexcept {
    if (tls_virtual_clock) tls_virtual_own_ns += ns;
}

bool own_time_stall_virtual(std::uint64_t ns) noexcept {
    if (!tls_virtual_clock) return false;
    tls_virtual_own_ns += ns;
    if (const VirtualAdvance advance = g_virtual_advance.load(std::memory_order_acquire)) advance(ns);
    return true;
}

void own_time_thread_exit() noexcept {
    Witness &w = tls_witness;
    if (w.state == WitnessState::Open) {
        const auto page_size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        munmap(const_cast<perf_event_mmap_page *>(w.page), page_size);
        close(w.fd);
        if (w.fault_fd >= 0) {
            munmap(const_cast<perf_event_mmap_page *>(w.fault_ring), 2 * page_size);
            close(w.fault_fd);
        }
    }
    w = Witness{};
}

void own_time_disable_witness() noexcept { g_perf_unavailable.store(true, std::memory_order_relaxed); }

} // namespace ndislock::platform
