// The miniport in miniport/ (C, built against the WDK face with #include <ndis.h>) driven as NDIS
// and its hardware would drive it: send threads at PASSIVE_LEVEL and DISPATCH_LEVEL, a device
// raising receive and transmit interrupts, the ISR and DPC on the virtual processors, and NDIS
// returning indicated receives from another thread. Exact totals with the verifier on and no
// finding; then each new rule provoked through the driver's own code.
#include "wdk_test_support.h"

#include <chrono>

#include "miniport/miniport.h"
#include "ndislock/device.h" // plays NDIS and the hardware: adapters, asserting the line
#include "ndislock/verifier.h"

namespace {

// NDIS's half: what it does with completions and indications (a stand-in, not the driver's).
struct Ndis {
    std::atomic<long long> completed{0};
    std::atomic<long long> indicated{0};
    KSPIN_LOCK pending_lock = 0;
    LIST_ENTRY pending_returns; // indicated NBLs NDIS still holds (ProtocolReserved as the link)
    Ndis() {
        KeInitializeSpinLock(&pending_lock);
        InitializeListHead(&pending_returns);
    }
};
Ndis *g_ndis = nullptr;

PLIST_ENTRY ndis_link(PNET_BUFFER_LIST nbl) { return reinterpret_cast<PLIST_ENTRY>(&nbl->ProtocolReserved[0]); }

} // namespace

extern "C" VOID NdisMSendNetBufferListsComplete(NDIS_HANDLE, PNET_BUFFER_LIST nbls, ULONG flags) {
    EXPECT_TRUE(NDIS_TEST_SEND_COMPLETE_AT_DISPATCH_LEVEL(flags));
    long long n = 0;
    for (PNET_BUFFER_LIST nbl = nbls; nbl != nullptr; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        EXPECT_EQ(NET_BUFFER_LIST_STATUS(nbl), NDIS_STATUS_SUCCESS);
        ++n;
    }
    g_ndis->completed.fetch_add(n);
}

extern "C" VOID NdisMIndicateReceiveNetBufferLists(NDIS_HANDLE, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER, ULONG count,
                                                   ULONG flags) {
    EXPECT_TRUE(NDIS_TEST_RECEIVE_AT_DISPATCH_LEVEL(flags));
    EXPECT_TRUE(NDIS_TEST_RECEIVE_CAN_PEND(flags));
    ULONG n = 0;
    PNET_BUFFER_LIST next;
    for (PNET_BUFFER_LIST nbl = nbls; nbl != nullptr; nbl = next, ++n) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = nullptr;
        ExInterlockedInsertTailList(&g_ndis->pending_returns, ndis_link(nbl), &g_ndis->pending_lock);
    }
    EXPECT_EQ(n, count);
    g_ndis->indicated.fetch_add(n);
}

namespace {

struct Miniport {
    Ndis ndis;
    NDIS_HANDLE adapter_handle = nullptr;
    NDIS_HANDLE context = nullptr;
    Miniport() {
        g_ndis = &ndis;
        EXPECT_EQ(NdislockMiniportInitialize(MpInitializeEx, &context, &adapter_handle), NDIS_STATUS_SUCCESS);
    }
    ~Miniport() {
        NdislockMiniportHalt(adapter_handle, MpHaltEx, context);
        g_ndis = nullptr;
    }
    MP_COUNTERS counters() {
        MP_COUNTERS c{};
        MpGetCounters(context, &c);
        return c;
    }
    void interrupt(ULONG processor = NDISLOCK_ANY_PROCESSOR) {
        EXPECT_EQ(NdislockAssertInterrupt(MpInterruptHandle(context), processor), NDISLOCK_OK);
    }
    // Waits (bounded) for what an interrupt's DPC does: it may run on another thread of the processor.
    template <class F> static bool eventually(F &&done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return true;
    }
    // NDIS returning what it holds: at PASSIVE_LEVEL (flags 0) or at DISPATCH_LEVEL (flag set).
    int return_pending(bool at_dispatch) {
        KIRQL old = PASSIVE_LEVEL;
        if (at_dispatch) KeRaiseIrql(DISPATCH_LEVEL, &old);
        int n = 0;
        for (PLIST_ENTRY e; (e = ExInterlockedRemoveHeadList(&ndis.pending_returns, &ndis.pending_lock)) != nullptr;
             ++n) {
            PNET_BUFFER_LIST nbl =
                CONTAINING_RECORD(reinterpret_cast<PVOID *>(e), NET_BUFFER_LIST, ProtocolReserved[0]);
            MpReturnNetBufferLists(context, nbl, at_dispatch ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0);
        }
        if (at_dispatch) KeLowerIrql(old);
        return n;
    }
};

TEST(WdkMiniport, SendsReceivesInterruptsAndDpcsAddUpExactly) {
    NdislockVerifierResetFindings();
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    // Sanitizers run the driver 5-15x slower: its DPCs and holds really take that much longer
    // (docs/verifier.md, "Budgets on slow builds"). Restored at the end.
    NdislockVerifierSetHoldBudget(1'000'000);
    NdislockVerifierSetCallbackBudgets(1'000'000, 5'000'000);
#endif
    constexpr int kSenders = 3, kSendsPerThread = 1500, kReceives = 3000;
    Miniport mp;
    std::vector<std::vector<NET_BUFFER_LIST>> nbls(kSenders, std::vector<NET_BUFFER_LIST>(kSendsPerThread));
    long long bytes = 0;
    for (auto &v : nbls)
        for (size_t i = 0; i < v.size(); ++i) {
            v[i] = NET_BUFFER_LIST{};
            v[i].DataLength = static_cast<ULONG>(64 + i % 1400);
            bytes += v[i].DataLength;
        }

    std::atomic<int> senders_done{0};
    std::vector<std::thread> threads;
    for (int s = 0; s < kSenders; ++s)
        threads.emplace_back([&, s] {
            NdislockBindCurrentThread(static_cast<ULONG>(1 + s));
            auto &mine = nbls[static_cast<size_t>(s)];
            for (size_t i = 0; i < mine.size();) {
                // Chains of 1 to 4 NBLs; every other chain from DISPATCH_LEVEL with the flag set.
                const size_t n = std::min<size_t>(1 + i % 4, mine.size() - i);
                for (size_t k = 0; k + 1 < n; ++k)
                    mine[i + k].Next = &mine[i + k + 1];
                mine[i + n - 1].Next = nullptr;
                const bool dispatch = (i / 4) % 2 == 1;
                KIRQL old = PASSIVE_LEVEL;
                if (dispatch) KeRaiseIrql(DISPATCH_LEVEL, &old);
                MpSendNetBufferLists(mp.context, &mine[i], NDIS_DEFAULT_PORT_NUMBER,
                                     dispatch ? NDIS_SEND_FLAGS_DISPATCH_LEVEL : 0);
                if (dispatch) KeLowerIrql(old);
                i += n;
            }
            senders_done.fetch_add(1);
        });
    // The device: receive events and interrupts toward any processor.
    threads.emplace_back([&] {
        for (int r = 0; r < kReceives; ++r) {
            MpHwReceive(mp.context);
            mp.interrupt();
            if (r % 64 == 0) std::this_thread::yield();
        }
    });
    // NDIS returning indicated receives, alternately at PASSIVE_LEVEL and DISPATCH_LEVEL.
    std::atomic<bool> stop_returns{false};
    std::thread returner([&] {
        NdislockBindCurrentThread(0);
        bool dispatch = false;
        while (!stop_returns.load()) {
            if (mp.return_pending(dispatch) == 0) std::this_thread::yield();
            dispatch = !dispatch;
        }
    });
    for (auto &t : threads)
        t.join();

    // Drain: a last interrupt for sends still queued, until everything is accounted for (bounded).
    const long long total_sends = static_cast<long long>(kSenders) * kSendsPerThread;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    MP_COUNTERS c{};
    for (;;) {
        mp.interrupt(1);
        c = mp.counters();
        if ((c.CompletedNbls == total_sends && c.Indicated + c.RxDropped == kReceives && c.Returned == c.Indicated &&
             c.FreeRxBuffers == MP_RX_BUFFERS) ||
            std::chrono::steady_clock::now() > deadline)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    stop_returns.store(true);
    returner.join();
    mp.return_pending(false);
    c = mp.counters();

    EXPECT_EQ(senders_done.load(), kSenders);
    EXPECT_EQ(c.SentNbls, total_sends);
    EXPECT_EQ(c.CompletedNbls, total_sends);
    EXPECT_EQ(mp.ndis.completed.load(), total_sends);
    EXPECT_EQ(c.BytesSent, bytes);
    EXPECT_EQ(c.Indicated + c.RxDropped, kReceives);
    EXPECT_EQ(mp.ndis.indicated.load(), c.Indicated);
    EXPECT_EQ(c.Returned, c.Indicated);
    EXPECT_EQ(c.FreeRxBuffers, static_cast<ULONG>(MP_RX_BUFFERS));
    EXPECT_GT(c.Indicated, 0);
    EXPECT_GT(c.IsrClaimed, 0);
    EXPECT_GT(c.DpcRuns, 0);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << vt::dump(vt::take());
    NdislockVerifierSetHoldBudget(0);
    NdislockVerifierSetCallbackBudgets(0, 0);
}

bool ends_in_miniport(const vt::Got &g) { return vt::ends_with(g.file, "miniport.c"); }

TEST(WdkMiniport, PagedCodeInTheDpcIsReportedAtTheDriversLine) {
    NdislockVerifierResetFindings();
    {
        Miniport mp;
        MpSetBug(mp.context, MpBugPagedCodeInDpc);
        NET_BUFFER_LIST nbl{};
        MpSendNetBufferLists(mp.context, &nbl, NDIS_DEFAULT_PORT_NUMBER, 0);
        mp.interrupt(0);
        EXPECT_TRUE(Miniport::eventually([&] { return mp.ndis.completed.load() == 1; }));
    }
    const auto got = wdk_test::of_rule(vt::take(), "PagedCodeAtRaisedIrql");
    ASSERT_EQ(got.size(), 1u) << vt::dump(vt::take());
    EXPECT_TRUE(ends_in_miniport(got[0])) << got[0].file;
    NdislockVerifierResetFindings();
}

TEST(WdkMiniport, AFlagThatLiesAboutTheIrqlIsDispatchFlagMismatchInTheDriver) {
    NdislockVerifierResetFindings();
    {
        Miniport mp;
        NET_BUFFER_LIST nbl{};
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        MpSendNetBufferLists(mp.context, &nbl, NDIS_DEFAULT_PORT_NUMBER, 0); // NDIS would have set the flag
        KeLowerIrql(old);
        mp.interrupt(0);
        EXPECT_TRUE(Miniport::eventually([&] { return mp.ndis.completed.load() == 1; }));
    }
    const auto all = vt::take();
    const auto got = wdk_test::of_rule(all, "DispatchFlagMismatch");
    ASSERT_EQ(got.size(), 1u) << vt::dump(all);
    EXPECT_EQ(all.size(), 1u) << vt::dump(all); // the driver then takes the lock the safe way
    EXPECT_TRUE(ends_in_miniport(got[0])) << got[0].file;
    NdislockVerifierResetFindings();
}

using WdkMiniportDeathTest = ::testing::Test;

TEST_F(WdkMiniportDeathTest, AReceiveBufferUnlinkedTwiceIsListCorrupted) {
    EXPECT_DEATH(([] {
                     Miniport mp;
                     MpSetBug(mp.context, MpBugReturnTwice);
                     MpHwReceive(mp.context);
                     mp.interrupt(0);
                     Miniport::eventually([&] { return mp.return_pending(false) != 0; });
                 }()),
                 "ListCorrupted.*RemoveEntryList(.|\n)*miniport.c:[0-9]+");
}

TEST_F(WdkMiniportDeathTest, AFalseAssertionInTheIsrIsAssertionFailed) {
    EXPECT_DEATH(([] {
                     Miniport mp;
                     MpSetBug(mp.context, MpBugAssertInIsr);
                     MpHwReceive(mp.context);
                     mp.interrupt(0);
                 }()),
                 "AssertionFailed.*the ISR runs above DISPATCH_LEVEL(.|\n)*miniport.c:[0-9]+");
}

} // namespace
