/*
 * demo/adapter.c: the simulated NIC's datapath on the NDIS spin-lock calls. Every lock is held for
 * a handful of loads and stores (NDIS asks for less than 25 microseconds); the real per-packet
 * work (filling and checksumming payloads) runs outside the locks.
 */
#include "adapter.h"
#include "device.h" /* the transmit doorbell register */
#include "tool_annotations.h"

#include <stdlib.h>
#include <string.h>

DEMO_BUG DemoBug = DEMO_BUG_NONE;

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
    /* Nothing taken, nothing written: at shutdown the report reads the rings while a last DPC,
     * finding them empty, may still be looking. */
    if (Taken == 0) return 0;
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
    atomic_init(&Adapter->TxReaped, 0);
    for (ULONG p = 0; p < NDISLOCK_MAX_PROCESSORS; p++) {
        atomic_init(&Adapter->Dpc[p].Runs, 0);
        atomic_init(&Adapter->Dpc[p].Requeued, 0);
        DEMO_ATOMIC_FOR_HELGRIND(Adapter->Dpc[p].Runs); /* the counts only, not the rest of Dpc[p] */
        DEMO_ATOMIC_FOR_HELGRIND(Adapter->Dpc[p].Requeued);
    }
    for (ULONG m = 0; m < DEMO_MSIX_MESSAGES; m++) {
        atomic_init(&Adapter->MessageIsrs[m], 0);
        atomic_init(&Adapter->MessageClaimed[m], 0);
        atomic_init(&Adapter->MessageDpcs[m], 0);
        atomic_init(&Adapter->MessageDpcsElsewhere[m], 0);
    }
    /* Read and written through atomics only, by threads that share no lock for them: no race,
     * but Helgrind sees atomics as plain accesses (tool_annotations.h). */
    DEMO_ATOMIC_FOR_HELGRIND(Adapter->TxReaped);
    DEMO_ATOMIC_FOR_HELGRIND(Adapter->MessageIsrs);
    DEMO_ATOMIC_FOR_HELGRIND(Adapter->MessageClaimed);
    DEMO_ATOMIC_FOR_HELGRIND(Adapter->MessageDpcs);
    DEMO_ATOMIC_FOR_HELGRIND(Adapter->MessageDpcsElsewhere);

    if (DemoBug == DEMO_BUG_UNINITIALIZED) {
        /* Seeded mistake: the statistics are cleared under StatsLock before the
         * NdisAllocateSpinLock below has set the lock up (the struct is merely zeroed). */
        NdisAcquireSpinLock(&Adapter->StatsLock); /* BUG:uninitialized */
        memset(&Adapter->Stats, 0, sizeof(Adapter->Stats));
        NdisReleaseSpinLock(&Adapter->StatsLock);
    }
    NdisAllocateSpinLock(&Adapter->TxLock);
    NdisAllocateSpinLock(&Adapter->RxLock);
    NdisAllocateSpinLock(&Adapter->StatsLock);
    KeInitializeSpinLock(&Adapter->PoolLock);
    KeInitializeSpinLock(&Adapter->ActivityLock);
    NdislockSetLockName(&Adapter->TxLock, "tx ring");
    NdislockSetLockName(&Adapter->RxLock, "rx ring");
    NdislockSetLockName(&Adapter->StatsLock, "adapter stats");
    NdislockSetLockName(&Adapter->PoolLock, "buffer pool");
    NdislockSetLockName(&Adapter->ActivityLock, "rx activity");
    if (DemoBug == DEMO_BUG_ISR_SPIN_LOCK) {
        NdisAllocateSpinLock(&Adapter->RegisterLock);
        NdislockSetLockName(&Adapter->RegisterLock, "interrupt regs");
    }
    return TRUE;
}

void DemoHaltAdapter(PADAPTER Adapter) {
    NdisFreeSpinLock(&Adapter->TxLock);
    NdisFreeSpinLock(&Adapter->RxLock);
    NdisFreeSpinLock(&Adapter->StatsLock);
    if (DemoBug == DEMO_BUG_ISR_SPIN_LOCK) NdisFreeSpinLock(&Adapter->RegisterLock);
    if (DemoBug == DEMO_BUG_USE_AFTER_FREE) {
        /* Seeded mistake: one last look at the statistics, after their lock was freed. */
        NdisAcquireSpinLock(&Adapter->StatsLock); /* BUG:use-after-free */
        Adapter->Stats.TxQueued += 0;
        NdisReleaseSpinLock(&Adapter->StatsLock);
    }
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
    if (DemoBug == DEMO_BUG_RELEASE_NOT_HELD) {
        /* Seeded mistake: a second release through the same handle (a copy-pasted error path). */
        KeReleaseInStackQueuedSpinLock(&LockHandle); /* BUG:release-not-held */
    }
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

/* --bug hold-too-long: a debug walk over the transmit ring left in the datapath, about 300 us
 * of work done while TxLock is held (KeStallExecutionProcessor stands for the work): 12x the
 * budget, so the verifier reports the first such hold. */
static void DemoAuditTxRing(PADAPTER Adapter) {
    (void)Adapter;
    KeStallExecutionProcessor(300);
}

/* --bug recursive-acquire: a helper that takes TxLock itself, called with TxLock held. */
static ULONG DemoTxRingDepth(PADAPTER Adapter) {
    NdisDprAcquireSpinLock(&Adapter->TxLock); /* BUG:recursive-acquire */
    ULONG Depth = Adapter->TxRing.Count;
    NdisDprReleaseSpinLock(&Adapter->TxLock);
    return Depth;
}

BOOLEAN DemoSendPacket(PADAPTER Adapter, ULONG BufferIndex) {
    DEMO_DESCRIPTOR Descriptor = {BufferIndex, Adapter->Buffers[BufferIndex].FrameLength};

    /* PASSIVE_LEVEL: NdisAcquireSpinLock raises to DISPATCH_LEVEL and saves PASSIVE_LEVEL in
     * TxLock.OldIrql for NdisReleaseSpinLock to restore. */
    if (DemoBug == DEMO_BUG_HOLD_TOO_LONG) {
        NdisAcquireSpinLock(&Adapter->TxLock); /* BUG:hold-too-long */
        DemoAuditTxRing(Adapter);
    } else {
        NdisAcquireSpinLock(&Adapter->TxLock);
    }
    if (DemoBug == DEMO_BUG_RECURSIVE_ACQUIRE && DemoTxRingDepth(Adapter) == Adapter->TxRing.Size) {
        NdisReleaseSpinLock(&Adapter->TxLock);
        return FALSE;
    }
    if (DemoBug == DEMO_BUG_LOCK_ORDER) {
        /* Seeded mistake: a look at the receive ring (say, for loopback) with TxLock held, the
         * order TxLock -> RxLock; DemoReceiveDpc takes them the other way round. */
        NdisDprAcquireSpinLock(&Adapter->RxLock); /* BUG:lock-order */
        NdisDprReleaseSpinLock(&Adapter->RxLock);
    }
    if (!DemoRingPut(&Adapter->TxRing, Descriptor)) {
        NdisReleaseSpinLock(&Adapter->TxLock);
        return FALSE; /* ring full: the caller keeps the buffer and tries again */
    }
    /* The doorbell is written under TxLock, so the device never sees it count a descriptor that is
     * not on the ring yet, and never sees it go backwards. */
    if (Adapter->Registers != NULL) DemoHwWriteTxTail(Adapter->Registers, ++Adapter->TxRungUp);
    /* Already at DISPATCH_LEVEL: the inner lock takes the Dpr form, in the fixed order
     * TxLock -> StatsLock, and is released first. */
    NdisDprAcquireSpinLock(&Adapter->StatsLock);
    Adapter->Stats.TxQueued++;
    Adapter->Stats.TxBytes += Descriptor.FrameLength;
    NdisDprReleaseSpinLock(&Adapter->StatsLock);
    if (DemoBug == DEMO_BUG_WRONG_RELEASE) {
        /* Seeded mistake: TxLock was taken at PASSIVE_LEVEL with NdisAcquireSpinLock, whose pair
         * NdisReleaseSpinLock restores PASSIVE_LEVEL; the Dpr release leaves the sender at
         * DISPATCH_LEVEL. (At DISPATCH_LEVEL the same mix would be harmless: a note.) */
        NdisDprReleaseSpinLock(&Adapter->TxLock); /* BUG:wrong-release */
        KeLowerIrql(PASSIVE_LEVEL);               /* so that the demo goes on: what the right release would have done */
    } else {
        NdisReleaseSpinLock(&Adapter->TxLock);
    }
    return TRUE;
}

ULONG DemoCompleteSendsAtDpcLevel(PADAPTER Adapter, ULONG64 HardwareSent, ULONG Max, ULONG64 *Count, ULONG64 *IdSum) {
    DEMO_DESCRIPTOR Done[DEMO_TX_COMPLETE_BATCH];
    ULONG Indices[DEMO_TX_COMPLETE_BATCH];
    ULONG Total = 0;

    while (Total < Max) {
        ULONG Want = Max - Total < DEMO_TX_COMPLETE_BATCH ? Max - Total : DEMO_TX_COMPLETE_BATCH;

        if (DemoBug == DEMO_BUG_HOLD_TOO_LONG) {
            NdisDprAcquireSpinLock(&Adapter->TxLock); /* BUG:hold-too-long */
            DemoAuditTxRing(Adapter);
        } else {
            NdisDprAcquireSpinLock(&Adapter->TxLock);
        }
        /* Only what the device has sent: descriptors past its TxHead are still being sent. A DPC
         * on another processor, which read a later TxHead, may already have taken more. */
        ULONG64 Reaped = atomic_load_explicit(&Adapter->TxReaped, memory_order_relaxed);
        if (Reaped >= HardwareSent)
            Want = 0;
        else if (HardwareSent - Reaped < Want)
            Want = (ULONG)(HardwareSent - Reaped);
        ULONG Taken = DemoRingTake(&Adapter->TxRing, Done, Want);
        if (Taken != 0) {
            atomic_store_explicit(&Adapter->TxReaped, Reaped + Taken, memory_order_release);
            NdisDprAcquireSpinLock(&Adapter->StatsLock); /* TxLock -> StatsLock */
            Adapter->Stats.TxCompleted += Taken;
            NdisDprReleaseSpinLock(&Adapter->StatsLock);
        }
        NdisDprReleaseSpinLock(&Adapter->TxLock);
        if (Taken == 0) break;

        /* The descriptors are ours now: the rest runs outside TxLock. */
        for (ULONG i = 0; i < Taken; i++) {
            Indices[i] = Done[i].BufferIndex;
            *IdSum += DemoMixId(Adapter->Buffers[Indices[i]].PacketId);
        }
        *Count += Taken;
        DemoFreeBuffersAtDpcLevel(Adapter, Indices, Taken);
        Total += Taken;
        if (Taken < Want) break; /* caught up with the device (or the ring) */
    }
    return Total;
}

ULONG DemoSendCompleteDpc(PADAPTER Adapter, PDEMO_DEVICE Device) {
    KIRQL OldIrql;

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql); /* as the DPC would run */
    ULONG Count = DemoCompleteSendsAtDpcLevel(Adapter, ~0ull, DEMO_TX_COMPLETE_BATCH, &Device->TxCompletedCount,
                                              &Device->TxCompletedIdSum);
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
    if (DemoBug == DEMO_BUG_OUT_OF_ORDER_RELEASE) {
        /* Seeded mistake: the documented trap. Both locks taken with NdisAcquireSpinLock (StatsLock
         * saves DISPATCH_LEVEL, RxLock saved PASSIVE_LEVEL), then released in acquisition order:
         * releasing RxLock first drops to PASSIVE_LEVEL with StatsLock still held, and releasing
         * StatsLock afterwards "restores" DISPATCH_LEVEL, where this thread then stays. */
        NdisAcquireSpinLock(&Adapter->StatsLock);
        Adapter->Stats.RxPosted += Posted;
        NdisReleaseSpinLock(&Adapter->RxLock); /* BUG:out-of-order-release */
        NdisReleaseSpinLock(&Adapter->StatsLock);
    } else {
        if (Posted != 0) {
            NdisDprAcquireSpinLock(&Adapter->StatsLock); /* RxLock -> StatsLock */
            Adapter->Stats.RxPosted += Posted;
            NdisDprReleaseSpinLock(&Adapter->StatsLock);
        }
        NdisReleaseSpinLock(&Adapter->RxLock);
    }

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

ULONG DemoIndicateReceivesAtDpcLevel(PADAPTER Adapter, PDEMO_RECEIVER Receiver, PBOOLEAN More) {
    DEMO_DESCRIPTOR Batch[DEMO_RX_DRAIN_BATCH];
    ULONG Indices[DEMO_RX_DRAIN_BATCH];
    ULONG Total = 0, Left = 0;

    /* At DISPATCH_LEVEL this thread (or DPC) is the only one running on its processor, and stays
     * on it: the processor's counters need no lock. */
    DEMO_PER_PROCESSOR *PerProcessor = &Adapter->PerProcessor[KeGetCurrentProcessorNumberEx(NULL)];

    while (Total < DEMO_RX_DPC_BUDGET) {
        ULONG Want = DEMO_RX_DPC_BUDGET - Total;
        ULONG64 Bytes = 0;

        NdisDprAcquireSpinLock(&Adapter->RxLock);
        if (DemoBug == DEMO_BUG_LOCK_ORDER) {
            /* Seeded mistake, the other half: RxLock -> TxLock (a look at the transmit ring). */
            NdisDprAcquireSpinLock(&Adapter->TxLock); /* BUG:lock-order */
            NdisDprReleaseSpinLock(&Adapter->TxLock);
        }
        ULONG Count = DemoRingTake(&Adapter->RxRing, Batch, Want < DEMO_RX_DRAIN_BATCH ? Want : DEMO_RX_DRAIN_BATCH);
        Left = Adapter->RxRing.Count;
        Adapter->RxTaken += Count;
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

    if (Total != 0) {
        /* The plain Ke pair: its OldIrql in a local of its own. Last, as the seeded mistake below
         * leaves the rest of the DPC at PASSIVE_LEVEL. */
        KIRQL ActivityIrql;
        KeAcquireSpinLock(&Adapter->ActivityLock, &ActivityIrql);
        Adapter->RxDpcRuns++;
        if (DemoBug == DEMO_BUG_WRONG_OLDIRQL) {
            /* Seeded mistake: PASSIVE_LEVEL, where a receive thread started before it raised,
             * passed instead of ActivityIrql (DISPATCH_LEVEL, what the acquire saved). */
            KeReleaseSpinLock(&Adapter->ActivityLock, PASSIVE_LEVEL); /* BUG:wrong-oldirql */
        } else {
            KeReleaseSpinLock(&Adapter->ActivityLock, ActivityIrql);
        }
    }
    *More = (BOOLEAN)(Left != 0);
    return Total;
}

ULONG DemoReceiveDpc(PADAPTER Adapter, PDEMO_RECEIVER Receiver) {
    KIRQL OldIrql;
    BOOLEAN More;

    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql); /* as the DPC would run */
    ULONG Total = DemoIndicateReceivesAtDpcLevel(Adapter, Receiver, &More);
    KeLowerIrql(OldIrql);
    return Total;
}

/* ---- Statistics query -------------------------------------------------------------------- */

void DemoQueryStatistics(PADAPTER Adapter, DEMO_ADAPTER_STATS *Out) {
    if (DemoBug == DEMO_BUG_DPR_AT_PASSIVE) {
        /* Seeded mistake: the Dpr pair from PASSIVE_LEVEL, where it neither raises nor may run. */
        NdisDprAcquireSpinLock(&Adapter->StatsLock); /* BUG:dpr-at-passive */
        *Out = Adapter->Stats;
        NdisDprReleaseSpinLock(&Adapter->StatsLock);
        return;
    }
    NdisAcquireSpinLock(&Adapter->StatsLock);
    *Out = Adapter->Stats;
    NdisReleaseSpinLock(&Adapter->StatsLock);
}
