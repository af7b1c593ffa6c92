// The inline uncontended path of ndislock/fast_path.h: it must leave exactly the state the
// exported calls leave, mix freely with them, step aside for observers, and keep the processor
// and lock handshakes when another thread revokes the bias or sleeps on the lock.
//
// White-box: the processor's owner word (model/processors.h) tells whether the inline path could
// run (a processor biased to the thread); the thread's dispatch_entry whether the entry went
// through it (index | kBiased).
#include "fast_path_support.h"

#include "ndislock/wdk.h"
#include "ndislock/verifier.h"

#include "lock/parking.h"
#include "model/processors.h"
#include "model/thread_state.h"
#include "platform/membarrier.h"

using namespace ndislock_test;
namespace model = ndislock::model;

#if NDISLOCK_INLINE_FAST_PATH

namespace {

class FastPath : public ModelTest {
protected:
    void SetUp() override {
        ModelTest::SetUp();
        ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
        ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
        NdisAllocateSpinLock(&lock_);
    }
    void TearDown() override {
        NdisFreeSpinLock(&lock_);
        ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
        ModelTest::TearDown();
    }

    static model::ThreadState &self() { return model::current_thread(); }
    static model::Processor &processor0() { return model::g_processors[0]; }
    static bool biased_to_me() { return processor0().owner().load() == (self().id() | model::kBiased); }
    static bool entered_through_bias() {
        return self().dispatch_entry().load() == (0u | model::kBiased) && model::holds_through_bias(self().id(), 0);
    }

    NDIS_SPIN_LOCK lock_{};
};

// The inline release finds a lock's sleepers by hashing its address as the parking table does
// (lock/parking.h); a difference would lose wake-ups. Both use ndislock_fast_bucket_index
// (ndislock/detail/fast_layout.h), and this checks that they still land in the same bucket: the
// table's base and element size, which no static_assert covers, included.
TEST(FastPathLayout, TheInlineBucketIsTheParkingTablesBucket) {
    std::vector<KSPIN_LOCK> locks(4096);
    for (const KSPIN_LOCK &lock : locks)
        ASSERT_EQ(static_cast<const void *>(ndislock_fast_bucket(&lock)),
                  static_cast<const void *>(&ndislock::lock::parking::bucket_for(&lock)));
    for (std::uintptr_t a = 8; a < (std::uintptr_t{1} << 47); a = a * 3 + 8) {
        const void *address = reinterpret_cast<const void *>(a);
        ASSERT_EQ(static_cast<const void *>(ndislock_fast_bucket(address)),
                  static_cast<const void *>(&ndislock::lock::parking::bucket_for(address)));
    }
}

TEST_F(FastPath, AcquireAndReleaseLeaveTheStateTheExportedCallsLeave) {
    NEEDS_BIAS();
    make_processor_biased();
    ASSERT_TRUE(biased_to_me());

    NdisAcquireSpinLock(&lock_);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(lock_.SpinLock), 1u);
    EXPECT_EQ(lock_.OldIrql, PASSIVE_LEVEL);
    EXPECT_TRUE(entered_through_bias()) << "entered DISPATCH_LEVEL through the bias, inline";
    EXPECT_EQ(model::processor_owner(0), self().id());

    NdisReleaseSpinLock(&lock_);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(word(lock_.SpinLock), 0u);
    EXPECT_EQ(model::processor_owner(0), 0u) << "the IRQL store gave the processor back";
    EXPECT_TRUE(biased_to_me()) << "the bias outlives the episode";
}

TEST_F(FastPath, KeFormsReturnAndRestoreTheIrql) {
    make_processor_biased();
    KSPIN_LOCK s;
    KeInitializeSpinLock(&s);
    KIRQL old = HIGH_LEVEL;
    KeAcquireSpinLock(&s, &old);
    EXPECT_EQ(old, PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(s), 1u);
    KeReleaseSpinLock(&s, old);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(word(s), 0u);

    const KIRQL raised = KeAcquireSpinLockRaiseToDpc(&s);
    EXPECT_EQ(raised, PASSIVE_LEVEL);
    KeReleaseSpinLock(&s, raised);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(FastPath, RaiseAndLowerGoThroughTheBias) {
    NEEDS_BIAS();
    make_processor_biased();
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    EXPECT_EQ(old, PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_TRUE(entered_through_bias());
    EXPECT_EQ(model::processor_owner(0), self().id());
    KeLowerIrql(old);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(model::processor_owner(0), 0u);
    KIRQL saved = HIGH_LEVEL;
    KeRaiseIrql(DISPATCH_LEVEL, &saved);
    EXPECT_EQ(saved, PASSIVE_LEVEL);
    KeRaiseIrql(DISPATCH_LEVEL, &saved); // DISPATCH_LEVEL to DISPATCH_LEVEL: out of line, no change
    EXPECT_EQ(saved, DISPATCH_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_TRUE(biased_to_me());
}

// KeSetSystemAffinityThreadEx at DISPATCH_LEVEL entered through the bias: the move is deferred to
// the drop (Processor::attention), and the drop, which would be the inline leave, must make it.
TEST_F(FastPath, AMoveDeferredAtDispatchThroughTheBiasHappensAtTheDrop) {
    NEEDS_BIAS();
    make_processor_biased();
    ASSERT_TRUE(biased_to_me());
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    ASSERT_TRUE(entered_through_bias());
    EXPECT_EQ(KeSetSystemAffinityThreadEx(KAFFINITY{1} << 1), KAFFINITY{0});
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 0u) << "moved while at DISPATCH_LEVEL";
    KeLowerIrql(old);
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 1u) << "the drop did not make the deferred move";
    EXPECT_EQ(model::processor_owner(0), 0u);
    KeRevertToUserAffinityThreadEx(0);
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(nullptr), 0u);
}

TEST_F(FastPath, NestedAcquireAtDispatchKeepsTheIrqlAndSavesDispatch) {
    make_processor_biased();
    NDIS_SPIN_LOCK inner;
    NdisAllocateSpinLock(&inner);
    NdisAcquireSpinLock(&lock_);
    NdisAcquireSpinLock(&inner);
    EXPECT_EQ(inner.OldIrql, DISPATCH_LEVEL);
    EXPECT_EQ(word(inner.SpinLock), 1u);
    NdisReleaseSpinLock(&inner);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(inner.SpinLock), 0u);
    NdisReleaseSpinLock(&lock_);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    NdisFreeSpinLock(&inner);
}

TEST_F(FastPath, DprFormsTakeOnlyTheWord) {
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    NdisDprAcquireSpinLock(&lock_);
    EXPECT_EQ(word(lock_.SpinLock), 1u);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    NdisDprReleaseSpinLock(&lock_);
    EXPECT_EQ(word(lock_.SpinLock), 0u);
    KeAcquireSpinLockAtDpcLevel(&lock_.SpinLock);
    EXPECT_EQ(word(lock_.SpinLock), 1u);
    KeReleaseSpinLockFromDpcLevel(&lock_.SpinLock);
    EXPECT_EQ(word(lock_.SpinLock), 0u);
    KeLowerIrql(old);
}

TEST_F(FastPath, InlineAndExportedFormsPairEitherWay) {
    make_processor_biased();
    // Inline acquire, exported release (the function spelling, as code that #undefs the macro).
    NdisAcquireSpinLock(&lock_);
    (NdisReleaseSpinLock)(&lock_);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(word(lock_.SpinLock), 0u);
    EXPECT_EQ(model::processor_owner(0), 0u);
    // Exported acquire, inline release.
    (NdisAcquireSpinLock)(&lock_);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    NdisReleaseSpinLock(&lock_);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(word(lock_.SpinLock), 0u);
    EXPECT_EQ(model::processor_owner(0), 0u);
}

TEST_F(FastPath, StepsAsideWhileAnObserverIsRegistered) {
    make_processor_biased();
    NdislockStatsReset();
    NdislockStatsEnable(TRUE, 0);
    for (int i = 0; i < 10; ++i) {
        NdisAcquireSpinLock(&lock_);
        NdisReleaseSpinLock(&lock_);
    }
    NdislockStatsEnable(FALSE, 0);
    NDISLOCK_LOCK_STATS stats[NDISLOCK_STATS_MAX_LOCKS];
    const ULONG n = NdislockStatsCollect(stats, NDISLOCK_STATS_MAX_LOCKS);
    ULONG64 seen = 0;
    for (ULONG i = 0; i < n && i < NDISLOCK_STATS_MAX_LOCKS; ++i)
        if (stats[i].Lock == &lock_) seen = stats[i].Acquisitions;
    EXPECT_EQ(seen, 10u) << "every acquisition went through the observed, exported path";
    NdislockStatsReset();
}

// Another thread of processor 0 raises while this thread is at DISPATCH_LEVEL through the inline
// path: it revokes the bias and waits; the inline release must wake it (ndislock_fast_wake_revoker).
TEST_F(FastPath, ARevokerWaitingDuringAnInlineHoldIsWokenByTheInlineRelease) {
    NEEDS_BIAS();
    make_processor_biased();
    ASSERT_TRUE(biased_to_me());
    Flag revoker_started, revoker_done;
    Watchdog dog("revocation during an inline hold");
    NdisAcquireSpinLock(&lock_);
    std::thread revoker([&] {
        ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
        revoker_started.set();
        const KIRQL old = KeRaiseIrqlToDpcLevel(); // waits for this test's thread to leave processor 0
        revoker_done.set();
        KeLowerIrql(old);
    });
    revoker_started.wait();
    // Give the revoker time to claim the owner word and sleep; correctness does not depend on it.
    EXPECT_TRUE(eventually([] { return (processor0().owner().load() & model::kBiased) == 0; }));
    EXPECT_FALSE(revoker_done.is_set()) << "processor 0 is this thread's while it is at DISPATCH_LEVEL";
    NdisReleaseSpinLock(&lock_);
    revoker.join();
    EXPECT_TRUE(revoker_done.is_set());
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(word(lock_.SpinLock), 0u);
}

// The bias outlives a move: processor 0 stays biased to this thread after it binds to processor 1.
// At DISPATCH_LEVEL there, its IRQL is raised but not through processor 0's bias, so a thread
// that takes processor 0 must not wait for it: the revoker checks the holder's entry, not its
// IRQL alone (model::holds_through_bias). Were it to wait, nothing would wake it: the watchdog.
TEST_F(FastPath, ARevokerDoesNotWaitForTheBiasHolderAtDispatchLevelElsewhere) {
    NEEDS_BIAS();
    make_processor_biased();
    ASSERT_TRUE(biased_to_me());
    ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    EXPECT_TRUE(biased_to_me()) << "processor 0 keeps its bias";
    EXPECT_EQ(model::processor_owner(0), 0u) << "its holder runs at DISPATCH_LEVEL on processor 1";
    EXPECT_EQ(model::processor_owner(1), self().id());
    {
        Watchdog dog("revoking a bias whose holder is at DISPATCH_LEVEL on another processor");
        std::thread other([] {
            ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
            const KIRQL o = KeRaiseIrqlToDpcLevel();
            EXPECT_EQ(model::processor_owner(0), model::current_thread().id());
            KeLowerIrql(o);
        });
        other.join();
    }
    EXPECT_FALSE(biased_to_me()) << "the other thread revoked it";
    KeLowerIrql(old);
    EXPECT_EQ(model::processor_owner(1), 0u);
}

// Threads of one processor take it in runs long enough to bias it and revoke each other's bias,
// through the inline raise and lower: the processor exclusion alone guards the counter (as
// per-processor data at DISPATCH_LEVEL needs no lock), so a lost increment is an exclusion failure
// and a hang (the watchdog) a processor left owned. A revocation that lands between an inline
// entry's IRQL store and its re-check is the race this exercises; it is rare, so the test runs
// many short runs rather than relying on one.
TEST_F(FastPath, BiasTakenAndRevokedUnderInlineRaisesKeepsTheProcessorExclusive) {
    constexpr int kThreads = 8; // 4 per core: entries are often preempted, some inside the window
    constexpr int kRuns = 300;
    constexpr int kRunLength = 2 * static_cast<int>(model::kBiasAfter);
    std::uint64_t counter = 0; // guarded by processor 0 at DISPATCH_LEVEL
    run_threads(
        kThreads,
        [&](int) {
            ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
            for (int run = 0; run < kRuns; ++run) {
                for (int i = 0; i < kRunLength; ++i) {
                    const KIRQL old = KeRaiseIrqlToDpcLevel();
                    ++counter;
                    KeLowerIrql(old);
                }
                std::this_thread::yield(); // let another thread of processor 0 revoke the bias
            }
        },
        "bias taken and revoked");
    EXPECT_EQ(counter, std::uint64_t{kThreads} * kRuns * kRunLength);
    EXPECT_EQ(model::processor_owner(0), 0u);
}

// Threads outnumbering cores on both processors: inline acquires that find the lock held wait
// out of line, inline releases wake sleepers, biases are taken and revoked. Exact total.
TEST_F(FastPath, ContendedInlinePairsKeepAnExactTotal) {
    constexpr int kThreads = 6;
    constexpr int kIterations = 20000;
    std::uint64_t counter = 0;
    run_threads(
        kThreads,
        [&](int i) {
            ASSERT_EQ(NdislockBindCurrentThread(static_cast<ULONG>(i % 2)), NDISLOCK_OK);
            for (int n = 0; n < kIterations; ++n) {
                if (n % 2 == 0) {
                    NdisAcquireSpinLock(&lock_);
                    ++counter;
                    NdisReleaseSpinLock(&lock_);
                } else {
                    KIRQL old;
                    KeAcquireSpinLock(&lock_.SpinLock, &old);
                    ++counter;
                    KeReleaseSpinLock(&lock_.SpinLock, old);
                }
            }
            EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        },
        "contended inline pairs");
    EXPECT_EQ(counter, std::uint64_t{kThreads} * kIterations);
    EXPECT_EQ(word(lock_.SpinLock), 0u);
}

// ---- The in-stack queued pair ----

TEST_F(FastPath, QueuedPairLeavesTheStateTheExportedCallsLeave) {
    NEEDS_BIAS();
    make_processor_biased();
    KSPIN_LOCK q = 0;
    KeInitializeSpinLock(&q);
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLock(&q, &h);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(word(q), reinterpret_cast<KSPIN_LOCK>(&h.LockQueue)) << "the word holds the tail entry";
    EXPECT_EQ(reinterpret_cast<ULONG_PTR>(h.LockQueue.Lock), reinterpret_cast<ULONG_PTR>(&q) | LOCK_QUEUE_OWNER);
    EXPECT_EQ(h.LockQueue.Next, nullptr);
    EXPECT_EQ(h.OldIrql, PASSIVE_LEVEL);
    EXPECT_TRUE(entered_through_bias()) << "entered DISPATCH_LEVEL through the bias, inline";
    KeReleaseInStackQueuedSpinLock(&h);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(word(q), 0u);
    EXPECT_EQ(reinterpret_cast<ULONG_PTR>(h.LockQueue.Lock), reinterpret_cast<ULONG_PTR>(&q)) << "no longer the owner";
    EXPECT_EQ(model::processor_owner(0), 0u) << "the IRQL store gave the processor back";
}

// Programs built against earlier headers call ndislock_fast_queued_acquire_contended after a
// failed compare-exchange; the export stays, and still joins the queue (here of a free word, which
// it then owns, as the headers' own join would).
TEST_F(FastPath, TheEarlierHeadersContendedJoinStillTakesTheLock) {
    KSPIN_LOCK q = 0;
    KeInitializeSpinLock(&q);
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    KLOCK_QUEUE_HANDLE h;
    ndislock_fast_queued_acquire_contended(&q, &h, __FILE__, __LINE__, __func__);
    EXPECT_EQ(word(q), reinterpret_cast<KSPIN_LOCK>(&h.LockQueue));
    EXPECT_EQ(reinterpret_cast<ULONG_PTR>(h.LockQueue.Lock), reinterpret_cast<ULONG_PTR>(&q) | LOCK_QUEUE_OWNER);
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&h);
    EXPECT_EQ(word(q), 0u);
    KeLowerIrql(old);
}

TEST_F(FastPath, QueuedAtDpcLevelFormsTakeOnlyTheWordAndPairWithTheExportedOnes) {
    make_processor_biased();
    KSPIN_LOCK q = 0;
    KeInitializeSpinLock(&q);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&q, &h);
    EXPECT_EQ(word(q), reinterpret_cast<KSPIN_LOCK>(&h.LockQueue));
    (KeReleaseInStackQueuedSpinLockFromDpcLevel)(&h); // the exported form releases an inline acquire
    EXPECT_EQ(word(q), 0u);
    (KeAcquireInStackQueuedSpinLockAtDpcLevel)(&q, &h);
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&h); // and the inline form an exported one
    EXPECT_EQ(word(q), 0u);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
}

// Threads outnumbering cores on both processors: inline queued acquires that find the word taken
// join the queue out of line, inline releases that find a successor hand over out of line,
// alternating with the exported forms. Exact total, FIFO hand-overs included.
TEST_F(FastPath, ContendedInlineQueuedPairsKeepAnExactTotal) {
    constexpr int kThreads = 6;
    constexpr int kIterations = 20000;
    KSPIN_LOCK q = 0;
    KeInitializeSpinLock(&q);
    std::uint64_t counter = 0;
    run_threads(
        kThreads,
        [&](int i) {
            ASSERT_EQ(NdislockBindCurrentThread(static_cast<ULONG>(i % 2)), NDISLOCK_OK);
            for (int n = 0; n < kIterations; ++n) {
                KLOCK_QUEUE_HANDLE h;
                if (n % 3 == 2) {
                    (KeAcquireInStackQueuedSpinLock)(&q, &h);
                    ++counter;
                    KeReleaseInStackQueuedSpinLock(&h);
                } else {
                    KeAcquireInStackQueuedSpinLock(&q, &h);
                    ++counter;
                    KeReleaseInStackQueuedSpinLock(&h);
                }
            }
            EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        },
        "contended inline queued pairs");
    EXPECT_EQ(counter, std::uint64_t{kThreads} * kIterations);
    EXPECT_EQ(word(q), 0u);
}

TEST_F(FastPath, AQueuedReleaseOfAHandleThatOwnsNothingGoesToTheLibrary) {
    make_processor_biased();
    KSPIN_LOCK q = 0;
    KeInitializeSpinLock(&q);
    KLOCK_QUEUE_HANDLE h;
    KeAcquireInStackQueuedSpinLock(&q, &h);
    KeReleaseInStackQueuedSpinLock(&h);
    // Released twice: the inline path changes nothing and the library reports it (verifier off:
    // the report is the process's end, as with the exported call).
    EXPECT_DEATH(
        {
            NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
            KeReleaseInStackQueuedSpinLock(&h);
        },
        "does not own a lock");
    EXPECT_EQ(word(q), 0u);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

} // namespace

#else
TEST(FastPath, NotBuiltWithThisCompiler) { GTEST_SKIP() << "NDISLOCK_INLINE_FAST_PATH is 0"; }
#endif
