// bench/contenders.h: every lock of the protocol behind one interface (part of ndislock_bench.cpp,
// which alone includes it): locked(f) runs f with the lock held; begin()/end() set the process up
// for it, bind()/unbind() each thread. Peers are compiled in when their Debian package was found
// (NDISLOCK_BENCH_HAVE_*).
#pragma once

#include <atomic>
#include <mutex>
#include <pthread.h>
#include <x86intrin.h>

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

namespace ndislock_bench {

enum class Mode { Off, Stats, Verifier };

inline void set_mode(Mode m) {
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
inline void bind_to_processor(int me) {
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
// A contender whose thread stays at DISPATCH_LEVEL for its whole turn, on its own processor: the
// Dpr and AtDpcLevel forms, which leave the IRQL alone.
struct AtDispatchForTurn {
    void bind(int me) {
        bind_to_processor(me); // before raising: bound only below DISPATCH_LEVEL
        old_irql = KeRaiseIrqlToDpcLevel();
    }
    void unbind() { KeLowerIrql(old_irql); }
    static thread_local KIRQL old_irql;
};
inline thread_local KIRQL AtDispatchForTurn::old_irql = PASSIVE_LEVEL;

struct NdisDprWord : NdisLock, AtDispatchForTurn {
    using AtDispatchForTurn::bind;
    using AtDispatchForTurn::unbind;
    template <class F> void locked(F &&f) {
        NdisDprAcquireSpinLock(&lock);
        f();
        NdisDprReleaseSpinLock(&lock);
    }
};

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

// The same queued pair without its IRQL halves: the thread stays at DISPATCH_LEVEL for its turn
// (as NdisDprWord does), so what is left is the queue algorithm and the inline path's checks. The
// queued lock's layer between the public pair and ck_spinlock_mcs.
struct KeQueuedLockAtDpc : KeQueuedLock, AtDispatchForTurn {
    using AtDispatchForTurn::bind;
    using AtDispatchForTurn::unbind;
    template <class F> void locked(F &&f) {
        KLOCK_QUEUE_HANDLE h;
        KeAcquireInStackQueuedSpinLockAtDpcLevel(&lock, &h);
        f();
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&h);
    }
};

// The floor: exchange(1, acquire) to lock, store(0, release) to unlock; spins with PAUSE on a
// read so that contended runs measure the algorithm, not a cache-line storm.
struct BareTas : NoSetup {
    alignas(64) std::atomic<int> word{0};
    template <class F> void locked(F &&f) {
        while (word.exchange(1, std::memory_order_acquire) != 0)
            while (word.load(std::memory_order_relaxed) != 0)
                _mm_pause();
        f();
        word.store(0, std::memory_order_release);
    }
};

// The same pair behind two out-of-line calls: the floor of any lock API that is not inline.
[[gnu::noinline]] inline void tas_call_lock(std::atomic<int> &w) {
    while (w.exchange(1, std::memory_order_acquire) != 0)
        while (w.load(std::memory_order_relaxed) != 0)
            _mm_pause();
}
[[gnu::noinline]] inline void tas_call_unlock(std::atomic<int> &w) { w.store(0, std::memory_order_release); }
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

// The scheduler's floor for S3/S4 (not a lock): the same threads and work with no exclusion, each
// on its own data. Its max "wait" is the longest the OS left a runnable thread without a core
// between two clock reads around an empty acquire, its min/max the OS's own fairness: no lock
// can do better on either while every thread stays runnable.
struct NoLock : NoSetup {
    static constexpr bool kExclusive = false;
    template <class F> void locked(F &&f) { f(); }
};

} // namespace ndislock_bench
