// The WDK layout of the spin-lock structs and the IRQL constants (ndis-contract.md section 1).
#include <cstddef>

#include <gtest/gtest.h>

#include "ndislock/ndis.h"

TEST(Layout, NdisSpinLockIs16BytesWithOldIrqlAtOffset8) {
    EXPECT_EQ(sizeof(NDIS_SPIN_LOCK), 16u);
    EXPECT_EQ(offsetof(NDIS_SPIN_LOCK, SpinLock), 0u);
    EXPECT_EQ(offsetof(NDIS_SPIN_LOCK, OldIrql), 8u);
}

TEST(Layout, KspinLockIsPointerSized) { EXPECT_EQ(sizeof(KSPIN_LOCK), sizeof(void *)); }

TEST(Layout, KlockQueueHandleIs24BytesWithOldIrqlAfterTheQueueEntry) {
    EXPECT_EQ(sizeof(KSPIN_LOCK_QUEUE), 16u);
    EXPECT_EQ(offsetof(KSPIN_LOCK_QUEUE, Next), 0u);
    EXPECT_EQ(offsetof(KSPIN_LOCK_QUEUE, Lock), 8u);
    EXPECT_EQ(sizeof(KLOCK_QUEUE_HANDLE), 24u);
    EXPECT_EQ(offsetof(KLOCK_QUEUE_HANDLE, LockQueue), 0u);
    EXPECT_EQ(offsetof(KLOCK_QUEUE_HANDLE, OldIrql), 16u);
}

TEST(Layout, KirqlIsOneByte) { EXPECT_EQ(sizeof(KIRQL), 1u); }

TEST(Layout, WindowsIntegerWidths) {
    EXPECT_EQ(sizeof(ULONG), 4u); // LLP64 on Windows, whatever unsigned long is here
    EXPECT_EQ(sizeof(USHORT), 2u);
    EXPECT_EQ(sizeof(BOOLEAN), 1u);
    EXPECT_EQ(sizeof(ULONG_PTR), sizeof(void *));
    EXPECT_EQ(sizeof(PROCESSOR_NUMBER), 4u);
}

TEST(Layout, IrqlConstantsOf64BitWindows) {
    EXPECT_EQ(PASSIVE_LEVEL, 0);
    EXPECT_EQ(APC_LEVEL, 1);
    EXPECT_EQ(DISPATCH_LEVEL, 2);
    EXPECT_EQ(CLOCK_LEVEL, 13);
    EXPECT_EQ(IPI_LEVEL, 14);
    EXPECT_EQ(POWER_LEVEL, 14);
    EXPECT_EQ(PROFILE_LEVEL, 15);
    EXPECT_EQ(HIGH_LEVEL, 15);
}

TEST(Layout, QueueBitsOfTheLockField) {
    EXPECT_EQ(LOCK_QUEUE_WAIT, 1);
    EXPECT_EQ(LOCK_QUEUE_OWNER, 2);
}
