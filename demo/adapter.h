/*
 * demo/adapter.h: the simulated NIC's adapter context and its datapath, written the way an NDIS
 * miniport is: one ADAPTER block allocated at initialize time, holding the rings, the statistics
 * and the spin locks that protect them.
 *
 * Who protects what (docs/demo.md says why):
 *
 *   TxLock     NDIS_SPIN_LOCK  the transmit ring. Senders take it at PASSIVE_LEVEL with
 *                              NdisAcquireSpinLock; the send-complete DPC takes it at
 *                              DISPATCH_LEVEL with NdisDprAcquireSpinLock.
 *   RxLock     NDIS_SPIN_LOCK  the receive ring and RxTaken. The device posts at PASSIVE_LEVEL with
 *                              NdisAcquireSpinLock; receive DPCs drain at DISPATCH_LEVEL with
 *                              NdisDprAcquireSpinLock.
 *   the watchdog timer's last looks (watchdog.c): WatchTxReaped under TxLock, WatchRxTaken under
 *                              RxLock; its counts are atomics.
 *   StatsLock  NDIS_SPIN_LOCK  Stats. Taken alone (statistics query) or nested *inside* TxLock or
 *                              RxLock, never the other way round: the one lock order is
 *                              TxLock -> StatsLock and RxLock -> StatsLock.
 *   PoolLock   KSPIN_LOCK      the free-buffer pool, as an in-stack queued (FIFO) lock. A leaf:
 *                              nothing else is ever held with it.
 *   ActivityLock KSPIN_LOCK    RxDpcRuns. Taken alone by the receive DPC with the plain Ke pair,
 *                              KeAcquireSpinLock/KeReleaseSpinLock, its OldIrql in a local.
 *   PerProcessor[], Dpc[]      no lock: touched only at DISPATCH_LEVEL, indexed by
 *                              KeGetCurrentProcessorNumberEx, where only one thread (or the
 *                              processor's DPC) runs per processor.
 *   the device's InterruptEnable register
 *                              no spin lock: shared with the ISR, so written only at DIRQL under
 *                              the interrupt's own lock, in MiniportInterrupt or in a function run
 *                              by NdisMSynchronizeWithInterruptEx (interrupt.c).
 */
#ifndef NDISLOCK_DEMO_ADAPTER_H
#define NDISLOCK_DEMO_ADAPTER_H

#include <stdatomic.h>

#include <ndislock/ndis.h>

#define DEMO_TX_RING_SIZE 256u     /* descriptors; a power of two */
#define DEMO_RX_RING_SIZE 256u     /* descriptors; a power of two */
#define DEMO_TX_COMPLETE_BATCH 64u /* descriptors reaped per pass of the send-complete DPC */
#define DEMO_RX_POST_BATCH 64u     /* packets the device posts per pass */
#define DEMO_RX_DRAIN_BATCH 16u    /* packets taken per RxLock hold in the receive DPC */
#define DEMO_RX_DPC_BUDGET 64u     /* packets one receive DPC indicates before it returns */
#define DEMO_TX_DPC_BUDGET 128u    /* descriptors one MiniportInterruptDPC completes before it returns */
#define DEMO_PAYLOAD_BYTES 64u     /* payload each packet really carries (and checksums) */
#define DEMO_MSIX_MESSAGES 2u      /* --msix: message 0 receive queue, message 1 transmit done */

/* A packet buffer. Lives in the adapter's pool; rings and threads pass its index around. */
typedef struct _DEMO_BUFFER {
    ULONG64 PacketId;  /* sender's id (transmit) or the device's sequence number (receive) */
    ULONG FrameLength; /* nominal on-the-wire length, 64..1514, for the byte counters */
    ULONG Checksum;    /* over Payload, written by whoever filled the buffer */
    UCHAR Payload[DEMO_PAYLOAD_BYTES];
} DEMO_BUFFER, *PDEMO_BUFFER;

/* One ring slot. */
typedef struct _DEMO_DESCRIPTOR {
    ULONG BufferIndex;
    ULONG FrameLength;
} DEMO_DESCRIPTOR;

typedef struct _DEMO_RING {
    DEMO_DESCRIPTOR Slots[DEMO_TX_RING_SIZE > DEMO_RX_RING_SIZE ? DEMO_TX_RING_SIZE : DEMO_RX_RING_SIZE];
    ULONG Size; /* capacity in use, a power of two: Slots[0 .. Size) */
    ULONG Head; /* next slot to consume */
    ULONG Count;
} DEMO_RING, *PDEMO_RING;

/* The adapter's statistics (what OID_GEN_STATISTICS would return). Under StatsLock. */
typedef struct _DEMO_ADAPTER_STATS {
    ULONG64 TxQueued; /* packets DemoSendPacket put on the transmit ring */
    ULONG64 TxBytes;
    ULONG64 TxCompleted; /* packets the send-complete DPC took back from the ring */
    ULONG64 RxPosted;    /* packets the device put on the receive ring */
    ULONG64 RxIndicated; /* packets receive DPCs took off the receive ring */
    ULONG64 RxBytes;
} DEMO_ADAPTER_STATS;

/* Per-processor counters, one cache line each. Touched only at DISPATCH_LEVEL, without a lock. */
typedef struct _DEMO_PER_PROCESSOR {
    _Alignas(64) ULONG64 RxPackets;
    ULONG64 RxBytes;
} DEMO_PER_PROCESSOR;

/* What one receive thread has indicated; owned by that thread. */
typedef struct _DEMO_RECEIVER {
    ULONG64 Packets;
    ULONG64 IdSum; /* sum of DemoMixId(sequence) */
    ULONG64 ChecksumErrors;
} DEMO_RECEIVER, *PDEMO_RECEIVER;

/* What MiniportInterruptDPC did on one processor. A processor runs one DPC at a time, at
 * DISPATCH_LEVEL, so its entry needs no lock. */
typedef struct _DEMO_DPC_COUNTERS {
    _Alignas(64) DEMO_RECEIVER Rx; /* packets indicated */
    ULONG64 TxCompleted;           /* transmit descriptors taken back */
    ULONG64 TxCompletedIdSum;      /* sum of DemoMixId(id) over them */
    /* Atomics: a DPC that finds nothing to do still counts its run, and one may still run while
     * the report reads these. */
    _Atomic ULONG64 Runs;
    _Atomic ULONG64 Requeued; /* runs that left packets on the ring and queued the DPC again */
} DEMO_DPC_COUNTERS;

struct _DEMO_HW_REGISTERS; /* device.h */

typedef struct _ADAPTER {
    NDIS_SPIN_LOCK TxLock;
    DEMO_RING TxRing;

    NDIS_SPIN_LOCK RxLock;
    DEMO_RING RxRing;
    ULONG64 RxTaken; /* under RxLock: packets ever taken off the receive ring (the watchdog's progress) */

    NDIS_SPIN_LOCK StatsLock;
    DEMO_ADAPTER_STATS Stats;

    KSPIN_LOCK ActivityLock;
    ULONG64 RxDpcRuns; /* receive DPC runs that indicated packets; under ActivityLock */

    KSPIN_LOCK PoolLock;
    ULONG PoolSize;  /* buffers in all */
    ULONG PoolFree;  /* entries in FreeList */
    PULONG FreeList; /* stack of free buffer indices */
    PDEMO_BUFFER Buffers;

    ULONG ProcessorCount;
    DEMO_PER_PROCESSOR PerProcessor[NDISLOCK_MAX_PROCESSORS];

    /* The interrupt side (interrupt.c). InterruptHandle is NULL without a device (--irq-rate 0):
     * then receive threads poll the receive ring and the device thread completes sends. */
    NDIS_HANDLE MiniportAdapterHandle;
    NDIS_HANDLE InterruptHandle;
    struct _DEMO_HW_REGISTERS *Registers; /* the device's register block */
    ULONG64 TxRungUp;                     /* under TxLock: the last value written to the doorbell */
    _Atomic ULONG64 TxReaped;             /* descriptors ever taken back off the transmit ring; written under
                                           * TxLock, read without it (by the DPC, to skip TxLock when idle) */
    NDIS_SPIN_LOCK RegisterLock;          /* --bug isr-spin-lock only: the wrong guard for InterruptEnable */
    DEMO_DPC_COUNTERS Dpc[NDISLOCK_MAX_PROCESSORS];

    /* --msix: a message-signalled interrupt, one message per interrupt source (DEMO_MSG_*,
     * device.h), each message's ISR and DPC on a processor of its own. Counted per message, with
     * atomics: the ISRs run at DIRQL in a signal handler, and two messages' DPCs may run at once. */
    BOOLEAN Msix;
    ULONG MessageProcessor[DEMO_MSIX_MESSAGES]; /* where message N is sent and its DPC runs */
    _Atomic ULONG64 MessageIsrs[DEMO_MSIX_MESSAGES];
    _Atomic ULONG64 MessageClaimed[DEMO_MSIX_MESSAGES];
    _Atomic ULONG64 MessageDpcs[DEMO_MSIX_MESSAGES];
    _Atomic ULONG64 MessageDpcsElsewhere[DEMO_MSIX_MESSAGES]; /* runs off MessageProcessor: none expected */

    /* The watchdog timer (watchdog.c). */
    NDIS_HANDLE WatchdogTimer;
    ULONG64 WatchTxReaped; /* under TxLock: TxReaped at the routine's last run */
    ULONG64 WatchRxTaken;  /* under RxLock: RxTaken at the routine's last run */
    _Atomic ULONG64 WatchdogTicks;
    _Atomic ULONG64 WatchdogTxStalled;
    _Atomic ULONG64 WatchdogRxStalled;
} ADAPTER, *PADAPTER;

/* What the simulated device has done; owned by the device thread. */
typedef struct _DEMO_DEVICE {
    ULONG64 NextRxSequence;
    ULONG64 RxPostedCount;
    ULONG64 RxPostedIdSum; /* sum of DemoMixId(sequence) over posted packets */
    ULONG64 TxCompletedCount;
    ULONG64 TxCompletedIdSum;
    ULONG Pending[DEMO_RX_POST_BATCH]; /* filled receive buffers not yet on the ring */
    ULONG PendingCount;
} DEMO_DEVICE, *PDEMO_DEVICE;

/* --bug NAME (main.c): the datapath with one seeded locking mistake, for the verifier to report.
 * Each mistake's line carries the comment BUG:<name> (the ctest tests demo.bug.<name> look for
 * that line in the report). DEMO_BUG_NONE, the default, is the correct datapath. */
typedef enum _DEMO_BUG {
    DEMO_BUG_NONE = 0,
    DEMO_BUG_RECURSIVE_ACQUIRE,
    DEMO_BUG_WRONG_RELEASE,
    DEMO_BUG_OUT_OF_ORDER_RELEASE,
    DEMO_BUG_LOCK_ORDER,
    DEMO_BUG_HOLD_TOO_LONG,
    DEMO_BUG_RELEASE_NOT_HELD,
    DEMO_BUG_UNINITIALIZED,
    DEMO_BUG_USE_AFTER_FREE,
    DEMO_BUG_DPR_AT_PASSIVE,
    DEMO_BUG_WRONG_OLDIRQL,
    DEMO_BUG_THREAD_EXIT_HOLDING,
    DEMO_BUG_ISR_SPIN_LOCK
} DEMO_BUG;

/* Set once by main before the adapter is initialized; read-only afterwards. */
extern DEMO_BUG DemoBug;

/* A 64-bit mix of a packet id: sums of these catch a lost packet and a duplicate that a plain
 * count would let cancel out. */
ULONG64 DemoMixId(ULONG64 Id);

/* The adapter half of MiniportInitializeEx (interrupt.c has the whole callback): allocates the
 * pool, allocates and names the locks. PASSIVE_LEVEL. Returns FALSE when memory runs out. */
BOOLEAN DemoInitializeAdapter(PADAPTER Adapter, ULONG PoolSize, ULONG ProcessorCount);

/* The adapter half of MiniportHaltEx: frees the locks and the pool. PASSIVE_LEVEL, no thread, ISR
 * or DPC left running. */
void DemoHaltAdapter(PADAPTER Adapter);

/* Takes up to Max free buffers from the pool into Indices and returns how many. IRQL <=
 * DISPATCH_LEVEL. */
ULONG DemoAllocateBuffers(PADAPTER Adapter, PULONG Indices, ULONG Max);

/* Gives Count buffers back to the pool. IRQL <= DISPATCH_LEVEL. */
void DemoFreeBuffers(PADAPTER Adapter, const ULONG *Indices, ULONG Count);

/* Writes a packet into a buffer (payload, frame length, checksum). Any IRQL; no lock. */
void DemoFillBuffer(PDEMO_BUFFER Buffer, ULONG64 PacketId);

/* MiniportSendNetBufferLists, in short: queues one filled buffer on the transmit ring and, with a
 * device, rings its transmit doorbell (DemoNicSendPacket in interrupt.c then makes sure TX-done
 * interrupts are enabled). PASSIVE_LEVEL. Returns FALSE, leaving the buffer with the caller, when
 * the ring is full. */
BOOLEAN DemoSendPacket(PADAPTER Adapter, ULONG BufferIndex);

/* Send completion, at DISPATCH_LEVEL: takes back transmit descriptors the device has sent, oldest
 * first: at most Max, and only while fewer than HardwareSent have been taken back since initialize
 * (the device's TxHead register; ~0 when the device sends whatever is on the ring). Returns their
 * buffers to the pool, adds to *Count and *IdSum. Returns the number completed. */
ULONG DemoCompleteSendsAtDpcLevel(PADAPTER Adapter, ULONG64 HardwareSent, ULONG Max, ULONG64 *Count, ULONG64 *IdSum);

/* The send-complete DPC of the polling datapath (--irq-rate 0), run by the device thread: the
 * "hardware" has sent what is on the transmit ring; takes up to DEMO_TX_COMPLETE_BATCH descriptors
 * back. Raises to DISPATCH_LEVEL itself; called at PASSIVE_LEVEL. Returns the number completed. */
ULONG DemoSendCompleteDpc(PADAPTER Adapter, PDEMO_DEVICE Device);

/* The device side of receive: fills buffers with new packets and posts as many as fit on the
 * receive ring. PASSIVE_LEVEL. Returns the number posted. */
ULONG DemoDevicePostReceives(PADAPTER Adapter, PDEMO_DEVICE Device);

/* Returns the device's filled-but-unposted buffers to the pool (at shutdown). PASSIVE_LEVEL. */
void DemoDeviceFlush(PADAPTER Adapter, PDEMO_DEVICE Device);

/* The receive work of a DPC, at DISPATCH_LEVEL: drains up to DEMO_RX_DPC_BUDGET packets from the
 * receive ring, checks and counts each one (per-processor counters, no lock), returns the buffers.
 * Returns the number of packets indicated; *More is TRUE when it stopped at the budget with
 * packets still on the ring. Used by MiniportInterruptDPC and by DemoReceiveDpc. */
ULONG DemoIndicateReceivesAtDpcLevel(PADAPTER Adapter, PDEMO_RECEIVER Receiver, PBOOLEAN More);

/* The receive DPC of the polling datapath (--irq-rate 0), run by a receive thread: raises to
 * DISPATCH_LEVEL, DemoIndicateReceivesAtDpcLevel, lowers the IRQL again. Called at PASSIVE_LEVEL.
 * Returns the number of packets indicated. */
ULONG DemoReceiveDpc(PADAPTER Adapter, PDEMO_RECEIVER Receiver);

/* OID_GEN_STATISTICS, in short: a consistent copy of the adapter statistics. PASSIVE_LEVEL. */
void DemoQueryStatistics(PADAPTER Adapter, DEMO_ADAPTER_STATS *Out);

#endif /* NDISLOCK_DEMO_ADAPTER_H */
