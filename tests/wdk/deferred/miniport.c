/*
 * The deferred-work miniport (miniport.h): its adapter context, datapath, watchdog timer and work
 * item. Written as a Windows miniport is; its only concessions to the harness are the MpHarness*
 * calls standing in for NdisMSendNetBufferListsComplete / NdisMIndicateReceiveNetBufferLists, and
 * MpIdle / MpQueryCounters.
 *
 * Lock and IRQL plan:
 *   Lock (NDIS_SPIN_LOCK)   SendQueue and SendDepth, RecvFreeList, ReturnList, TxReaped, RxTaken,
 *                           the watchdog's LastOldestSend. Taken with NdisAcquireSpinLock at PASSIVE_LEVEL (send,
 *                           return, the work item) and NdisDprAcquireSpinLock at DISPATCH_LEVEL
 *                           (the interrupt DPC and the timer DPC). Never held across a call out.
 *   the registers           the ISR reads them at DIRQL without a lock (it may take none there).
 *   counters                InterlockedIncrement64 and friends: read by the harness at any time.
 *   WorkItemOutstanding     InterlockedCompareExchange: one work item in flight at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "miniport.h"

typedef struct _MP_ADAPTER {
    NDIS_HANDLE AdapterHandle;
    NDIS_HANDLE InterruptHandle;
    NDIS_HANDLE WatchdogTimer;
    PMP_REGISTERS Registers;
    PMP_COUNTERS CountersAtHalt;

    NDIS_SPIN_LOCK Lock;
    _Guarded_by_(Lock) LIST_ENTRY SendQueue;       /* sent to the hardware, not yet completed */
    _Guarded_by_(Lock) LIST_ENTRY RecvFreeList;    /* receive buffers ready for the hardware */
    _Guarded_by_(Lock) LIST_ENTRY ReturnList;      /* returned by the protocol, not yet reclaimed */
    _Guarded_by_(Lock) LONG64 TxQueued;            /* written to the doorbell */
    _Guarded_by_(Lock) ULONG SendDepth;            /* entries on SendQueue */
    DECLSPEC_CACHEALIGN volatile LONG64 TxReaped;  /* written under Lock, read by the ISR */
    volatile LONG64 RxTaken;                       /* written under Lock, read by the ISR */
    _Guarded_by_(Lock) PLIST_ENTRY LastOldestSend; /* the watchdog's last look: the send queue's head */

    /* The work item in flight: queued by the watchdog, freed by its own routine. */
    volatile LONG WorkItemOutstanding;
    NDIS_HANDLE WorkItem;

    MP_COUNTERS Counters; /* Interlocked*; MaxSendDepth written under Lock */
    MP_PACKET RecvBuffers[MP_RX_BUFFERS];
} MP_ADAPTER, *PMP_ADAPTER;

static MINIPORT_ISR MpInterrupt;
static MINIPORT_INTERRUPT_DPC MpInterruptDpc;
static NDIS_TIMER_FUNCTION MpWatchdogTimer;
static NDIS_IO_WORKITEM_FUNCTION MpWatchdogWorkItem;

/* ---- Send and return (PASSIVE_LEVEL) ---------------------------------------------------------- */

_Use_decl_annotations_ BOOLEAN MpSendPacket(NDIS_HANDLE MiniportAdapterContext, PMP_PACKET Packet) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportAdapterContext;

    NdisAcquireSpinLock(&Adapter->Lock);
    if (Adapter->SendDepth >= MP_SEND_QUEUE_LIMIT) {
        NdisReleaseSpinLock(&Adapter->Lock);
        return FALSE;
    }
    InsertTailList(&Adapter->SendQueue, &Packet->Link);
    Adapter->SendDepth++;
    Adapter->TxQueued++;
    /* Under the lock, so the doorbell only grows and never runs ahead of the queue. */
    WriteRelease64(&Adapter->Registers->TxDoorbell, Adapter->TxQueued);
    NdisReleaseSpinLock(&Adapter->Lock);
    InterlockedIncrement64(&Adapter->Counters.Queued);
    return TRUE;
}

_Use_decl_annotations_ VOID MpReturnPacket(NDIS_HANDLE MiniportAdapterContext, PMP_PACKET Packet) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportAdapterContext;

    NdisAcquireSpinLock(&Adapter->Lock);
    InsertTailList(&Adapter->ReturnList, &Packet->Link); /* the watchdog reclaims it */
    NdisReleaseSpinLock(&Adapter->Lock);
    InterlockedIncrement64(&Adapter->Counters.Returned);
}

/* ---- Interrupt (DIRQL) and its DPC (DISPATCH_LEVEL) ------------------------------------------- */

/* Work the hardware has announced that the driver has not taken yet. Reads only: any IRQL. */
static BOOLEAN MpHardwareHasWork(PMP_ADAPTER Adapter) {
    return (BOOLEAN)(ReadAcquire64(&Adapter->Registers->TxSent) > ReadAcquire64(&Adapter->TxReaped) ||
                     ReadAcquire64(&Adapter->Registers->RxArrived) > ReadAcquire64(&Adapter->RxTaken));
}

_Use_decl_annotations_ static BOOLEAN MpInterrupt(NDIS_HANDLE MiniportInterruptContext,
                                                  PBOOLEAN QueueDefaultInterruptDpc, PULONG TargetProcessors) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportInterruptContext;

    *TargetProcessors = 0;
    *QueueDefaultInterruptDpc = MpHardwareHasWork(Adapter);
    if (!*QueueDefaultInterruptDpc) return FALSE; /* not ours, or already taken by a DPC */
    InterlockedIncrement64(&Adapter->Counters.IsrClaimed);
    return TRUE;
}

_Use_decl_annotations_ static VOID MpInterruptDpc(NDIS_HANDLE MiniportInterruptContext, PVOID MiniportDpcContext,
                                                  PVOID ReceiveThrottleParameters, PVOID NdisReserved2) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportInterruptContext;
    LIST_ENTRY Completed, Received;
    LONG64 Sent, Arrived;
    ULONG Budget;

    UNREFERENCED_PARAMETER(MiniportDpcContext);
    UNREFERENCED_PARAMETER(ReceiveThrottleParameters);
    UNREFERENCED_PARAMETER(NdisReserved2);
    InitializeListHead(&Completed);
    InitializeListHead(&Received);
    InterlockedIncrement64(&Adapter->Counters.DpcRuns);
    Sent = ReadAcquire64(&Adapter->Registers->TxSent);
    Arrived = ReadAcquire64(&Adapter->Registers->RxArrived);

    NdisDprAcquireSpinLock(&Adapter->Lock);
    /* Sends the hardware is done with, oldest first. */
    for (Budget = 0; Budget < MP_DPC_BUDGET && Adapter->TxReaped < Sent; Budget++) {
        NT_ASSERT(!IsListEmpty(&Adapter->SendQueue));
        InsertTailList(&Completed, RemoveHeadList(&Adapter->SendQueue));
        Adapter->SendDepth--;
        WriteRelease64(&Adapter->TxReaped, Adapter->TxReaped + 1);
    }
    /* Arrived packets, into free buffers; with none free they wait for the watchdog's reclaim
     * (the hardware keeps the line up meanwhile). */
    for (Budget = 0; Budget < MP_DPC_BUDGET && Adapter->RxTaken < Arrived && !IsListEmpty(&Adapter->RecvFreeList);
         Budget++) {
        PMP_PACKET Buffer = CONTAINING_RECORD(RemoveHeadList(&Adapter->RecvFreeList), MP_PACKET, Link);
        Buffer->Id = (ULONG64)Adapter->RxTaken;
        InsertTailList(&Received, &Buffer->Link);
        WriteRelease64(&Adapter->RxTaken, Adapter->RxTaken + 1);
    }
    NdisDprReleaseSpinLock(&Adapter->Lock);

    /* Up the stack, outside the lock: NDIS may call back into the miniport. */
    while (!IsListEmpty(&Completed)) {
        MpHarnessSendComplete(CONTAINING_RECORD(RemoveHeadList(&Completed), MP_PACKET, Link));
        InterlockedIncrement64(&Adapter->Counters.Completed);
    }
    while (!IsListEmpty(&Received)) {
        InterlockedIncrement64(&Adapter->Counters.Indicated);
        MpHarnessIndicateReceive(Adapter, CONTAINING_RECORD(RemoveHeadList(&Received), MP_PACKET, Link));
    }
}

/* ---- Watchdog timer (DISPATCH_LEVEL) and its work item (PASSIVE_LEVEL) ------------------------ */

_Use_decl_annotations_ static VOID MpWatchdogTimer(PVOID SystemSpecific1, PVOID FunctionContext, PVOID SystemSpecific2,
                                                   PVOID SystemSpecific3) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)FunctionContext;
    LONG64 Reclaimed = 0, Ticks;
    PLIST_ENTRY Entry;
    ULONG Walked = 0;
    BOOLEAN Stalled, Mismatch;

    UNREFERENCED_PARAMETER(SystemSpecific1);
    UNREFERENCED_PARAMETER(SystemSpecific2);
    UNREFERENCED_PARAMETER(SystemSpecific3);
    NT_ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);

    NdisDprAcquireSpinLock(&Adapter->Lock);
    while (!IsListEmpty(&Adapter->ReturnList)) {
        InsertTailList(&Adapter->RecvFreeList, RemoveHeadList(&Adapter->ReturnList));
        Reclaimed++;
    }
    /* Stalled: sends waiting, and the oldest is the one that was oldest last tick. The walk also
     * checks the queue against its count. */
    for (Entry = Adapter->SendQueue.Flink; Entry != &Adapter->SendQueue; Entry = Entry->Flink)
        Walked++;
    Mismatch = (BOOLEAN)(Walked != Adapter->SendDepth);
    Stalled = (BOOLEAN)(Walked != 0 && Adapter->SendQueue.Flink == Adapter->LastOldestSend);
    Adapter->LastOldestSend = Walked != 0 ? Adapter->SendQueue.Flink : NULL;
    NdisDprReleaseSpinLock(&Adapter->Lock);
    if (Mismatch) InterlockedIncrement64(&Adapter->Counters.WalkMismatches);

    if (Reclaimed != 0) InterlockedAdd64(&Adapter->Counters.Reclaimed, Reclaimed);
    if (Stalled) InterlockedIncrement64(&Adapter->Counters.StalledTicks);
    Ticks = InterlockedIncrement64(&Adapter->Counters.TimerTicks);

    /* Every few ticks, the PASSIVE_LEVEL part; one at a time. The first work item was allocated at
     * initialize (below DISPATCH_LEVEL); each later one here, after its predecessor freed itself. */
    if (Ticks % MP_WORK_ITEM_EVERY != 0 || InterlockedCompareExchange(&Adapter->WorkItemOutstanding, 1, 0) != 0) return;
    if (Adapter->WorkItem == NULL) Adapter->WorkItem = NdisAllocateIoWorkItem(Adapter->AdapterHandle);
    if (Adapter->WorkItem == NULL) {
        InterlockedIncrement64(&Adapter->Counters.WorkItemAllocFailures);
        InterlockedExchange(&Adapter->WorkItemOutstanding, 0);
        return;
    }
    InterlockedIncrement64(&Adapter->Counters.WorkItemsQueued);
    NdisQueueIoWorkItem(Adapter->WorkItem, MpWatchdogWorkItem, Adapter);
}

_Use_decl_annotations_ static VOID MpWatchdogWorkItem(PVOID WorkItemContext, NDIS_HANDLE NdisIoWorkItemHandle) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)WorkItemContext;

    if (KeGetCurrentIrql() != PASSIVE_LEVEL) InterlockedIncrement64(&Adapter->Counters.WorkItemsWrongIrql);
    NdisAcquireSpinLock(&Adapter->Lock);
    if ((LONG64)Adapter->SendDepth > Adapter->Counters.MaxSendDepth)
        Adapter->Counters.MaxSendDepth = Adapter->SendDepth;
    NdisReleaseSpinLock(&Adapter->Lock);

    /* Done with the item: free it (its own routine may), then let the watchdog queue the next. */
    Adapter->WorkItem = NULL;
    NdisFreeIoWorkItem(NdisIoWorkItemHandle);
    InterlockedIncrement64(&Adapter->Counters.WorkItemsRun);
    InterlockedExchange(&Adapter->WorkItemOutstanding, 0); /* last: halt may free Adapter after this */
}

/* ---- Initialize and halt (PASSIVE_LEVEL) ------------------------------------------------------ */

static VOID MpFreeAdapter(PMP_ADAPTER Adapter) {
    if (Adapter->WorkItem != NULL) NdisFreeIoWorkItem(Adapter->WorkItem);
    NdisFreeSpinLock(&Adapter->Lock);
    free(Adapter);
}

_Use_decl_annotations_ NDIS_STATUS MpInitializeEx(NDIS_HANDLE MiniportAdapterHandle, NDIS_HANDLE MiniportDriverContext,
                                                  PNDIS_MINIPORT_INIT_PARAMETERS MiniportInitParameters) {
    PMP_DRIVER_CONTEXT Driver = (PMP_DRIVER_CONTEXT)MiniportDriverContext;
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS Interrupt;
    NDIS_TIMER_CHARACTERISTICS Timer;
    LARGE_INTEGER DueTime;
    PMP_ADAPTER Adapter;
    NDIS_STATUS Status;
    ULONG i;

    UNREFERENCED_PARAMETER(MiniportInitParameters);
    PAGED_CODE();

    /* NdisAllocateMemoryWithTagPriority's stand-in: cache-aligned, as the context declares. */
    Adapter = (PMP_ADAPTER)aligned_alloc(SYSTEM_CACHE_ALIGNMENT_SIZE,
                                         ALIGN_UP_BY(sizeof(*Adapter), SYSTEM_CACHE_ALIGNMENT_SIZE));
    if (Adapter == NULL) return NDIS_STATUS_RESOURCES;
    memset(Adapter, 0, sizeof(*Adapter));
    Adapter->AdapterHandle = MiniportAdapterHandle;
    Adapter->Registers = Driver->Registers;
    Adapter->CountersAtHalt = Driver->CountersAtHalt;
    NdisAllocateSpinLock(&Adapter->Lock);
    InitializeListHead(&Adapter->SendQueue);
    InitializeListHead(&Adapter->RecvFreeList);
    InitializeListHead(&Adapter->ReturnList);
    for (i = 0; i < MP_RX_BUFFERS; i++)
        InsertTailList(&Adapter->RecvFreeList, &Adapter->RecvBuffers[i].Link);

    /* The first work item now, below DISPATCH_LEVEL (later ones come from the timer DPC). */
    Adapter->WorkItem = NdisAllocateIoWorkItem(MiniportAdapterHandle);
    if (Adapter->WorkItem == NULL) {
        MpFreeAdapter(Adapter);
        return NDIS_STATUS_RESOURCES;
    }

    memset(&Interrupt, 0, sizeof(Interrupt));
    Interrupt.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
    Interrupt.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
    Interrupt.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
    Interrupt.InterruptHandler = MpInterrupt;
    Interrupt.InterruptDpcHandler = MpInterruptDpc;
    Status = NdisMRegisterInterruptEx(MiniportAdapterHandle, Adapter, &Interrupt, &Adapter->InterruptHandle);
    if (Status != NDIS_STATUS_SUCCESS) {
        MpFreeAdapter(Adapter);
        return Status;
    }

    memset(&Timer, 0, sizeof(Timer));
    Timer.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
    Timer.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
    Timer.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
    Timer.AllocationTag = 0x74577043; /* 'CpWt' */
    Timer.TimerFunction = MpWatchdogTimer;
    Timer.FunctionContext = Adapter;
    Status = NdisAllocateTimerObject(MiniportAdapterHandle, &Timer, &Adapter->WatchdogTimer);
    if (Status != NDIS_STATUS_SUCCESS) {
        NdisMDeregisterInterruptEx(Adapter->InterruptHandle);
        MpFreeAdapter(Adapter);
        return Status;
    }
    DueTime.QuadPart = -(LONGLONG)MP_WATCHDOG_PERIOD_MS * 10000; /* relative, 100 ns units */
    NdisSetTimerObject(Adapter->WatchdogTimer, DueTime, MP_WATCHDOG_PERIOD_MS, NULL);

    Driver->Adapter = Adapter; /* stands in for NdisMSetMiniportAttributes */
    Driver->InterruptHandle = Adapter->InterruptHandle;
    return NDIS_STATUS_SUCCESS;
}

_Use_decl_annotations_ VOID MpHaltEx(NDIS_HANDLE MiniportAdapterContext, NDIS_HALT_ACTION HaltAction) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportAdapterContext;
    ULONG Waited;
    LONG Free = 0;
    PLIST_ENTRY Entry;

    UNREFERENCED_PARAMETER(HaltAction);
    PAGED_CODE();

    /* The timer first: a periodic one is cancelled at PASSIVE_LEVEL, which waits for a routine
     * still running. After it no work item is queued; wait for the one in flight to free itself. */
    NdisCancelTimerObject(Adapter->WatchdogTimer);
    NdisFreeTimerObject(Adapter->WatchdogTimer);
    for (Waited = 0; ReadAcquire(&Adapter->WorkItemOutstanding) != 0 && Waited < 10000; Waited++)
        NdisMSleep(1000);
    if (ReadAcquire(&Adapter->WorkItemOutstanding) != 0) {
        /* A hung work item: leak the adapter rather than free memory it uses. */
        Adapter->CountersAtHalt->HaltWaitTimedOut = 1;
        return;
    }
    NdisMDeregisterInterruptEx(Adapter->InterruptHandle); /* waits for ISRs and DPCs */

    /* Whatever the protocol returned since the last tick. */
    while (!IsListEmpty(&Adapter->ReturnList)) {
        InsertTailList(&Adapter->RecvFreeList, RemoveHeadList(&Adapter->ReturnList));
        Adapter->Counters.Reclaimed++;
    }
    for (Entry = Adapter->RecvFreeList.Flink; Entry != &Adapter->RecvFreeList; Entry = Entry->Flink)
        Free++;
    NT_ASSERT(IsListEmpty(&Adapter->SendQueue));
    *Adapter->CountersAtHalt = Adapter->Counters;
    Adapter->CountersAtHalt->FreeAtHalt = Free;
    MpFreeAdapter(Adapter);
}

/* ---- For the harness -------------------------------------------------------------------------- */

BOOLEAN MpIdle(NDIS_HANDLE MiniportAdapterContext) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportAdapterContext;
    return (BOOLEAN)(ReadAcquire64(&Adapter->TxReaped) == ReadAcquire64(&Adapter->Registers->TxDoorbell) &&
                     ReadAcquire64(&Adapter->RxTaken) == ReadAcquire64(&Adapter->Registers->RxArrived));
}

VOID MpQueryCounters(NDIS_HANDLE MiniportAdapterContext, PMP_COUNTERS Out) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportAdapterContext;
    memset(Out, 0, sizeof(*Out));
    Out->TimerTicks = ReadAcquire64(&Adapter->Counters.TimerTicks);
    Out->WorkItemsQueued = ReadAcquire64(&Adapter->Counters.WorkItemsQueued);
    Out->WorkItemsRun = ReadAcquire64(&Adapter->Counters.WorkItemsRun);
    Out->Completed = ReadAcquire64(&Adapter->Counters.Completed);
    Out->Indicated = ReadAcquire64(&Adapter->Counters.Indicated);
}
