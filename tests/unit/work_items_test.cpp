// Work items against their documented semantics (ndislock/wdk_work_items.h): the routine runs
// once per queueing, at PASSIVE_LEVEL, on a worker thread, with the arguments of its signature;
// items queued from DISPATCH_LEVEL and from a DPC run; a routine may free its own item; an item
// can be queued again once it ran; an allocation at DISPATCH_LEVEL before any worker exists is
// NULL. Every wait is bounded (a KEVENT wait with a timeout, and a Watchdog).
#include <atomic>
#include <thread>

#include "interrupt/work_items.h" // work_item_busy: an item may be freed once its routine returned
#include "ndislock/wdk.h"
#include "test_support.h"

using ndislock_test::eventually;
using ndislock_test::ModelTest;
using ndislock_test::Watchdog;

namespace {

using WorkItems = ModelTest;

// Busy: queued, or its routine has not returned yet (it signals its event before it returns).
bool idle_not(PVOID item) { return ndislock::interrupt::work_item_busy(static_cast<PIO_WORKITEM>(item)); }

NTSTATUS wait_10_s(KEVENT *e) {
    LARGE_INTEGER ten_s;
    ten_s.QuadPart = -100'000'000;
    return KeWaitForSingleObject(e, Executive, KernelMode, FALSE, &ten_s);
}

struct Seen {
    KEVENT done;
    std::atomic<KIRQL> irql{99};
    std::atomic<std::thread::id> thread{};
    std::atomic<PVOID> first{nullptr}, second{nullptr};
    std::atomic<int> runs{0};
};

void NdisRoutine(PVOID context, NDIS_HANDLE item) {
    auto *seen = static_cast<Seen *>(context);
    seen->irql.store(KeGetCurrentIrql());
    seen->thread.store(std::this_thread::get_id());
    seen->first.store(context);
    seen->second.store(item);
    seen->runs.fetch_add(1);
    KeSetEvent(&seen->done, IO_NO_INCREMENT, FALSE);
}

void IoRoutine(PDEVICE_OBJECT device, PVOID context) {
    auto *seen = static_cast<Seen *>(context);
    seen->irql.store(KeGetCurrentIrql());
    seen->thread.store(std::this_thread::get_id());
    seen->first.store(device);
    seen->second.store(context);
    seen->runs.fetch_add(1);
    KeSetEvent(&seen->done, IO_NO_INCREMENT, FALSE);
}

TEST_F(WorkItems, AnNdisItemRunsAtPassiveLevelOnAWorkerThreadWithItsContextAndHandle) {
    Watchdog dog("NDIS work item", std::chrono::seconds(30));
    int adapter = 0;
    NDIS_HANDLE item = NdisAllocateIoWorkItem(&adapter);
    ASSERT_NE(item, nullptr);
    Seen seen;
    KeInitializeEvent(&seen.done, SynchronizationEvent, FALSE);
    NdisQueueIoWorkItem(item, NdisRoutine, &seen);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.irql.load(), PASSIVE_LEVEL);
    EXPECT_NE(seen.thread.load(), std::this_thread::get_id());
    EXPECT_EQ(seen.first.load(), &seen);
    EXPECT_EQ(seen.second.load(), item);
    // Queued again once it ran: it runs again.
    NdisQueueIoWorkItem(item, NdisRoutine, &seen);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.runs.load(), 2);
    ASSERT_TRUE(eventually([&] { return !idle_not(item); }));
    NdisFreeIoWorkItem(item);
}

TEST_F(WorkItems, AnIoItemRunsWithItsDeviceObjectAndContext) {
    Watchdog dog("I/O work item", std::chrono::seconds(30));
    auto *device = reinterpret_cast<PDEVICE_OBJECT>(static_cast<void *>(new int(0)));
    PIO_WORKITEM item = IoAllocateWorkItem(device);
    ASSERT_NE(item, nullptr);
    Seen seen;
    KeInitializeEvent(&seen.done, SynchronizationEvent, FALSE);
    IoQueueWorkItem(item, IoRoutine, DelayedWorkQueue, &seen);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.irql.load(), PASSIVE_LEVEL);
    EXPECT_EQ(seen.first.load(), static_cast<void *>(device));
    EXPECT_EQ(seen.second.load(), &seen);
    ASSERT_TRUE(eventually([&] { return !idle_not(item); }));
    IoFreeWorkItem(item);
    delete reinterpret_cast<int *>(device);
}

TEST_F(WorkItems, ManyItemsEachRunOnce) {
    Watchdog dog("100 work items", std::chrono::seconds(60));
    int adapter = 0;
    constexpr int kItems = 100;
    NDIS_HANDLE items[kItems];
    std::atomic<int> runs[kItems];
    for (int i = 0; i < kItems; ++i) {
        items[i] = NdisAllocateIoWorkItem(&adapter);
        ASSERT_NE(items[i], nullptr);
        runs[i].store(0);
    }
    for (int i = 0; i < kItems; ++i)
        NdisQueueIoWorkItem(
            items[i], [](PVOID c, NDIS_HANDLE) { static_cast<std::atomic<int> *>(c)->fetch_add(1); }, &runs[i]);
    ASSERT_TRUE(eventually([&] {
        for (auto &r : runs)
            if (r.load() != 1) return false;
        return true;
    }));
    for (auto &r : runs)
        EXPECT_EQ(r.load(), 1);
    for (NDIS_HANDLE item : items) {
        ASSERT_TRUE(eventually([&] { return !idle_not(item); }));
        NdisFreeIoWorkItem(item);
    }
}

KDPC g_dpc;
NDIS_HANDLE g_dpc_item;
Seen *g_dpc_seen;
void QueueingDpc(PKDPC, PVOID, PVOID, PVOID) { NdisQueueIoWorkItem(g_dpc_item, NdisRoutine, g_dpc_seen); }

TEST_F(WorkItems, ItemsQueuedAtDispatchLevelAndFromADpcRunAtPassiveLevel) {
    Watchdog dog("work items from DISPATCH_LEVEL", std::chrono::seconds(30));
    int adapter = 0;
    NDIS_HANDLE item = NdisAllocateIoWorkItem(&adapter);
    ASSERT_NE(item, nullptr);
    Seen seen;
    KeInitializeEvent(&seen.done, SynchronizationEvent, FALSE);
    NDIS_SPIN_LOCK lock;
    NdisAllocateSpinLock(&lock);
    NdisAcquireSpinLock(&lock);
    NdisQueueIoWorkItem(item, NdisRoutine, &seen);
    NdisReleaseSpinLock(&lock);
    NdisFreeSpinLock(&lock);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.irql.load(), PASSIVE_LEVEL);
    g_dpc_item = item;
    g_dpc_seen = &seen;
    KeInitializeDpc(&g_dpc, QueueingDpc, nullptr);
    KeInsertQueueDpc(&g_dpc, nullptr, nullptr);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.runs.load(), 2);
    EXPECT_EQ(seen.irql.load(), PASSIVE_LEVEL);
    KeFlushQueuedDpcs();
    ASSERT_TRUE(eventually([&] { return !idle_not(item); }));
    NdisFreeIoWorkItem(item);
}

void FreesItself(PVOID context, NDIS_HANDLE item) {
    NdisFreeIoWorkItem(item);
    KeSetEvent(static_cast<KEVENT *>(context), IO_NO_INCREMENT, FALSE);
}

TEST_F(WorkItems, ARoutineMayFreeItsOwnItem) {
    Watchdog dog("work item freeing itself", std::chrono::seconds(30));
    int adapter = 0;
    KEVENT done;
    KeInitializeEvent(&done, SynchronizationEvent, FALSE);
    for (int i = 0; i < 20; ++i) { // the freed items come back
        NDIS_HANDLE item = NdisAllocateIoWorkItem(&adapter);
        ASSERT_NE(item, nullptr);
        NdisQueueIoWorkItem(item, FreesItself, &done);
        ASSERT_EQ(wait_10_s(&done), STATUS_SUCCESS);
    }
}

TEST_F(WorkItems, NoHandleNoItem) {
    EXPECT_EQ(NdisAllocateIoWorkItem(nullptr), nullptr);
    EXPECT_EQ(IoAllocateWorkItem(nullptr), nullptr);
}

// In a fresh process (the death-test child re-runs the binary for this test alone).
[[noreturn]] void allocate_at_dispatch_first() {
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    int adapter = 0;
    NDIS_HANDLE at_dispatch = NdisAllocateIoWorkItem(&adapter);
    KeLowerIrql(old);
    NDIS_HANDLE at_passive = NdisAllocateIoWorkItem(&adapter);
    std::fprintf(stderr, "at DISPATCH_LEVEL %s, then at PASSIVE_LEVEL %s\n",
                 at_dispatch == nullptr ? "NULL" : "an item", at_passive == nullptr ? "NULL" : "an item");
    std::_Exit(0);
}

using WorkItemsDeathTest = ModelTest;
TEST_F(WorkItemsDeathTest, TheFirstAllocationAtDispatchLevelIsNull) {
    EXPECT_EXIT(allocate_at_dispatch_first(), ::testing::ExitedWithCode(0),
                "at DISPATCH_LEVEL NULL, then at PASSIVE_LEVEL an item");
}

} // namespace
