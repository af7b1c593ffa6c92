// The lists and counters guarded by a spin lock (NdisInterlocked*, ExInterlocked*): results,
// exact totals from several threads, and proof that they take the lock through the spin-lock
// path (the verifier sees the acquisitions, at the caller's line).
#include "wdk_test_support.h"

namespace {

struct Packet {
    LIST_ENTRY link;
    SINGLE_LIST_ENTRY slink;
    ULONG id;
};

TEST(WdkLockedLists, NdisFormsReturnThePreviousNeighbourOrNull) {
    NdislockVerifierResetFindings();
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    LIST_ENTRY head;
    InitializeListHead(&head);
    Packet a{}, b{}, c{};
    EXPECT_EQ(NdisInterlockedInsertHeadList(&head, &a.link, &lock), nullptr);
    EXPECT_EQ(NdisInterlockedInsertTailList(&head, &b.link, &lock), &a.link);
    EXPECT_EQ(NdisInterlockedInsertHeadList(&head, &c.link, &lock), &a.link);
    EXPECT_EQ(NdisInterlockedRemoveHeadList(&head, &lock), &c.link);
    EXPECT_EQ(NdisInterlockedRemoveHeadList(&head, &lock), &a.link);
    EXPECT_EQ(NdisInterlockedRemoveHeadList(&head, &lock), &b.link);
    EXPECT_EQ(NdisInterlockedRemoveHeadList(&head, &lock), nullptr);
    SINGLE_LIST_ENTRY stack{nullptr};
    EXPECT_EQ(NdisInterlockedPushEntryList(&stack, &a.slink, &lock), nullptr);
    EXPECT_EQ(NdisInterlockedPushEntryList(&stack, &b.slink, &lock), &a.slink);
    EXPECT_EQ(NdisInterlockedPopEntryList(&stack, &lock), &b.slink);
    EXPECT_EQ(NdisInterlockedPopEntryList(&stack, &lock), &a.slink);
    EXPECT_EQ(NdisInterlockedPopEntryList(&stack, &lock), nullptr);
    ULONG sum = 1;
    NdisInterlockedAddUlong(&sum, 41, &lock);
    EXPECT_EQ(sum, 42u);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    NdisFreeSpinLock(&lock);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << vt::dump(vt::take());
}

TEST(WdkLockedLists, ExFormsReturnThePreviousNeighbourOrNull) {
    NdislockVerifierResetFindings();
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    LIST_ENTRY head;
    InitializeListHead(&head);
    Packet a{}, b{}, c{};
    EXPECT_EQ(ExInterlockedInsertTailList(&head, &a.link, &lock), nullptr);
    EXPECT_EQ(ExInterlockedInsertTailList(&head, &b.link, &lock), &a.link);
    EXPECT_EQ(ExInterlockedInsertHeadList(&head, &c.link, &lock), &a.link);
    EXPECT_EQ(ExInterlockedRemoveHeadList(&head, &lock), &c.link);
    EXPECT_EQ(ExInterlockedRemoveHeadList(&head, &lock), &a.link);
    EXPECT_EQ(ExInterlockedRemoveHeadList(&head, &lock), &b.link);
    EXPECT_EQ(ExInterlockedRemoveHeadList(&head, &lock), nullptr);
    SINGLE_LIST_ENTRY stack{nullptr};
    EXPECT_EQ(ExInterlockedPushEntryList(&stack, &a.slink, &lock), nullptr);
    EXPECT_EQ(ExInterlockedPopEntryList(&stack, &lock), &a.slink);
    EXPECT_EQ(ExInterlockedPopEntryList(&stack, &lock), nullptr);
    ULONG sum = 10;
    EXPECT_EQ(ExInterlockedAddUlong(&sum, 5, &lock), 10u);
    EXPECT_EQ(sum, 15u);
    // At DISPATCH_LEVEL too; the IRQL comes back to where it was.
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_EQ(ExInterlockedInsertTailList(&head, &a.link, &lock), nullptr);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(ExInterlockedRemoveHeadList(&head, &lock), &a.link);
    KeLowerIrql(old);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << vt::dump(vt::take());
}

// Producers and consumers on one list per family, half the threads at DISPATCH_LEVEL: every
// packet comes out exactly once.
TEST(WdkLockedLists, SeveralThreadsMoveEveryPacketExactlyOnce) {
    NdislockVerifierResetFindings();
    constexpr int kProducers = 2, kConsumers = 2, kPerProducer = 4000;
    NDIS_SPIN_LOCK ndis_lock;
    KSPIN_LOCK ke_lock;
    NdisAllocateSpinLock(&ndis_lock);
    KeInitializeSpinLock(&ke_lock);
    LIST_ENTRY ndis_list, ex_list;
    InitializeListHead(&ndis_list);
    InitializeListHead(&ex_list);
    SINGLE_LIST_ENTRY ndis_stack{nullptr}, ex_stack{nullptr};
    ULONG counter = 0, ex_counter = 0;
    std::vector<Packet> packets(kProducers * kPerProducer);
    for (size_t i = 0; i < packets.size(); ++i)
        packets[i].id = static_cast<ULONG>(i);
    std::vector<std::atomic<int>> seen(packets.size());
    std::atomic<int> taken{0};
    const int total = static_cast<int>(packets.size());

    std::vector<std::thread> threads;
    for (int p = 0; p < kProducers; ++p)
        threads.emplace_back([&, p] {
            for (int i = 0; i < kPerProducer; ++i) {
                Packet &pk = packets[static_cast<size_t>(p * kPerProducer + i)];
                KIRQL old = PASSIVE_LEVEL;
                const bool raise = (i & 1) != 0;
                if (raise) KeRaiseIrql(DISPATCH_LEVEL, &old);
                if (pk.id % 2 == 0)
                    NdisInterlockedInsertTailList(&ndis_list, &pk.link, &ndis_lock);
                else
                    ExInterlockedInsertTailList(&ex_list, &pk.link, &ke_lock);
                NdisInterlockedAddUlong(&counter, 1, &ndis_lock);
                ExInterlockedAddUlong(&ex_counter, 2, &ke_lock);
                if (raise) KeLowerIrql(old);
            }
        });
    for (int c = 0; c < kConsumers; ++c)
        threads.emplace_back([&, c] {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            while (taken.load() < total && std::chrono::steady_clock::now() < deadline) {
                PLIST_ENTRY e = c == 0 ? NdisInterlockedRemoveHeadList(&ndis_list, &ndis_lock)
                                       : ExInterlockedRemoveHeadList(&ex_list, &ke_lock);
                if (e == nullptr) {
                    // The other consumer's list may be the one with work left: help it.
                    e = c == 0 ? ExInterlockedRemoveHeadList(&ex_list, &ke_lock)
                               : NdisInterlockedRemoveHeadList(&ndis_list, &ndis_lock);
                }
                if (e == nullptr) {
                    std::this_thread::yield();
                    continue;
                }
                Packet *pk = CONTAINING_RECORD(e, Packet, link);
                seen[pk->id].fetch_add(1);
                // Through a singly linked stack and back, to exercise Push/Pop under contention.
                if (pk->id % 2 == 0) {
                    NdisInterlockedPushEntryList(&ndis_stack, &pk->slink, &ndis_lock);
                    EXPECT_NE(NdisInterlockedPopEntryList(&ndis_stack, &ndis_lock), nullptr);
                } else {
                    ExInterlockedPushEntryList(&ex_stack, &pk->slink, &ke_lock);
                    EXPECT_NE(ExInterlockedPopEntryList(&ex_stack, &ke_lock), nullptr);
                }
                taken.fetch_add(1);
            }
        });
    for (auto &t : threads)
        t.join();
    EXPECT_EQ(taken.load(), total);
    for (size_t i = 0; i < seen.size(); ++i)
        ASSERT_EQ(seen[i].load(), 1) << "packet " << i;
    EXPECT_TRUE(IsListEmpty(&ndis_list));
    EXPECT_TRUE(IsListEmpty(&ex_list));
    EXPECT_EQ(ndis_stack.Next, nullptr);
    EXPECT_EQ(ex_stack.Next, nullptr);
    EXPECT_EQ(counter, static_cast<ULONG>(total));
    EXPECT_EQ(ex_counter, 2u * static_cast<ULONG>(total));
    NdisFreeSpinLock(&ndis_lock);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << vt::dump(vt::take());
}

// The acquisition is the spin-lock path's: an NdisInterlocked call above DISPATCH_LEVEL is the
// NdisAcquireSpinLock rule AcquireAboveDispatch, reported at this file's line.
TEST(WdkLockedLists, TheVerifierSeesTheAcquisitionAtTheCallersLine) {
    NdislockVerifierResetFindings();
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    LIST_ENTRY head;
    InitializeListHead(&head);
    Packet a{};
    KIRQL old = KeRaiseIrqlToSynchLevel();
    EXPECT_EQ(old, PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), SYNCH_LEVEL);
    const int line = __LINE__ + 1;
    NdisInterlockedInsertTailList(&head, &a.link, &lock);
    KeLowerIrql(old);
    const auto got = wdk_test::of_rule(vt::take(), "AcquireAboveDispatch");
    ASSERT_EQ(got.size(), 1u) << vt::dump(vt::take());
    EXPECT_TRUE(vt::ends_with(got[0].file, "locked_lists_test.cpp"));
    EXPECT_EQ(got[0].line, line);
    NdislockVerifierResetFindings();
}

// And recursion on the caller's own lock is the spin lock's RecursiveAcquire (terminal).
TEST(WdkLockedListsDeathTest, TakingTheListLockWhileHoldingItIsRecursiveAcquire) {
    EXPECT_DEATH(([] {
                     NDIS_SPIN_LOCK lock;
                     NdisAllocateSpinLock(&lock);
                     LIST_ENTRY head;
                     InitializeListHead(&head);
                     Packet a{};
                     NdisAcquireSpinLock(&lock);
                     NdisInterlockedInsertTailList(&head, &a.link, &lock);
                 }()),
                 "RecursiveAcquire(.|\n)*locked_lists_test.cpp");
}

} // namespace
