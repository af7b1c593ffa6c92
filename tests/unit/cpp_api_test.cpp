// The C++ API (ndislock/ndislock.hpp): Lockable types, guards, IRQL on every path.
#include <mutex>

#include "ndislock/ndislock.hpp"
#include "test_support.h"

using namespace ndislock_test;

class CppApi : public ModelTest {};

TEST_F(CppApi, NdisSpinLockWorksWithLockGuard) {
    ndislock::NdisSpinLock lock("cpp lock_guard");
    {
        std::lock_guard<ndislock::NdisSpinLock> guard(lock);
        EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
        EXPECT_EQ(word(lock.native()->SpinLock), 1u);
    }
    EXPECT_EQ(ndislock::current_irql(), PASSIVE_LEVEL);
    EXPECT_EQ(word(lock.native()->SpinLock), 0u);
}

TEST_F(CppApi, ReleasingInAcquisitionOrderStillRestoresTheIrql) {
    // std::scoped_lock releases in acquisition order: the NDIS out-of-order trap, which the
    // Lockable types must survive.
    ndislock::KSpinLock a("a"), b("b");
    a.lock();
    b.lock();
    a.unlock();
    EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL) << "b is still held";
    b.unlock();
    EXPECT_EQ(ndislock::current_irql(), PASSIVE_LEVEL);
}

TEST_F(CppApi, ScopedLockTakesTwoLocksAndRestoresTheIrql) {
    ndislock::NdisSpinLock a("a"), b("b");
    {
        std::scoped_lock guard(a, b);
        EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
        EXPECT_EQ(word(a.native()->SpinLock), 1u);
        EXPECT_EQ(word(b.native()->SpinLock), 1u);
    }
    EXPECT_EQ(ndislock::current_irql(), PASSIVE_LEVEL);
}

TEST_F(CppApi, TryLockSucceedsAtDispatchOrFailsWithTheIrqlRestored) {
    ndislock::KSpinLock lock("try");
    ASSERT_TRUE(lock.try_lock());
    EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
    Watchdog dog("TryLockSucceedsAtDispatchOrFailsWithTheIrqlRestored");
    bool other_got_it = true;
    KIRQL other_irql_after = 0xFF;
    ndislock::NdisSpinLock ndis("try ndis");
    std::thread([&] {
        other_got_it = lock.try_lock();
        other_irql_after = ndislock::current_irql();
    }).join();
    EXPECT_FALSE(other_got_it);
    EXPECT_EQ(other_irql_after, PASSIVE_LEVEL);
    lock.unlock();
    EXPECT_EQ(ndislock::current_irql(), PASSIVE_LEVEL);
    ASSERT_TRUE(ndis.try_lock());
    EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
    ndis.unlock();
    EXPECT_TRUE(lock.is_free());
}

TEST_F(CppApi, UniqueLockCanUnlockEarly) {
    ndislock::KSpinLock lock("unique");
    std::unique_lock<ndislock::KSpinLock> guard(lock);
    EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
    guard.unlock();
    EXPECT_EQ(ndislock::current_irql(), PASSIVE_LEVEL);
    EXPECT_TRUE(lock.is_free());
}

TEST_F(CppApi, DprGuardUnderRaisedIrqlKeepsDispatch) {
    ndislock::NdisSpinLock lock("dpr");
    {
        ndislock::RaisedIrql dpc(DISPATCH_LEVEL);
        EXPECT_EQ(dpc.old_irql(), PASSIVE_LEVEL);
        {
            ndislock::DprLockGuard guard(lock);
            EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
            EXPECT_EQ(word(lock.native()->SpinLock), 1u);
        }
        EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
        EXPECT_EQ(word(lock.native()->SpinLock), 0u);
    }
    EXPECT_EQ(ndislock::current_irql(), PASSIVE_LEVEL);
}

TEST_F(CppApi, InStackQueuedGuardOwnsItsHandle) {
    ndislock::KSpinLock lock("queued");
    {
        ndislock::InStackQueuedGuard guard(lock);
        EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
        EXPECT_EQ(word(*lock.native()), reinterpret_cast<KSPIN_LOCK>(&guard.handle().LockQueue));
        EXPECT_EQ(guard.handle().OldIrql, PASSIVE_LEVEL);
    }
    EXPECT_EQ(ndislock::current_irql(), PASSIVE_LEVEL);
    {
        ndislock::RaisedIrql dpc(DISPATCH_LEVEL);
        ndislock::InStackQueuedGuard guard(lock, ndislock::at_dpc_level);
        EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
    }
    EXPECT_EQ(ndislock::current_irql(), PASSIVE_LEVEL);
    EXPECT_TRUE(lock.is_free());
}

TEST_F(CppApi, KSpinLockAtDpcFormsKeepTheIrql) {
    ndislock::KSpinLock lock("at dpc");
    ndislock::RaisedIrql dpc(DISPATCH_LEVEL);
    lock.lock_at_dpc();
    EXPECT_FALSE(lock.is_free());
    lock.unlock_from_dpc();
    ASSERT_TRUE(lock.try_lock_at_dpc());
    lock.unlock_from_dpc();
    EXPECT_EQ(ndislock::current_irql(), DISPATCH_LEVEL);
}

TEST_F(CppApi, ProcessorQueries) {
    ASSERT_EQ(NdislockSetProcessorCount(3), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(2), NDISLOCK_OK);
    EXPECT_EQ(ndislock::processor_count(), 3u);
    EXPECT_EQ(ndislock::current_processor(), 2u);
}
