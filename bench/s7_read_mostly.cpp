// S7: read-mostly. 2, 4 and 8 threads, each for the timed run: random work outside (uniform in
// [0, 50 ns]), then 95% reads (the lock shared, a 64-byte table read and checked, ~25 ns of work)
// and 5% writes (the lock exclusive, the table rewritten, the same work). ndislock's three
// reader/writer locks against the best reader/writer locks on Debian: pthread_rwlock_t (glibc's
// default, reader-preferring, and its writer-preferring kind), std::shared_mutex, absl::Mutex in
// reader mode, tbb::spin_rw_mutex and tbb::queuing_rw_mutex, ck_rwlock, ck_brlock (per-reader
// state, like ndislock's per-processor counts) and ck_bytelock. Counters: ops_per_s, reads and
// writes per second, max_writer_wait_us (the longest a write acquire waited: the target says
// 50 ms at most), max_reader_wait_us, torn (reads that saw a write half done: must be 0).
// report.py takes the ratio of ndislock_rw_ex to the best peer of the same run.
#include "s7_read_mostly.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <pthread.h>
#include <shared_mutex>
#include <string>
#include <time.h>
#include <vector>

#include <benchmark/benchmark.h>

#include "machine.h"
#include "state_counters.h"
#include "ndislock/ndis.h"
#include "ndislock/rw_lock.h"
#include "ndislock/verifier.h"

#ifdef NDISLOCK_BENCH_HAVE_ABSL
#include <absl/synchronization/mutex.h>
#endif
#ifdef NDISLOCK_BENCH_HAVE_TBB
#include <oneapi/tbb/queuing_rw_mutex.h>
#include <oneapi/tbb/spin_rw_mutex.h>
#endif
#ifdef NDISLOCK_BENCH_HAVE_CK
#include <ck_brlock.h>
#include <ck_bytelock.h>
#include <ck_rwlock.h>
#endif

namespace ndislock_bench {
namespace {

constexpr int kMaxThreads = 64;

// ---- contenders: read(f) / write(f); bind(me) / unbind() around each thread's loop ------------

struct Plain {
    void begin() {}
    void bind(int) {}
    void unbind() {}
};

// Each thread on virtual processor (index mod N), as the spin-lock contenders (contenders.h).
inline void bind_vp(int me) { NdislockBindCurrentThread(static_cast<ULONG>(me) % KeQueryActiveProcessorCountEx(0)); }

struct NdisRwLockEx {
    PNDIS_RW_LOCK_EX lock = nullptr;
    void begin() {
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
        if (lock == nullptr) lock = NdisAllocateRWLock(nullptr);
    }
    void bind(int me) { bind_vp(me); }
    void unbind() {}
    template <class F> void read(F &&f) {
        LOCK_STATE_EX s;
        NdisAcquireRWLockRead(lock, &s, 0);
        f();
        NdisReleaseRWLock(lock, &s);
    }
    template <class F> void write(F &&f) {
        LOCK_STATE_EX s;
        NdisAcquireRWLockWrite(lock, &s, 0);
        f();
        NdisReleaseRWLock(lock, &s);
    }
};

struct NdisRwLock5 {
    alignas(64) NDIS_RW_LOCK lock;
    void begin() {
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
        NdisInitializeReadWriteLock(&lock);
    }
    void bind(int me) { bind_vp(me); }
    void unbind() {}
    template <class F> void read(F &&f) {
        LOCK_STATE s;
        NdisAcquireReadWriteLock(&lock, FALSE, &s);
        f();
        NdisReleaseReadWriteLock(&lock, &s);
    }
    template <class F> void write(F &&f) {
        LOCK_STATE s;
        NdisAcquireReadWriteLock(&lock, TRUE, &s);
        f();
        NdisReleaseReadWriteLock(&lock, &s);
    }
};

struct ExSpinLock {
    alignas(64) EX_SPIN_LOCK lock = 0;
    void begin() {
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
        lock = 0;
    }
    void bind(int me) { bind_vp(me); }
    void unbind() {}
    template <class F> void read(F &&f) {
        const KIRQL old = ExAcquireSpinLockShared(&lock);
        f();
        ExReleaseSpinLockShared(&lock, old);
    }
    template <class F> void write(F &&f) {
        const KIRQL old = ExAcquireSpinLockExclusive(&lock);
        f();
        ExReleaseSpinLockExclusive(&lock, old);
    }
};

template <bool PreferWriter> struct PthreadRw : Plain {
    alignas(64) pthread_rwlock_t lock;
    PthreadRw() {
        pthread_rwlockattr_t a;
        pthread_rwlockattr_init(&a);
        if (PreferWriter) pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&lock, &a);
        pthread_rwlockattr_destroy(&a);
    }
    template <class F> void read(F &&f) {
        pthread_rwlock_rdlock(&lock);
        f();
        pthread_rwlock_unlock(&lock);
    }
    template <class F> void write(F &&f) {
        pthread_rwlock_wrlock(&lock);
        f();
        pthread_rwlock_unlock(&lock);
    }
};

struct StdSharedMutex : Plain {
    alignas(64) std::shared_mutex lock;
    template <class F> void read(F &&f) {
        lock.lock_shared();
        f();
        lock.unlock_shared();
    }
    template <class F> void write(F &&f) {
        lock.lock();
        f();
        lock.unlock();
    }
};

#ifdef NDISLOCK_BENCH_HAVE_ABSL
struct AbslMutexReader : Plain {
    alignas(64) absl::Mutex lock;
    template <class F> void read(F &&f) {
        lock.ReaderLock();
        f();
        lock.ReaderUnlock();
    }
    template <class F> void write(F &&f) {
        lock.Lock();
        f();
        lock.Unlock();
    }
};
#endif
#ifdef NDISLOCK_BENCH_HAVE_TBB
struct TbbSpinRw : Plain {
    alignas(64) tbb::spin_rw_mutex lock;
    template <class F> void read(F &&f) {
        tbb::spin_rw_mutex::scoped_lock guard(lock, false);
        f();
    }
    template <class F> void write(F &&f) {
        tbb::spin_rw_mutex::scoped_lock guard(lock, true);
        f();
    }
};
struct TbbQueuingRw : Plain {
    alignas(64) tbb::queuing_rw_mutex lock;
    template <class F> void read(F &&f) {
        tbb::queuing_rw_mutex::scoped_lock guard(lock, false);
        f();
    }
    template <class F> void write(F &&f) {
        tbb::queuing_rw_mutex::scoped_lock guard(lock, true);
        f();
    }
};
#endif
#ifdef NDISLOCK_BENCH_HAVE_CK
struct CkRwlock : Plain {
    alignas(64) ck_rwlock_t lock = CK_RWLOCK_INITIALIZER;
    template <class F> void read(F &&f) {
        ck_rwlock_read_lock(&lock);
        f();
        ck_rwlock_read_unlock(&lock);
    }
    template <class F> void write(F &&f) {
        ck_rwlock_write_lock(&lock);
        f();
        ck_rwlock_write_unlock(&lock);
    }
};
// Big-reader lock: each reader registers its own record (the per-reader state ndislock keeps per
// processor), writers visit every record.
struct CkBrlock {
    alignas(64) ck_brlock_t lock = CK_BRLOCK_INITIALIZER;
    struct alignas(64) Reader {
        ck_brlock_reader_t r;
    };
    Reader readers[kMaxThreads];
    static thread_local int me_;
    void begin() {}
    void bind(int me) {
        me_ = me;
        ck_brlock_read_register(&lock, &readers[me].r);
    }
    void unbind() { ck_brlock_read_unregister(&lock, &readers[me_].r); }
    template <class F> void read(F &&f) {
        ck_brlock_read_lock(&lock, &readers[me_].r);
        f();
        ck_brlock_read_unlock(&readers[me_].r);
    }
    template <class F> void write(F &&f) {
        ck_brlock_write_lock(&lock);
        f();
        ck_brlock_write_unlock(&lock);
    }
};
thread_local int CkBrlock::me_ = 0;
// Byte lock: a reader byte per slot (thread index + 1), one line for up to 56 slotted readers.
struct CkBytelock {
    alignas(64) ck_bytelock_t lock = CK_BYTELOCK_INITIALIZER;
    static thread_local unsigned slot_;
    void begin() {}
    void bind(int me) { slot_ = static_cast<unsigned>(me) + 1; }
    void unbind() {}
    template <class F> void read(F &&f) {
        ck_bytelock_read_lock(&lock, slot_);
        f();
        ck_bytelock_read_unlock(&lock, slot_);
    }
    template <class F> void write(F &&f) {
        ck_bytelock_write_lock(&lock, slot_);
        f();
        ck_bytelock_write_unlock(&lock);
    }
};
thread_local unsigned CkBytelock::slot_ = 1;
#endif

// ---- the timed loop ---------------------------------------------------------------------------

struct alignas(64) Counts {
    std::uint64_t reads = 0, writes = 0, torn = 0, max_write_wait = 0, max_read_wait = 0;
    std::uint64_t cpu_ns = 0; // the thread's CPU time in the loop: what an op costs, whatever CPU share
                              // the shared machine gave the run
};

inline std::uint64_t thread_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

struct Table {
    alignas(64) std::uint64_t v[8] = {};
};

// One thread's timed loop on lock L; the table is the data the lock guards.
template <class L> Counts s7_loop(L &lock, Table &table, int me) {
    const std::uint64_t cs = work_iterations(25.0), outside = 2 * work_iterations(25.0) + 1;
    Counts c;
    const std::uint64_t cpu0 = thread_cpu_ns();
    std::uint64_t seed = 0x9E3779B97F4A7C15ull * std::uint64_t(me + 1);
    const auto deadline = std::chrono::steady_clock::now() + kTimedRun;
    do {
        for (int k = 0; k < 16; ++k) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            benchmark::DoNotOptimize(spin_work(seed % outside, seed));
            const bool write = seed % 100 < 5;
            const std::uint64_t t0 = ticks();
            std::uint64_t t1 = 0;
            if (write) {
                lock.write([&] {
                    t1 = ticks();
                    const std::uint64_t next = spin_work(cs, table.v[0]) | 1;
                    for (auto &x : table.v)
                        x = next;
                });
                c.max_write_wait = std::max(c.max_write_wait, t1 - t0);
                ++c.writes;
            } else {
                lock.read([&] {
                    t1 = ticks();
                    std::uint64_t first = table.v[0], same = 1;
                    for (const auto &x : table.v)
                        same &= x == first;
                    c.torn += same == 0;
                    benchmark::DoNotOptimize(spin_work(cs, first));
                });
                c.max_read_wait = std::max(c.max_read_wait, t1 - t0);
                ++c.reads;
            }
        }
    } while (std::chrono::steady_clock::now() < deadline);
    c.cpu_ns = thread_cpu_ns() - cpu0;
    return c;
}

// Every thread's counts, summed (waits: the maximum).
Counts total(const Counts *counts, int threads) {
    Counts sum;
    for (int i = 0; i < threads; ++i) {
        sum.reads += counts[i].reads;
        sum.writes += counts[i].writes;
        sum.torn += counts[i].torn;
        sum.cpu_ns += counts[i].cpu_ns;
        sum.max_write_wait = std::max(sum.max_write_wait, counts[i].max_write_wait);
        sum.max_read_wait = std::max(sum.max_read_wait, counts[i].max_read_wait);
    }
    return sum;
}

// One contender's turn, run by every thread between two barriers; the total on thread 0.
template <class L> Counts s7_turn(int me, int threads, std::barrier<> &sync) {
    static L lock;
    static Table table;
    static Counts counts[kMaxThreads];
    if (me == 0) {
        lock.begin();
        table = Table{};
    }
    sync.arrive_and_wait();
    lock.bind(me);
    counts[me] = s7_loop(lock, table, me);
    lock.unbind();
    sync.arrive_and_wait();
    return me == 0 ? total(counts, threads) : Counts{};
}

void put_counters(benchmark::State &state, const Counts &sum) {
    const double s = std::chrono::duration<double>(kTimedRun).count();
    state.counters["ops_per_s"] = double(sum.reads + sum.writes) / s;
    state.counters["reads_per_s"] = double(sum.reads) / s;
    state.counters["writes_per_s"] = double(sum.writes) / s;
    state.counters["max_writer_wait_us"] = double(sum.max_write_wait) / g_tsc_per_ns / 1000.0;
    state.counters["max_reader_wait_us"] = double(sum.max_read_wait) / g_tsc_per_ns / 1000.0;
    state.counters["torn"] = double(sum.torn);
    state.counters["cpu_ns_per_op"] =
        sum.reads + sum.writes == 0 ? 0.0 : double(sum.cpu_ns) / double(sum.reads + sum.writes);
}

template <class L> void s7_run(benchmark::State &state) {
    static std::optional<std::barrier<>> sync;
    static double probe_before_ns; // the guest's state before the run (state_counters.h)
    const int me = state.thread_index();
    if (me == 0) {
        sync.emplace(state.threads());
        probe_before_ns = handoff_probe_ns();
    }
    Counts sum;
    for (auto _ : state)
        sum = s7_turn<L>(me, state.threads(), *sync); // the loop's start barrier publishes sync
    if (me == 0) {
        state_counters(state, probe_before_ns, handoff_probe_ns());
        put_counters(state, sum);
    }
}

struct S7Contender {
    const char *name;
    Counts (*turn)(int, int, std::barrier<> &);
    bool peer; // not ndislock's: a candidate for "the best peer"
};

std::vector<S7Contender> &contenders() {
    static std::vector<S7Contender> all;
    return all;
}

// S7 in rounds: every contender once per round, back to back in a shuffled order, the ratio of
// ndislock_rw_ex to the best peer taken within the round (the guest's fast and slow states then
// move a whole round, bench/rounds.h says why), median over kS7Rounds rounds. Also each
// contender's median ops/s and its largest writer wait over all rounds.
constexpr int kS7Rounds = 5;

void s7_rounds(benchmark::State &state) {
    static std::optional<std::barrier<>> sync;
    const int me = state.thread_index(), threads = state.threads();
    if (me == 0) sync.emplace(threads);
    const std::vector<S7Contender> &all = contenders();
    std::vector<std::vector<Counts>> rounds(kS7Rounds, std::vector<Counts>(all.size()));
    std::vector<GuestState> states(kS7Rounds, GuestState::Unmeasured);
    for (auto _ : state) {
        for (int r = 0; r < kS7Rounds; ++r) {
            // The guest's state before and after the round (thread 0; the others wait in the
            // first turn's barrier): a round whose probes agree counts as fast or slow.
            const double before_ns = me == 0 ? handoff_probe_ns() : 0;
            std::vector<std::size_t> order(all.size());
            for (std::size_t i = 0; i < order.size(); ++i)
                order[i] = i;
            std::mt19937 shuffle(unsigned(r) * 7919u + 3u);
            std::shuffle(order.begin(), order.end(), shuffle);
            for (const std::size_t i : order)
                rounds[r][i] = all[i].turn(me, threads, *sync);
            if (me == 0) states[r] = guest_state(before_ns, handoff_probe_ns());
        }
    }
    if (me != 0) return;
    const double s = std::chrono::duration<double>(kTimedRun).count();
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v.empty() ? 0.0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    };
    // Two ratios per round: ops/s (what the run got done, which also depends on the CPU share
    // the shared machine gave each turn) and CPU time per op (what an op cost), each against the
    // best peer of the round.
    std::vector<double> ratio, cpu_ratio;
    for (const auto &round : rounds) {
        double nd = 0, best = 0, nd_cpu = 0, best_cpu = 0;
        for (std::size_t i = 0; i < all.size(); ++i) {
            const double ops = double(round[i].reads + round[i].writes);
            const double cpu = ops == 0 ? 0.0 : double(round[i].cpu_ns) / ops;
            if (std::string(all[i].name) == "ndislock_rw_ex") {
                nd = ops;
                nd_cpu = cpu;
            }
            if (!all[i].peer) continue;
            best = std::max(best, ops);
            if (cpu > 0 && (best_cpu == 0 || cpu < best_cpu)) best_cpu = cpu;
        }
        ratio.push_back(best == 0 ? 0.0 : nd / best);
        cpu_ratio.push_back(nd_cpu == 0 ? 0.0 : best_cpu / nd_cpu);
    }
    split_by_state(state, "ndislock_over_best_peer", ratio, states, median_of);
    state.counters["best_peer_cpu_over_ndislock"] = median(cpu_ratio);
    state.counters["rounds"] = kS7Rounds;
    for (std::size_t i = 0; i < all.size(); ++i) {
        std::vector<double> ops;
        std::uint64_t max_write_wait = 0, torn = 0;
        for (const auto &round : rounds) {
            ops.push_back(double(round[i].reads + round[i].writes) / s);
            max_write_wait = std::max(max_write_wait, round[i].max_write_wait);
            torn += round[i].torn;
        }
        state.counters[std::string("ops_per_s_") + all[i].name] = median(ops);
        std::vector<double> cpu;
        for (const auto &round : rounds)
            if (round[i].reads + round[i].writes != 0)
                cpu.push_back(double(round[i].cpu_ns) / double(round[i].reads + round[i].writes));
        state.counters[std::string("cpu_ns_per_op_") + all[i].name] = median(cpu);
        state.counters[std::string("max_writer_wait_us_") + all[i].name] =
            double(max_write_wait) / g_tsc_per_ns / 1000.0;
        if (std::string(all[i].name) == "ndislock_rw_ex") { // its target's wait, in each state
            std::vector<double> waits;
            for (const auto &round : rounds)
                waits.push_back(double(round[i].max_write_wait) / g_tsc_per_ns / 1000.0);
            split_by_state(state, std::string("max_writer_wait_us_") + all[i].name, waits, states, max_of);
        }
        if (torn != 0) state.counters[std::string("torn_") + all[i].name] = double(torn);
    }
}

template <class L> void add(const char *name, bool peer = true) {
    contenders().push_back(S7Contender{name, s7_turn<L>, peer});
    for (int threads : {2, 4, 8})
        benchmark::RegisterBenchmark((std::string("S7/t") + std::to_string(threads) + "/" + name).c_str(), s7_run<L>)
            ->ComputeStatistics("min",
                                [](const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); })
            ->ComputeStatistics("max",
                                [](const std::vector<double> &v) { return *std::max_element(v.begin(), v.end()); })
            ->Threads(threads)
            ->Iterations(1)
            ->UseRealTime();
}

} // namespace

void register_s7() {
    add<NdisRwLockEx>("ndislock_rw_ex", false);
    add<NdisRwLock5>("ndislock_rw_ndis5", false);
    add<ExSpinLock>("ndislock_ex_spin_lock", false);
    add<PthreadRw<false>>("pthread_rwlock");
    add<PthreadRw<true>>("pthread_rwlock_prefer_writer");
    add<StdSharedMutex>("std_shared_mutex");
#ifdef NDISLOCK_BENCH_HAVE_ABSL
    add<AbslMutexReader>("absl_mutex_reader");
#endif
#ifdef NDISLOCK_BENCH_HAVE_TBB
    add<TbbSpinRw>("tbb_spin_rw_mutex");
    add<TbbQueuingRw>("tbb_queuing_rw_mutex");
#endif
#ifdef NDISLOCK_BENCH_HAVE_CK
    add<CkRwlock>("ck_rwlock");
    add<CkBrlock>("ck_brlock");
    add<CkBytelock>("ck_bytelock");
#endif
    for (int threads : {2, 4, 8})
        benchmark::RegisterBenchmark((std::string("S7/t") + std::to_string(threads) + "/rounds").c_str(), s7_rounds)
            ->Threads(threads)
            ->Iterations(1)
            ->Repetitions(1)
            ->UseRealTime();
}

} // namespace ndislock_bench
