// The inline read path of NDIS_RW_LOCK_EX (ndislock/fast_path_rw.h): it must leave exactly the
// state the exported calls leave, mix freely with them and with writes, hand a reader that finds a
// writer to the library's wait, wake a writer waiting for the drain, and send misuse to the
// library's diagnostics.
//
// White-box: the lock's reader count of processor 0 (NDISLOCK_FAST_RW_STRIDE past the lock) and
// the thread's dispatch entry (index | kBiased when the raise went through the bias).
#include "fast_path_support.h"
#include "wait_probe.h"

#include <atomic>
#include <thread>

#include "ndislock/rw_lock.h"
#include "ndislock/wdk.h"
#include "ndislock/verifier.h"

#include "model/processors.h"
#include "model/thread_state.h"
#include "platform/membarrier.h"

using namespace ndislock_test;
namespace model = ndislock::model;

#if NDISLOCK_INLINE_FAST_PATH

namespace {

class FastPathRw : public ModelTest {
protected:
    void SetUp() override {
        ModelTest::SetUp();
        ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
        ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
        lock_ = NdisAllocateRWLock(nullptr);
        ASSERT_NE(lock_, nullptr);
    }
    void TearDown() override {
        NdisFreeRWLock(lock_);
        ASSERT_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK);
        ModelTest::TearDown();
    }

    static model::ThreadState &self() { return model::current_thread(); }
    static bool entered_through_bias() {
        return self().dispatch_entry().load() == (0u | model::kBiased) && model::holds_through_bias(self().id(), 0);
    }
    ULONG readers(ULONG processor) const {
        return __atomic_load_n(ndislock_fast_rw_count(lock_, processor), __ATOMIC_ACQUIRE);
    }
    KSPIN_LOCK writer() const { return __atomic_load_n(reinterpret_cast<KSPIN_LOCK *>(lock_), __ATOMIC_ACQUIRE); }

    PNDIS_RW_LOCK_EX lock_ = nullptr;
};

TEST_F(FastPathRw, ReadPairLeavesTheStateTheExportedCallsLeave) {
    NEEDS_BIAS();
    make_processor_biased();
    LOCK_STATE_EX s{};
    NdisAcquireRWLockRead(lock_, &s, 0);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_TRUE(entered_through_bias()) << "raised to DISPATCH_LEVEL through the bias, inline";
    EXPECT_EQ(model::processor_owner(0), self().id());
    EXPECT_EQ(s.OldIrql, PASSIVE_LEVEL);
    EXPECT_EQ(s.LockState, NDISLOCK_FAST_RW_STATE_READ);
    EXPECT_EQ(s.Flags, 0);
    EXPECT_EQ(readers(0), 1u);
    EXPECT_EQ(writer(), 0u);

    NdisReleaseRWLock(lock_, &s);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(s.LockState, 0);
    EXPECT_EQ(readers(0), 0u);
    EXPECT_EQ(model::processor_owner(0), 0u) << "the IRQL store gave the processor back";
}

// With NDIS_RWL_AT_DISPATCH_LEVEL at DISPATCH_LEVEL: no raise, and the release restores nothing.
TEST_F(FastPathRw, AtDispatchFlagKeepsTheIrql) {
    make_processor_biased();
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    LOCK_STATE_EX s{};
    NdisAcquireRWLockRead(lock_, &s, NDIS_RWL_AT_DISPATCH_LEVEL);
    EXPECT_EQ(s.OldIrql, DISPATCH_LEVEL);
    EXPECT_EQ(s.Flags, NDIS_RWL_AT_DISPATCH_LEVEL);
    EXPECT_EQ(readers(0), 1u);
    NdisReleaseRWLock(lock_, &s);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(readers(0), 0u);
    KeLowerIrql(old);
}

TEST_F(FastPathRw, InlineAndExportedFormsPairEitherWay) {
    make_processor_biased();
    LOCK_STATE_EX s{};
    NdisAcquireRWLockRead(lock_, &s, 0);
    (NdisReleaseRWLock)(lock_, &s); // the function spelling, as code that #undefs the macro
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(readers(0), 0u);
    (NdisAcquireRWLockRead)(lock_, &s, 0);
    EXPECT_EQ(readers(0), 1u);
    NdisReleaseRWLock(lock_, &s);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(readers(0), 0u);
    EXPECT_EQ(model::processor_owner(0), 0u);
}

// A read inside the thread's own write (allowed), and a recursive read, inline: neither waits.
TEST_F(FastPathRw, ReadInsideOwnWriteAndRecursiveReadDoNotWait) {
    make_processor_biased();
    LOCK_STATE_EX w{}, r1{}, r2{};
    NdisAcquireRWLockWrite(lock_, &w, 0);
    EXPECT_NE(writer(), 0u);
    NdisAcquireRWLockRead(lock_, &r1, NDIS_RWL_AT_DISPATCH_LEVEL);
    NdisAcquireRWLockRead(lock_, &r2, NDIS_RWL_AT_DISPATCH_LEVEL);
    EXPECT_EQ(readers(0), 2u);
    NdisReleaseRWLock(lock_, &r2);
    NdisReleaseRWLock(lock_, &r1);
    NdisReleaseRWLock(lock_, &w);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(readers(0), 0u);
    EXPECT_EQ(writer(), 0u);
}

// A reader that finds a writer in waits for it out of line, then holds the read; a writer that
// waits for a read to drain is woken by the inline release.
TEST_F(FastPathRw, ReaderWaitsBehindAWriterAndWriterWaitsForTheInlineDrain) {
    make_processor_biased();
    Watchdog dog("read and write hand-overs", std::chrono::seconds(60));
    LOCK_STATE_EX r{};
    NdisAcquireRWLockRead(lock_, &r, 0);
    Flag writer_started, writer_done;
    std::atomic<ndislock::model::ThreadState *> reader{nullptr};
    std::thread w([&] {
        ASSERT_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK);
        LOCK_STATE_EX s{};
        writer_started.set();
        NdisAcquireRWLockWrite(lock_, &s, 0); // waits for processor 0's read to drain
        writer_done.set();
        // Released only once the reader below waits behind the write, out of line.
        EXPECT_TRUE(ndislock_test::eventually_waiting_on(reader, lock_)) << "the reader never waited";
        NdisReleaseRWLock(lock_, &s);
    });
    writer_started.wait();
    EXPECT_TRUE(eventually([&] { return writer() != 0; })) << "the writer took the word";
    EXPECT_FALSE(writer_done.is_set()) << "the writer waits for the read to drain";
    NdisReleaseRWLock(lock_, &r); // inline: wakes the writer
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    writer_done.wait();
    LOCK_STATE_EX again{};
    reader.store(ndislock_test::current_thread_state(), std::memory_order_release);
    NdisAcquireRWLockRead(lock_, &again, 0); // finds the writer in: waits for it out of line
    EXPECT_EQ(writer(), 0u) << "held only once the writer is gone";
    EXPECT_EQ(readers(0), 1u);
    NdisReleaseRWLock(lock_, &again);
    w.join();
    EXPECT_EQ(readers(0), 0u);
}

// Threads outnumbering cores on both processors, 95% inline reads and 5% writes: no read sees a
// write half done, the writes' total is exact, and the lock ends free.
TEST_F(FastPathRw, ContendedInlineReadsAndWritesKeepTheInvariant) {
    constexpr int kThreads = 6;
    constexpr int kIterations = 20000;
    std::uint64_t a = 0, b = 0; // written together under the write lock
    std::atomic<std::uint64_t> torn{0};
    run_threads(
        kThreads,
        [&](int i) {
            ASSERT_EQ(NdislockBindCurrentThread(static_cast<ULONG>(i % 2)), NDISLOCK_OK);
            for (int n = 0; n < kIterations; ++n) {
                LOCK_STATE_EX s;
                if (n % 20 == i % 20) {
                    NdisAcquireRWLockWrite(lock_, &s, 0);
                    ++a;
                    ++b;
                    NdisReleaseRWLock(lock_, &s);
                } else {
                    NdisAcquireRWLockRead(lock_, &s, 0);
                    if (__atomic_load_n(&a, __ATOMIC_RELAXED) != __atomic_load_n(&b, __ATOMIC_RELAXED))
                        torn.fetch_add(1);
                    NdisReleaseRWLock(lock_, &s);
                }
            }
            EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        },
        "contended inline reads");
    EXPECT_EQ(torn.load(), 0u);
    EXPECT_EQ(a, std::uint64_t{kThreads} * (kIterations / 20));
    EXPECT_EQ(b, a);
    EXPECT_EQ(readers(0), 0u);
    EXPECT_EQ(readers(1), 0u);
    EXPECT_EQ(writer(), 0u);
}

// A release of a state that holds no read changes nothing inline and reaches the library's report.
TEST_F(FastPathRw, AReleaseOfAStateThatHoldsNothingGoesToTheLibrary) {
    make_processor_biased();
    LOCK_STATE_EX s{};
    NdisAcquireRWLockRead(lock_, &s, 0);
    NdisReleaseRWLock(lock_, &s);
    EXPECT_DEATH(
        {
            NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
            NdisReleaseRWLock(lock_, &s);
        },
        "no acquire filled");
    EXPECT_EQ(readers(0), 0u);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

} // namespace

#else
TEST(FastPathRw, NotBuiltWithThisCompiler) { GTEST_SKIP() << "NDISLOCK_INLINE_FAST_PATH is 0"; }
#endif
