/*
 * c11.header_only_compile, the WDK face: a driver-shaped unit that includes <ndis.h> from
 * include/wdk and uses the SAL 2 and legacy annotations, lists, interlocked operations, flags,
 * assertions and processor helpers, compiled as strict C11 and as C++20 (wdk_face.cpp), with and
 * without NDISLOCK_NO_SITE_MACROS. Compile only.
 */
#ifdef __cplusplus
#include <tuple> /* a standard header after which the WDK face must still be usable */
#endif
#include <ndis.h>
#include <wdm.h>
#include <ntddk.h>
#include <ntdef.h>
#include <ndis.h> /* include guards */

typedef struct _FACE_ADAPTER {
    NDIS_SPIN_LOCK Lock;
    KSPIN_LOCK ExLock;
    KSPIN_LOCK QueuedLock; /* in-stack queued acquires only */
    _Guarded_by_(Lock) LIST_ENTRY Queue;
    SINGLE_LIST_ENTRY Free;
    _Interlocked_ volatile LONG Refs;
    DECLSPEC_CACHEALIGN LONG64 Bytes;
    LARGE_INTEGER Stat;
    _Field_size_(8) PUCHAR Buffer;
} FACE_ADAPTER, *PFACE_ADAPTER;

C_ASSERT(FIELD_OFFSET(FACE_ADAPTER, Lock) == 0);

_IRQL_requires_max_(DISPATCH_LEVEL) _Requires_lock_not_held_(Adapter->Lock)
    _When_(return != 0, _Post_satisfies_(return > 0)) _Must_inspect_result_ _Success_(return != FALSE) BOOLEAN
    FaceSal2(_Inout_ PFACE_ADAPTER Adapter, _In_range_(0, 7) ULONG Index, _In_reads_bytes_(Length) const VOID *Data,
             _In_ ULONG Length, _Out_writes_bytes_(Length) PVOID Out, _Outptr_result_maybenull_ PVOID *Result,
             _Outptr_result_buffer_(Length) PUCHAR *Buffer, _In_opt_ PVOID Context);

_IRQL_requires_(PASSIVE_LEVEL) _IRQL_raises_(DISPATCH_LEVEL) _IRQL_saves_global_(OldIrql, Adapter)
    _Acquires_lock_(Adapter->Lock) _Acquires_exclusive_lock_(Adapter->Lock) _Requires_lock_held_(Adapter->Lock)
        _Releases_lock_(Adapter->Lock) _Acquires_shared_lock_(Adapter->Lock) _Releases_shared_lock_(Adapter->Lock)
            _Releases_exclusive_lock_(Adapter->Lock) _Kernel_requires_resource_held_(Adapter)
                _At_(Adapter->Refs, _Interlocked_operand_) _Function_class_(FACE_ROUTINE)
                    _Dispatch_type_(IRP_MJ_CREATE) VOID
    FaceSal2Locks(_Inout_ PFACE_ADAPTER Adapter, _IRQL_saves_ PKIRQL OldIrql, _IRQL_restores_ KIRQL NewIrql);

#ifndef __cplusplus
/* The legacy forms (C only by default: libstdc++ uses __in and __out itself). */
__drv_maxIRQL(DISPATCH_LEVEL) __drv_requiresIRQL(PASSIVE_LEVEL) __checkReturn NTSTATUS
    FaceLegacy(__in PFACE_ADAPTER Adapter, __in_opt PVOID Context, __out PULONG Out, __out_opt PULONG OutOpt,
               __inout PLIST_ENTRY Entry, __in_bcount(Length) PVOID Data, __in ULONG Length,
               __drv_aliasesMem PVOID Kept);
#endif

void FaceUsesEverything(PFACE_ADAPTER Adapter);

/* C linkage for declarations shared with C++ units (ntdef.h). */
EXTERN_C_START
VOID FaceExternBlock(VOID);
EXTERN_C_END
EXTERN_C VOID FaceExternOne(VOID);

void FaceUsesEverything(PFACE_ADAPTER Adapter) {
    LIST_ENTRY Local;
    SINGLE_LIST_ENTRY Entry;
    PROCESSOR_NUMBER Number;
    KIRQL OldIrql;
    ULONG Flags = 0;
    PLIST_ENTRY Removed;
    LONG Value = 0;
    PVOID Pointer = NULL;

    PAGED_CODE();
    NdisAllocateSpinLock(&Adapter->Lock);
    KeInitializeSpinLock(&Adapter->ExLock);
    InitializeListHead(&Adapter->Queue);
    NdisInitializeListHead(&Local);
    InsertTailList(&Adapter->Queue, &Local);
    Removed = RemoveHeadList(&Adapter->Queue);
    ASSERT(Removed == &Local);
    NT_ASSERT(IsListEmpty(&Adapter->Queue));
    NT_ASSERTMSG("empty", IsListEmpty(&Adapter->Queue));
    (void)NT_VERIFY(Removed != NULL);
    (void)NT_VERIFYMSG("removed", Removed != NULL);
    InsertHeadList(&Adapter->Queue, &Local);
    (void)RemoveEntryList(&Local);
    InsertHeadList(&Adapter->Queue, &Local);
    (void)RemoveTailList(&Adapter->Queue);
    PushEntryList(&Adapter->Free, &Entry);
    (void)PopEntryList(&Adapter->Free);
    (void)NdisInterlockedInsertTailList(&Adapter->Queue, &Local, &Adapter->Lock);
    (void)NdisInterlockedRemoveHeadList(&Adapter->Queue, &Adapter->Lock);
    (void)NdisInterlockedPushEntryList(&Adapter->Free, &Entry, &Adapter->Lock);
    (void)NdisInterlockedPopEntryList(&Adapter->Free, &Adapter->Lock);
    (void)ExInterlockedInsertHeadList(&Adapter->Queue, &Local, &Adapter->ExLock);
    (void)ExInterlockedRemoveHeadList(&Adapter->Queue, &Adapter->ExLock);
    (void)ExInterlockedPushEntryList(&Adapter->Free, &Entry, &Adapter->ExLock);
    (void)ExInterlockedPopEntryList(&Adapter->Free, &Adapter->ExLock);
    NdisInterlockedAddUlong((PULONG)&Value, 1, &Adapter->Lock);
    (void)NdisInterlockedIncrement(&Value);
    (void)InterlockedIncrement(&Adapter->Refs);
    (void)InterlockedCompareExchange64(&Adapter->Bytes, 1, 0);
    (void)InterlockedExchangeAddNoFence64(&Adapter->Bytes, 1);
    (void)InterlockedCompareExchangePointer(&Pointer, NULL, NULL);
    NdisInterlockedAddLargeStatistic(&Adapter->Stat, 5);
    WriteRelease(&Value, ReadAcquire(&Value));
    KeMemoryBarrier();
    NDIS_RAISE_IRQL_TO_DISPATCH(&OldIrql);
    if (NDIS_TEST_SEND_AT_DISPATCH_LEVEL(Flags) || NDIS_TEST_RECEIVE_CAN_PEND(Flags)) NDIS_SET_SEND_FLAG(Flags, 1);
    NDIS_LOWER_IRQL(OldIrql, DISPATCH_LEVEL);
    OldIrql = KeRaiseIrqlToSynchLevel();
    KeLowerIrql(OldIrql);
    (void)KeGetProcessorNumberFromIndex(0, &Number);
    (void)KeGetProcessorIndexFromNumber(&Number);
    (void)NdisProcessorNumberToIndex(Number);
    (void)NdisSystemProcessorCount();
    (void)KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS);
    (void)NdisGroupMaxProcessorCount(0);
    /* The Ke calls of issue #25: threaded-DPC and SYNCH_LEVEL locks, affinity, APC state. */
    {
        KLOCK_QUEUE_HANDLE Handle;
        GROUP_AFFINITY Group = {1, 0, {0, 0, 0}}, Previous;
        KAFFINITY Saved;
        OldIrql = KeAcquireSpinLockForDpc(&Adapter->ExLock);
        KeReleaseSpinLockForDpc(&Adapter->ExLock, OldIrql);
        KeAcquireInStackQueuedSpinLockForDpc(&Adapter->QueuedLock, &Handle);
        KeReleaseInStackQueuedSpinLockForDpc(&Handle);
        OldIrql = KeAcquireSpinLockRaiseToSynch(&Adapter->ExLock);
        KeReleaseSpinLock(&Adapter->ExLock, OldIrql);
        KeAcquireInStackQueuedSpinLockRaiseToSynch(&Adapter->QueuedLock, &Handle);
        KeReleaseInStackQueuedSpinLock(&Handle);
        Saved = KeSetSystemAffinityThreadEx(KeQueryActiveProcessors());
        KeRevertToUserAffinityThreadEx(Saved);
        KeSetSystemGroupAffinityThread(&Group, &Previous);
        KeRevertToUserGroupAffinityThread(&Previous);
        KeEnterCriticalRegion();
        KeEnterGuardedRegion();
        if (!KeAreApcsDisabled() || !KeAreAllApcsDisabled()) KeBugCheckEx(0x1, 0, 0, 0, 0);
        KeLeaveGuardedRegion();
        KeLeaveCriticalRegion();
    }
    /* Sequenced lists (wdm.h, ndis.h). */
    {
        static SLIST_HEADER SList;
        static SLIST_ENTRY SEntry;
        InitializeSListHead(&SList);
        NdisInitializeSListHead(&SList);
        (void)InterlockedPushEntrySList(&SList, &SEntry);
        (void)NdisInterlockedPushEntrySList(&SList, &SEntry, &Adapter->Lock);
        (void)ExInterlockedPushEntrySList(&SList, &SEntry, &Adapter->ExLock);
        (void)InterlockedPopEntrySList(&SList);
        (void)NdisInterlockedPopEntrySList(&SList, &Adapter->Lock);
        (void)ExInterlockedPopEntrySList(&SList, &Adapter->ExLock);
        (void)FirstEntrySList(&SList);
        (void)QueryDepthSList(&SList);
        (void)NdisQueryDepthSList(&SList);
        (void)ExQueryDepthSList(&SList);
        (void)InterlockedFlushSList(&SList);
        (void)NdisInterlockedFlushSList(&SList);
        (void)ExInterlockedFlushSList(&SList);
    }
    /* Memory and page macros (wdm.h, ndis.h). */
    {
        UCHAR Bytes[16];
        UCHAR Copy[16];
        NdisZeroMemory(Bytes, sizeof Bytes);
        NdisFillMemory(Bytes, 4, 0xAB);
        NdisMoveMemory(Copy, Bytes, sizeof Copy);
        RtlCopyMemory(Copy, Bytes, 8);
        RtlMoveMemory(Copy + 1, Copy, 8);
        RtlFillMemory(Copy, 2, 0);
        RtlZeroMemory(Copy, 1);
        (void)RtlSecureZeroMemory(Copy, sizeof Copy);
        if (!NdisEqualMemory(Bytes, Bytes, sizeof Bytes) || !RtlEqualMemory(Copy, Copy, 4))
            KeBugCheckEx(0x2, 0, 0, 0, 0);
        (void)Add2Ptr(Bytes, 4);
        (void)PtrOffset(Bytes, &Bytes[3]);
        (void)ROUND_TO_PAGES(PAGE_SIZE + 1);
        (void)BYTES_TO_PAGES(3 * PAGE_SIZE);
        (void)BYTE_OFFSET(Bytes);
        (void)PAGE_ALIGN(Bytes);
    }
    UNREFERENCED_PARAMETER(Adapter);
    NdisFreeSpinLock(&Adapter->Lock);
}

/* Timers as driver code writes them: a kernel timer with a DPC, an NDIS timer object. */
static KDEFERRED_ROUTINE FaceTimerDpc;
static VOID FaceTimerDpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2) {
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
}

static NDIS_TIMER_FUNCTION FaceNetTimer;
static VOID FaceNetTimer(PVOID S1, PVOID Context, PVOID S2, PVOID S3) {
    UNREFERENCED_PARAMETER(S1);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(S2);
    UNREFERENCED_PARAMETER(S3);
}

void FaceTimers(NDIS_HANDLE MiniportAdapterHandle);
void FaceTimers(NDIS_HANDLE MiniportAdapterHandle) {
    KTIMER Timer;
    KDPC Dpc;
    LARGE_INTEGER Due;
    NDIS_TIMER_CHARACTERISTICS Chars = {{0, 0, 0}, 0, NULL, NULL};
    NDIS_HANDLE TimerObject = NULL;
    KDPC_WATCHDOG_INFORMATION Info;
    PROCESSOR_NUMBER Number = {0, 0, 0};
    Due.QuadPart = -10000;
    KeInitializeTimerEx(&Timer, SynchronizationTimer);
    KeInitializeThreadedDpc(&Dpc, FaceTimerDpc, NULL);
    KeInitializeDpc(&Dpc, FaceTimerDpc, NULL);
    KeSetImportanceDpc(&Dpc, HighImportance);
    (void)KeSetTargetProcessorDpcEx(&Dpc, &Number);
    (void)KeSetTimerEx(&Timer, Due, 100, &Dpc);
    (void)KeReadStateTimer(&Timer);
    (void)KeCancelTimer(&Timer);
    (void)KeQueryDpcWatchdogInformation(&Info);
    Chars.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
    Chars.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
    Chars.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
    Chars.TimerFunction = FaceNetTimer;
    if (NdisAllocateTimerObject(MiniportAdapterHandle, &Chars, &TimerObject) == NDIS_STATUS_SUCCESS) {
        (void)NdisSetTimerObject(TimerObject, Due, 0, NULL);
        (void)NdisCancelTimerObject(TimerObject);
        NdisFreeTimerObject(TimerObject);
    }
}

/* Waits, the executive locks, time and work items (ndislock/wdk_dispatcher.h, wdk_work_items.h). */
static IO_WORKITEM_ROUTINE FaceIoWork;
static VOID FaceIoWork(PDEVICE_OBJECT DeviceObject, PVOID Context) {
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
}
static IO_WORKITEM_ROUTINE_EX FaceIoWorkEx;
static VOID FaceIoWorkEx(PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem) {
    UNREFERENCED_PARAMETER(IoObject);
    UNREFERENCED_PARAMETER(Context);
    IoUninitializeWorkItem(IoWorkItem); /* its own routine may */
}
static IO_WORKITEM_ROUTINE_EX FaceIoWorkExFree;
static VOID FaceIoWorkExFree(PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem) {
    UNREFERENCED_PARAMETER(IoObject);
    UNREFERENCED_PARAMETER(Context);
    IoFreeWorkItem(IoWorkItem);
}
static WORKER_THREAD_ROUTINE FaceExWork;
static VOID FaceExWork(PVOID Parameter) { UNREFERENCED_PARAMETER(Parameter); }
static NDIS_IO_WORKITEM_FUNCTION FaceNdisWork;
static VOID FaceNdisWork(PVOID Context, NDIS_HANDLE WorkItem) {
    NdisFreeIoWorkItem(WorkItem);
    UNREFERENCED_PARAMETER(Context);
}

VOID FaceWaits(NDIS_HANDLE AdapterHandle, PDEVICE_OBJECT Device) {
    KEVENT Event;
    NDIS_EVENT NdisEvent;
    NDIS_MUTEX Mutex;
    KMUTEX Kmutex;
    KSEMAPHORE Semaphore;
    KGUARDED_MUTEX Guarded;
    PKTHREAD Self;
    FAST_MUTEX Fast;
    ERESOURCE Resource;
    KWAIT_BLOCK Blocks[MAXIMUM_WAIT_OBJECTS];
    PVOID Objects[2];
    LARGE_INTEGER Timeout, Now;
    PIO_WORKITEM IoItem;
    NDIS_HANDLE NdisItem;
    static union {
        PVOID Align;
        UCHAR Bytes[64];
    } Storage; /* the driver's own storage for IoInitializeWorkItem */
    static WORK_QUEUE_ITEM ExItem;
    PWORKER_THREAD_ROUTINE ExRoutine = FaceExWork;
    PIO_WORKITEM_ROUTINE_EX ExIoRoutine = FaceIoWorkEx;
    NTSTATUS Status;
    Timeout.QuadPart = -10 * 1000 * 10; /* 10 ms, relative */
    KeInitializeEvent(&Event, SynchronizationEvent, FALSE);
    NdisInitializeEvent(&NdisEvent);
    (void)KeSetEvent(&Event, IO_NO_INCREMENT, FALSE);
    KeClearEvent(&Event);
    (void)KeResetEvent(&Event);
    (void)KeReadStateEvent(&Event);
    Status = KeWaitForSingleObject(&Event, Executive, KernelMode, FALSE, &Timeout);
    Objects[0] = &Event;
    Objects[1] = &NdisEvent.Event;
    if (Status == STATUS_TIMEOUT)
        Status = KeWaitForMultipleObjects(2, Objects, WaitAny, Executive, KernelMode, FALSE, &Timeout, Blocks);
    NDIS_INIT_MUTEX(&Mutex);
    if (NDIS_WAIT_FOR_MUTEX(&Mutex) == STATUS_SUCCESS) NDIS_RELEASE_MUTEX(&Mutex);
    KeInitializeMutex(&Kmutex, 0);
    (void)KeReadStateMutex(&Kmutex);
    Self = KeGetCurrentThread();
    if (NDIS_WAIT_FOR_MUTEX(&Kmutex) == STATUS_SUCCESS && Kmutex.OwnerThread == Self) KeReleaseMutex(&Kmutex, FALSE);
    (void)PsGetCurrentThread();
    (void)PsGetCurrentThreadId();
    (void)PsGetCurrentProcessId();
    KeInitializeSemaphore(&Semaphore, 0, 4);
    (void)KeReleaseSemaphore(&Semaphore, IO_NO_INCREMENT, 1, FALSE);
    if (KeReadStateSemaphore(&Semaphore) == 1)
        (void)KeWaitForSingleObject(&Semaphore, Executive, KernelMode, FALSE, NULL);
    KeInitializeGuardedMutex(&Guarded);
    KeAcquireGuardedMutex(&Guarded);
    KeReleaseGuardedMutex(&Guarded);
    if (KeTryToAcquireGuardedMutex(&Guarded)) KeReleaseGuardedMutex(&Guarded);
    ExInitializeFastMutex(&Fast);
    ExAcquireFastMutex(&Fast);
    ExReleaseFastMutex(&Fast);
    if (ExTryToAcquireFastMutex(&Fast)) ExReleaseFastMutex(&Fast);
    (void)ExInitializeResourceLite(&Resource);
    KeEnterCriticalRegion();
    if (ExAcquireResourceSharedLite(&Resource, TRUE)) ExReleaseResourceLite(&Resource);
    if (ExAcquireResourceExclusiveLite(&Resource, FALSE)) ExReleaseResourceLite(&Resource);
    (void)ExIsResourceAcquiredExclusiveLite(&Resource);
    (void)ExIsResourceAcquiredSharedLite(&Resource);
    KeLeaveCriticalRegion();
    (void)ExDeleteResourceLite(&Resource);
    (void)KeDelayExecutionThread(KernelMode, FALSE, &Timeout);
    KeQuerySystemTime(&Now);
    KeQuerySystemTimePrecise(&Now);
    NdisGetCurrentSystemTime(&Now);
    KeQueryTickCount(&Now);
    (void)KeQueryPerformanceCounter(NULL);
    (void)KeQueryInterruptTime();
    (void)KeQueryTimeIncrement();
    IoItem = IoAllocateWorkItem(Device);
    if (IoItem != NULL) {
        IoQueueWorkItem(IoItem, FaceIoWork, DelayedWorkQueue, NULL);
        IoFreeWorkItem(IoItem);
    }
    NdisItem = NdisAllocateIoWorkItem(AdapterHandle);
    if (NdisItem != NULL) NdisQueueIoWorkItem(NdisItem, FaceNdisWork, NULL);
    if (IoSizeofWorkItem() <= sizeof Storage.Bytes) {
        IoItem = (PIO_WORKITEM)(PVOID)Storage.Bytes;
        IoInitializeWorkItem(Device, IoItem);
        IoQueueWorkItemEx(IoItem, ExIoRoutine, DelayedWorkQueue, NULL);
    }
    IoItem = IoAllocateWorkItem(Device);
    if (IoItem != NULL) IoQueueWorkItemEx(IoItem, FaceIoWorkExFree, DelayedWorkQueue, AdapterHandle);
    ExInitializeWorkItem(&ExItem, ExRoutine, AdapterHandle);
    if (ExItem.List.Flink == NULL && ExItem.Parameter == AdapterHandle) ExQueueWorkItem(&ExItem, DelayedWorkQueue);
    (void)Status;
}

/* ---- The vocabulary of ndislock/wdk_debug.h, wdk_pool.h, wdk_strings.h, wdk_scheduling.h,
 * ndis_versions.h and the typed ordered accesses, as a driver spells it ---------------------- */

/* No NDISxxx define in this unit: ndislock assumes NDIS 6.30. */
#if !NDIS_SUPPORT_NDIS6 || !NDIS_SUPPORT_NDIS620 || !NDIS_SUPPORT_NDIS630 || NDIS_SUPPORT_NDIS640 ||                   \
    NDIS_SUPPORT_NDIS686
#error "with no NDIS version named, NDIS_SUPPORT_NDISxxx is 1 up to 6.30 and 0 above"
#endif
/* A driver's own fallback for an ordered access it expects the WDK to have: ndislock's is seen. */
#ifndef InterlockedExchangePointerRelease
#error "InterlockedExchangePointerRelease is not visible to #ifndef"
#endif
#ifndef ReadBooleanAcquire
#error "ReadBooleanAcquire is not visible to #ifndef"
#endif

DECLARE_CONST_UNICODE_STRING(FaceDeviceName, u"\\Device\\Face");
static const UNICODE_STRING FaceLinkName = RTL_CONSTANT_STRING(u"\\DosDevices\\Face");
static const STRING FaceAnsiName = RTL_CONSTANT_STRING("face");

typedef struct _FACE_SHARED {
    volatile BOOLEAN Up;
    volatile ULONG Generation;
    volatile ULONG64 Bytes;
    PVOID volatile Config;
} FACE_SHARED, *PFACE_SHARED;

VOID FaceVocabulary(PFACE_SHARED Shared, NDIS_HANDLE MiniportAdapterHandle);
VOID FaceVocabulary(PFACE_SHARED Shared, NDIS_HANDLE MiniportAdapterHandle) {
    UNICODE_STRING Name;
    NDIS_STRING NdisName;
    ANSI_STRING Ansi;
    PVOID Block;
    PUCHAR Buffer = NULL;
    LONGLONG Product = Int32x32To64(-2, 3);
    ULONGLONG UProduct = UInt32x32To64(MAXUINT32, 2);
    KPRIORITY Boost = IO_NETWORK_INCREMENT;
    (void)Boost;
    (void)LOW_REALTIME_PRIORITY;

    DbgPrint("face: %s %lu %I64x %p %ws %wZ\n", "up", (ULONG)1, (ULONG64)Product, (PVOID)Shared, FaceDeviceName.Buffer,
             &FaceLinkName);
    (void)DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "face: %Z %llu\n", &FaceAnsiName, UProduct);
    (void)DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_MASK | 0x8, "face: masked\n");
    KdPrint(("face: checked build only %d\n", 1));
    KdPrintEx((DPFLTR_IHVNETWORK_ID, DPFLTR_WARNING_LEVEL, "face: %d\n", 2));
    if (Shared == NULL) {
        DbgBreakPoint();
        KdBreakPoint();
    }

    WriteBooleanRelease(&Shared->Up, TRUE);
    if (ReadBooleanAcquire(&Shared->Up) && ReadBooleanNoFence(&Shared->Up) == ReadBooleanRaw(&Shared->Up))
        WriteULongRelease(&Shared->Generation, ReadULongAcquire(&Shared->Generation) + 1);
    WriteULongNoFence(&Shared->Generation, ReadULongNoFence(&Shared->Generation) | ReadULongRaw(&Shared->Generation));
    WriteULong64Release(&Shared->Bytes, ReadULong64Acquire(&Shared->Bytes) + ReadULong64NoFence(&Shared->Bytes));
    WriteUInt32Release((UINT32 volatile *)&Shared->Generation,
                       ReadUInt32Acquire((UINT32 const volatile *)&Shared->Generation));
    (void)ReadInt32NoFence((INT32 const volatile *)&Shared->Generation);
    WritePointerRaw(&Shared->Config, ReadPointerRaw(&Shared->Config));
    (void)InterlockedExchangePointerRelease(&Shared->Config, NULL);

    RtlInitUnicodeString(&Name, FaceDeviceName.Buffer);
    NdisInitUnicodeString(&NdisName, FaceLinkName.Buffer);
    RtlInitAnsiString(&Ansi, "face");
    if (RtlCompareMemory(Name.Buffer, NdisName.Buffer, Name.Length) == Name.Length) Product = 0;

    Block = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 0x65636146);
    if (Block != NULL) ExFreePoolWithTag(Block, 0x65636146);
    Block = ExAllocatePoolWithTag(NonPagedPoolNx, 64, 0x65636146);
    if (Block != NULL) ExFreePool(Block);
    Block = ExAllocatePoolZero(PagedPool, 16, 0x65636146);
    if (Block != NULL) ExFreePool(Block);
    Block = NdisAllocateMemoryWithTagPriority(MiniportAdapterHandle, 128, 0x65636146, NormalPoolPriority);
    if (Block != NULL) NdisFreeMemoryWithTagPriority(MiniportAdapterHandle, Block, 0x65636146);
    if (NdisAllocateMemoryWithTag((PVOID *)&Buffer, 32, 0x65636146) == NDIS_STATUS_SUCCESS)
        NdisFreeMemory(Buffer, 32, 0);

    if (KeShouldYieldProcessor()) (void)KeGetCurrentProcessorIndex();
    (void)NDIS_CURRENT_PROCESSOR_NUMBER;
    if (!NT_SUCCESS(NDIS_STATUS_MEDIA_DISCONNECTED) && NDIS_STATUS_LINK_STATE != NDIS_STATUS_MEDIA_CONNECT) (void)Ansi;
    (void)Product;
}
