// The sequenced singly linked lists (ndislock/wdk_slist.h): Windows's results and layout, and
// exact totals with threads pushing and popping one list at once.
#include <atomic>
#include <thread>
#include <vector>

#include "wdk_test_support.h"

namespace {

struct Item {
    SLIST_ENTRY link;
    int value;
};

TEST(WdkSList, LayoutIsX64s) {
    EXPECT_EQ(sizeof(SLIST_HEADER), 16u);
    EXPECT_EQ(alignof(SLIST_HEADER), 16u);
    EXPECT_EQ(alignof(SLIST_ENTRY), 16u);
}

TEST(WdkSList, LastInFirstOutWithDepthAndTheWindowsResults) {
    SLIST_HEADER head;
    InitializeSListHead(&head);
    EXPECT_EQ(QueryDepthSList(&head), 0);
    EXPECT_EQ(InterlockedPopEntrySList(&head), nullptr) << "an empty list pops NULL";
    EXPECT_EQ(InterlockedFlushSList(&head), nullptr);
    Item a{{}, 1}, b{{}, 2}, c{{}, 3};
    EXPECT_EQ(InterlockedPushEntrySList(&head, &a.link), nullptr) << "push returns the previous first";
    EXPECT_EQ(ExInterlockedPushEntrySList(&head, &b.link, nullptr), &a.link);
    NDIS_SPIN_LOCK unused;
    NdisAllocateSpinLock(&unused);
    EXPECT_EQ(NdisInterlockedPushEntrySList(&head, &c.link, &unused), &b.link);
    EXPECT_EQ(QueryDepthSList(&head), 3);
    EXPECT_EQ(NdisQueryDepthSList(&head), 3);
    EXPECT_EQ(FirstEntrySList(&head), &c.link);
    EXPECT_EQ(CONTAINING_RECORD(InterlockedPopEntrySList(&head), Item, link)->value, 3);
    EXPECT_EQ(CONTAINING_RECORD(NdisInterlockedPopEntrySList(&head, &unused), Item, link)->value, 2);
    EXPECT_EQ(ExQueryDepthSList(&head), 1);
    PSLIST_ENTRY chain = NdisInterlockedFlushSList(&head);
    EXPECT_EQ(chain, &a.link);
    EXPECT_EQ(chain->Next, nullptr);
    EXPECT_EQ(QueryDepthSList(&head), 0);
    EXPECT_EQ(ExInterlockedPopEntrySList(&head, nullptr), nullptr);
    NdisFreeSpinLock(&unused);
}

// Threads push their own items and pop whatever is there, bounded in iterations: every item is
// popped exactly once in the end, none lost or duplicated.
TEST(WdkSList, ThreadsPushingAndPoppingLoseNothing) {
    constexpr int kThreads = 4, kPerThread = 20'000;
    static SLIST_HEADER head;
    InitializeSListHead(&head);
    std::vector<Item> items(kThreads * kPerThread);
    for (int i = 0; i < kThreads * kPerThread; ++i)
        items[i].value = i;
    std::vector<std::atomic<int>> seen(kThreads * kPerThread);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                InterlockedPushEntrySList(&head, &items[t * kPerThread + i].link);
                if (i % 2 == 1)
                    if (PSLIST_ENTRY e = InterlockedPopEntrySList(&head))
                        seen[CONTAINING_RECORD(e, Item, link)->value].fetch_add(1);
            }
        });
    for (std::thread &t : threads)
        t.join();
    for (PSLIST_ENTRY e = InterlockedFlushSList(&head); e != nullptr; e = e->Next)
        seen[CONTAINING_RECORD(e, Item, link)->value].fetch_add(1);
    int wrong = 0;
    for (const std::atomic<int> &s : seen)
        wrong += s.load() != 1;
    EXPECT_EQ(wrong, 0) << "items popped other than exactly once";
    EXPECT_EQ(QueryDepthSList(&head), 0);
}

} // namespace
