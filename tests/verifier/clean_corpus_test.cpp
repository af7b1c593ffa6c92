// The clean corpus: correct programs that must report nothing. The test main installs
// ndislock::testing::InstallVerifierListener, which fails a test on any finding; each test also
// checks that its work was really done (counters), so "nothing reported" is not "nothing ran".
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <new>
#include <thread>

#include <gtest/gtest.h>

#include "ndislock/ndislock.hpp"
#include "observe/lock_names.h"  // lock_name: which name a lock has now
#include "verifier/held_locks.h" // pooled_verifier_tables
#include "verifier/sites.h"      // set_walk_padding_for_tests
#include "verifier_support.h"

using namespace vt;
using ndislock_test::Flag;
using ndislock_test::run_threads;

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr int kScale = 10; // TSan runs 5-15x slower
#else
constexpr int kScale = 1;
#endif
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
// Sanitizers run the code 5-15x slower, so correct holds really take that much longer there.
constexpr ULONG64 kHoldBudgetNs = 1'000'000;
#else
constexpr ULONG64 kHoldBudgetNs = 0;       // the default, 25 us (or NDISLOCK_HOLD_BUDGET_US)
#endif

class CleanCorpus : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NE(NdislockVerifierGetMode(), NDISLOCK_VERIFIER_OFF);
        ASSERT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        if (kHoldBudgetNs != 0) NdislockVerifierSetHoldBudget(kHoldBudgetNs);
    }
    void TearDown() override { EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL); }
};

// Three locks (an NDIS lock, a plain KSPIN_LOCK, a queued KSPIN_LOCK) always taken A -> B -> C,
// released in the reverse order, by many threads.
TEST_F(CleanCorpus, ConsistentNestingOfThreeLocksFromManyThreads) {
    NDIS_SPIN_LOCK a{};
    KSPIN_LOCK b = 0, c = 0;
    NdislockSetLockName(&a, "clean.nest.A");
    NdislockSetLockName(&b, "clean.nest.B");
    NdislockSetLockName(&c, "clean.nest.C");
    NdisAllocateSpinLock(&a);
    KeInitializeSpinLock(&b);
    KeInitializeSpinLock(&c);
    long counter = 0;
    const int threads = 8, iterations = 2000 / kScale;
    run_threads(threads, [&](int) {
        for (int i = 0; i < iterations; ++i) {
            KLOCK_QUEUE_HANDLE h;
            NdisAcquireSpinLock(&a);
            KeAcquireSpinLockAtDpcLevel(&b);
            KeAcquireInStackQueuedSpinLockAtDpcLevel(&c, &h);
            ++counter;
            KeReleaseInStackQueuedSpinLockFromDpcLevel(&h);
            KeReleaseSpinLockFromDpcLevel(&b);
            NdisReleaseSpinLock(&a);
        }
    });
    EXPECT_EQ(counter, static_cast<long>(threads) * iterations);
    NdisFreeSpinLock(&a);
}

// A -> B by blocking acquires on some threads; B held and A only tried (backing off on failure)
// on others: a try never waits, so the reverse order cannot deadlock and is no inversion.
TEST_F(CleanCorpus, TryAcquiresInTheReverseOrder) {
    KSPIN_LOCK a = 0, b = 0;
    NdislockSetLockName(&a, "clean.try.A");
    NdislockSetLockName(&b, "clean.try.B");
    KeInitializeSpinLock(&a);
    KeInitializeSpinLock(&b);
    std::atomic<long> forward{0}, reverse{0}, backed_off{0};
    const int iterations = 3000 / kScale;
    run_threads(4, [&](int t) {
        for (int i = 0; i < iterations; ++i) {
            KIRQL old;
            if (t % 2 == 0) {
                KeAcquireSpinLock(&a, &old);
                KeAcquireSpinLockAtDpcLevel(&b);
                forward.fetch_add(1, std::memory_order_relaxed);
                KeReleaseSpinLockFromDpcLevel(&b);
                KeReleaseSpinLock(&a, old);
            } else {
                KeAcquireSpinLock(&b, &old);
                if (KeTryToAcquireSpinLockAtDpcLevel(&a)) {
                    reverse.fetch_add(1, std::memory_order_relaxed);
                    KeReleaseSpinLockFromDpcLevel(&a);
                } else {
                    backed_off.fetch_add(1, std::memory_order_relaxed);
                }
                KeReleaseSpinLock(&b, old);
            }
        }
    });
    EXPECT_EQ(forward.load(), 2L * iterations);
    EXPECT_EQ(reverse.load() + backed_off.load(), 2L * iterations);
}

// The Dpr / AtDpcLevel / TryToAcquire forms after an explicit KeRaiseIrql (as outside a DPC).
TEST_F(CleanCorpus, DprCallsAfterAnExplicitRaise) {
    NDIS_SPIN_LOCK n{};
    KSPIN_LOCK k = 0, q = 0;
    NdisAllocateSpinLock(&n);
    KeInitializeSpinLock(&k);
    KeInitializeSpinLock(&q);
    for (int i = 0; i < 1000; ++i) {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        NdisDprAcquireSpinLock(&n);
        KeAcquireSpinLockAtDpcLevel(&k);
        KeReleaseSpinLockFromDpcLevel(&k);
        NdisDprReleaseSpinLock(&n);
        if (KeTryToAcquireSpinLockAtDpcLevel(&k)) KeReleaseSpinLockFromDpcLevel(&k);
        KLOCK_QUEUE_HANDLE h;
        KeAcquireInStackQueuedSpinLockAtDpcLevel(&q, &h);
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&h);
        KeLowerIrql(old);
        const KIRQL dpc = KeRaiseIrqlToDpcLevel();
        NdisDprAcquireSpinLock(&n);
        NdisDprReleaseSpinLock(&n);
        KeLowerIrql(dpc);
    }
    NdisFreeSpinLock(&n);
}

// In-stack queued locks (both forms) nested under an NDIS lock, from several threads.
TEST_F(CleanCorpus, InStackQueuedLocksNestedUnderAnNdisLock) {
    NDIS_SPIN_LOCK n{};
    KSPIN_LOCK q1 = 0, q2 = 0;
    NdislockSetLockName(&n, "clean.queued.N");
    NdislockSetLockName(&q1, "clean.queued.Q1");
    NdislockSetLockName(&q2, "clean.queued.Q2");
    NdisAllocateSpinLock(&n);
    KeInitializeSpinLock(&q1);
    KeInitializeSpinLock(&q2);
    long counter = 0;
    const int iterations = 2000 / kScale;
    run_threads(4, [&](int) {
        for (int i = 0; i < iterations; ++i) {
            KLOCK_QUEUE_HANDLE h1, h2;
            NdisAcquireSpinLock(&n);
            KeAcquireInStackQueuedSpinLock(&q1, &h1); // at DISPATCH_LEVEL: saves DISPATCH_LEVEL
            KeAcquireInStackQueuedSpinLockAtDpcLevel(&q2, &h2);
            ++counter;
            KeReleaseInStackQueuedSpinLockFromDpcLevel(&h2);
            KeReleaseInStackQueuedSpinLock(&h1);
            NdisReleaseSpinLock(&n);
        }
    });
    EXPECT_EQ(counter, 4L * iterations);
    NdisFreeSpinLock(&n);
}

// 16 threads on 2 virtual processors (threads outnumber cores, as on every CI machine): every
// family, one consistent order, a few thousand iterations each.
TEST_F(CleanCorpus, ManyThreadsOnFewProcessors) {
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    NDIS_SPIN_LOCK outer{};
    KSPIN_LOCK plain = 0, queued = 0;
    NdislockSetLockName(&outer, "clean.many.outer");
    NdislockSetLockName(&plain, "clean.many.plain");
    NdislockSetLockName(&queued, "clean.many.queued");
    NdisAllocateSpinLock(&outer);
    KeInitializeSpinLock(&plain);
    KeInitializeSpinLock(&queued);
    long outer_count = 0, plain_count = 0, queued_count = 0;
    const int iterations = 3000 / kScale;
    run_threads(16, [&](int t) {
        for (int i = 0; i < iterations; ++i) {
            KLOCK_QUEUE_HANDLE h;
            KIRQL old;
            switch ((t + i) % 4) {
            case 0:
                NdisAcquireSpinLock(&outer);
                ++outer_count;
                KeAcquireSpinLockAtDpcLevel(&plain);
                ++plain_count;
                KeReleaseSpinLockFromDpcLevel(&plain);
                NdisReleaseSpinLock(&outer);
                break;
            case 1:
                KeAcquireSpinLock(&plain, &old);
                ++plain_count;
                KeReleaseSpinLock(&plain, old);
                break;
            case 2:
                KeAcquireInStackQueuedSpinLock(&queued, &h);
                ++queued_count;
                KeReleaseInStackQueuedSpinLock(&h);
                break;
            default:
                KeRaiseIrql(DISPATCH_LEVEL, &old);
                NdisDprAcquireSpinLock(&outer);
                ++outer_count;
                KeAcquireInStackQueuedSpinLockAtDpcLevel(&queued, &h);
                ++queued_count;
                KeReleaseInStackQueuedSpinLockFromDpcLevel(&h);
                NdisDprReleaseSpinLock(&outer);
                KeLowerIrql(old);
                break;
            }
        }
    });
    EXPECT_EQ(outer_count + plain_count + queued_count, 16L * iterations * 6 / 4);
    NdisFreeSpinLock(&outer);
    ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
}

// Short holds that do real work, 6 threads on 2 processors (and this machine's 2 cores): holders
// are descheduled while they hold and waiters spin and park, so the long-hold sentinel sees many
// holds twice; none of them ran long on its own thread's clock (verifier/long_holds.h).
TEST_F(CleanCorpus, BusyShortHoldsWithThreadsOutnumberingCores) {
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    NDIS_SPIN_LOCK a{}, b{};
    NdislockSetLockName(&a, "clean.busy.a");
    NdislockSetLockName(&b, "clean.busy.b");
    NdisAllocateSpinLock(&a);
    NdisAllocateSpinLock(&b);
    long outer = 0, inner = 0;
    const int iterations = 4000 / kScale;
    run_threads(6, [&](int t) {
        for (int i = 0; i < iterations; ++i) {
            NdisAcquireSpinLock(&a);
            if ((t + i) % 3 == 0) {
                NdisDprAcquireSpinLock(&b);
                ++inner;
                NdisDprReleaseSpinLock(&b);
            }
            const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(2);
            while (std::chrono::steady_clock::now() < end) {
            } // a short critical section, well within the budget
            ++outer;
            NdisReleaseSpinLock(&a);
        }
    });
    EXPECT_EQ(outer, 6L * iterations);
    EXPECT_GT(inner, 0L);
    NdisFreeSpinLock(&a);
    NdisFreeSpinLock(&b);
    ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
}

// The C++ types and guards, including std::scoped_lock (which releases in acquisition order:
// the types restore the IRQL at the last release, whatever the order) in both orders from
// different threads (std::lock takes the others by try_lock: no inversion).
TEST_F(CleanCorpus, CppGuards) {
    ndislock::NdisSpinLock a("clean.cpp.A"), b("clean.cpp.B");
    ndislock::KSpinLock k("clean.cpp.K"), q("clean.cpp.Q");
    std::atomic<long> counter{0}; // bumped under different locks
    const int iterations = 2000 / kScale;
    run_threads(4, [&](int t) {
        for (int i = 0; i < iterations; ++i) {
            if (t % 2 == 0) {
                std::scoped_lock both(a, b);
                ++counter;
            } else {
                std::scoped_lock both(b, a);
                ++counter;
            }
            {
                ndislock::LockGuard<ndislock::NdisSpinLock> ga(a);
                ndislock::LockGuard<ndislock::KSpinLock> gk(k);
                ndislock::InStackQueuedGuard gq(q, ndislock::at_dpc_level);
                ++counter;
            }
            {
                std::unique_lock<ndislock::KSpinLock> uk(k, std::try_to_lock);
                ++counter; // taken or not: try_lock leaves the IRQL as it was
            }
            {
                ndislock::RaisedIrql dispatch(DISPATCH_LEVEL);
                ndislock::DprLockGuard ga(a);
                ndislock::InStackQueuedGuard gq(q, ndislock::at_dpc_level);
                ++counter;
            }
            {
                ndislock::InStackQueuedGuard gq(q);
                ++counter;
            }
        }
    });
    EXPECT_EQ(counter, 4L * iterations * 5);
}

// The standard guards call the C++ API from libstdc++'s headers, so the verifier finds the driver's
// line on the stack (verifier/sites.h). That walk is the verifier's time: four nested guards, every
// hold timed against a tight budget, must not make the outer holds look long.
TEST_F(CleanCorpus, NestedStdGuardsAreNotChargedForTheStackWalks) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    NdislockVerifierSetHoldBudget(kHoldBudgetNs);
#else
    NdislockVerifierSetHoldBudget(10'000); // 10 us: a walk charged to the holds is over it
#endif
    NdislockVerifierSetHoldSampling(1);
    ndislock::NdisSpinLock a("clean.walk.A"), b("clean.walk.B"), c("clean.walk.C"), d("clean.walk.D");
    long counter = 0;
    const int iterations = 5000 / kScale;
    for (int i = 0; i < iterations; ++i) {
        std::lock_guard<ndislock::NdisSpinLock> ga(a);
        std::lock_guard<ndislock::NdisSpinLock> gb(b);
        std::lock_guard<ndislock::NdisSpinLock> gc(c);
        std::lock_guard<ndislock::NdisSpinLock> gd(d);
        ++counter;
    }
    NdislockVerifierSetHoldSampling(0);
    NdislockVerifierSetHoldBudget(kHoldBudgetNs);
    EXPECT_EQ(counter, iterations);
}

// The same, with each site lookup made slower than the hold budget (a test knob of sites.h): a
// walk charged to the holds open around it would put every outer hold over budget, three in a row.
// The lookup's time is credited to them instead (credit_verifier_work in verifier/checks_sites.cpp), so nothing
// is reported; without the credit this test fails at any optimization level.
TEST_F(CleanCorpus, NestedStdGuardsAreNotChargedForSlowSiteLookups) {
    const ULONG64 budget = kHoldBudgetNs != 0 ? kHoldBudgetNs : 25'000;
    NdislockVerifierSetHoldBudget(budget);
    NdislockVerifierSetHoldSampling(1);
    ndislock::NdisSpinLock a("clean.padded.A"), b("clean.padded.B"), c("clean.padded.C");
    ndislock::verifier::set_walk_padding_for_tests(budget); // each lookup: one whole budget
    long counter = 0;
    const int iterations = 20;
    for (int i = 0; i < iterations; ++i) {
        std::lock_guard<ndislock::NdisSpinLock> ga(a); // spans two lookups: twice the budget
        std::lock_guard<ndislock::NdisSpinLock> gb(b); // spans one
        std::lock_guard<ndislock::NdisSpinLock> gc(c);
        ++counter;
    }
    ndislock::verifier::set_walk_padding_for_tests(0);
    NdislockVerifierSetHoldSampling(0);
    NdislockVerifierSetHoldBudget(kHoldBudgetNs);
    EXPECT_EQ(counter, iterations);
}

// Locks allocated, used and freed in a loop (new memory each time, as the heap gives it), and the
// same memory reused for new locks, NDIS and kernel alike.
TEST_F(CleanCorpus, AllocateUseFreeInALoopAndReuseTheMemory) {
    for (int i = 0; i < 10'000; ++i) {
        auto l = std::make_unique<NDIS_SPIN_LOCK>();
        NdisAllocateSpinLock(l.get());
        NdisAcquireSpinLock(l.get());
        NdisReleaseSpinLock(l.get());
        NdisFreeSpinLock(l.get());
    }
    alignas(16) static unsigned char memory[64];
    auto *l = reinterpret_cast<NDIS_SPIN_LOCK *>(memory);
    for (int i = 0; i < 10'000; ++i) {
        NdisAllocateSpinLock(l);
        KIRQL old;
        if (i % 3 == 0) {
            NdisAcquireSpinLock(l);
            NdisReleaseSpinLock(l);
        } else if (i % 3 == 1) {
            KeAcquireSpinLock(&l->SpinLock, &old);
            KeReleaseSpinLock(&l->SpinLock, old);
        } else {
            KLOCK_QUEUE_HANDLE h;
            KeAcquireInStackQueuedSpinLock(&l->SpinLock, &h); // a new lock: never used plain
            KeReleaseInStackQueuedSpinLock(&h);
        }
        NdisFreeSpinLock(l);
    }
    // The same memory as a kernel lock after the NDIS lock was freed.
    KeInitializeSpinLock(&l->SpinLock);
    KIRQL old;
    KeAcquireSpinLock(&l->SpinLock, &old);
    KeReleaseSpinLock(&l->SpinLock, old);
}

// The function forms, called through parentheses.
TEST_F(CleanCorpus, FunctionForms) {
    NDIS_SPIN_LOCK n{};
    KSPIN_LOCK k = 0, q = 0;
    (NdisAllocateSpinLock)(&n);
    (KeInitializeSpinLock)(&k);
    (KeInitializeSpinLock)(&q);
    for (int i = 0; i < 100; ++i) {
        (NdisAcquireSpinLock)(&n);
        (KeAcquireSpinLockAtDpcLevel)(&k);
        (KeReleaseSpinLockFromDpcLevel)(&k);
        (NdisReleaseSpinLock)(&n);
        KIRQL old;
        (KeAcquireSpinLock)(&k, &old);
        (KeReleaseSpinLock)(&k, old);
        KLOCK_QUEUE_HANDLE h;
        (KeAcquireInStackQueuedSpinLock)(&q, &h);
        (KeReleaseInStackQueuedSpinLock)(&h);
        (KeRaiseIrql)(DISPATCH_LEVEL, &old);
        (NdisDprAcquireSpinLock)(&n);
        (NdisDprReleaseSpinLock)(&n);
        if ((KeTryToAcquireSpinLockAtDpcLevel)(&k)) (KeReleaseSpinLockFromDpcLevel)(&k);
        (KeLowerIrql)(old);
    }
    (NdisFreeSpinLock)(&n);
}

// A name ends with its lock. A named pair taken A -> B, then unnamed locks at the same addresses
// taken B -> A: two new locks, each of its own class, so no LockOrderInversion. Before names
// ended with their locks, the new locks inherited "A" and "B" (and their order) from the memory.
// Static storage, so the addresses are the same by construction, not by the stack's layout.
TEST_F(CleanCorpus, ANameEndsWithItsLock) {
    alignas(ndislock::NdisSpinLock) static unsigned char cpp_a[sizeof(ndislock::NdisSpinLock)];
    alignas(ndislock::NdisSpinLock) static unsigned char cpp_b[sizeof(ndislock::NdisSpinLock)];
    alignas(16) static KSPIN_LOCK ka = 0, kb = 0;
    using ndislock::observe::lock_name;

    // The C++ type: named at construction, NdisFreeSpinLock at destruction.
    auto *a = new (cpp_a) ndislock::NdisSpinLock("clean.reuse.A");
    auto *b = new (cpp_b) ndislock::NdisSpinLock("clean.reuse.B");
    {
        std::lock_guard<ndislock::NdisSpinLock> ga(*a);
        std::lock_guard<ndislock::NdisSpinLock> gb(*b);
    }
    NDIS_SPIN_LOCK *const na = a->native(), *const nb = b->native(); // the addresses reused below
    EXPECT_STREQ(lock_name(na), "clean.reuse.A");
    b->~NdisSpinLock();
    a->~NdisSpinLock();
    EXPECT_EQ(lock_name(na), nullptr);
    EXPECT_EQ(lock_name(nb), nullptr);
    NdisAllocateSpinLock(na);
    NdisAllocateSpinLock(nb);
    NdisAcquireSpinLock(nb);
    NdisDprAcquireSpinLock(na);
    NdisDprReleaseSpinLock(na);
    NdisReleaseSpinLock(nb);
    NdisFreeSpinLock(nb);
    NdisFreeSpinLock(na);

    // KSPIN_LOCKs, which are never freed: named after their initialization, then initialized
    // again (new locks) and taken in the reverse order.
    KIRQL old;
    KeInitializeSpinLock(&ka);
    NdislockSetLockName(&ka, "clean.reuse.KA");
    KeInitializeSpinLock(&kb);
    NdislockSetLockName(&kb, "clean.reuse.KB");
    KeAcquireSpinLock(&ka, &old);
    KeAcquireSpinLockAtDpcLevel(&kb);
    KeReleaseSpinLockFromDpcLevel(&kb);
    KeReleaseSpinLock(&ka, old);
    KeInitializeSpinLock(&ka);
    KeInitializeSpinLock(&kb);
    EXPECT_EQ(lock_name(&ka), nullptr);
    EXPECT_EQ(lock_name(&kb), nullptr);
    KeAcquireSpinLock(&kb, &old);
    KeAcquireSpinLockAtDpcLevel(&ka);
    KeReleaseSpinLockFromDpcLevel(&ka);
    KeReleaseSpinLock(&kb, old);

    // A name set before an initialization is the new lock's, also where a lock was freed.
    NdislockSetLockName(na, "clean.reuse.A2");
    NdisAllocateSpinLock(na);
    EXPECT_STREQ(lock_name(na), "clean.reuse.A2");
    NdisAcquireSpinLock(na);
    NdisReleaseSpinLock(na);
    NdislockSetLockName(na, nullptr); // NULL: no name from now on
    EXPECT_EQ(lock_name(na), nullptr);
    NdisFreeSpinLock(na);

    // The C++ KSPIN_LOCK type drops its name when destroyed.
    alignas(ndislock::KSpinLock) static unsigned char cpp_k[sizeof(ndislock::KSpinLock)];
    auto *k = new (cpp_k) ndislock::KSpinLock("clean.reuse.K");
    PKSPIN_LOCK const nk = k->native();
    EXPECT_STREQ(lock_name(nk), "clean.reuse.K");
    k->~KSpinLock();
    EXPECT_EQ(lock_name(nk), nullptr);
}

// An adapter initializes all its per-queue KSPIN_LOCKs, then names them (more of them than a short
// memory of recent initializations would hold), and is freed; another context at the same memory
// initializes a lock of its own there and takes it before the lock the queues were taken after.
// The new lock starts without the old name, so no LockOrderInversion between unrelated locks.
TEST_F(CleanCorpus, ANameSetAfterAContextsManyInitializationsEndsWithItsLock) {
    constexpr int kQueues = 40;
    alignas(16) static KSPIN_LOCK global = 0, queues[kQueues] = {};
    using ndislock::observe::lock_name;
    KIRQL old;
    KeInitializeSpinLock(&global);
    NdislockSetLockName(&global, "clean.many.global");
    for (KSPIN_LOCK &q : queues)
        KeInitializeSpinLock(&q);
    for (KSPIN_LOCK &q : queues)
        NdislockSetLockName(&q, "clean.many.queue");
    for (KSPIN_LOCK &q : queues) {
        KeAcquireSpinLock(&global, &old);
        KeAcquireSpinLockAtDpcLevel(&q); // global -> queue
        KeReleaseSpinLockFromDpcLevel(&q);
        KeReleaseSpinLock(&global, old);
    }
    KeInitializeSpinLock(&queues[0]); // the memory's next lock: unnamed
    EXPECT_EQ(lock_name(&queues[0]), nullptr);
    EXPECT_STREQ(lock_name(&queues[kQueues - 1]), "clean.many.queue");
    KeAcquireSpinLock(&queues[0], &old);
    KeAcquireSpinLockAtDpcLevel(&global); // new lock -> global: no inversion
    KeReleaseSpinLockFromDpcLevel(&global);
    KeReleaseSpinLock(&queues[0], old);
    NdislockSetLockName(&global, nullptr);
    for (KSPIN_LOCK &q : queues)
        NdislockSetLockName(&q, nullptr);
}

// Threads that end while others begin a wait: the wait's Begin hook and the holder lookups of
// reports read other threads' states, which the registry recycles instead of freeing (a data
// race and a use after free before that, which ThreadSanitizer showed here).
TEST_F(CleanCorpus, ThreadsEndingWhileOthersBeginWaitsAreSafe) {
    KSPIN_LOCK k = 0;
    KeInitializeSpinLock(&k);
    for (int round = 0; round < 20; ++round) {
        run_threads(8, [&](int t) {
            for (int i = 0; i < 50 * (t + 1); ++i) { // threads end one after another while others wait
                KIRQL old;
                KeAcquireSpinLock(&k, &old);
                KeReleaseSpinLock(&k, old);
            }
        });
    }
}

} // namespace

namespace {

// The verifier switched off and on again while locks are held: the calls it did not see (a
// release while off, an acquire while off) must not leave it believing a stale state.
class VerifierSwitchedOff : public CleanCorpus {
protected:
    void TearDown() override {
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
        CleanCorpus::TearDown();
    }
};

TEST_F(VerifierSwitchedOff, ReleasedWhileOffIsNotHeldWhenOnAgain) {
    NDIS_SPIN_LOCK n{};
    NdisAllocateSpinLock(&n);
    int taken = 0;
    std::thread worker([&] {
        NdisAcquireSpinLock(&n);
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
        NdisReleaseSpinLock(&n); // unseen
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
        for (int i = 0; i < 3; ++i) { // not a recursive acquire of a lock still "held"
            NdisAcquireSpinLock(&n);
            ++taken;
            NdisReleaseSpinLock(&n);
        }
    }); // and the thread does not end "with a lock held"
    worker.join();
    EXPECT_EQ(taken, 3);
    NdisFreeSpinLock(&n);
}

TEST_F(VerifierSwitchedOff, AcquiredWhileOffIsReleasedQuietlyWhenOn) {
    NDIS_SPIN_LOCK n{};
    NdisAllocateSpinLock(&n);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdisAcquireSpinLock(&n); // unseen
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdisReleaseSpinLock(&n); // not "a release of a lock that is not held"
    NdisAcquireSpinLock(&n);
    NdisReleaseSpinLock(&n);
    NdisFreeSpinLock(&n);
}

TEST_F(VerifierSwitchedOff, AllocatedWhileOffIsAdoptedWhenOn) {
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NDIS_SPIN_LOCK n{};
    NdisAllocateSpinLock(&n); // unseen: not "never initialized" later
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdisAcquireSpinLock(&n);
    NdisReleaseSpinLock(&n);
    NdisFreeSpinLock(&n);
}

TEST_F(VerifierSwitchedOff, HeldAcrossTheSwitchIsReleasedQuietly) {
    // The lock's entry still names its holder from before the switch; the holder's table does not.
    NDIS_SPIN_LOCK n{};
    NdisAllocateSpinLock(&n);
    NdisAcquireSpinLock(&n);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdisReleaseSpinLock(&n); // not ReleaseNotHeld
    NdisFreeSpinLock(&n);
}

TEST_F(VerifierSwitchedOff, ReleasedWhileOffThenTakenByAnotherIsNotANonOwnerRelease) {
    NDIS_SPIN_LOCK n{};
    NdisAllocateSpinLock(&n);
    NdisAcquireSpinLock(&n); // seen: the entry names this thread
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdisReleaseSpinLock(&n);
    Flag taken, switched_on, released;
    std::thread other([&] {
        NdisAcquireSpinLock(&n); // unseen
        taken.set();
        switched_on.wait();
        NdisReleaseSpinLock(&n); // not ReleaseByNonOwner (this thread is not the entry's holder)
        released.set();
    });
    taken.wait();
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    switched_on.set();
    released.wait();
    other.join();
    NdisFreeSpinLock(&n);
}

TEST_F(VerifierSwitchedOff, ReleasedWhileOffIsNeitherFreedNorReallocatedWhileHeld) {
    NDIS_SPIN_LOCK n{}, m{};
    NdisAllocateSpinLock(&n);
    NdisAllocateSpinLock(&m);
    NdisAcquireSpinLock(&n);
    KIRQL old;
    KeAcquireSpinLock(&m.SpinLock, &old);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    KeReleaseSpinLock(&m.SpinLock, old);
    NdisReleaseSpinLock(&n);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdisFreeSpinLock(&n);     // not LockFreedWhileHeld
    NdisAllocateSpinLock(&m); // not LockReinitialized
    NdisFreeSpinLock(&m);
}

TEST_F(VerifierSwitchedOff, MemoryFreedBeforeTheSwitchHoldsANewLockAfterIt) {
    // Freed while on, set up again while off (unseen), freed while on: a lock's life, not a use
    // after free.
    NDIS_SPIN_LOCK n{};
    NdisAllocateSpinLock(&n);
    NdisFreeSpinLock(&n);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdisAllocateSpinLock(&n);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdisFreeSpinLock(&n);
}

TEST_F(VerifierSwitchedOff, AUseAfterFreeAfterTheSwitchIsStillReported) {
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NDIS_SPIN_LOCK n{};
    NdisAllocateSpinLock(&n);
    NdisFreeSpinLock(&n);
    NdisAcquireSpinLock(&n);
    NdisReleaseSpinLock(&n);
    NdisFreeSpinLock(&n); // the adopted entry goes too
    const std::vector<Got> got = take();
    NdislockVerifierResetFindings();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "LockUsedAfterFree");
}

TEST_F(VerifierSwitchedOff, TheTableOfAThreadEndingWhileOffGoesBackToThePool) {
    // No observer sees a thread end while the verifier is off; its held-lock table must still be
    // given back (before, the thread registry dropped it when it reused the thread's state).
    NDIS_SPIN_LOCK n{};
    NdisAllocateSpinLock(&n);
    Flag used, switched_off;
    std::thread watched([&] {
        NdisAcquireSpinLock(&n); // the verifier attaches this thread's table
        NdisReleaseSpinLock(&n);
        used.set();
        switched_off.wait();
    });
    used.wait();
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    const unsigned pooled = ndislock::verifier::pooled_verifier_tables();
    switched_off.set();
    watched.join();
    EXPECT_EQ(ndislock::verifier::pooled_verifier_tables(), pooled + 1);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdisFreeSpinLock(&n);
}

TEST_F(VerifierSwitchedOff, AnOrderSeenBeforeStillCounts) {
    // Switching off and on does not forget what the verifier learned: the order graph stays.
    NDIS_SPIN_LOCK a{}, b{};
    NdisAllocateSpinLock(&a);
    NdisAllocateSpinLock(&b);
    NdisAcquireSpinLock(&a);
    NdisAcquireSpinLock(&b);
    NdisReleaseSpinLock(&b);
    NdisReleaseSpinLock(&a);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    NdisAcquireSpinLock(&b);
    NdisAcquireSpinLock(&a);
    NdisReleaseSpinLock(&a);
    NdisReleaseSpinLock(&b);
    const std::vector<Got> got = take();
    NdislockVerifierResetFindings();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "LockOrderInversion");
    NdisFreeSpinLock(&a);
    NdisFreeSpinLock(&b);
}

} // namespace
