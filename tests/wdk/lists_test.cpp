// The WDK lists (ndislock/wdk_list.h) against the documented semantics, and the corruption check
// as death tests: a list whose links disagree is ListCorrupted at the operation's line, never
// followed.
#include "wdk_test_support.h"

namespace {

struct Item {
    ULONG value;
    LIST_ENTRY link;
};

std::vector<ULONG> values(LIST_ENTRY &head) {
    std::vector<ULONG> out;
    for (PLIST_ENTRY e = head.Flink; e != &head; e = e->Flink)
        out.push_back(CONTAINING_RECORD(e, Item, link)->value);
    return out;
}

TEST(WdkList, InitializeAndEmpty) {
    LIST_ENTRY head;
    InitializeListHead(&head);
    EXPECT_EQ(head.Flink, &head);
    EXPECT_EQ(head.Blink, &head);
    EXPECT_TRUE(IsListEmpty(&head));
    LIST_ENTRY ndis;
    NdisInitializeListHead(&ndis);
    EXPECT_TRUE(IsListEmpty(&ndis));
}

TEST(WdkList, InsertHeadAndTailKeepOrder) {
    LIST_ENTRY head;
    InitializeListHead(&head);
    Item a{1, {}}, b{2, {}}, c{3, {}};
    InsertTailList(&head, &b.link);
    InsertHeadList(&head, &a.link);
    InsertTailList(&head, &c.link);
    EXPECT_FALSE(IsListEmpty(&head));
    EXPECT_EQ(values(head), (std::vector<ULONG>{1, 2, 3}));
    EXPECT_EQ(head.Blink, &c.link);
    EXPECT_EQ(c.link.Blink, &b.link);
}

TEST(WdkList, RemoveHeadTailAndEntryReturnWhatTheDocsSay) {
    LIST_ENTRY head;
    InitializeListHead(&head);
    Item a{1, {}}, b{2, {}}, c{3, {}}, d{4, {}};
    for (Item *i : {&a, &b, &c, &d})
        InsertTailList(&head, &i->link);
    EXPECT_EQ(RemoveHeadList(&head), &a.link);
    EXPECT_EQ(RemoveTailList(&head), &d.link);
    EXPECT_FALSE(RemoveEntryList(&b.link)); // c is left: not empty
    EXPECT_EQ(values(head), (std::vector<ULONG>{3}));
    EXPECT_TRUE(RemoveEntryList(&c.link)); // now empty
    EXPECT_TRUE(IsListEmpty(&head));
    // On an empty list the head itself comes back (callers test IsListEmpty first).
    EXPECT_EQ(RemoveHeadList(&head), &head);
    EXPECT_EQ(RemoveTailList(&head), &head);
    EXPECT_TRUE(IsListEmpty(&head));
}

TEST(WdkList, AppendTailListAppendsAHeadlessRing) {
    LIST_ENTRY head, other;
    InitializeListHead(&head);
    InitializeListHead(&other);
    Item a{1, {}}, b{2, {}}, c{3, {}}, d{4, {}};
    InsertTailList(&head, &a.link);
    InsertTailList(&head, &b.link);
    InsertTailList(&other, &c.link);
    InsertTailList(&other, &d.link);
    // The usual idiom: unlink the other list's head, then append the ring from its first entry.
    PLIST_ENTRY first = other.Flink;
    RemoveEntryList(&other);
    AppendTailList(&head, first);
    EXPECT_EQ(values(head), (std::vector<ULONG>{1, 2, 3, 4}));
    EXPECT_EQ(head.Blink, &d.link);
    EXPECT_EQ(d.link.Flink, &head);
}

TEST(WdkList, SingleListPushPop) {
    SINGLE_LIST_ENTRY head{nullptr};
    SINGLE_LIST_ENTRY a{}, b{};
    EXPECT_EQ(PopEntryList(&head), nullptr);
    PushEntryList(&head, &a);
    PushEntryList(&head, &b);
    EXPECT_EQ(PopEntryList(&head), &b);
    EXPECT_EQ(PopEntryList(&head), &a);
    EXPECT_EQ(PopEntryList(&head), nullptr);
}

using WdkListDeathTest = ::testing::Test;

TEST_F(WdkListDeathTest, RemoveEntryListOnAnUnlinkedEntryIsListCorrupted) {
    EXPECT_DEATH(([] {
                     LIST_ENTRY head;
                     InitializeListHead(&head);
                     Item a{1, {}}, b{2, {}};
                     InsertTailList(&head, &a.link);
                     InsertTailList(&head, &b.link);
                     RemoveEntryList(&a.link);
                     RemoveEntryList(&a.link); // a's neighbours no longer point at it
                 }()),
                 "ListCorrupted.*RemoveEntryList[^\n]*Flink->Blink != Entry(.|\n)*lists_test.cpp:[0-9]+");
}

TEST_F(WdkListDeathTest, InsertIntoAHeadWhoseNeighbourDisagreesIsListCorrupted) {
    EXPECT_DEATH(([] {
                     LIST_ENTRY head;
                     InitializeListHead(&head);
                     Item a{1, {}};
                     InsertTailList(&head, &a.link);
                     a.link.Blink = &a.link; // a stray write over the last entry's back link
                     Item b{2, {}};
                     InsertTailList(&head, &b.link);
                 }()),
                 "ListCorrupted.*InsertTailList(.|\n)*lists_test.cpp:[0-9]+");
}

TEST_F(WdkListDeathTest, RemoveHeadListOnAZeroedHeadIsListCorrupted) {
    EXPECT_DEATH(([] {
                     LIST_ENTRY head{nullptr, nullptr}; // never initialized
                     RemoveHeadList(&head);
                 }()),
                 "ListCorrupted.*RemoveHeadList.*NULL");
}

TEST_F(WdkListDeathTest, RemoveTailAndInsertHeadCheckTheirNeighbours) {
    EXPECT_DEATH(([] {
                     LIST_ENTRY head;
                     InitializeListHead(&head);
                     Item a{1, {}};
                     InsertHeadList(&head, &a.link);
                     a.link.Flink = &a.link;
                     RemoveTailList(&head);
                 }()),
                 "ListCorrupted.*RemoveTailList");
    EXPECT_DEATH(([] {
                     LIST_ENTRY head;
                     InitializeListHead(&head);
                     Item a{1, {}};
                     InsertHeadList(&head, &a.link);
                     a.link.Blink = &a.link;
                     Item b{2, {}};
                     InsertHeadList(&head, &b.link);
                 }()),
                 "ListCorrupted.*InsertHeadList");
}

TEST_F(WdkListDeathTest, ListCorruptedEndsTheProcessWithTheVerifierOffToo) {
    EXPECT_DEATH(([] {
                     NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
                     LIST_ENTRY head;
                     InitializeListHead(&head);
                     Item a{1, {}};
                     InsertTailList(&head, &a.link);
                     head.Flink = &head; // the head forgot a, a did not
                     AppendTailList(&head, &a.link);
                 }()),
                 "ListCorrupted.*AppendTailList");
}

} // namespace
