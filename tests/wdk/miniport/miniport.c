/*
 * A small NDIS 6 miniport, written as one for Windows would be and built unchanged against
 * ndislock's WDK face (#include <ndis.h>): an adapter context with LIST_ENTRY queues guarded by
 * NDIS_SPIN_LOCKs, interlocked counters, the DISPATCH_LEVEL flags deciding the lock form, an ISR
 * that only reads the "hardware" and queues its DPC, a DPC that completes sends and indicates
 * receives. Its only concessions to the test harness are MpHwReceive, MpGetCounters and MpSetBug.
 */
#include <stdlib.h>
#include <string.h>

#include "miniport.h"

/* A receive buffer: the NBL NDIS sees, and the link that keeps it on the free list. */
typedef struct _MP_RFD {
    LIST_ENTRY Link;
    NET_BUFFER_LIST Nbl;
    ULONG Index;
} MP_RFD, *PMP_RFD;

typedef struct _MP_ADAPTER {
    NDIS_HANDLE AdapterHandle;
    NDIS_HANDLE InterruptHandle;

    _Guarded_by_(SendLock) LIST_ENTRY SendWaitList; /* NBLs the "hardware" is sending */
    NDIS_SPIN_LOCK SendLock;

    LIST_ENTRY RecvFreeList; /* guarded by RecvLock (NdisInterlocked*) */
    NDIS_SPIN_LOCK RecvLock;
    ULONG FreeRxBuffers; /* guarded by RecvLock (NdisInterlockedAddUlong) */

    DECLSPEC_CACHEALIGN volatile LONG HwRxPending; /* "device register": receive events */
    volatile LONG HwTxDoorbell;                    /* "device register": sends queued */
    volatile LONG IsrRxEvents;                     /* what the ISR saw, for the DPC */

    LONG64 SentNbls, CompletedNbls, Indicated, RxDropped, Returned;
    LARGE_INTEGER BytesSent;
    LONG IsrClaimed, DpcRuns;
    MP_BUG Bug;

    MP_RFD Rfd[MP_RX_BUFFERS];
} MP_ADAPTER, *PMP_ADAPTER;

C_ASSERT(sizeof(((NET_BUFFER_LIST *)0)->MiniportReserved) >= sizeof(LIST_ENTRY));
#define MP_NBL_LINK(Nbl) ((PLIST_ENTRY) & (Nbl)->MiniportReserved[0])
#define MP_NBL_FROM_LINK(Entry) CONTAINING_RECORD((PVOID *)(Entry), NET_BUFFER_LIST, MiniportReserved[0])

static MINIPORT_ISR MpInterrupt;
static MINIPORT_INTERRUPT_DPC MpInterruptDpc;

_IRQL_requires_max_(APC_LEVEL) static VOID MpPagedHelper(_In_ PMP_ADAPTER Adapter) {
    PAGED_CODE();
    UNREFERENCED_PARAMETER(Adapter);
}

_Use_decl_annotations_ NDIS_STATUS MpInitializeEx(NDIS_HANDLE MiniportAdapterHandle, NDIS_HANDLE MiniportDriverContext,
                                                  PNDIS_MINIPORT_INIT_PARAMETERS MiniportInitParameters) {
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS Interrupt;
    PMP_ADAPTER Adapter;
    ULONG i;
    NDIS_STATUS Status;

    UNREFERENCED_PARAMETER(MiniportInitParameters);
    PAGED_CODE();

    /* NdisAllocateMemoryWithTagPriority's stand-in: cache-aligned, as the context declares. */
    Adapter = (PMP_ADAPTER)aligned_alloc(SYSTEM_CACHE_ALIGNMENT_SIZE,
                                         ALIGN_UP_BY(sizeof(*Adapter), SYSTEM_CACHE_ALIGNMENT_SIZE));
    if (Adapter == NULL) return NDIS_STATUS_RESOURCES;
    memset(Adapter, 0, sizeof(*Adapter));
    Adapter->AdapterHandle = MiniportAdapterHandle;
    NdisAllocateSpinLock(&Adapter->SendLock);
    NdisAllocateSpinLock(&Adapter->RecvLock);
    InitializeListHead(&Adapter->SendWaitList);
    NdisInitializeListHead(&Adapter->RecvFreeList);
    for (i = 0; i < RTL_NUMBER_OF(Adapter->Rfd); i++) {
        Adapter->Rfd[i].Index = i;
        Adapter->Rfd[i].Nbl.DataLength = 60 + i;
        InsertTailList(&Adapter->RecvFreeList, &Adapter->Rfd[i].Link);
    }
    Adapter->FreeRxBuffers = MP_RX_BUFFERS;

    Interrupt.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
    Interrupt.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
    Interrupt.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
    Interrupt.InterruptHandler = MpInterrupt;
    Interrupt.InterruptDpcHandler = MpInterruptDpc;
    Interrupt.DisableInterruptHandler = NULL;
    Interrupt.EnableInterruptHandler = NULL;
    Interrupt.MsiSupported = FALSE;
    Interrupt.MsiSyncWithAllMessages = FALSE;
    Interrupt.MessageInterruptHandler = NULL;
    Interrupt.MessageInterruptDpcHandler = NULL;
    Interrupt.DisableMessageInterruptHandler = NULL;
    Interrupt.EnableMessageInterruptHandler = NULL;
    Interrupt.InterruptType = NDIS_CONNECT_LINE_BASED;
    Interrupt.MessageInfoTable = NULL;
    Status = NdisMRegisterInterruptEx(MiniportAdapterHandle, Adapter, &Interrupt, &Adapter->InterruptHandle);
    if (!NT_SUCCESS(Status)) {
        NdisFreeSpinLock(&Adapter->SendLock);
        NdisFreeSpinLock(&Adapter->RecvLock);
        free(Adapter);
        return Status;
    }
    *(NDIS_HANDLE *)MiniportDriverContext = Adapter; /* stands in for NdisMSetMiniportAttributes */
    return NDIS_STATUS_SUCCESS;
}

_Use_decl_annotations_ VOID MpHaltEx(NDIS_HANDLE MiniportAdapterContext, NDIS_HALT_ACTION HaltAction) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportAdapterContext;
    UNREFERENCED_PARAMETER(HaltAction);
    PAGED_CODE();
    NdisMDeregisterInterruptEx(Adapter->InterruptHandle);
    NT_ASSERT(IsListEmpty(&Adapter->SendWaitList));
    NdisFreeSpinLock(&Adapter->SendLock);
    NdisFreeSpinLock(&Adapter->RecvLock);
    free(Adapter);
}

_Use_decl_annotations_ VOID MpSendNetBufferLists(NDIS_HANDLE MiniportAdapterContext, PNET_BUFFER_LIST NetBufferLists,
                                                 NDIS_PORT_NUMBER PortNumber, ULONG SendFlags) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportAdapterContext;
    BOOLEAN AtDispatch = NDIS_TEST_SEND_AT_DISPATCH_LEVEL(SendFlags);
    PNET_BUFFER_LIST Nbl, Next;
    LONG64 Count = 0;

    UNREFERENCED_PARAMETER(PortNumber);
    if (AtDispatch)
        NdisDprAcquireSpinLock(&Adapter->SendLock);
    else
        NdisAcquireSpinLock(&Adapter->SendLock);
    for (Nbl = NetBufferLists; Nbl != NULL; Nbl = Next) {
        Next = NET_BUFFER_LIST_NEXT_NBL(Nbl);
        NET_BUFFER_LIST_NEXT_NBL(Nbl) = NULL;
        InsertTailList(&Adapter->SendWaitList, MP_NBL_LINK(Nbl));
        NdisInterlockedAddLargeStatistic(&Adapter->BytesSent, Nbl->DataLength);
        Count++;
    }
    if (AtDispatch)
        NdisDprReleaseSpinLock(&Adapter->SendLock);
    else
        NdisReleaseSpinLock(&Adapter->SendLock);

    InterlockedExchangeAdd64(&Adapter->SentNbls, Count);
    InterlockedExchange(&Adapter->HwTxDoorbell, 1);
}

_Use_decl_annotations_ VOID MpReturnNetBufferLists(NDIS_HANDLE MiniportAdapterContext, PNET_BUFFER_LIST NetBufferLists,
                                                   ULONG ReturnFlags) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportAdapterContext;
    PNET_BUFFER_LIST Nbl, Next;
    KIRQL OldIrql = PASSIVE_LEVEL;
    BOOLEAN AtDispatch = NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(ReturnFlags);

    if (!AtDispatch) NDIS_RAISE_IRQL_TO_DISPATCH(&OldIrql);
    for (Nbl = NetBufferLists; Nbl != NULL; Nbl = Next) {
        PMP_RFD Rfd = CONTAINING_RECORD(Nbl, MP_RFD, Nbl);
        Next = NET_BUFFER_LIST_NEXT_NBL(Nbl);
        NET_BUFFER_LIST_NEXT_NBL(Nbl) = NULL;
        NdisInterlockedInsertTailList(&Adapter->RecvFreeList, &Rfd->Link, &Adapter->RecvLock);
        if (Adapter->Bug == MpBugReturnTwice) {
            NdisDprAcquireSpinLock(&Adapter->RecvLock);
            RemoveEntryList(&Rfd->Link);
            RemoveEntryList(&Rfd->Link); /* the bug: its neighbours no longer point at it */
            NdisDprReleaseSpinLock(&Adapter->RecvLock);
        }
        NdisInterlockedAddUlong(&Adapter->FreeRxBuffers, 1, &Adapter->RecvLock);
        InterlockedIncrement64(&Adapter->Returned);
    }
    if (!AtDispatch) NDIS_LOWER_IRQL(OldIrql, DISPATCH_LEVEL);
}

/* The ISR: claims the interrupt if the device has something, hands it to the DPC. DIRQL. */
static BOOLEAN MpInterrupt(NDIS_HANDLE MiniportInterruptContext, PBOOLEAN QueueDefaultInterruptDpc,
                           PULONG TargetProcessors) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportInterruptContext;
    LONG Rx = InterlockedExchange(&Adapter->HwRxPending, 0);
    LONG Tx = InterlockedExchange(&Adapter->HwTxDoorbell, 0);

    UNREFERENCED_PARAMETER(TargetProcessors);
    if (Adapter->Bug == MpBugAssertInIsr)
        NT_ASSERTMSG("the ISR runs above DISPATCH_LEVEL", KeGetCurrentIrql() <= DISPATCH_LEVEL);
    if (Rx == 0 && Tx == 0) {
        *QueueDefaultInterruptDpc = FALSE;
        return FALSE;
    }
    InterlockedExchangeAdd(&Adapter->IsrRxEvents, Rx);
    InterlockedIncrement(&Adapter->IsrClaimed);
    *QueueDefaultInterruptDpc = TRUE;
    return TRUE;
}

static VOID MpCompleteSends(PMP_ADAPTER Adapter) {
    LIST_ENTRY Done;
    PNET_BUFFER_LIST Head = NULL, *Tail = &Head;
    LONG64 Count = 0;

    InitializeListHead(&Done);
    /* Take the whole list in O(1): thousands of sends can be waiting, and moving them one by one
       under the lock held it for hundreds of microseconds (the verifier reported it). */
    NdisDprAcquireSpinLock(&Adapter->SendLock);
    if (!IsListEmpty(&Adapter->SendWaitList)) {
        PLIST_ENTRY First = Adapter->SendWaitList.Flink;
        RemoveEntryList(&Adapter->SendWaitList); /* the head leaves the ring of waiting sends */
        InitializeListHead(&Adapter->SendWaitList);
        AppendTailList(&Done, First);
    }
    NdisDprReleaseSpinLock(&Adapter->SendLock);

    while (!IsListEmpty(&Done)) {
        PNET_BUFFER_LIST Nbl = MP_NBL_FROM_LINK(RemoveHeadList(&Done));
        NET_BUFFER_LIST_STATUS(Nbl) = NDIS_STATUS_SUCCESS;
        *Tail = Nbl;
        Tail = &NET_BUFFER_LIST_NEXT_NBL(Nbl);
        Count++;
    }
    if (Head != NULL) {
        InterlockedExchangeAdd64(&Adapter->CompletedNbls, Count);
        NdisMSendNetBufferListsComplete(Adapter->AdapterHandle, Head, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
    }
}

static VOID MpIndicateReceives(PMP_ADAPTER Adapter, LONG Events) {
    PNET_BUFFER_LIST Head = NULL, *Tail = &Head;
    ULONG Count = 0;

    for (; Events > 0; Events--) {
        PLIST_ENTRY Entry = NdisInterlockedRemoveHeadList(&Adapter->RecvFreeList, &Adapter->RecvLock);
        PMP_RFD Rfd;
        if (Entry == NULL) {
            InterlockedIncrement64(&Adapter->RxDropped);
            continue;
        }
        NdisInterlockedAddUlong(&Adapter->FreeRxBuffers, (ULONG)-1, &Adapter->RecvLock);
        Rfd = CONTAINING_RECORD(Entry, MP_RFD, Link);
        *Tail = &Rfd->Nbl;
        Tail = &NET_BUFFER_LIST_NEXT_NBL(&Rfd->Nbl);
        Count++;
    }
    if (Count != 0) {
        InterlockedExchangeAdd64(&Adapter->Indicated, Count);
        NdisMIndicateReceiveNetBufferLists(Adapter->AdapterHandle, Head, NDIS_DEFAULT_PORT_NUMBER, Count,
                                           NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL);
    }
}

/* The DPC: completes what the device sent, indicates what it received. DISPATCH_LEVEL. */
static VOID MpInterruptDpc(NDIS_HANDLE MiniportInterruptContext, PVOID MiniportDpcContext,
                           PVOID ReceiveThrottleParameters, PVOID NdisReserved2) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportInterruptContext;
    UNREFERENCED_PARAMETER(MiniportDpcContext);
    UNREFERENCED_PARAMETER(ReceiveThrottleParameters);
    UNREFERENCED_PARAMETER(NdisReserved2);
    NT_ASSERT(NDIS_CURRENT_IRQL() == DISPATCH_LEVEL);

    InterlockedIncrement(&Adapter->DpcRuns);
    if (Adapter->Bug == MpBugPagedCodeInDpc) MpPagedHelper(Adapter);
    MpCompleteSends(Adapter);
    MpIndicateReceives(Adapter, InterlockedExchange(&Adapter->IsrRxEvents, 0));
}

/* ---- The harness's hooks ------------------------------------------------------------------- */

VOID MpHwReceive(NDIS_HANDLE MiniportAdapterContext) {
    InterlockedIncrement(&((PMP_ADAPTER)MiniportAdapterContext)->HwRxPending);
}

NDIS_HANDLE MpInterruptHandle(NDIS_HANDLE MiniportAdapterContext) {
    return ((PMP_ADAPTER)MiniportAdapterContext)->InterruptHandle;
}

VOID MpGetCounters(NDIS_HANDLE MiniportAdapterContext, MP_COUNTERS *Counters) {
    PMP_ADAPTER Adapter = (PMP_ADAPTER)MiniportAdapterContext;
    Counters->SentNbls = ReadAcquire64(&Adapter->SentNbls);
    Counters->CompletedNbls = ReadAcquire64(&Adapter->CompletedNbls);
    Counters->Indicated = ReadAcquire64(&Adapter->Indicated);
    Counters->RxDropped = ReadAcquire64(&Adapter->RxDropped);
    Counters->Returned = ReadAcquire64(&Adapter->Returned);
    Counters->BytesSent = InterlockedCompareExchange64(&Adapter->BytesSent.QuadPart, 0, 0);
    NdisAcquireSpinLock(&Adapter->RecvLock);
    Counters->FreeRxBuffers = Adapter->FreeRxBuffers;
    NdisReleaseSpinLock(&Adapter->RecvLock);
    Counters->IsrClaimed = ReadAcquire(&Adapter->IsrClaimed);
    Counters->DpcRuns = ReadAcquire(&Adapter->DpcRuns);
}

VOID MpSetBug(NDIS_HANDLE MiniportAdapterContext, MP_BUG Bug) { ((PMP_ADAPTER)MiniportAdapterContext)->Bug = Bug; }
