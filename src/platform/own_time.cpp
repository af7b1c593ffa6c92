#include "platform/own_time.h"

#include <atomic>
#include <cstring>
#include <ctime>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/clock.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace ndislock::platform {

namespace {

enum class WitnessState : std::uint8_t { Unopened, Open, Unavailable };

struct Witness {
    WitnessState state = WitnessState::Unopened;
    int fd = -1;
    const volatile perf_event_mmap_page *page = nullptr;
};
thread_local Witness tls_witness;

std::uint64_t ticks_to_ns(std::uint64_t ticks) noexcept;

// Once perf events fail for one thread they are assumed unavailable for all.
std::atomic<bool> g_perf_unavailable{false};

bool open_witness(Witness &w) noexcept {
    if (g_perf_unavailable.load(std::memory_order_relaxed)) return false;
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    const long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        g_perf_unavailable.store(true, std::memory_order_relaxed);
        return false;
    }
    void *page = mmap(nullptr, static_cast<size_t>(sysconf(_SC_PAGESIZE)), PROT_READ, MAP_SHARED,
                      static_cast<int>(fd), 0);
    if (page == MAP_FAILED) {
        close(static_cast<int>(fd));
        g_perf_unavailable.store(true, std::memory_order_relaxed);
        return false;
    }
    w.fd = static_cast<int>(fd);
    w.page = static_cast<const volatile perf_event_mmap_page *>(page);
    (void)w.page->lock; // fault the page in now, not inside the first timed interval
    (void)ticks_to_ns(0); // and calibrate the tick rate now
    return true;
}

// Wall time for short intervals. On x86-64 the TSC (constant and non-stop on every CPU ndislock
// targets; a migration between the two reads deschedules the thread, which the witness catches):
// ~8 ns a read instead of ~25 ns for clock_gettime. Its rate is calibrated once, over 1 ms,
// against CLOCK_MONOTONIC_RAW (not slewed by NTP, like the scheduler's own clock).
#if defined(__x86_64__)
std::atomic<double> g_ns_per_tick{0.0};

std::uint64_t raw_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// The TSC and the clock at one instant: the clock read between two TSC reads, the tightest of a
// few tries. A single TSC read next to a clock read is skewed by whatever comes between them (an
// interrupt, a preemption): 1 us of it is 0.1% of a 1 ms calibration, and CI once saw a 200 us
// hold measured as 199.6 us.
struct ClockPair {
    std::uint64_t tsc, ns;
};
ClockPair paired_reading() noexcept {
    ClockPair best{0, 0};
    std::uint64_t best_gap = ~std::uint64_t{0};
    for (int i = 0; i < 8; ++i) {
        const std::uint64_t before = __rdtsc();
        const std::uint64_t ns = raw_ns();
        const std::uint64_t after = __rdtsc();
        if (after - before < best_gap) {
            best_gap = after - before;
            best = ClockPair{before + best_gap / 2, ns};
        }
    }
    return best;
}

double ns_per_tick() noexcept {
    double rate = g_ns_per_tick.load(std::memory_order_relaxed);
    if (__builtin_expect(rate != 0.0, 1)) return rate;
    const ClockPair start = paired_reading();
    while (raw_ns() - start.ns < 1'000'000) {
    }
    const ClockPair end = paired_reading();
    rate = end.tsc > start.tsc ? static_cast<double>(end.ns - start.ns) / static_cast<double>(end.tsc - start.tsc) : 1.0;
    g_ns_per_tick.store(rate, std::memory_order_relaxed);
    return rate;
}

std::uint64_t wall_ticks() noexcept { return __rdtsc(); }
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

} // namespace

OwnTimeStamp own_time_now() noexcept {
    Witness &w = witness();
    if (w.state != WitnessState::Open) return OwnTimeStamp{thread_cpu_ns(), 0, true};
    const std::uint32_t seq = w.page->lock;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    return OwnTimeStamp{wall_ticks(), seq, false};
}

std::uint64_t own_time_since(const OwnTimeStamp &start) noexcept {
    if (start.exact_clock) return thread_cpu_ns() - start.ns;
    const std::uint64_t now = wall_ticks();
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (tls_witness.page->lock != start.witness) return kDescheduled;
    return ticks_to_ns(now - start.ns);
}

void own_time_thread_exit() noexcept {
    Witness &w = tls_witness;
    if (w.state == WitnessState::Open) {
        munmap(const_cast<perf_event_mmap_page *>(w.page), static_cast<size_t>(sysconf(_SC_PAGESIZE)));
        close(w.fd);
    }
    w = Witness{};
}

void own_time_disable_witness() noexcept { g_perf_unavailable.store(true, std::memory_order_relaxed); }

} // namespace ndislock::platform
