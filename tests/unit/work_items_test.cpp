// Work items against their documented semantics (ndislock/wdk_work_items.h): the routine runs
// once per queueing, at PASSIVE_LEVEL, on a worker thread, with the arguments of its signature;
// items queued from DISPATCH_LEVEL and from a DPC run; a routine may free its own item; an item
// can be queued again once it ran; the first work item call starts the workers, at DISPATCH_LEVEL
// too (from an ISR, items wait for them). The same for items in the driver's storage (IoInitializeWorkItem,
// IoQueueWorkItemEx, IoUninitializeWorkItem) and the executive's WORK_QUEUE_ITEM (ExInitializeWorkItem,
// ExQueueWorkItem), and their misuse as the verifier reports it (WorkItemMisuse). Every wait is
// bounded (a KEVENT wait with a timeout, and a Watchdog).
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "interrupt/work_items.h" // work_item_busy: an item may be freed once its routine returned
#include "ndislock/verifier.h"
#include "ndislock/wdk.h"
#include "busy_workers.h"
#include "test_support.h"
#include "verifier_on_test.h"

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

// In a fresh process (the death-test child re-runs the binary for this test alone): the first
// work item call, at DISPATCH_LEVEL, starts the workers (as a driver's first one may be made under
// its spin lock, or from a DPC); only an ISR cannot.
[[noreturn]] void allocate_at_dispatch_first() {
    Watchdog dog("first allocation at DISPATCH_LEVEL", std::chrono::seconds(20));
    static std::atomic<int> runs{0};
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    int adapter = 0;
    NDIS_HANDLE at_dispatch = NdisAllocateIoWorkItem(&adapter);
    if (at_dispatch != nullptr)
        NdisQueueIoWorkItem(
            at_dispatch, [](PVOID, NDIS_HANDLE) { runs.fetch_add(1); }, nullptr);
    KeLowerIrql(old);
    const bool ran = eventually([] { return runs.load() == 1; });
    std::fprintf(stderr, "at DISPATCH_LEVEL %s, %s\n", at_dispatch == nullptr ? "NULL" : "an item",
                 ran ? "and it ran" : "and it never ran");
    std::_Exit(0);
}

using WorkItemsDeathTest = ModelTest;
TEST_F(WorkItemsDeathTest, TheFirstAllocationAtDispatchLevelStartsTheWorkers) {
    EXPECT_EXIT(allocate_at_dispatch_first(), ::testing::ExitedWithCode(0), "at DISPATCH_LEVEL an item, and it ran");
}

// Also in a fresh process: the review's case, a driver whose first work item call is ExQueueWorkItem
// from its timer's DPC (ExInitializeWorkItem is a macro: no call before it). It runs.
[[noreturn]] void queue_from_a_timer_dpc_first() {
    Watchdog dog("ExQueueWorkItem from a timer DPC first", std::chrono::seconds(20));
    static std::atomic<int> runs{0};
    static WORK_QUEUE_ITEM executive;
    static KTIMER timer;
    static KDPC dpc;
    ExInitializeWorkItem(
        &executive, [](PVOID) { runs.fetch_add(1); }, nullptr);
    KeInitializeTimer(&timer);
    KeInitializeDpc(
        &dpc, [](PKDPC, PVOID, PVOID, PVOID) { ExQueueWorkItem(&executive, DelayedWorkQueue); }, nullptr);
    LARGE_INTEGER due;
    due.QuadPart = -10'000; // 1 ms
    KeSetTimer(&timer, due, &dpc);
    const bool ran = eventually([] { return runs.load() == 1; });
    std::fprintf(stderr, "%s\n", ran ? "the item ran" : "the item never ran");
    std::_Exit(0);
}

TEST_F(WorkItemsDeathTest, AFirstExQueueWorkItemFromATimerDpcRuns) {
    EXPECT_EXIT(queue_from_a_timer_dpc_first(), ::testing::ExitedWithCode(0), "the item ran");
}

// Also in a fresh process: IoInitializeWorkItem and ExQueueWorkItem cannot fail, so items
// initialized and queued from an ISR's level before any worker exists (the workers cannot be
// started there) wait for the workers (said on stderr), which the next call at DISPATCH_LEVEL or
// below starts.
void CountsInAnAtomic(PVOID parameter) { static_cast<std::atomic<int> *>(parameter)->fetch_add(1); }
void CountsInAnAtomicEx(PVOID, PVOID context, PIO_WORKITEM) { static_cast<std::atomic<int> *>(context)->fetch_add(1); }

[[noreturn]] void queue_at_device_level_first() {
    Watchdog dog("items queued before the workers", std::chrono::seconds(20));
    static std::atomic<int> runs{0};
    static WORK_QUEUE_ITEM executive;
    static int device = 0;
    PIO_WORKITEM item = static_cast<PIO_WORKITEM>(std::malloc(IoSizeofWorkItem()));
    ExInitializeWorkItem(&executive, CountsInAnAtomic, &runs);
    KIRQL old;
    KeRaiseIrql(5, &old); // a device IRQL: what an ISR runs at
    IoInitializeWorkItem(&device, item);
    IoQueueWorkItemEx(item, CountsInAnAtomicEx, DelayedWorkQueue, &runs);
    ExQueueWorkItem(&executive, DelayedWorkQueue);
    KeLowerIrql(old);
    std::this_thread::sleep_for(std::chrono::milliseconds(50)); // not run: no worker (not asserted on time)
    const int before = runs.load();
    NDIS_HANDLE starter = NdisAllocateIoWorkItem(&device); // at PASSIVE_LEVEL: starts the workers
    const bool both = eventually([] { return runs.load() == 2; });
    std::fprintf(stderr, "before the workers %d, then %s\n", before, both ? "both ran" : "not both");
    std::_Exit(starter != nullptr ? 0 : 1);
}

TEST_F(WorkItemsDeathTest, ItemsQueuedFromAnIsrBeforeAnyWorkerWaitForThem) {
    EXPECT_EXIT(queue_at_device_level_first(), ::testing::ExitedWithCode(0),
                "queued above DISPATCH_LEVEL \\(from an ISR\\) before ndislock's worker threads started(.|\n)*"
                "before the workers 0, then both ran");
}

// Also in a fresh process: a WORK_QUEUE_ITEM freed and overwritten while it waits in the queue is a
// BugCheck (0xE4, as Windows finds a queued item in freed pool), and its routine is not called.
[[noreturn]] void overwrite_a_queued_executive_item() {
    Watchdog dog("overwritten WORK_QUEUE_ITEM", std::chrono::seconds(20));
    static int device = 0;
    auto *executive = static_cast<WORK_QUEUE_ITEM *>(std::malloc(sizeof(WORK_QUEUE_ITEM)));
    ExInitializeWorkItem(
        executive, [](PVOID) { std::fprintf(stderr, "the routine ran\n"); }, nullptr);
    KIRQL old;
    KeRaiseIrql(5, &old); // queued where no worker can be started: it waits
    ExQueueWorkItem(executive, DelayedWorkQueue);
    KeLowerIrql(old);
    std::memset(static_cast<void *>(executive), 0x5a, sizeof *executive); // freed and reused while queued
    (void)NdisAllocateIoWorkItem(&device);                                // starts the workers
    std::this_thread::sleep_for(std::chrono::seconds(5));
    std::fprintf(stderr, "no report\n");
    std::_Exit(0);
}

TEST_F(WorkItemsDeathTest, AWorkQueueItemOverwrittenWhileQueuedIsABugCheck) {
    EXPECT_DEATH(overwrite_a_queued_executive_item(),
                 "BugCheck(.|\n)*WORK_QUEUE_ITEM at 0x[0-9a-f]+ was freed or overwritten while it was queued(.|\n)*"
                 "0xE4 WORKER_INVALID");
}

// A routine that returns inside a guarded region (here: owning the guarded mutex it took) is the
// bug check Windows makes of it (0x1 APC_INDEX_MISMATCH), with the verifier off too.
[[noreturn]] void return_owning_a_guarded_mutex() {
    Watchdog dog("work item returning in a guarded region", std::chrono::seconds(20));
    static KGUARDED_MUTEX guarded;
    static int device = 0;
    KeInitializeGuardedMutex(&guarded);
    NDIS_HANDLE item = NdisAllocateIoWorkItem(&device);
    NdisQueueIoWorkItem(
        item, [](PVOID, NDIS_HANDLE) { KeAcquireGuardedMutex(&guarded); }, nullptr);
    std::this_thread::sleep_for(std::chrono::seconds(5));
    std::fprintf(stderr, "no bug check\n");
    std::_Exit(0);
}

TEST_F(WorkItemsDeathTest, ARoutineReturningInAGuardedRegionIsABugCheckWithTheVerifierOff) {
    EXPECT_DEATH(return_owning_a_guarded_mutex(),
                 "BugCheck(.|\n)*work item routine \\(0x[0-9a-f]+\\) returns inside a guarded region(.|\n)*"
                 "APC_INDEX_MISMATCH \\(parameter 4: 1, a worker routine\\)");
}

// ---- Items in the driver's storage: IoInitializeWorkItem, IoQueueWorkItemEx, IoUninitializeWorkItem

// Storage of IoSizeofWorkItem() bytes from the heap, as a driver gets it from nonpaged pool.
PIO_WORKITEM new_storage() { return static_cast<PIO_WORKITEM>(std::malloc(IoSizeofWorkItem())); }

struct SeenEx {
    KEVENT done;
    std::atomic<KIRQL> irql{99};
    std::atomic<std::thread::id> thread{};
    std::atomic<PVOID> object{nullptr}, context{nullptr};
    std::atomic<PIO_WORKITEM> item{nullptr};
    std::atomic<int> runs{0};
};

void ExRoutine(PVOID object, PVOID context, PIO_WORKITEM item) {
    auto *seen = static_cast<SeenEx *>(context);
    seen->irql.store(KeGetCurrentIrql());
    seen->thread.store(std::this_thread::get_id());
    seen->object.store(object);
    seen->context.store(context);
    seen->item.store(item);
    seen->runs.fetch_add(1);
    KeSetEvent(&seen->done, IO_NO_INCREMENT, FALSE);
}

TEST_F(WorkItems, AnInitializedItemRunsItsExRoutineWithItsObjectContextAndOwnPointer) {
    Watchdog dog("IoQueueWorkItemEx of an initialized item", std::chrono::seconds(30));
    EXPECT_GE(IoSizeofWorkItem(), sizeof(PVOID));
    int device = 0;
    PIO_WORKITEM item = new_storage();
    ASSERT_NE(item, nullptr);
    IoInitializeWorkItem(&device, item);
    SeenEx seen;
    KeInitializeEvent(&seen.done, SynchronizationEvent, FALSE);
    IoQueueWorkItemEx(item, ExRoutine, DelayedWorkQueue, &seen);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.irql.load(), PASSIVE_LEVEL);
    EXPECT_NE(seen.thread.load(), std::this_thread::get_id());
    EXPECT_EQ(seen.object.load(), &device);
    EXPECT_EQ(seen.context.load(), &seen);
    EXPECT_EQ(seen.item.load(), item) << "the routine gets the caller's own pointer";
    // The same item with IoQueueWorkItem: routine(DeviceObject, Context).
    ASSERT_TRUE(eventually([&] { return !idle_not(item); }));
    Seen io;
    KeInitializeEvent(&io.done, SynchronizationEvent, FALSE);
    IoQueueWorkItem(item, IoRoutine, DelayedWorkQueue, &io);
    ASSERT_EQ(wait_10_s(&io.done), STATUS_SUCCESS);
    EXPECT_EQ(io.irql.load(), PASSIVE_LEVEL);
    EXPECT_EQ(io.first.load(), static_cast<void *>(&device));
    EXPECT_EQ(io.second.load(), &io);
    ASSERT_TRUE(eventually([&] { return !idle_not(item); }));
    IoUninitializeWorkItem(item);
    std::free(item);
}

TEST_F(WorkItems, IoQueueWorkItemExOnAnAllocatedItemPassesThatItem) {
    Watchdog dog("IoQueueWorkItemEx of an allocated item", std::chrono::seconds(30));
    int device = 0;
    PIO_WORKITEM item = IoAllocateWorkItem(reinterpret_cast<PDEVICE_OBJECT>(&device));
    ASSERT_NE(item, nullptr);
    SeenEx seen;
    KeInitializeEvent(&seen.done, SynchronizationEvent, FALSE);
    IoQueueWorkItemEx(item, ExRoutine, DelayedWorkQueue, &seen);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.irql.load(), PASSIVE_LEVEL);
    EXPECT_EQ(seen.object.load(), &device);
    EXPECT_EQ(seen.context.load(), &seen);
    EXPECT_EQ(seen.item.load(), item);
    ASSERT_TRUE(eventually([&] { return !idle_not(item); }));
    IoFreeWorkItem(item);
}

// The routine uninitializes its item and frees the storage itself: ndislock must not touch the
// storage afterwards (run under AddressSanitizer, that is a use after free otherwise).
void UninitializesAndFreesItself(PVOID, PVOID context, PIO_WORKITEM item) {
    IoUninitializeWorkItem(item);
    std::memset(static_cast<void *>(item), 0xA5, IoSizeofWorkItem()); // the driver reuses its storage at once
    std::free(item);
    KeSetEvent(static_cast<KEVENT *>(context), IO_NO_INCREMENT, FALSE);
}

TEST_F(WorkItems, ARoutineMayUninitializeAndFreeItsOwnStorage) {
    Watchdog dog("work item uninitializing itself", std::chrono::seconds(30));
    int device = 0;
    KEVENT done;
    KeInitializeEvent(&done, SynchronizationEvent, FALSE);
    for (int i = 0; i < 20; ++i) { // the pool entries come back
        PIO_WORKITEM item = new_storage();
        ASSERT_NE(item, nullptr);
        IoInitializeWorkItem(&device, item);
        IoQueueWorkItemEx(item, UninitializesAndFreesItself, DelayedWorkQueue, &done);
        ASSERT_EQ(wait_10_s(&done), STATUS_SUCCESS);
    }
}

struct Requeue {
    KEVENT done;
    std::atomic<int> runs{0};
    PIO_WORKITEM item = nullptr;
    WORK_QUEUE_ITEM executive{};
};
constexpr int kRequeueRuns = 3;

void QueuesItselfAgain(PVOID, PVOID context, PIO_WORKITEM item) {
    auto *r = static_cast<Requeue *>(context);
    if (r->runs.fetch_add(1) + 1 < kRequeueRuns)
        IoQueueWorkItemEx(item, QueuesItselfAgain, DelayedWorkQueue, r); // taken off the queue before it runs
    else
        KeSetEvent(&r->done, IO_NO_INCREMENT, FALSE);
}

TEST_F(WorkItems, ARoutineMayQueueItsOwnItemAgain) {
    Watchdog dog("work item queueing itself again", std::chrono::seconds(30));
    int device = 0;
    Requeue r;
    KeInitializeEvent(&r.done, SynchronizationEvent, FALSE);
    r.item = new_storage();
    IoInitializeWorkItem(&device, r.item);
    IoQueueWorkItemEx(r.item, QueuesItselfAgain, DelayedWorkQueue, &r);
    ASSERT_EQ(wait_10_s(&r.done), STATUS_SUCCESS);
    ASSERT_TRUE(eventually([&] { return !idle_not(r.item); }));
    EXPECT_EQ(r.runs.load(), kRequeueRuns);
    IoUninitializeWorkItem(r.item);
    std::free(r.item);
}

// ---- The executive's WORK_QUEUE_ITEM: ExInitializeWorkItem, ExQueueWorkItem -----------------

struct SeenWorker {
    KEVENT done;
    WORK_QUEUE_ITEM item{};
    std::atomic<KIRQL> irql{99};
    std::atomic<std::thread::id> thread{};
    std::atomic<PVOID> parameter{nullptr};
    std::atomic<PLIST_ENTRY> flink{reinterpret_cast<PLIST_ENTRY>(1)};
    std::atomic<int> runs{0};
};

void WorkerRoutine(PVOID parameter) {
    auto *seen = static_cast<SeenWorker *>(parameter);
    seen->irql.store(KeGetCurrentIrql());
    seen->thread.store(std::this_thread::get_id());
    seen->parameter.store(parameter);
    seen->flink.store(seen->item.List.Flink); // no longer marked queued
    seen->runs.fetch_add(1);
    KeSetEvent(&seen->done, IO_NO_INCREMENT, FALSE);
}

TEST_F(WorkItems, ExInitializeWorkItemSetsTheWdkFields) {
    WORK_QUEUE_ITEM item;
    std::memset(static_cast<void *>(&item), 0x5A, sizeof item);
    int context = 0;
    ExInitializeWorkItem(&item, WorkerRoutine, &context);
    EXPECT_EQ(item.List.Flink, nullptr);
    EXPECT_EQ(item.WorkerRoutine, &WorkerRoutine);
    EXPECT_EQ(item.Parameter, &context);
    // The WDK's layout: the list entry, then the routine, then its parameter.
    EXPECT_EQ(offsetof(WORK_QUEUE_ITEM, List), 0u);
    EXPECT_EQ(offsetof(WORK_QUEUE_ITEM, WorkerRoutine), sizeof(LIST_ENTRY));
    EXPECT_EQ(offsetof(WORK_QUEUE_ITEM, Parameter), sizeof(LIST_ENTRY) + sizeof(PVOID));
    EXPECT_EQ(sizeof(WORK_QUEUE_ITEM), sizeof(LIST_ENTRY) + 2 * sizeof(PVOID));
}

TEST_F(WorkItems, ExQueueWorkItemRunsTheRoutineWithItsParameterAtPassiveLevel) {
    Watchdog dog("ExQueueWorkItem", std::chrono::seconds(30));
    SeenWorker seen;
    KeInitializeEvent(&seen.done, SynchronizationEvent, FALSE);
    ExInitializeWorkItem(&seen.item, WorkerRoutine, &seen);
    ExQueueWorkItem(&seen.item, DelayedWorkQueue);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.irql.load(), PASSIVE_LEVEL);
    EXPECT_NE(seen.thread.load(), std::this_thread::get_id());
    EXPECT_EQ(seen.parameter.load(), &seen);
    EXPECT_EQ(seen.flink.load(), nullptr) << "taken off the queue before its routine runs";
    // Queued again once it ran (no new ExInitializeWorkItem): it runs again.
    ExQueueWorkItem(&seen.item, CriticalWorkQueue);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.runs.load(), 2);
}

KDPC g_ex_dpc;
void ExQueueingDpc(PKDPC, PVOID context, PVOID, PVOID) {
    ExQueueWorkItem(&static_cast<SeenWorker *>(context)->item, DelayedWorkQueue);
}

TEST_F(WorkItems, ExQueueWorkItemFromDispatchLevelAndFromADpcRunsAtPassiveLevel) {
    Watchdog dog("ExQueueWorkItem from DISPATCH_LEVEL", std::chrono::seconds(30));
    SeenWorker seen;
    KeInitializeEvent(&seen.done, SynchronizationEvent, FALSE);
    ExInitializeWorkItem(&seen.item, WorkerRoutine, &seen);
    ExQueueWorkItem(&seen.item, DelayedWorkQueue); // at PASSIVE_LEVEL first: the workers run from here on
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExQueueWorkItem(&seen.item, DelayedWorkQueue);
    KeLowerIrql(old);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.irql.load(), PASSIVE_LEVEL);
    KeInitializeDpc(&g_ex_dpc, ExQueueingDpc, &seen);
    KeInsertQueueDpc(&g_ex_dpc, nullptr, nullptr);
    ASSERT_EQ(wait_10_s(&seen.done), STATUS_SUCCESS);
    EXPECT_EQ(seen.runs.load(), 3);
    EXPECT_EQ(seen.irql.load(), PASSIVE_LEVEL);
    KeFlushQueuedDpcs();
}

// ExInitializeWorkItem's page: the routine frees the item when it is done with it.
struct OwnedItem {
    WORK_QUEUE_ITEM item;
    KEVENT *done;
};
void FreesItsWorkQueueItem(PVOID parameter) {
    auto *owned = static_cast<OwnedItem *>(parameter);
    KEVENT *done = owned->done;
    delete owned;
    KeSetEvent(done, IO_NO_INCREMENT, FALSE);
}

TEST_F(WorkItems, AnExecutiveRoutineMayFreeItsWorkQueueItem) {
    Watchdog dog("WORK_QUEUE_ITEM freed by its routine", std::chrono::seconds(30));
    KEVENT done;
    KeInitializeEvent(&done, SynchronizationEvent, FALSE);
    for (int i = 0; i < 20; ++i) {
        auto *owned = new OwnedItem;
        owned->done = &done;
        ExInitializeWorkItem(&owned->item, FreesItsWorkQueueItem, owned);
        ExQueueWorkItem(&owned->item, DelayedWorkQueue);
        ASSERT_EQ(wait_10_s(&done), STATUS_SUCCESS);
    }
}

void ExQueuesItselfAgain(PVOID parameter) {
    auto *r = static_cast<Requeue *>(parameter);
    if (r->runs.fetch_add(1) + 1 < kRequeueRuns)
        ExQueueWorkItem(&r->executive, DelayedWorkQueue);
    else
        KeSetEvent(&r->done, IO_NO_INCREMENT, FALSE);
}

TEST_F(WorkItems, AnExecutiveRoutineMayQueueItsItemAgain) {
    Watchdog dog("WORK_QUEUE_ITEM queued again by its routine", std::chrono::seconds(30));
    Requeue r;
    KeInitializeEvent(&r.done, SynchronizationEvent, FALSE);
    ExInitializeWorkItem(&r.executive, ExQueuesItselfAgain, &r);
    ExQueueWorkItem(&r.executive, DelayedWorkQueue);
    ASSERT_EQ(wait_10_s(&r.done), STATUS_SUCCESS);
    EXPECT_EQ(r.runs.load(), kRequeueRuns);
}

TEST_F(WorkItems, ManyExecutiveItemsEachRunOnce) {
    Watchdog dog("2000 WORK_QUEUE_ITEMs", std::chrono::seconds(60));
    constexpr int kItems = 2000; // more than the pool once held: entries are reused
    struct Counted {
        WORK_QUEUE_ITEM item;
        std::atomic<int> runs{0};
    };
    std::vector<Counted> items(kItems);
    for (Counted &c : items) {
        ExInitializeWorkItem(
            &c.item, [](PVOID p) { static_cast<Counted *>(p)->runs.fetch_add(1); }, &c);
        ExQueueWorkItem(&c.item, DelayedWorkQueue);
    }
    ASSERT_TRUE(eventually([&] {
        for (Counted &c : items)
            if (c.runs.load() != 1) return false;
        return true;
    }));
    // Give a second run, which must not happen, the time to show (bounded; no timing asserted).
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (Counted &c : items)
        EXPECT_EQ(c.runs.load(), 1);
    // Idle once each has returned: the pool entries are back when the list is clear.
    ASSERT_TRUE(eventually([&] {
        for (Counted &c : items)
            if (__atomic_load_n(&c.item.List.Flink, __ATOMIC_ACQUIRE) != nullptr) return false; // the worker clears it
        return true;
    }));
}

// ---- Misuse: what the verifier reports (WorkItemMisuse, IrqlTooHighForCall, BugCheck) ---------

// The verifier on for the test (the unit tests run with it off), its findings forgotten after:
// the names below are not in the clean-corpus registration, which fails a test on any finding.
using ndislock_test::Finding;
class WorkItemMisuse : public ndislock_test::VerifierOnTest {
protected:
    // Exactly one finding, of this rule, at this line of this file, whose text has `says`.
    static void expect_one(const std::vector<Finding> &got, const char *rule, int line, const char *says) {
        ASSERT_EQ(got.size(), 1u) << dump(got);
        EXPECT_EQ(got[0].rule, rule) << dump(got);
        EXPECT_EQ(got[0].file, __FILE__) << dump(got);
        EXPECT_EQ(got[0].line, line) << dump(got);
        EXPECT_NE(got[0].message.find(says), std::string::npos) << dump(got);
    }
};

using ndislock_test::BusyWorkers;

void CountsRuns(PVOID parameter) { static_cast<std::atomic<int> *>(parameter)->fetch_add(1); }
void CountsRunsEx(PVOID, PVOID context, PIO_WORKITEM) { static_cast<std::atomic<int> *>(context)->fetch_add(1); }

TEST_F(WorkItemMisuse, ExQueueWorkItemOfAQueuedItemIsReportedOnceAndRunsOnce) {
    Watchdog dog("WORK_QUEUE_ITEM queued twice", std::chrono::seconds(30));
    BusyWorkers busy;
    busy.occupy();
    std::atomic<int> runs{0};
    WORK_QUEUE_ITEM item;
    ExInitializeWorkItem(&item, CountsRuns, &runs);
    ExQueueWorkItem(&item, DelayedWorkQueue);
    const int line = __LINE__ + 1;
    ExQueueWorkItem(&item, DelayedWorkQueue);
    expect_one(take(), "WorkItemMisuse", line, "still queued");
    busy.let_go();
    ASSERT_TRUE(eventually([&] { return runs.load() == 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // a second run would show (not asserted on time)
    EXPECT_EQ(runs.load(), 1) << "queued once";
    ASSERT_TRUE(eventually([&] { return __atomic_load_n(&item.List.Flink, __ATOMIC_ACQUIRE) == nullptr; }));
    EXPECT_TRUE(take().empty());
}

TEST_F(WorkItemMisuse, IoUninitializeWorkItemWhileQueuedIsReportedAndTheStorageIsLeftAlone) {
    Watchdog dog("work item uninitialized while queued", std::chrono::seconds(30));
    BusyWorkers busy;
    busy.occupy();
    int device = 0;
    std::atomic<int> runs{0};
    PIO_WORKITEM item = new_storage();
    IoInitializeWorkItem(&device, item);
    IoQueueWorkItemEx(item, CountsRunsEx, DelayedWorkQueue, &runs);
    const int line = __LINE__ + 1;
    IoUninitializeWorkItem(item);
    expect_one(take(), "WorkItemMisuse", line, "queued or running");
    std::memset(static_cast<void *>(item), 0xA5, IoSizeofWorkItem()); // the driver reuses it: ndislock must not care
    busy.let_go();
    ASSERT_TRUE(eventually([&] { return runs.load() == 1; })) << "the pending run still happens";
    std::free(item);
    EXPECT_TRUE(take().empty());
}

TEST_F(WorkItemMisuse, ARoutineUninitializingItsOwnItemIsNoMisuse) {
    Watchdog dog("work item uninitializing itself, verified", std::chrono::seconds(30));
    int device = 0;
    KEVENT done;
    KeInitializeEvent(&done, SynchronizationEvent, FALSE);
    PIO_WORKITEM item = new_storage();
    IoInitializeWorkItem(&device, item);
    IoQueueWorkItemEx(item, UninitializesAndFreesItself, DelayedWorkQueue, &done);
    ASSERT_EQ(wait_10_s(&done), STATUS_SUCCESS);
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // the worker's end of the run
    EXPECT_TRUE(take().empty());
}

TEST_F(WorkItemMisuse, TheWrongEndForEachKindIsReportedAndDoesNothing) {
    int device = 0;
    PIO_WORKITEM initialized = new_storage();
    IoInitializeWorkItem(&device, initialized);
    int line = __LINE__ + 1;
    IoFreeWorkItem(initialized);
    expect_one(take(), "WorkItemMisuse", line, "IoUninitializeWorkItem");
    PIO_WORKITEM allocated = IoAllocateWorkItem(reinterpret_cast<PDEVICE_OBJECT>(&device));
    ASSERT_NE(allocated, nullptr);
    line = __LINE__ + 1;
    IoUninitializeWorkItem(allocated);
    expect_one(take(), "WorkItemMisuse", line, "IoFreeWorkItem");
    // Nothing was done: each still ends the right way, without a report.
    IoUninitializeWorkItem(initialized);
    IoFreeWorkItem(allocated);
    std::free(initialized);
    EXPECT_TRUE(take().empty());
}

TEST_F(WorkItemMisuse, IoInitializeWorkItemOfAnInitializedItemIsReported) {
    int device = 0;
    PIO_WORKITEM item = new_storage();
    IoInitializeWorkItem(&device, item);
    const int line = __LINE__ + 1;
    IoInitializeWorkItem(&device, item);
    expect_one(take(), "WorkItemMisuse", line, "still an initialized work item");
    IoUninitializeWorkItem(item); // the one item: once is enough
    std::free(item);
    EXPECT_TRUE(take().empty());
}

TEST_F(WorkItemMisuse, QueueCallsAboveDispatchLevelAreReportedAndStillRun) {
    Watchdog dog("work items queued at DIRQL", std::chrono::seconds(30));
    int device = 0;
    std::atomic<int> runs{0};
    PIO_WORKITEM item = new_storage();
    IoInitializeWorkItem(&device, item);
    WORK_QUEUE_ITEM executive;
    ExInitializeWorkItem(&executive, CountsRuns, &runs);
    KIRQL old;
    KeRaiseIrql(5, &old); // a device IRQL: what an ISR runs at
    const int ex_line = __LINE__ + 1;
    IoQueueWorkItemEx(item, CountsRunsEx, DelayedWorkQueue, &runs);
    const int queue_line = __LINE__ + 1;
    ExQueueWorkItem(&executive, DelayedWorkQueue);
    KeLowerIrql(old);
    const std::vector<Finding> got = take();
    ASSERT_EQ(got.size(), 2u) << dump(got);
    EXPECT_EQ(got[0].rule, "IrqlTooHighForCall") << dump(got);
    EXPECT_EQ(got[0].line, ex_line) << dump(got);
    EXPECT_EQ(got[1].rule, "IrqlTooHighForCall") << dump(got);
    EXPECT_EQ(got[1].line, queue_line) << dump(got);
    ASSERT_TRUE(eventually([&] { return runs.load() == 2; }));
    ASSERT_TRUE(eventually([&] { return !idle_not(item); }));
    IoUninitializeWorkItem(item);
    std::free(item);
}

// A handle that is no live work item is a bug check (0xE4 WORKER_INVALID): terminal.
[[noreturn]] void queue_after_uninitialize() {
    static int device = 0;
    PIO_WORKITEM item = new_storage();
    IoInitializeWorkItem(&device, item);
    IoUninitializeWorkItem(item);
    IoQueueWorkItemEx(item, CountsRunsEx, DelayedWorkQueue, nullptr);
    std::fprintf(stderr, "no bug check\n");
    std::_Exit(0);
}

[[noreturn]] void queue_without_routine() {
    WORK_QUEUE_ITEM item{};
    ExQueueWorkItem(&item, DelayedWorkQueue);
    std::fprintf(stderr, "no bug check\n");
    std::_Exit(0);
}

using WorkItemMisuseDeathTest = ModelTest;
TEST_F(WorkItemMisuseDeathTest, AQueueingOfAnUninitializedItemIsABugCheck) {
    EXPECT_DEATH(queue_after_uninitialize(), "BugCheck.*IoQueueWorkItemEx\\(0x[0-9a-f]+\\): not a live work item");
    EXPECT_DEATH(queue_without_routine(), "BugCheck.*ExQueueWorkItem\\(0x[0-9a-f]+\\): its WorkerRoutine is NULL");
}

} // namespace
