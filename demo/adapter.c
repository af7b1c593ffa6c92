/*
 * demo/adapter.c: the simulated NIC's datapath on the NDIS spin-lock calls. Every lock is held for
 * a handful of loads and stores (NDIS asks for less than 25 microseconds); the real per-packet
 * work (filling and checksumming payloads) runs outside the locks.
 */
#include "adapter.h"

#include <stdlib.h>
#include <string.h>

/* ---- Helpers ---------------------------------------------------------------------------- */

ULONG64 DemoMixId(ULONG64 Id) {
    /* splitmix64's finalizer */
    Id += 0x9e3779b97f4a7c15ull;
    Id = (Id ^ (Id >> 30)) * 0xbf58476d1ce4e5b9ull;
    Id = (Id ^ (Id >> 27)) * 0x94d049bb133111ebull;
    return Id ^ (Id >> 31);
}

static ULONG DemoChecksum(const UCHAR *Data, ULONG Length) {
    ULONG Hash = 2166136261u; /* FNV-1a */
    for (ULONG i = 0; i < Length; i++) {
        Hash ^= Data[i];
        Hash *= 16777619u;
    }
    return Hash;
}

void DemoFillBuffer(PDEMO_BUFFER Buffer, ULONG64 PacketId) {
    ULONG64 Bits = DemoMixId(PacketId);
    Buffer->PacketId = PacketId;
    Buffer->FrameLength = 64 + (ULONG)(Bits % 1451); /* 64..1514, an Ethernet frame */
    for (ULONG i = 0; i < DEMO_PAYLOAD_BYTES; i++) {
        Bits ^= Bits << 13; /* xorshift64 */
        Bits ^= Bits >> 7;
        Bits ^= Bits << 17;
        Buffer->Payload[i] = (UCHAR)Bits;
    }
    Buffer->Checksum = DemoChecksum(Buffer->Payload, DEMO_PAYLOAD_BYTES);
}

/* Ring operations. The caller holds the ring's lock. */
static BOOLEAN DemoRingPut(PDEMO_RING Ring, DEMO_DESCRIPTOR Descriptor) {
    if (Ring->Count == Ring->Size) return FALSE;
    Ring->Slots[(Ring->Head + Ring->Count) & (Ring->Size - 1)] = Descriptor;
    Ring->Count++;
    return TRUE;
}

static ULONG DemoRingTake(PDEMO_RING Ring, DEMO_DESCRIPTOR *Out, ULONG Max) {
    ULONG Taken = Ring->Count < Max ? Ring->Count : Max;
    for (ULONG i = 0; i < Taken; i++)
        Out[i] = Ring->Slots[(Ring->Head + i) & (Ring->Size - 1)];
    Ring->Head = (Ring->Head + Taken) & (Ring->Size - 1);
    Ring->Count -= Taken;
    return Taken;
}

/* ---- Initialize / halt ------------------------------------------------------------------- */

BOOLEAN DemoInitializeAdapter(PADAPTER Adapter, ULONG PoolSize, ULONG ProcessorCount) {
    memset(Adapter, 0, sizeof(*Adapter));
    Adapter->Buffers = calloc(PoolSize, sizeof(DEMO_BUFFER));
    Adapter->FreeList = calloc(PoolSize, sizeof(ULONG));
    if (Adapter->Buffers == NULL || Adapter->FreeList == NULL) {
        free(Adapter->Buffers);
        free(Adapter->FreeList);
        return FALSE;
    }
    for (ULONG i = 0; i < PoolSize; i++)
        Adapter->FreeList[i] = PoolSize - 1 - i;
    Adapter->PoolSize = PoolSize;
    Adapter->PoolFree = PoolSize;
    Adapter->TxRing.Size = DEMO_TX_RING_SIZE;
    Adapter->RxRing.Size = DEMO_RX_RING_SIZE;
    Adapter->ProcessorCount = ProcessorCount;

    NdisAllocateSpinLock(&Adapter->TxLock);
    NdisAllocateSpinLock(&Adapter->RxLock);
    NdisAllocateSpinLock(&Adapter->StatsLock);
    KeInitializeSpinLock(&Adapter->PoolLock);
    NdislockSetLockName(&Adapter->TxLock, "tx ring");
    NdislockSetLockName(&Adapter->RxLock, "rx ring");
    NdislockSetLockName(&Adapter->StatsLock, "adapter stats");
    NdislockSetLockName(&Adapter->PoolLock, "buffer pool");
    return TRUE;
}

void DemoHaltAdapter(PADAPTER Adapter) {
    NdisFreeSpinLock(&Adapter->TxLock);
    NdisFreeSpinLock(&Adapter->RxLock);
    NdisFreeSpinLock(&Adapter->StatsLock);
    /* A KSPIN_LOCK needs no freeing. */
    free(Adapter->Buffers);
    free(Adapter->FreeList);
    Adapter->Buffers = NULL;
    Adapter->FreeList = NULL;
}

/* ---- Buffer pool: an in-stack queued spin lock -------------------------------------------- */

/* The caller holds PoolLock. */
static ULONG DemoPoolPop(PADAPTER Adapter, PULONG Indices, ULONG Max) {
    ULONG Count = Adapter->PoolFree < Max ? Adapter->PoolFree : Max;
    Adapter->PoolFree -= Count;
    memcpy(Indices, &Adapter->FreeList[Adapter->PoolFree], Count * sizeof(ULONG));
    return Count;
}

static void DemoPoolPush(PADAPTER Adapter, const ULONG *Indices, ULONG Count) {
    memcpy(&Adapter->FreeList[Adapter->PoolFree], Indices, Count * sizeof(ULONG));
    Adapter->PoolFree += Count;
}

ULONG DemoAllocateBuffers(PADAPTER Adapter, PULONG Indices, ULONG Max) {
    KLOCK_QUEUE_HANDLE LockHandle; /* the queue entry: on this stack, one per acquisition */
    KeAcquireInStackQueuedSpinLock(&Adapter->PoolLock, &LockHandle);
    ULONG Count = DemoPoolPop(Adapter, Indices, Max);
    KeReleaseInStackQueuedSpinLock(&LockHandle);
    return Count;
}

void DemoFreeBuffers(PADAPTER Adapter, const ULONG *Indices, ULONG Count) {
    KLOCK_QUEUE_HANDLE LockHandle;
    KeAcquireInStackQueuedSpinLock(&Adapter->PoolLock, &LockHandle);
    DemoPoolPush(Adapter, Indices, Count);
    KeReleaseInStackQueuedSpinLock(&LockHandle);
}

/* The DPCs already run at DISPATCH_LEVEL: the AtDpcLevel pair skips the IRQL change. */
static void DemoFreeBuffersAtDpcLevel(PADAPTER Adapter, const ULONG *Indices, ULONG Count) {
    KLOCK_QUEUE_HANDLE LockHandle;
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&Adapter->PoolLock, &LockHandle);
    DemoPoolPush(Adapter, Indices, Count);
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&LockHandle);
}

/* ---- Transmit ----------------------------------------------------------------------------- */

BOOLEAN DemoSendPacket(PADAPTER Adapter, ULONG BufferIndex) {
    DEMO_DESCRIPTOR Descriptor = {BufferIndex, Adapter->Buffers[BufferIndex].FrameLength};

    /* PASSIVE_LEVEL: NdisAcquireSpinLock raises to DISPATCH_LEVEL and saves PASSIVE_LEVEL in
     * TxLock.OldIrql for NdisReleaseSpinLock to restore. */
    NdisAcquireSpinLock(&Adapter->TxLock);
    if (!DemoRingPut(&Adapter->TxRing, Descriptor)) {
        NdisReleaseSpinLock(&Adapter->TxLock);
        return FALSE; /* ring full: the caller keeps the buffer and tries again */
    }
    /* Already at DISPATCH_LEVEL: the inner lock takes the Dpr form, in the fixed order
     * TxLock -> StatsLock, and is released first. */
    NdisDprAcquireSpinLock(&Adapter->StatsLock);
    Adapter->Stats.TxQueued++;
    Adapter->Stats.TxBytes += Descriptor.FrameLength;
    NdisDprReleaseSpinLock(&Adapter->StatsLock);
    NdisReleaseSpinLock(&Adapter->TxLock);
    return TRUE;
}

ULONG DemoSendCompleteDpc(PADAPTER Adapter, PDEMO_DEVICE Device) {
    DEMO_DESCRIPTOR Done[DEMO_TX_COMPLETE_BATCH];
    ULONG Indices[DEMO_TX_COMPLETE_BATCH];
    KIRQL OldIrql;

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql); /* as the DPC would run */

    NdisDprAcquireSpinLock(&Adapter->TxLock);
    ULONG Count = DemoRingTake(&Adapter->TxRing, Done, DEMO_TX_COMPLETE_BATCH);
    if (Count != 0) {
        NdisDprAcquireSpinLock(&Adapter->StatsLock); /* TxLock -> StatsLock */
        Adapter->Stats.TxCompleted += Count;
        NdisDprReleaseSpinLock(&Adapter->StatsLock);
    }
    NdisDprReleaseSpinLock(&Adapter->TxLock);

    /* The descriptors are ours now: the rest runs outside TxLock. */
    for (ULONG i = 0; i < Count; i++) {
        Indices[i] = Done[i].BufferIndex;
        Device->TxCompletedIdSum += DemoMixId(Adapter->Buffers[Indices[i]].PacketId);
    }
    Device->TxCompletedCount += Count;
    if (Count != 0) DemoFreeBuffersAtDpcLevel(Adapter, Indices, Count);

    KeLowerIrql(OldIrql);
    return Count;
}

/* ---- Receive ------------------------------------------------------------------------------ */

ULONG DemoDevicePostReceives(PADAPTER Adapter, PDEMO_DEVICE Device) {
    ULONG64 PendingIds[DEMO_RX_POST_BATCH];
    DEMO_DESCRIPTOR Descriptor;

    /* New packets "arrive" into fresh buffers, outside any ring lock. */
    ULONG Fresh =
        DemoAllocateBuffers(Adapter, &Device->Pending[Device->PendingCount], DEMO_RX_POST_BATCH - Device->PendingCount);
    for (ULONG i = Device->PendingCount; i < Device->PendingCount + Fresh; i++)
        DemoFillBuffer(&Adapter->Buffers[Device->Pending[i]], Device->NextRxSequence++);
    Device->PendingCount += Fresh;
    if (Device->PendingCount == 0) return 0;

    /* Once on the ring a buffer belongs to the receive DPCs: note the ids first. */
    for (ULONG i = 0; i < Device->PendingCount; i++)
        PendingIds[i] = Adapter->Buffers[Device->Pending[i]].PacketId;

    ULONG Posted = 0;
    NdisAcquireSpinLock(&Adapter->RxLock);
    while (Posted < Device->PendingCount) {
        Descriptor.BufferIndex = Device->Pending[Posted];
        Descriptor.FrameLength = Adapter->Buffers[Descriptor.BufferIndex].FrameLength;
        if (!DemoRingPut(&Adapter->RxRing, Descriptor)) break;
        Posted++;
    }
    if (Posted != 0) {
        NdisDprAcquireSpinLock(&Adapter->StatsLock); /* RxLock -> StatsLock */
        Adapter->Stats.RxPosted += Posted;
        NdisDprReleaseSpinLock(&Adapter->StatsLock);
    }
    NdisReleaseSpinLock(&Adapter->RxLock);

    for (ULONG i = 0; i < Posted; i++)
        Device->RxPostedIdSum += DemoMixId(PendingIds[i]);
    Device->RxPostedCount += Posted;
    Device->PendingCount -= Posted;
    memmove(Device->Pending, &Device->Pending[Posted], Device->PendingCount * sizeof(ULONG));
    return Posted;
}

void DemoDeviceFlush(PADAPTER Adapter, PDEMO_DEVICE Device) {
    if (Device->PendingCount != 0) DemoFreeBuffers(Adapter, Device->Pending, Device->PendingCount);
    Device->PendingCount = 0;
}

ULONG DemoReceiveDpc(PADAPTER Adapter, PDEMO_RECEIVER Receiver) {
    DEMO_DESCRIPTOR Batch[DEMO_RX_DRAIN_BATCH];
    ULONG Indices[DEMO_RX_DRAIN_BATCH];
    KIRQL OldIrql;
    ULONG Total = 0;

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql); /* as the DPC would run */

    /* At DISPATCH_LEVEL this thread is the only one running on its processor, and stays on it:
     * the processor's counters need no lock. */
    DEMO_PER_PROCESSOR *PerProcessor = &Adapter->PerProcessor[KeGetCurrentProcessorNumberEx(NULL)];

    while (Total < DEMO_RX_DPC_BUDGET) {
        ULONG Want = DEMO_RX_DPC_BUDGET - Total;
        ULONG64 Bytes = 0;

        NdisDprAcquireSpinLock(&Adapter->RxLock);
        ULONG Count = DemoRingTake(&Adapter->RxRing, Batch, Want < DEMO_RX_DRAIN_BATCH ? Want : DEMO_RX_DRAIN_BATCH);
        if (Count != 0) {
            for (ULONG i = 0; i < Count; i++)
                Bytes += Batch[i].FrameLength;
            NdisDprAcquireSpinLock(&Adapter->StatsLock); /* RxLock -> StatsLock */
            Adapter->Stats.RxIndicated += Count;
            Adapter->Stats.RxBytes += Bytes;
            NdisDprReleaseSpinLock(&Adapter->StatsLock);
        }
        NdisDprReleaseSpinLock(&Adapter->RxLock);
        if (Count == 0) break;

        /* Indicate the packets up the stack: check each one, count it, outside RxLock. */
        for (ULONG i = 0; i < Count; i++) {
            PDEMO_BUFFER Buffer = &Adapter->Buffers[Batch[i].BufferIndex];
            if (DemoChecksum(Buffer->Payload, DEMO_PAYLOAD_BYTES) != Buffer->Checksum) Receiver->ChecksumErrors++;
            Receiver->IdSum += DemoMixId(Buffer->PacketId);
            PerProcessor->RxPackets++;
            PerProcessor->RxBytes += Batch[i].FrameLength;
            Indices[i] = Batch[i].BufferIndex;
        }
        Receiver->Packets += Count;
        DemoFreeBuffersAtDpcLevel(Adapter, Indices, Count);
        Total += Count;
    }

    KeLowerIrql(OldIrql);
    return Total;
}

/* ---- Statistics query -------------------------------------------------------------------- */

void DemoQueryStatistics(PADAPTER Adapter, DEMO_ADAPTER_STATS *Out) {
    NdisAcquireSpinLock(&Adapter->StatsLock);
    *Out = Adapter->Stats;
    NdisReleaseSpinLock(&Adapter->StatsLock);
}
