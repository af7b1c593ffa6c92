// The KDPC object as NT treats it (issue #25 part 5): KeInitializeDpc sets only the fields NT's
// KiInitializeDpc sets, a NULL routine is queued and removed like any other, and running it is
// the bug check Windows takes (0xD1 on the call to address 0). Suite "Dpc": run with the verifier
// on and off (tests/interrupt/CMakeLists.txt).
#include <atomic>
#include <cstring>

#include <gtest/gtest.h>

#include "interrupt_support.h"
#include "ndislock/ndis_interrupt.h"

namespace {

using ndislock_test::Watchdog;

constexpr std::chrono::seconds kLimit{60};

void Nothing(PKDPC, PVOID, PVOID, PVOID) {}

TEST(Dpc, InitializeLeavesTheListEntryAndTheSystemArgumentsAsTheyWere) {
    KDPC dpc;
    std::memset(&dpc, 0xAB, sizeof dpc);
    const KDPC before = dpc;
    int context = 0;
    KeInitializeDpc(&dpc, Nothing, &context);
    EXPECT_EQ(dpc.DpcListEntry.Next, before.DpcListEntry.Next);
    EXPECT_EQ(dpc.SystemArgument1, before.SystemArgument1);
    EXPECT_EQ(dpc.SystemArgument2, before.SystemArgument2);
    EXPECT_EQ(dpc.Type, DpcObject);
    EXPECT_EQ(dpc.Importance, MediumImportance);
    EXPECT_EQ(dpc.Number, 0);
    EXPECT_EQ(dpc.DeferredRoutine, &Nothing);
    EXPECT_EQ(dpc.DeferredContext, &context);
    EXPECT_EQ(dpc.DpcData, nullptr);
}

// Queued while this thread holds its processor at DISPATCH_LEVEL, so the DPC cannot run before
// it is removed: insert, insert again (FALSE: queued once), remove, remove again (FALSE).
TEST(Dpc, ANullRoutineIsQueuedAndRemovedLikeAnyOther) {
    Watchdog dog("null routine queued", kLimit);
    KDPC dpc;
    KeInitializeDpc(&dpc, nullptr, nullptr);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_EQ(KeInsertQueueDpc(&dpc, &dpc, nullptr), TRUE);
    EXPECT_NE(dpc.DpcData, nullptr);
    EXPECT_EQ(dpc.SystemArgument1, &dpc);
    EXPECT_EQ(KeInsertQueueDpc(&dpc, nullptr, nullptr), FALSE);
    EXPECT_EQ(KeRemoveQueueDpc(&dpc), TRUE);
    EXPECT_EQ(dpc.DpcData, nullptr);
    EXPECT_EQ(KeRemoveQueueDpc(&dpc), FALSE);
    KeLowerIrql(old);
}

// A threaded DPC runs as an ordinary one (as on Windows with threaded DPCs off): at DISPATCH_LEVEL,
// with its context and system arguments.
TEST(Dpc, AThreadedDpcRunsAtDispatchLevelWithItsArguments) {
    Watchdog dog("threaded DPC", kLimit);
    struct Seen {
        std::atomic<int> runs{0};
        std::atomic<int> irql{-1};
        std::atomic<void *> argument{nullptr};
    } seen;
    KDPC dpc;
    KeInitializeThreadedDpc(
        &dpc,
        [](PKDPC, PVOID context, PVOID argument, PVOID) {
            auto *s = static_cast<Seen *>(context);
            s->irql.store(KeGetCurrentIrql());
            s->argument.store(argument);
            s->runs.fetch_add(1);
        },
        &seen);
    EXPECT_EQ(dpc.Type, ThreadedDpcObject);
    EXPECT_EQ(dpc.Importance, MediumImportance);
    EXPECT_EQ(dpc.DpcData, nullptr);
    int argument = 0;
    EXPECT_EQ(KeInsertQueueDpc(&dpc, &argument, nullptr), TRUE);
    KeFlushQueuedDpcs();
    EXPECT_EQ(seen.runs.load(), 1);
    EXPECT_EQ(seen.irql.load(), DISPATCH_LEVEL);
    EXPECT_EQ(seen.argument.load(), &argument);
}

TEST(Dpc, RunningANullRoutineIsABugCheck) {
    EXPECT_DEATH(
        {
            Watchdog dog("null routine run", kLimit);
            static KDPC dpc;
            KeInitializeDpc(&dpc, nullptr, nullptr);
            KeInsertQueueDpc(&dpc, nullptr, nullptr);
            KeFlushQueuedDpcs(); // the DPC thread ends the process before this returns
        },
        "BugCheck(.|\n)*NULL DeferredRoutine(.|\n)*0xD1");
}

} // namespace
