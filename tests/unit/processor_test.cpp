// Virtual processors: count, binding, placement, per-processor data at DISPATCH_LEVEL.
#include "test_support.h"

using namespace ndislock_test;

class Processors : public ModelTest {};

TEST_F(Processors, CountIsTheSameThroughEveryQuery) {
    KAFFINITY mask = 0;
    const ULONG n = KeQueryActiveProcessorCount(&mask);
    EXPECT_GE(n, 1u);
    EXPECT_EQ(KeQueryActiveProcessorCountEx(0), n);
    EXPECT_EQ(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), n);
    EXPECT_EQ(KeQueryActiveProcessorCountEx(1), 0u) << "there is one processor group";
    EXPECT_EQ(mask, n >= 64 ? ~KAFFINITY{0} : (KAFFINITY{1} << n) - 1);
}

TEST_F(Processors, SetProcessorCountChangesTheCount) {
    ASSERT_EQ(NdislockSetProcessorCount(7), NDISLOCK_OK);
    EXPECT_EQ(KeQueryActiveProcessorCountEx(0), 7u);
    EXPECT_LT(KeGetCurrentProcessorNumberEx(nullptr), 7u);
}

TEST_F(Processors, BindingMovesTheThreadAndIsReportedEverywhere) {
    ASSERT_EQ(NdislockSetProcessorCount(4), NDISLOCK_OK);
    ASSERT_EQ(NdislockBindCurrentThread(3), NDISLOCK_OK);
    PROCESSOR_NUMBER number{9, 9, 9};
    EXPECT_EQ(KeGetCurrentProcessorNumberEx(&number), 3u);
    EXPECT_EQ(number.Group, 0);
    EXPECT_EQ(number.Number, 3);
    EXPECT_EQ(KeGetCurrentProcessorNumber(), 3u);
}

TEST_F(Processors, BadArgumentsAreRefused) {
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    EXPECT_EQ(NdislockSetProcessorCount(0), NDISLOCK_INVALID_ARGUMENT);
    EXPECT_EQ(NdislockSetProcessorCount(NDISLOCK_MAX_PROCESSORS + 1), NDISLOCK_INVALID_ARGUMENT);
    EXPECT_EQ(NdislockBindCurrentThread(2), NDISLOCK_INVALID_ARGUMENT);
}

TEST_F(Processors, AThreadCannotChangeProcessorAtDispatchLevel) {
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    const KIRQL old = KeRaiseIrqlToDpcLevel();
    EXPECT_EQ(NdislockBindCurrentThread(1), NDISLOCK_WRONG_IRQL);
    EXPECT_EQ(NdislockSetProcessorCount(3), NDISLOCK_WRONG_IRQL);
    KeLowerIrql(old);
}

TEST_F(Processors, TheCountCannotChangeWhileAProcessorIsAtDispatchLevel) {
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    Flag raised, done;
    Watchdog dog("TheCountCannotChangeWhileAProcessorIsAtDispatchLevel");
    std::thread busy([&] {
        const KIRQL old = KeRaiseIrqlToDpcLevel();
        raised.set();
        done.wait();
        KeLowerIrql(old);
    });
    raised.wait();
    EXPECT_EQ(NdislockSetProcessorCount(3), NDISLOCK_BUSY);
    done.set();
    busy.join();
    EXPECT_EQ(NdislockSetProcessorCount(3), NDISLOCK_OK);
}

TEST_F(Processors, NewThreadsArePlacedRoundRobin) {
    constexpr ULONG kCount = 3;
    ASSERT_EQ(NdislockSetProcessorCount(kCount), NDISLOCK_OK);
    std::vector<ULONG> seen;
    Watchdog dog("NewThreadsArePlacedRoundRobin");
    for (ULONG i = 0; i < 2 * kCount; ++i) {
        ULONG p = 99;
        std::thread([&] { p = KeGetCurrentProcessorNumberEx(nullptr); }).join();
        seen.push_back(p);
    }
    for (ULONG i = 1; i < seen.size(); ++i)
        EXPECT_EQ(seen[i], (seen[i - 1] + 1) % kCount) << "thread " << i;
}

TEST_F(Processors, PerProcessorDataAtDispatchNeedsNoLock) {
    // Eight threads on two virtual processors increment a plain (non-atomic) per-processor counter
    // at DISPATCH_LEVEL with a deliberately wide read-modify-write window: totals stay exact only
    // if no two threads of one processor are ever at DISPATCH_LEVEL together.
    constexpr int kThreads = 8, kIterations = 3000;
    ASSERT_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK);
    struct alignas(64) Counter {
        long value = 0;
    };
    static Counter counters[2];
    counters[0].value = counters[1].value = 0;
    run_threads(
        kThreads,
        [&](int) {
            for (int i = 0; i < kIterations; ++i) {
                const KIRQL old = KeRaiseIrqlToDpcLevel();
                Counter &c = counters[KeGetCurrentProcessorNumberEx(nullptr)];
                const long v = c.value;
                if (i % 64 == 0) std::this_thread::yield(); // invite the OS to run another thread here
                c.value = v + 1;
                KeLowerIrql(old);
            }
        },
        "PerProcessorDataAtDispatchNeedsNoLock");
    EXPECT_EQ(counters[0].value + counters[1].value, long{kThreads} * kIterations);
}

TEST_F(Processors, AThreadEndingAtDispatchLevelFreesItsProcessorWithADiagnostic) {
    ASSERT_EQ(NdislockSetProcessorCount(1), NDISLOCK_OK);
    Watchdog dog("AThreadEndingAtDispatchLevelFreesItsProcessorWithADiagnostic");
    testing::internal::CaptureStderr();
    std::thread([] { KeRaiseIrqlToDpcLevel(); }).join();
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("ended at IRQL 2"), std::string::npos) << err;
    const KIRQL old = KeRaiseIrqlToDpcLevel(); // would wait forever if processor 0 stayed taken
    KeLowerIrql(old);
}
