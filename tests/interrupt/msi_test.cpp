// Message-signalled interrupts (MSI-X): NdisMRegisterInterruptEx with MsiSupported, the message
// table it fills, a message asserted toward a processor running MiniportMessageInterrupt(MessageId)
// there and its own DPC, edge-like delivery (no merging), NdisMSynchronizeWithInterruptEx and
// NdisMQueueDpcEx by MessageId. Suite "Msi": run with the verifier on (a clean corpus) and off.
#include <atomic>
#include <chrono>

#include <gtest/gtest.h>

#include "interrupt_support.h"

namespace {

using ndislock_test::eventually;
using ndislock_test::Watchdog;

constexpr std::chrono::seconds kLimit{60};
constexpr ULONG kMessages = 3;

struct MsiDevice {
    NDIS_HANDLE adapter = nullptr;
    NDIS_HANDLE interrupt = nullptr;
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS chars{};
    bool sync_all = false;
    std::atomic<int> isr_runs[kMessages] = {};
    std::atomic<int> dpc_runs[kMessages] = {};
    std::atomic<int> isr_processor[kMessages] = {};
    std::atomic<int> dpc_processor[kMessages] = {};
    std::atomic<int> wrong_irql{0};
    std::atomic<int> enabled[kMessages] = {};
    std::atomic<void *> dpc_context{nullptr};

    static BOOLEAN Isr(NDIS_HANDLE context, ULONG message, PBOOLEAN queue_dpc, PULONG) {
        auto &d = *static_cast<MsiDevice *>(context);
        if (KeGetCurrentIrql() != NDISLOCK_DEVICE_IRQL) d.wrong_irql.fetch_add(1);
        d.isr_processor[message].store(static_cast<int>(KeGetCurrentProcessorNumberEx(nullptr)));
        *queue_dpc = TRUE;
        d.isr_runs[message].fetch_add(1);
        return TRUE;
    }
    static VOID Dpc(NDIS_HANDLE context, ULONG message, PVOID dpc_context, PVOID, PVOID) {
        auto &d = *static_cast<MsiDevice *>(context);
        if (KeGetCurrentIrql() != DISPATCH_LEVEL) d.wrong_irql.fetch_add(1);
        d.dpc_processor[message].store(static_cast<int>(KeGetCurrentProcessorNumberEx(nullptr)));
        if (dpc_context != nullptr) d.dpc_context.store(dpc_context);
        d.dpc_runs[message].fetch_add(1);
    }
    static VOID Enable(NDIS_HANDLE context, ULONG message) {
        static_cast<MsiDevice *>(context)->enabled[message].store(1);
    }
    static VOID Disable(NDIS_HANDLE context, ULONG message) {
        static_cast<MsiDevice *>(context)->enabled[message].store(0);
    }
    // Line-based handlers: required by NDIS beside the message ones; never called here.
    static BOOLEAN LineIsr(NDIS_HANDLE, PBOOLEAN, PULONG) { return FALSE; }
    static VOID LineDpc(NDIS_HANDLE, PVOID, PVOID, PVOID) {}

    static NDIS_STATUS Initialize(NDIS_HANDLE adapter, NDIS_HANDLE driver_context, PNDIS_MINIPORT_INIT_PARAMETERS) {
        auto &d = *static_cast<MsiDevice *>(driver_context);
        d.adapter = adapter;
        EXPECT_EQ(NdislockSetAdapterMessageCount(adapter, kMessages), NDISLOCK_OK);
        NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS &c = d.chars;
        c.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
        c.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
        c.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
        c.InterruptHandler = LineIsr;
        c.InterruptDpcHandler = LineDpc;
        c.MsiSupported = TRUE;
        c.MsiSyncWithAllMessages = d.sync_all ? TRUE : FALSE;
        c.MessageInterruptHandler = Isr;
        c.MessageInterruptDpcHandler = Dpc;
        c.EnableMessageInterruptHandler = Enable;
        c.DisableMessageInterruptHandler = Disable;
        return NdisMRegisterInterruptEx(adapter, &d, &c, &d.interrupt);
    }
    static VOID Halt(NDIS_HANDLE context, NDIS_HALT_ACTION) {
        auto &d = *static_cast<MsiDevice *>(context);
        NdisMDeregisterInterruptEx(d.interrupt);
    }

    void start() { ASSERT_EQ(NdislockMiniportInitialize(Initialize, this, &adapter), NDIS_STATUS_SUCCESS); }
    void halt() {
        if (adapter != nullptr) NdislockMiniportHalt(adapter, Halt, this);
        adapter = nullptr;
    }
    ~MsiDevice() { halt(); }
};

class Msi : public ndislock_test::ModelTest {};

TEST_F(Msi, RegistrationFillsTheMessageTable) {
    MsiDevice d;
    d.start();
    EXPECT_EQ(d.chars.InterruptType, NDIS_CONNECT_MESSAGE_BASED);
    const IO_INTERRUPT_MESSAGE_INFO *table = d.chars.MessageInfoTable;
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->MessageCount, kMessages);
    EXPECT_EQ(table->UnifiedIrql, NDISLOCK_DEVICE_IRQL);
    for (ULONG m = 0; m < kMessages; ++m) {
        EXPECT_EQ(table->MessageInfo[m].MessageData, m);
        EXPECT_EQ(table->MessageInfo[m].Irql, NDISLOCK_DEVICE_IRQL);
        EXPECT_EQ(table->MessageInfo[m].Mode, Latched);
        EXPECT_NE(table->MessageInfo[m].TargetProcessorSet, 0u);
    }
    EXPECT_EQ(NdislockAssertInterruptMessage(d.interrupt, kMessages, 0), NDISLOCK_INVALID_ARGUMENT);
}

TEST_F(Msi, EachMessageRunsItsIsrAndItsOwnDpcOnTheProcessorItWasSentTo) {
    Watchdog dog("messages", kLimit);
    if (KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS) < 2) GTEST_SKIP() << "needs 2 processors";
    MsiDevice d;
    d.start();
    ASSERT_EQ(NdislockAssertInterruptMessage(d.interrupt, 1, 1), NDISLOCK_OK);
    ASSERT_EQ(NdislockAssertInterruptMessage(d.interrupt, 2, 0), NDISLOCK_OK);
    ASSERT_TRUE(eventually([&] { return d.dpc_runs[1].load() == 1 && d.dpc_runs[2].load() == 1; }));
    EXPECT_EQ(d.isr_runs[0].load(), 0);
    EXPECT_EQ(d.isr_runs[1].load(), 1);
    EXPECT_EQ(d.isr_processor[1].load(), 1);
    EXPECT_EQ(d.dpc_processor[1].load(), 1);
    EXPECT_EQ(d.isr_processor[2].load(), 0);
    EXPECT_EQ(d.dpc_processor[2].load(), 0);
    EXPECT_EQ(d.wrong_irql.load(), 0);
    d.halt();
    EXPECT_EQ(d.dpc_runs[0].load(), 0);
}

// Held at DIRQL on its own processor, this thread keeps the message pending while it sends it
// three times; a line would merge them into one ISR, a message delivers each.
TEST_F(Msi, MessagesAreEdgeLikeEachAssertIsADelivery) {
    Watchdog dog("edge", kLimit);
    MsiDevice d;
    d.start();
    const ULONG self = KeGetCurrentProcessorNumberEx(nullptr);
    KIRQL old = 0;
    KeRaiseIrql(NDISLOCK_DEVICE_IRQL, &old);
    for (int k = 0; k < 3; ++k)
        ASSERT_EQ(NdislockAssertInterruptMessage(d.interrupt, 0, self), NDISLOCK_OK);
    EXPECT_EQ(d.isr_runs[0].load(), 0) << "pending while the processor is at DIRQL";
    KeLowerIrql(old);
    ASSERT_TRUE(eventually([&] { return d.isr_runs[0].load() == 3; }));
    KeFlushQueuedDpcs();
    d.halt();
    EXPECT_EQ(d.isr_runs[0].load(), 3);
    EXPECT_GE(d.dpc_runs[0].load(), 1);
}

BOOLEAN SyncAtDirql(NDIS_HANDLE context) {
    *static_cast<KIRQL *>(context) = KeGetCurrentIrql();
    return TRUE;
}

TEST_F(Msi, SynchronizeAndQueueDpcTakeAMessageId) {
    Watchdog dog("sync and queue", kLimit);
    MsiDevice d;
    d.start();
    KIRQL seen = 0;
    EXPECT_EQ(NdisMSynchronizeWithInterruptEx(d.interrupt, 2, SyncAtDirql, &seen), TRUE);
    EXPECT_EQ(seen, NDISLOCK_DEVICE_IRQL);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    int marker = 0;
    GROUP_AFFINITY targets{};
    targets.Mask = 1;
    EXPECT_EQ(NdisMQueueDpcEx(d.interrupt, 1, &targets, &marker), KAFFINITY{1});
    KeFlushQueuedDpcs();
    EXPECT_EQ(d.dpc_runs[1].load(), 1);
    EXPECT_EQ(d.dpc_processor[1].load(), 0);
    EXPECT_EQ(d.dpc_context.load(), &marker);
    EXPECT_EQ(NdisMQueueDpcEx(d.interrupt, kMessages, &targets, &marker), KAFFINITY{0}) << "no such message";
}

TEST_F(Msi, EnableAndDisableCallTheMessageHandlersForEachMessage) {
    MsiDevice d;
    d.start();
    EXPECT_EQ(NdislockEnableInterrupt(d.interrupt), NDISLOCK_OK);
    for (ULONG m = 0; m < kMessages; ++m)
        EXPECT_EQ(d.enabled[m].load(), 1);
    EXPECT_EQ(NdislockDisableInterrupt(d.interrupt), NDISLOCK_OK);
    for (ULONG m = 0; m < kMessages; ++m)
        EXPECT_EQ(d.enabled[m].load(), 0);
}

TEST_F(Msi, StatisticsAddUpTheMessages) {
    Watchdog dog("stats", kLimit);
    MsiDevice d;
    d.start();
    for (ULONG m = 0; m < kMessages; ++m)
        ASSERT_EQ(NdislockAssertInterruptMessage(d.interrupt, m, 0), NDISLOCK_OK);
    ASSERT_TRUE(eventually(
        [&] { return d.dpc_runs[0].load() == 1 && d.dpc_runs[1].load() == 1 && d.dpc_runs[2].load() == 1; }));
    NDISLOCK_INTERRUPT_STATS s{};
    ASSERT_EQ(NdislockGetInterruptStats(d.interrupt, &s), NDISLOCK_OK);
    EXPECT_EQ(s.Asserted, kMessages);
    EXPECT_EQ(s.Delivered, kMessages);
    EXPECT_EQ(s.Coalesced, 0u);
}

} // namespace
