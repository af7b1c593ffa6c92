// The benchmark suite of ../shared/spec/benchmarks.md: every contender in one binary, scenarios
// S0-S6, Google Benchmark JSON out. bench/run.sh builds it, runs it and turns the JSON into
// docs-ready tables and a plot (bench/report.py); docs/performance.md has the results.
//
//   S0  uncontended acquire+release, one thread (ns per pair; Acquire, Dpr and nested variants)
//   S1  hand-off: two threads ping-pong the lock (ns per hand-off)
//   S2  threads = cores, critical section ~25 ns / ~250 ns, random work outside (ops/s)
//   S3  oversubscribed: 2x, 4x, 8x threads per core, short critical section (ops/s, mean and max
//       wait, CPU time per op)
//   S4  fairness under S2 and S3 (counters min_max and jain on those runs)
//   S5  verifier overhead: the ndis_verifier contender against ndis (report.py takes the ratio)
//   S6  footprint: 10^6 locks allocated, each taken once, then freed (bytes per lock, RSS)
//
// The timed scenarios S1-S3 run every thread for a fixed wall time and count what each thread
// did, so per-thread fairness is measured rather than imposed by a fixed iteration count.
// S2/<cs>/rounds and S3/<x>/rounds measure the S2 and S3 targets in rounds: the contenders back to
// back, the ratio taken within each round (this guest's state changes cannot split it), each round
// between two probes of that state (handoff_probe.h; NDISLOCK_BENCH_PER_ROUND=1 prints each round).
// S2/S3 also count how often the lock moved between threads (counter moved), and
// S3/serial_bound/bare_tas runs the critical sections back to back on one thread: the ceiling of
// any lock's throughput there. NDISLOCK_BENCH_PER_THREAD=1 prints every thread's figures.
// Each lock lives on its own 64-byte line. Peers are compiled in when their Debian package was
// found (NDISLOCK_BENCH_HAVE_*), and named in a printed note when not.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <malloc.h>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <random>
#include <sched.h>
#include <string>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>
#include <x86intrin.h>

#include <benchmark/benchmark.h>

#include "handoff_probe.h"
#include "ndislock/ndis.h"

#if __has_include("ndislock/verifier.h")
#include "ndislock/verifier.h"
#define NDISLOCK_BENCH_HAVE_VERIFIER 1
#endif

#ifdef NDISLOCK_BENCH_HAVE_ABSL
#include <absl/base/internal/spinlock.h>
#include <absl/synchronization/mutex.h>
#endif
#ifdef NDISLOCK_BENCH_HAVE_TBB
#include <oneapi/tbb/queuing_mutex.h>
#include <oneapi/tbb/spin_mutex.h>
#endif
#ifdef NDISLOCK_BENCH_HAVE_CK
#include <ck_spinlock.h>
#endif

namespace {

// ---------------------------------------------------------------------------------------------
// Time, work, machine

double g_tsc_per_ns = 1.0;
double g_work_iters_per_ns = 1.0;
// Wall time of each timed run (S1-S3); NDISLOCK_BENCH_RUN_MS overrides it.
std::chrono::milliseconds kTimedRun{200};

inline std::uint64_t ticks() noexcept { return __rdtsc(); }

// Work that touches no shared memory: a dependent chain of multiply-adds.
[[gnu::noinline]] std::uint64_t spin_work(std::uint64_t iterations, std::uint64_t seed) noexcept {
    for (std::uint64_t i = 0; i < iterations; ++i) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        asm volatile("" : "+r"(seed));
    }
    return seed;
}
std::uint64_t work_iterations(double ns) { return static_cast<std::uint64_t>(ns * g_work_iters_per_ns + 0.5); }

void calibrate() {
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    const std::uint64_t c0 = ticks();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::uint64_t c1 = ticks();
    auto t1 = clock::now();
    g_tsc_per_ns = double(c1 - c0) / double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    double best = 0;
    for (int r = 0; r < 5; ++r) {
        constexpr std::uint64_t n = 2'000'000;
        t0 = clock::now();
        benchmark::DoNotOptimize(spin_work(n, 1));
        t1 = clock::now();
        best = std::max(best, double(n) / double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    }
    g_work_iters_per_ns = best;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

long rss_kib() {
    std::ifstream in("/proc/self/statm");
    long size = 0, resident = 0;
    in >> size >> resident;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

unsigned cores() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

// ---------------------------------------------------------------------------------------------
// Contenders: locked(f) runs f with the lock held; begin()/end() set the process up for it.

enum class Mode { Off, Stats, Verifier };

void set_mode(Mode m) {
#ifdef NDISLOCK_BENCH_HAVE_VERIFIER
    NdislockVerifierSetMode(m == Mode::Verifier ? NDISLOCK_VERIFIER_ON : NDISLOCK_VERIFIER_OFF);
    if (m == Mode::Verifier) NdislockVerifierSetHoldBudget(~ULONG64{0} / 2); // no hold warnings
#endif
    NdislockStatsEnable(m == Mode::Stats ? TRUE : FALSE, 0);
}

struct NoSetup {
    static constexpr bool kExclusive = true; // a lock (NoLock, the scheduler's floor, is not)
    void begin() {}
    void end() {}
    void bind(int) {} // each thread, before its timed loop
    void unbind() {}  // each thread, after it
};

// Benchmark threads are created afresh for every run, so ndislock's round-robin placement (in
// order of first calls) would drift between runs and sometimes put two of S2's threads on one
// virtual processor, where the processor exclusion serializes them. Each thread binds to
// processor (thread index mod N) instead, as a driver's per-processor threads are placed.
void bind_to_processor(int me) {
    NdislockBindCurrentThread(static_cast<ULONG>(me) % KeQueryActiveProcessorCountEx(0));
}

template <Mode M> struct NdisLockT {
    static constexpr bool kExclusive = true;
    // (Re)allocated after the mode switch, so an observer sees the lock's initialization.
    void begin() {
        set_mode(M);
        NdisAllocateSpinLock(&lock);
    }
    void end() { set_mode(Mode::Off); }
    void bind(int me) { bind_to_processor(me); }
    void unbind() {}
    alignas(64) NDIS_SPIN_LOCK lock;
    NdisLockT() { NdisAllocateSpinLock(&lock); }
    template <class F> void locked(F &&f) {
        NdisAcquireSpinLock(&lock);
        f();
        NdisReleaseSpinLock(&lock);
    }
};
using NdisLock = NdisLockT<Mode::Off>;
using NdisStatsLock = NdisLockT<Mode::Stats>;
using NdisVerifierLock = NdisLockT<Mode::Verifier>;

// The lock word alone: NdisDprAcquireSpinLock/NdisDprReleaseSpinLock by threads that stay at
// DISPATCH_LEVEL for their whole timed loop (bind raises, unbind lowers), so no acquire raises or
// lowers the IRQL. S2 only, one virtual processor per thread (skip_unless_processor_per_thread):
// a thread that stays at DISPATCH_LEVEL keeps its processor from the others.
struct NdisDprWord : NdisLock {
    void bind(int me) {
        bind_to_processor(me); // before raising: bound only below DISPATCH_LEVEL
        old_irql = KeRaiseIrqlToDpcLevel();
    }
    void unbind() { KeLowerIrql(old_irql); }
    template <class F> void locked(F &&f) {
        NdisDprAcquireSpinLock(&lock);
        f();
        NdisDprReleaseSpinLock(&lock);
    }
    static thread_local KIRQL old_irql;
};
thread_local KIRQL NdisDprWord::old_irql = PASSIVE_LEVEL;

struct KeQueuedLock {
    static constexpr bool kExclusive = true;
    void begin() {
        set_mode(Mode::Off);
        KeInitializeSpinLock(&lock);
    }
    void end() {}
    void bind(int me) { bind_to_processor(me); }
    void unbind() {}
    alignas(64) KSPIN_LOCK lock;
    KeQueuedLock() { KeInitializeSpinLock(&lock); }
    template <class F> void locked(F &&f) {
        KLOCK_QUEUE_HANDLE h;
        KeAcquireInStackQueuedSpinLock(&lock, &h);
        f();
        KeReleaseInStackQueuedSpinLock(&h);
    }
};

// The floor: exchange(1, acquire) to lock, store(0, release) to unlock; spins with PAUSE on a
// read so that contended runs measure the algorithm, not a cache-line storm.
struct BareTas : NoSetup {
    alignas(64) std::atomic<int> word{0};
    template <class F> void locked(F &&f) {
        while (word.exchange(1, std::memory_order_acquire) != 0)
            while (word.load(std::memory_order_relaxed) != 0) _mm_pause();
        f();
        word.store(0, std::memory_order_release);
    }
};

// The same pair behind two out-of-line calls: the floor of any lock API that is not inline.
[[gnu::noinline]] void tas_call_lock(std::atomic<int> &w) {
    while (w.exchange(1, std::memory_order_acquire) != 0)
        while (w.load(std::memory_order_relaxed) != 0) _mm_pause();
}
[[gnu::noinline]] void tas_call_unlock(std::atomic<int> &w) { w.store(0, std::memory_order_release); }
struct BareTasCalls : NoSetup {
    alignas(64) std::atomic<int> word{0};
    template <class F> void locked(F &&f) {
        tas_call_lock(word);
        f();
        tas_call_unlock(word);
    }
};

struct PthreadSpin : NoSetup {
    alignas(64) pthread_spinlock_t lock;
    PthreadSpin() { pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE); }
    template <class F> void locked(F &&f) {
        pthread_spin_lock(&lock);
        f();
        pthread_spin_unlock(&lock);
    }
};

struct PthreadMutex : NoSetup {
    alignas(64) pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    template <class F> void locked(F &&f) {
        pthread_mutex_lock(&lock);
        f();
        pthread_mutex_unlock(&lock);
    }
};

struct StdMutex : NoSetup {
    alignas(64) std::mutex lock;
    template <class F> void locked(F &&f) {
        lock.lock();
        f();
        lock.unlock();
    }
};

#ifdef NDISLOCK_BENCH_HAVE_ABSL
struct AbslMutex : NoSetup {
    alignas(64) absl::Mutex lock;
    template <class F> void locked(F &&f) {
        lock.Lock();
        f();
        lock.Unlock();
    }
};
struct AbslSpinLock : NoSetup {
    alignas(64) absl::base_internal::SpinLock lock{absl::kConstInit, absl::base_internal::SCHEDULE_KERNEL_ONLY};
    template <class F> void locked(F &&f) {
        lock.Lock();
        f();
        lock.Unlock();
    }
};
#endif
#ifdef NDISLOCK_BENCH_HAVE_TBB
struct TbbSpinMutex : NoSetup {
    alignas(64) tbb::spin_mutex lock;
    template <class F> void locked(F &&f) {
        tbb::spin_mutex::scoped_lock guard(lock);
        f();
    }
};
struct TbbQueuingMutex : NoSetup {
    alignas(64) tbb::queuing_mutex lock;
    template <class F> void locked(F &&f) {
        tbb::queuing_mutex::scoped_lock guard(lock);
        f();
    }
};
#endif
#ifdef NDISLOCK_BENCH_HAVE_CK
struct CkFas : NoSetup {
    alignas(64) ck_spinlock_fas_t lock = CK_SPINLOCK_FAS_INITIALIZER;
    template <class F> void locked(F &&f) {
        ck_spinlock_fas_lock(&lock);
        f();
        ck_spinlock_fas_unlock(&lock);
    }
};
struct CkTicket : NoSetup {
    alignas(64) ck_spinlock_ticket_t lock = CK_SPINLOCK_TICKET_INITIALIZER;
    template <class F> void locked(F &&f) {
        ck_spinlock_ticket_lock(&lock);
        f();
        ck_spinlock_ticket_unlock(&lock);
    }
};
struct CkMcs : NoSetup {
    alignas(64) ck_spinlock_mcs_t lock = CK_SPINLOCK_MCS_INITIALIZER;
    template <class F> void locked(F &&f) {
        ck_spinlock_mcs_context_t node;
        ck_spinlock_mcs_lock(&lock, &node);
        f();
        ck_spinlock_mcs_unlock(&lock, &node);
    }
};
#endif

// ---------------------------------------------------------------------------------------------
// S0: one thread, hot line.

template <class L> void s0_pair(benchmark::State &state) {
    static L lock;
    lock.begin();
    for (auto _ : state) lock.locked([] { benchmark::ClobberMemory(); });
    lock.end();
}

void s0_ndis_dpr(benchmark::State &state) {
    static NdisLock lock;
    lock.begin();
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    for (auto _ : state) {
        NdisDprAcquireSpinLock(&lock.lock);
        benchmark::ClobberMemory();
        NdisDprReleaseSpinLock(&lock.lock);
    }
    KeLowerIrql(old);
}

template <class L> void s0_nested(benchmark::State &state) {
    static L outer, inner;
    outer.begin();
    inner.begin();
    for (auto _ : state)
        outer.locked([] { inner.locked([] { benchmark::ClobberMemory(); }); });
    outer.end();
}

// ---------------------------------------------------------------------------------------------
// Timed multi-thread runs (S1-S4). Thread 0 sets up before the start barrier of the loop and
// summarizes after its end barrier; each thread runs for kTimedRun inside the single iteration.

constexpr int kMaxBenchThreads = 64;

struct alignas(64) PerThread {
    std::uint64_t ops = 0, handoffs = 0, wait_ticks = 0, max_wait_ticks = 0, cpu_ns = 0;
    std::uint64_t moves = 0;           // acquisitions that found the lock last held by another thread
    std::uint64_t cpu_moves = 0;       // critical sections run on another CPU than the one before
    std::uint64_t ops_on_cpu0 = 0;     // critical sections run on CPU 0: where the scheduler ran it
    long sleeps = 0, preemptions = 0;  // voluntary and involuntary context switches in the run
    std::uint64_t private_counter = 0; // the no_lock floor's "protected" data (no exclusion, no race)
};

struct Shared {
    PerThread threads[kMaxBenchThreads];
    alignas(64) std::uint64_t protected_counter = 0;
    int last_holder = -1; // on protected_counter's line, written only by the holder
    int last_cpu = -1;    // the CPU the last critical section ran on, likewise
    int turn = 0;
};

std::uint64_t thread_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

// The benchmark running now, for NDISLOCK_BENCH_PER_THREAD's lines (set by every thread of a run).
std::atomic<const char *> g_running{""};

rusage thread_rusage() {
    rusage r{};
    getrusage(RUSAGE_THREAD, &r);
    return r;
}

// Per-thread operations, fewest over most (S4).
double min_max_ops(const Shared &sh, int n) {
    std::uint64_t lo = ~0ull, hi = 0;
    for (int i = 0; i < n; ++i) {
        lo = std::min(lo, sh.threads[i].ops);
        hi = std::max(hi, sh.threads[i].ops);
    }
    return hi == 0 ? 0.0 : double(lo) / double(hi);
}

void summarize(benchmark::State &state, Shared &sh, bool handoff) {
    const int n = state.threads();
    std::uint64_t total = 0, waits = 0, max_wait = 0, cpu = 0, handoffs = 0;
    std::uint64_t moves = 0;
    double sum_sq = 0;
    static const bool per_thread = std::getenv("NDISLOCK_BENCH_PER_THREAD") != nullptr;
    for (int i = 0; i < n; ++i) {
        const PerThread &p = sh.threads[i];
        if (per_thread)
            std::fprintf(
                stderr,
                "%s thread %d of %d: ops %llu cpu_ms %.2f moves %llu cpu_moves %llu on_cpu0 %.2f max_wait_us %.0f "
                "sleeps %ld preemptions %ld\n",
                g_running.load(std::memory_order_relaxed), i, n, static_cast<unsigned long long>(p.ops),
                double(p.cpu_ns) / 1e6, static_cast<unsigned long long>(p.moves),
                static_cast<unsigned long long>(p.cpu_moves), p.ops == 0 ? 0.0 : double(p.ops_on_cpu0) / double(p.ops),
                double(p.max_wait_ticks) / g_tsc_per_ns / 1000.0, p.sleeps, p.preemptions);
        moves += p.moves;
        total += p.ops;
        sum_sq += double(p.ops) * double(p.ops);
        waits += p.wait_ticks;
        max_wait = std::max(max_wait, p.max_wait_ticks);
        cpu += p.cpu_ns;
        handoffs += p.handoffs;
    }
    const double seconds = std::chrono::duration<double>(kTimedRun).count();
    auto &c = state.counters;
    c["ops_per_s"] = double(total) / seconds;
    c["min_max"] = min_max_ops(sh, n);
    c["jain"] = sum_sq == 0 ? 0.0 : double(total) * double(total) / (n * sum_sq);
    c["mean_wait_ns"] = total == 0 ? 0.0 : double(waits) / g_tsc_per_ns / double(total);
    c["max_wait_us"] = double(max_wait) / g_tsc_per_ns / 1000.0;
    c["cpu_ns_per_op"] = total == 0 ? 0.0 : double(cpu) / double(total);
    // How often the lock changed threads: a lock that lets its holder re-take it moves less (and
    // its line stays in one cache); one that hands over at every release moves every time.
    // (Not for the no-lock floor, which moves nothing.)
    // (The per-thread lines give the moves across CPUs too: nearly all moves are, since a CPU
    // runs one thread for milliseconds at a time. So each is a line transfer at the guest's
    // hand-off cost, handoff_probe.h.)
    if (!handoff && moves != 0) c["moved"] = double(moves) / double(total);
    if (handoff) c["ns_per_handoff"] = handoffs == 0 ? 0.0 : seconds * 1e9 / double(handoffs);
}

// S2/S3/S4: every thread: random work outside, then the lock around cs_ns of work on shared data,
// for kTimedRun. Returns what this thread did.
template <class L>
PerThread timed_loop(L &lock, Shared &shared, int me, std::uint64_t cs_iters, std::uint64_t out_max) {
    PerThread mine;
    std::uint64_t seed = 0x9E3779B97F4A7C15ull * std::uint64_t(me + 1);
    const rusage before = thread_rusage();
    const std::uint64_t cpu0 = thread_cpu_ns();
    const auto deadline = std::chrono::steady_clock::now() + kTimedRun;
    for (;;) {
        for (int k = 0; k < 16; ++k) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            benchmark::DoNotOptimize(spin_work(seed % out_max, seed));
            const std::uint64_t t0 = ticks();
            std::uint64_t t1 = 0;
            int cpu = 0;
            lock.locked([&] {
                t1 = ticks();
                cpu = sched_getcpu(); // glibc reads it from rseq: a load, not a system call
                std::uint64_t &data = L::kExclusive ? shared.protected_counter : mine.private_counter;
                data = spin_work(cs_iters, data);
                if constexpr (L::kExclusive) {
                    if (shared.last_holder != me) {
                        shared.last_holder = me;
                        ++mine.moves;
                    }
                    if (shared.last_cpu != cpu) {
                        shared.last_cpu = cpu;
                        ++mine.cpu_moves;
                    }
                }
            });
            mine.ops_on_cpu0 += cpu == 0;
            const std::uint64_t w = t1 - t0;
            mine.wait_ticks += w;
            mine.max_wait_ticks = std::max(mine.max_wait_ticks, w);
            ++mine.ops;
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
    }
    mine.cpu_ns = thread_cpu_ns() - cpu0;
    const rusage after = thread_rusage();
    mine.sleeps = after.ru_nvcsw - before.ru_nvcsw;
    mine.preemptions = after.ru_nivcsw - before.ru_nivcsw;
    return mine;
}

// Outside work uniform in [0, 2 cs]; none for the serial bound.
std::uint64_t outside_max(std::uint64_t cs_iters, bool outside) { return outside ? 2 * cs_iters + 1 : 1; }

// Without outside work on one thread it measures the serial bound: critical sections back to
// back, which no lock on any number of cores can beat, since they never overlap.
template <class L> void timed_throughput(benchmark::State &state, double cs_ns, bool outside = true) {
    static L lock;
    static Shared shared;
    const int me = state.thread_index();
    if (me == 0) {
        shared = Shared{};
        lock.begin();
    }
    lock.bind(me);
    const std::uint64_t cs_iters = work_iterations(cs_ns);
    for (auto _ : state)
        shared.threads[me] = timed_loop(lock, shared, me, cs_iters, outside_max(cs_iters, outside));
    lock.unbind();
    state.SetItemsProcessed(std::int64_t(shared.threads[me].ops));
    if (me == 0) {
        summarize(state, shared, false);
        lock.end();
    }
}

// NdisDprWord keeps each thread at DISPATCH_LEVEL through its run: with fewer virtual processors
// than threads, one would wait for a processor held for the whole run. Skips the run then.
bool skip_unless_processor_per_thread(benchmark::State &state) {
    if (KeQueryActiveProcessorCountEx(0) >= static_cast<ULONG>(state.threads())) return false;
    state.SkipWithError("needs a virtual processor per thread (NDISLOCK_PROCESSORS)");
    return true;
}

// The scheduler's floor for S3/S4 (not a lock): the same threads and work with no exclusion, each
// on its own data. Its max "wait" is the longest the OS left a runnable thread without a core
// between two clock reads around an empty acquire, its min/max the OS's own fairness: no lock
// can do better on either while every thread stays runnable.
struct NoLock : NoSetup {
    static constexpr bool kExclusive = false;
    template <class F> void locked(F &&f) { f(); }
};

// S2 and S3 in rounds: the targets' ratios with each lock measured next to the others in time.
// This 2-vCPU guest switches between a fast and a slow state for tens of seconds (a hand-off
// between the cores takes about 7 times longer in the slow one); with the repetitions shuffled
// over the whole run, a switch can land on one contender's median and not the other's. Here each
// round runs every contender once, back to back in a shuffled order, and the ratio is taken
// within the round: a state change moves the whole round, and the median of the rounds' ratios
// ignores it. A probe of that state (handoff_probe.h) before and after each round lets each ratio
// be read against it too: the counters <ratio>_fast_state and <ratio>_slow_state are the medians
// over the rounds that stayed in one state, and NDISLOCK_BENCH_PER_ROUND=1 prints every round.
constexpr int kPairedRounds = 5;
// Between the fast state's 20-30 ns per line hand-off and the slow state's 160-190 ns.
constexpr double kSlowStateHandoffNs = 80;

struct RoundTurn { // one contender in one round, as thread 0 sums it up
    std::uint64_t ops = 0;
    double min_max = 0; // per-thread operations, fewest over most
};

// One contender's turn in a round, run by every thread; the result is thread 0's.
template <class L> RoundTurn paired_turn(int me, int threads, double cs_ns, std::barrier<> &sync) {
    static L lock;
    static Shared shared;
    if (me == 0) {
        shared = Shared{};
        lock.begin();
    }
    sync.arrive_and_wait();
    lock.bind(me);
    const std::uint64_t cs_iters = work_iterations(cs_ns);
    shared.threads[me] = timed_loop(lock, shared, me, cs_iters, outside_max(cs_iters, true));
    lock.unbind();
    sync.arrive_and_wait();
    if (me != 0) return {};
    lock.end();
    RoundTurn turn;
    for (int i = 0; i < threads; ++i)
        turn.ops += shared.threads[i].ops;
    turn.min_max = min_max_ops(shared, threads);
    return turn;
}

struct PairedContender {
    const char *name;
    RoundTurn (*turn)(int, int, double, std::barrier<> &);
    bool spinner; // S2: a candidate for "the best spinning contender"
};

struct Round {
    std::vector<RoundTurn> turns; // per contender
    // The state probes taken before and after the round (0: not measured). The state can change
    // within a round: only a round whose two probes agree counts as fast or slow.
    double handoff_before_ns = 0, handoff_after_ns = 0;
    enum class State { Unmeasured, Fast, Slow, Changed };
    State state() const {
        if (handoff_before_ns <= 0 || handoff_after_ns <= 0) return State::Unmeasured;
        const bool slow_before = handoff_before_ns >= kSlowStateHandoffNs;
        if (slow_before != (handoff_after_ns >= kSlowStateHandoffNs)) return State::Changed;
        return slow_before ? State::Slow : State::Fast;
    }
};

const char *state_name(Round::State s) {
    switch (s) {
    case Round::State::Fast:
        return "fast";
    case Round::State::Slow:
        return "slow";
    case Round::State::Changed:
        return "changed";
    default:
        return "unmeasured";
    }
}

// Every contender once per round, in an order shuffled per round (the same on every thread),
// between thread 0's probes of the guest's state (the others wait in a turn's barrier meanwhile).
// Returns the rounds on thread 0, nothing on the others.
std::vector<Round> run_rounds(benchmark::State &state, double cs_ns, const std::vector<PairedContender> &contenders) {
    const int me = state.thread_index(), threads = state.threads();
    static std::optional<std::barrier<>> sync;
    if (me == 0) sync.emplace(threads);
    std::vector<Round> rounds(kPairedRounds, Round{std::vector<RoundTurn>(contenders.size())});
    for (auto _ : state) { // the loop's start barrier publishes sync
        for (Round &round : rounds) {
            const auto r = static_cast<unsigned>(&round - rounds.data());
            if (me == 0) round.handoff_before_ns = handoff_probe_ns();
            std::vector<std::size_t> order(contenders.size());
            for (std::size_t i = 0; i < order.size(); ++i)
                order[i] = i;
            std::mt19937 shuffle(r * 7919u + 1u);
            std::shuffle(order.begin(), order.end(), shuffle);
            for (const std::size_t i : order)
                round.turns[i] = contenders[i].turn(me, threads, cs_ns, *sync);
            if (me == 0) round.handoff_after_ns = handoff_probe_ns();
        }
    }
    if (me != 0) return {};
    static const bool per_round = std::getenv("NDISLOCK_BENCH_PER_ROUND") != nullptr;
    const double seconds = std::chrono::duration<double>(kTimedRun).count();
    for (std::size_t r = 0; per_round && r < rounds.size(); ++r) {
        std::fprintf(stderr, "%s round %zu: hand-off %.0f then %.0f ns (%s state);",
                     g_running.load(std::memory_order_relaxed), r + 1, rounds[r].handoff_before_ns,
                     rounds[r].handoff_after_ns, state_name(rounds[r].state()));
        for (std::size_t i = 0; i < contenders.size(); ++i)
            std::fprintf(stderr, " %s %.2fM (min/max %.2f)", contenders[i].name,
                         double(rounds[r].turns[i].ops) / seconds / 1e6, rounds[r].turns[i].min_max);
        std::fprintf(stderr, "\n");
    }
    return rounds;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0.0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The median over the rounds of f(round) as counter `name`, and over the rounds of each state as
// `name`_fast_state and `name`_slow_state (absent when no round was in that state throughout);
// with the rounds' counts, the median of their probes and each contender's ops/s.
template <class F>
void round_counters(benchmark::State &state, const std::vector<PairedContender> &contenders,
                    const std::vector<Round> &rounds, const char *name, F &&f) {
    std::vector<double> all, fast, slow, probes;
    for (const Round &round : rounds) {
        const double v = f(round.turns);
        all.push_back(v);
        if (round.state() == Round::State::Fast) fast.push_back(v);
        if (round.state() == Round::State::Slow) slow.push_back(v);
        for (const double probe : {round.handoff_before_ns, round.handoff_after_ns})
            if (probe > 0) probes.push_back(probe); // not measured: a process allowed on one CPU only
    }
    auto &c = state.counters;
    c[name] = median(all);
    if (!fast.empty()) c[std::string(name) + "_fast_state"] = median(fast);
    if (!slow.empty()) c[std::string(name) + "_slow_state"] = median(slow);
    c["rounds"] = double(rounds.size());
    c["rounds_fast_state"] = double(fast.size());
    c["rounds_slow_state"] = double(slow.size());
    if (!probes.empty()) c["handoff_ns"] = median(probes);
    const double seconds = std::chrono::duration<double>(kTimedRun).count();
    for (std::size_t i = 0; i < contenders.size(); ++i) {
        std::vector<double> ops;
        for (const Round &round : rounds)
            ops.push_back(double(round.turns[i].ops) / seconds);
        c[std::string("ops_per_s_") + contenders[i].name] = median(ops);
    }
}

// S2: ndislock (index 0) and the bare lock word (index 1) over the best spinner of each round.
void s2_paired_rounds(benchmark::State &state, double cs_ns) {
    if (skip_unless_processor_per_thread(state)) return; // NdisDprWord is among the contenders
    static const std::vector<PairedContender> contenders = [] {
        std::vector<PairedContender> c = {
            {"ndislock", paired_turn<NdisLock>, false},
            {"ndislock_dpr_word", paired_turn<NdisDprWord>, false},
            {"bare_tas", paired_turn<BareTas>, true},
            {"pthread_spinlock", paired_turn<PthreadSpin>, true},
        };
#ifdef NDISLOCK_BENCH_HAVE_ABSL
        c.push_back({"absl_spinlock", paired_turn<AbslSpinLock>, true});
#endif
#ifdef NDISLOCK_BENCH_HAVE_TBB
        c.push_back({"tbb_spin_mutex", paired_turn<TbbSpinMutex>, true});
#endif
#ifdef NDISLOCK_BENCH_HAVE_CK
        c.push_back({"ck_spinlock_fas", paired_turn<CkFas>, true});
        c.push_back({"ck_spinlock_ticket", paired_turn<CkTicket>, true});
        c.push_back({"ck_spinlock_mcs", paired_turn<CkMcs>, true});
#endif
        return c;
    }();
    const auto rounds = run_rounds(state, cs_ns, contenders);
    if (state.thread_index() != 0) return;
    const auto over_best = [](const std::vector<RoundTurn> &round, std::size_t who) {
        std::uint64_t best = 0;
        for (std::size_t i = 0; i < contenders.size(); ++i)
            if (contenders[i].spinner) best = std::max(best, round[i].ops);
        return best == 0 ? 0.0 : double(round[who].ops) / double(best);
    };
    round_counters(state, contenders, rounds, "ndislock_over_best_spinner",
                   [&](const std::vector<RoundTurn> &round) { return over_best(round, 0); });
    round_counters(state, contenders, rounds, "dpr_word_over_best_spinner",
                   [&](const std::vector<RoundTurn> &round) { return over_best(round, 1); });
}

// S3: ndislock (index 0) over std::mutex (1) and pthread_spinlock (2), ndislock's min/max, and
// the scheduler's floor's min/max (3) with the same threads in the same rounds.
void s3_paired_rounds(benchmark::State &state) {
    static const std::vector<PairedContender> contenders = {
        {"ndislock", paired_turn<NdisLock>, false},
        {"std_mutex", paired_turn<StdMutex>, false},
        {"pthread_spinlock", paired_turn<PthreadSpin>, false},
        {"os_floor_no_lock", paired_turn<NoLock>, false},
    };
    const auto rounds = run_rounds(state, 25.0, contenders);
    if (state.thread_index() != 0) return;
    const auto over = [](const std::vector<RoundTurn> &round, std::size_t other) {
        return round[other].ops == 0 ? 0.0 : double(round[0].ops) / double(round[other].ops);
    };
    round_counters(state, contenders, rounds, "ndislock_over_std_mutex",
                   [&](const std::vector<RoundTurn> &round) { return over(round, 1); });
    round_counters(state, contenders, rounds, "ndislock_over_pthread_spinlock",
                   [&](const std::vector<RoundTurn> &round) { return over(round, 2); });
    round_counters(state, contenders, rounds, "ndislock_min_max",
                   [](const std::vector<RoundTurn> &round) { return round[0].min_max; });
    round_counters(state, contenders, rounds, "floor_min_max",
                   [](const std::vector<RoundTurn> &round) { return round[3].min_max; });
}

// S1: two threads; a hand-off is a lock acquisition that finds it is this thread's turn.
template <class L> void s1_pingpong(benchmark::State &state) {
    static L lock;
    static Shared shared;
    const int me = state.thread_index();
    if (me == 0) {
        shared = Shared{};
        lock.begin();
    }
    lock.bind(me);
    for (auto _ : state) {
        PerThread mine;
        const std::uint64_t cpu0 = thread_cpu_ns();
        const auto deadline = std::chrono::steady_clock::now() + kTimedRun;
        for (;;) {
            for (int k = 0; k < 64; ++k) {
                bool mine_turn = false;
                const std::uint64_t t0 = ticks();
                std::uint64_t t1 = 0;
                lock.locked([&] {
                    t1 = ticks();
                    if (shared.turn == me) {
                        shared.turn = 1 - me;
                        mine_turn = true;
                    }
                });
                mine.handoffs += mine_turn;
                mine.wait_ticks += t1 - t0;
                mine.max_wait_ticks = std::max(mine.max_wait_ticks, t1 - t0);
                ++mine.ops;
            }
            if (std::chrono::steady_clock::now() >= deadline) break;
        }
        mine.cpu_ns = thread_cpu_ns() - cpu0;
        shared.threads[me] = mine;
    }
    lock.unbind();
    state.SetItemsProcessed(std::int64_t(shared.threads[me].handoffs));
    if (me == 0) {
        summarize(state, shared, true);
        lock.end();
    }
}

// S6: 10^6 locks allocated, each taken once, then freed.
void s6_footprint(benchmark::State &state, Mode mode) {
    constexpr std::size_t kLocks = 1'000'000;
    set_mode(mode);
    double beyond = 0, peak = 0, after_free = 0;
    for (auto _ : state) {
        malloc_trim(0);
        const long base = rss_kib();
        auto *locks = static_cast<NDIS_SPIN_LOCK *>(std::malloc(kLocks * sizeof(NDIS_SPIN_LOCK)));
        // Touch every page for real (a memset of 0 after malloc may become calloc's no-op).
        for (std::size_t i = 0; i < kLocks; ++i) {
            locks[i].SpinLock = 1;
            benchmark::DoNotOptimize(locks[i]);
        }
        const long with_structs = rss_kib();
        for (std::size_t i = 0; i < kLocks; ++i) NdisAllocateSpinLock(&locks[i]);
        for (std::size_t i = 0; i < kLocks; ++i) {
            NdisAcquireSpinLock(&locks[i]);
            NdisReleaseSpinLock(&locks[i]);
        }
        const long taken = rss_kib();
        for (std::size_t i = 0; i < kLocks; ++i) NdisFreeSpinLock(&locks[i]);
        std::free(locks);
        malloc_trim(0);
        const long freed = rss_kib();
        beyond = double(taken - with_structs) * 1024.0 / double(kLocks);
        peak = double(taken - base) / 1024.0;
        after_free = double(freed - base);
    }
    state.counters["bytes_per_lock_beyond_struct"] = beyond;
    state.counters["struct_bytes"] = double(sizeof(NDIS_SPIN_LOCK));
    state.counters["peak_rss_growth_mib"] = peak;
    state.counters["rss_after_free_kib"] = after_free;
    set_mode(Mode::Off);
}

// ---------------------------------------------------------------------------------------------
// Registration. Every benchmark reports median, min and max over its repetitions.

benchmark::internal::Benchmark *with_min_max(benchmark::internal::Benchmark *b) {
    return b
        ->ComputeStatistics("min", [](const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); })
        ->ComputeStatistics("max", [](const std::vector<double> &v) { return *std::max_element(v.begin(), v.end()); });
}
template <class F> benchmark::internal::Benchmark *reg(const std::string &name, F &&f) {
    return with_min_max(benchmark::RegisterBenchmark(
        name.c_str(), [name = std::make_shared<const std::string>(name), f = std::forward<F>(f)](benchmark::State &s) {
            g_running.store(name->c_str(), std::memory_order_relaxed);
            f(s);
        }));
}

template <class L> void register_contender(const char *name) {
    const unsigned n = cores();
    reg(std::string("S0/pair/") + name, s0_pair<L>);
    reg(std::string("S1/handoff/") + name, s1_pingpong<L>)
        ->Threads(2)
        ->Iterations(1)
        ->UseRealTime();
    for (double cs : {25.0, 250.0})
        reg(std::string("S2/cs") + std::to_string(int(cs)) + "ns/" + name,
                                     [cs](benchmark::State &s) { timed_throughput<L>(s, cs); })
            ->Threads(int(n))
            ->Iterations(1)
            ->UseRealTime();
    for (unsigned x : {2u, 4u, 8u})
        reg(std::string("S3/x") + std::to_string(x) + "/" + name,
                                     [](benchmark::State &s) { timed_throughput<L>(s, 25.0); })
            ->Threads(int(std::min<unsigned>(x * n, kMaxBenchThreads)))
            ->Iterations(1)
            ->UseRealTime();
}

// The scheduler's floor for S3/S4: NoLock, timed like the contenders.
void register_os_floor() {
    const unsigned n = cores();
    for (unsigned x : {2u, 4u, 8u})
        reg(std::string("S3/x") + std::to_string(x) + "/os_floor_no_lock",
            [](benchmark::State &s) { timed_throughput<NoLock>(s, 25.0); })
            ->Threads(int(std::min<unsigned>(x * n, kMaxBenchThreads)))
            ->Iterations(1)
            ->UseRealTime();
}

void register_all() {
    register_os_floor();
    reg("S3/serial_bound/bare_tas", [](benchmark::State &s) { timed_throughput<BareTas>(s, 25.0, false); })
        ->Threads(1)
        ->Iterations(1)
        ->UseRealTime();
    register_contender<BareTas>("bare_tas");
    reg("S0/pair/bare_tas_2calls", s0_pair<BareTasCalls>);
    register_contender<NdisLock>("ndislock");
    register_contender<NdisStatsLock>("ndislock_stats_observer");
#ifdef NDISLOCK_BENCH_HAVE_VERIFIER
    register_contender<NdisVerifierLock>("ndislock_verifier");
#endif
    register_contender<KeQueuedLock>("ndislock_queued");
    for (double cs : {25.0, 250.0})
        reg(std::string("S2/cs") + std::to_string(int(cs)) + "ns/rounds",
            [cs](benchmark::State &s) { s2_paired_rounds(s, cs); })
            ->Threads(int(cores()))
            ->Iterations(1)
            ->Repetitions(1)
            ->UseRealTime();
    for (unsigned x : {2u, 4u, 8u})
        reg(std::string("S3/x") + std::to_string(x) + "/rounds", s3_paired_rounds)
            ->Threads(int(std::min<unsigned>(x * cores(), kMaxBenchThreads)))
            ->Iterations(1)
            ->Repetitions(1)
            ->UseRealTime();
    for (double cs : {25.0, 250.0})
        reg(std::string("S2/cs") + std::to_string(int(cs)) + "ns/ndislock_dpr_word",
            [cs](benchmark::State &s) {
                if (!skip_unless_processor_per_thread(s)) timed_throughput<NdisDprWord>(s, cs);
            })
            ->Threads(int(cores()))
            ->Iterations(1)
            ->UseRealTime();
    reg("S0/dpr/ndislock", s0_ndis_dpr);
    reg("S0/nested/ndislock", s0_nested<NdisLock>);
    reg("S0/nested/bare_tas", s0_nested<BareTas>);
    register_contender<PthreadSpin>("pthread_spinlock");
    register_contender<PthreadMutex>("pthread_mutex");
    register_contender<StdMutex>("std_mutex");
#ifdef NDISLOCK_BENCH_HAVE_ABSL
    register_contender<AbslMutex>("absl_mutex");
    register_contender<AbslSpinLock>("absl_spinlock");
#else
    std::printf("note: abseil not found at build time (libabsl-dev; bench/setup.sh): absl contenders skipped\n");
#endif
#ifdef NDISLOCK_BENCH_HAVE_TBB
    register_contender<TbbSpinMutex>("tbb_spin_mutex");
    register_contender<TbbQueuingMutex>("tbb_queuing_mutex");
#else
    std::printf("note: oneTBB not found at build time (libtbb-dev; bench/setup.sh): tbb contenders skipped\n");
#endif
#ifdef NDISLOCK_BENCH_HAVE_CK
    register_contender<CkFas>("ck_spinlock_fas");
    register_contender<CkTicket>("ck_spinlock_ticket");
    register_contender<CkMcs>("ck_spinlock_mcs");
#else
    std::printf("note: Concurrency Kit not found at build time (libck-dev; bench/setup.sh): ck contenders skipped\n");
#endif
    reg("S6/footprint/ndislock", [](benchmark::State &s) { s6_footprint(s, Mode::Off); })
        ->Iterations(1);
#ifdef NDISLOCK_BENCH_HAVE_VERIFIER
    reg("S6/footprint/ndislock_verifier",
                                 [](benchmark::State &s) { s6_footprint(s, Mode::Verifier); })
        ->Iterations(1);
#endif
    reg("S6/footprint/ndislock_stats_observer",
                                 [](benchmark::State &s) { s6_footprint(s, Mode::Stats); })
        ->Iterations(1);
}

} // namespace

int main(int argc, char **argv) {
    set_mode(Mode::Off);
    if (const char *ms = std::getenv("NDISLOCK_BENCH_RUN_MS"); ms != nullptr && std::atoi(ms) > 0)
        kTimedRun = std::chrono::milliseconds(std::atoi(ms));
    calibrate();
    utsname u{};
    uname(&u);
    benchmark::AddCustomContext("cpu_model", cpu_model());
    benchmark::AddCustomContext("cores", std::to_string(cores()));
    benchmark::AddCustomContext("kernel", std::string(u.sysname) + " " + u.release);
    benchmark::AddCustomContext("virtual_processors", std::to_string(KeQueryActiveProcessorCountEx(0)));
    benchmark::AddCustomContext("timed_run_ms", std::to_string(kTimedRun.count()));
    std::printf("machine: %s, %u cores, %s %s; ndislock virtual processors: %lu\n", cpu_model().c_str(), cores(),
                u.sysname, u.release, static_cast<unsigned long>(KeQueryActiveProcessorCountEx(0)));
    register_all();
    // Protocol defaults (each overridable on the command line, later flags win): medians of
    // interleaved repetitions, with min and max.
    std::vector<char *> args(argv, argv + argc);
    std::string reps = "--benchmark_repetitions=5", interleave = "--benchmark_enable_random_interleaving=true",
                aggregates = "--benchmark_report_aggregates_only=true";
    args.insert(args.begin() + 1, {reps.data(), interleave.data(), aggregates.data()});
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
}
