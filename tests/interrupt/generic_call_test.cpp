// KeGenericCallDpc, KeSignalCallDpcSynchronize and KeSignalCallDpcDone (issue #25 part 6): the
// routine runs as a DPC on every virtual processor, at DISPATCH_LEVEL, all of them at once (the
// barrier proves it), and the caller returns when all are done. Suite "GenericCallDpc": run with
// the verifier on and off (tests/interrupt/CMakeLists.txt).
#include <atomic>

#include <gtest/gtest.h>

#include "interrupt_support.h"
#include "ndislock/ndis_interrupt.h"

namespace {

using ndislock_test::Watchdog;

constexpr std::chrono::seconds kLimit{60};

struct Broadcast {
    std::atomic<unsigned> processors{0}; // bit per processor the routine ran on
    std::atomic<int> not_at_dispatch{0};
    std::atomic<int> arrived{0};        // before the barrier
    std::atomic<int> early{0};          // left the barrier before every processor reached it
    std::atomic<int> last_to_arrive{0}; // KeSignalCallDpcSynchronize returned TRUE
    std::atomic<int> second_round{0};
    int count = 0;
};

VOID BroadcastRoutine(PKDPC, PVOID context, PVOID done, PVOID barrier) {
    auto &b = *static_cast<Broadcast *>(context);
    if (KeGetCurrentIrql() != DISPATCH_LEVEL) b.not_at_dispatch.fetch_add(1);
    b.processors.fetch_or(1u << KeGetCurrentProcessorNumber());
    b.arrived.fetch_add(1);
    if (KeSignalCallDpcSynchronize(barrier)) b.last_to_arrive.fetch_add(1);
    if (b.arrived.load() != b.count) b.early.fetch_add(1);
    // The barrier can be met again.
    b.second_round.fetch_add(1);
    KeSignalCallDpcSynchronize(barrier);
    if (b.second_round.load() != b.count) b.early.fetch_add(1);
    KeSignalCallDpcDone(done);
}

TEST(GenericCallDpc, RunsOnEveryProcessorAtOnceAndReturnsWhenAllAreDone) {
    Watchdog dog("generic call", kLimit);
    ASSERT_EQ(ndislock_test::set_processor_count(4), NDISLOCK_OK);
    for (int round = 0; round < 20; ++round) {
        Broadcast b;
        b.count = 4;
        KeGenericCallDpc(BroadcastRoutine, &b);
        ASSERT_EQ(b.processors.load(), 0xFu) << "round " << round;
        ASSERT_EQ(b.arrived.load(), 4);
        ASSERT_EQ(b.second_round.load(), 4);
        ASSERT_EQ(b.not_at_dispatch.load(), 0);
        ASSERT_EQ(b.early.load(), 0) << "a processor passed the barrier before all had reached it";
        ASSERT_EQ(b.last_to_arrive.load(), 1) << "KeSignalCallDpcSynchronize is TRUE on exactly one processor";
    }
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST(GenericCallDpc, TwoCallersAtOnceRunOneAfterTheOther) {
    Watchdog dog("generic call x2", kLimit);
    ASSERT_EQ(ndislock_test::set_processor_count(2), NDISLOCK_OK);
    Broadcast a, b;
    a.count = b.count = 2;
    std::thread other([&] { KeGenericCallDpc(BroadcastRoutine, &a); });
    KeGenericCallDpc(BroadcastRoutine, &b);
    other.join();
    EXPECT_EQ(a.processors.load(), 0x3u);
    EXPECT_EQ(b.processors.load(), 0x3u);
    EXPECT_EQ(a.early.load() + b.early.load(), 0);
}

VOID ForgetsDone(PKDPC, PVOID, PVOID, PVOID) {}

TEST(GenericCallDpc, ARoutineThatReturnsWithoutSignallingDoneIsADeadlock) {
    EXPECT_DEATH(
        {
            Watchdog dog("generic call without done", kLimit);
            NdislockSetProcessorCount(2);
            KeGenericCallDpc(ForgetsDone, nullptr);
        },
        "Deadlock(.|\n)*without calling KeSignalCallDpcDone");
}

TEST(GenericCallDpc, AtDispatchLevelItEndsTheProcessInsteadOfWaitingForever) {
    EXPECT_DEATH(
        {
            Watchdog dog("generic call at dispatch", kLimit);
            KIRQL old = 0;
            KeRaiseIrql(DISPATCH_LEVEL, &old);
            KeGenericCallDpc(BroadcastRoutine, nullptr);
        },
        "KeGenericCallDpc at IRQL 2");
}

TEST(GenericCallDpc, ASignalWithAForeignArgumentEndsTheProcess) {
    int not_a_call = 0;
    EXPECT_DEATH(KeSignalCallDpcDone(&not_a_call), "not the system argument KeGenericCallDpc passed");
}

} // namespace
