/*
 * tests/wdk/deferred: a small NDIS 6 miniport whose datapath leans on deferred work, written as one
 * for Windows would be and built unchanged against ndislock's WDK face (#include <ndis.h>):
 *
 *   - one NDIS_SPIN_LOCK in the adapter guards its queues (LIST_ENTRY lists): the send queue (packets
 *     handed to the hardware, awaiting completion), the receive free list, and the return list
 *     (receive buffers the protocol gave back, not yet reclaimed);
 *   - MiniportSendNetBufferLists (MpSendPacket), at PASSIVE_LEVEL: queue (at most
 *     MP_SEND_QUEUE_LIMIT), ring the doorbell;
 *   - a line-based interrupt (NdisMRegisterInterruptEx): MiniportInterrupt reads the "registers" and
 *     queues its DPC; MiniportInterruptDPC completes what the hardware sent and indicates what it
 *     received, taking the lock with the Dpr pair;
 *   - MiniportReturnNetBufferLists (MpReturnPacket), at PASSIVE_LEVEL: the buffer goes on the return list;
 *   - a periodic NDIS timer object (the watchdog) whose DPC, under the lock, reclaims returned
 *     buffers onto the free list and walks the send queue to see whether it is stalled (its oldest
 *     packet the same as last tick), and every few ticks queues an NDIS I/O work item that runs at
 *     PASSIVE_LEVEL and takes the lock to sample the send queue's depth.
 *
 * The harness (main.c) plays NDIS, the protocol above and the hardware below.
 */
#ifndef DEFERRED_MINIPORT_H
#define DEFERRED_MINIPORT_H

#include <ndis.h>

#define MP_RX_BUFFERS 128
#define MP_SEND_QUEUE_LIMIT 256 /* packets the hardware's send queue holds */
#define MP_DPC_BUDGET 64        /* sends completed, and packets indicated, per DPC run at most */
#define MP_WATCHDOG_PERIOD_MS 2
#define MP_WORK_ITEM_EVERY 4 /* the watchdog queues the work item every this many ticks */

/* A packet, the stand-in for a NET_BUFFER_LIST: the link is the miniport's while it owns it. */
typedef struct _MP_PACKET {
    LIST_ENTRY Link;
    ULONG64 Id;          /* send: the sender's; receive: the hardware's sequence number */
    volatile LONG Owner; /* harness bookkeeping: who owns it (MP_OWNER_*), checked at each handover */
} MP_PACKET, *PMP_PACKET;

#define MP_OWNER_HARNESS 0
#define MP_OWNER_MINIPORT 1

/* The device's registers, as the driver would map them. The hardware writes TxSent and
 * RxArrived; the driver writes TxDoorbell (under its lock, so it only grows). */
typedef struct _MP_REGISTERS {
    volatile LONG64 TxDoorbell; /* packets put on the send queue since initialize */
    volatile LONG64 TxSent;     /* packets the hardware has sent (<= TxDoorbell) */
    volatile LONG64 RxArrived;  /* packets the hardware has received since initialize */
} MP_REGISTERS, *PMP_REGISTERS;

/* What the driver counted, read by the harness after halt. */
typedef struct _MP_COUNTERS {
    LONG64 Queued, Completed;              /* sends */
    LONG64 Indicated, Returned, Reclaimed; /* receives */
    LONG64 IsrClaimed, DpcRuns;
    LONG64 TimerTicks, StalledTicks, WalkMismatches;
    LONG64 WorkItemsQueued, WorkItemsRun, WorkItemsWrongIrql, WorkItemAllocFailures;
    LONG64 MaxSendDepth;   /* the deepest send queue a work item saw (<= MP_SEND_QUEUE_LIMIT) */
    LONG FreeAtHalt;       /* receive buffers on the free list after halt */
    LONG HaltWaitTimedOut; /* halt gave up waiting for the work item */
} MP_COUNTERS, *PMP_COUNTERS;

/* What NDIS hands MiniportInitializeEx here: the registers, and where the counters go at halt. */
typedef struct _MP_DRIVER_CONTEXT {
    PMP_REGISTERS Registers;
    PMP_COUNTERS CountersAtHalt;
    NDIS_HANDLE Adapter;         /* out: the MiniportAdapterContext */
    NDIS_HANDLE InterruptHandle; /* out: for the hardware to raise */
} MP_DRIVER_CONTEXT, *PMP_DRIVER_CONTEXT;

MINIPORT_INITIALIZE MpInitializeEx;
MINIPORT_HALT MpHaltEx;

/* MiniportSendNetBufferLists, in short. PASSIVE_LEVEL. FALSE, the packet left with the caller,
 * when the send queue is full (a real miniport would pend it or fail it with
 * NDIS_STATUS_RESOURCES). */
BOOLEAN MpSendPacket(NDIS_HANDLE MiniportAdapterContext, PMP_PACKET Packet);

/* MiniportReturnNetBufferLists, in short. PASSIVE_LEVEL. */
VOID MpReturnPacket(NDIS_HANDLE MiniportAdapterContext, PMP_PACKET Packet);

/* TRUE once every packet rung up was completed and every arrived packet indicated. Any IRQL. */
BOOLEAN MpIdle(NDIS_HANDLE MiniportAdapterContext);

/* A snapshot of the counters (the timer and work-item ones, while they still run). Any IRQL. */
VOID MpQueryCounters(NDIS_HANDLE MiniportAdapterContext, PMP_COUNTERS Out);

/* NDIS's side, which the harness implements: completion of a send, indication of a receive.
 * Called from the DPC at DISPATCH_LEVEL, outside the miniport's lock. */
VOID MpHarnessSendComplete(PMP_PACKET Packet);
VOID MpHarnessIndicateReceive(NDIS_HANDLE MiniportAdapterContext, PMP_PACKET Packet);

#endif /* DEFERRED_MINIPORT_H */
