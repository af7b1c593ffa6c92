/*
 * demo/device.h: the simulated NIC's hardware. Not driver code: it plays the device the miniport
 * drives, the way a test bench would. It has
 *
 *   - a register block (DEMO_HW_REGISTERS) the driver reads and writes, as it would through
 *     READ_REGISTER_ULONG / WRITE_REGISTER_ULONG on a mapped BAR;
 *   - a device thread that, N times a second, sends what the driver queued for transmit, puts
 *     newly arrived packets on the receive ring, and raises the interrupt line while a status
 *     bit the driver has enabled is set (NdislockAssertInterrupt), or, in MSI-X mode (--msix),
 *     sends the message of each such bit (NdislockAssertInterruptMessage).
 *
 * The driver's side of the interrupt (ISR, DPC, synchronize functions) is demo/interrupt.c.
 */
#ifndef NDISLOCK_DEMO_DEVICE_H
#define NDISLOCK_DEMO_DEVICE_H

#include <pthread.h>
#include <stdatomic.h>

#include <ndislock/device.h> /* NdislockAssertInterrupt: the line this device raises */

#include "adapter.h"

/* Interrupt status / enable bits. */
#define DEMO_INT_RX 0x1u      /* packets were placed on the receive ring */
#define DEMO_INT_TX_DONE 0x2u /* the device sent descriptors from the transmit ring */
#define DEMO_INT_ALL (DEMO_INT_RX | DEMO_INT_TX_DONE)

/* --msix: the device's MSI-X table has one message per interrupt source (DEMO_MSIX_MESSAGES,
 * adapter.h): the receive queue's and transmit done's. The status and enable registers are the
 * same; a source that is raised and enabled sends its message instead of raising the line. */
#define DEMO_MSG_RX 0u
#define DEMO_MSG_TX_DONE 1u
static inline ULONG DemoMessageSource(ULONG MessageId) {
    return MessageId == DEMO_MSG_RX ? DEMO_INT_RX : DEMO_INT_TX_DONE;
}

/* The register block. Every register is an atomic because the device thread reads it while the
 * driver writes it; that makes each single access indivisible, as a bus cycle is, but nothing
 * more: a read-modify-write of InterruptEnable is two accesses, and only the interrupt's own lock
 * (the ISR, or a function run by NdisMSynchronizeWithInterruptEx) keeps two of them apart. */
typedef struct _DEMO_HW_REGISTERS {
    /* Set by the device as events happen; the driver acknowledges bits by writing them back
     * (write-1-to-clear), in its ISR. */
    _Atomic ULONG InterruptStatus;
    /* Which status bits raise the line. Written by the driver only at the interrupt's DIRQL under
     * its lock: in MiniportInterrupt and in synchronize functions. */
    _Atomic ULONG InterruptEnable;
    /* Transmit doorbell: descriptors the driver has put on the transmit ring since initialize.
     * Written by the send path, under TxLock so that values only grow. */
    _Atomic ULONG64 TxTail;
    /* Descriptors the device has sent since initialize (TxHead <= TxTail). */
    _Atomic ULONG64 TxHead;
} DEMO_HW_REGISTERS, *PDEMO_HW_REGISTERS;

/* Register accessors: what the driver uses, in place of READ/WRITE_REGISTER_ULONG. */
static inline ULONG DemoHwReadStatus(PDEMO_HW_REGISTERS Registers) { return atomic_load(&Registers->InterruptStatus); }
static inline void DemoHwAcknowledge(PDEMO_HW_REGISTERS Registers, ULONG Bits) {
    atomic_fetch_and(&Registers->InterruptStatus, ~Bits); /* write-1-to-clear */
}
static inline ULONG DemoHwReadEnable(PDEMO_HW_REGISTERS Registers) { return atomic_load(&Registers->InterruptEnable); }
static inline void DemoHwWriteEnable(PDEMO_HW_REGISTERS Registers, ULONG Value) {
    atomic_store(&Registers->InterruptEnable, Value);
}
static inline void DemoHwWriteTxTail(PDEMO_HW_REGISTERS Registers, ULONG64 Tail) {
    atomic_store(&Registers->TxTail, Tail);
}
static inline ULONG64 DemoHwReadTxTail(PDEMO_HW_REGISTERS Registers) { return atomic_load(&Registers->TxTail); }
static inline ULONG64 DemoHwReadTxHead(PDEMO_HW_REGISTERS Registers) { return atomic_load(&Registers->TxHead); }

/* The device: its registers, its interrupt line and its thread. */
typedef struct _DEMO_HW {
    DEMO_HW_REGISTERS Registers;
    PADAPTER Adapter;            /* the receive ring and buffer pool it writes packets into */
    NDIS_HANDLE InterruptHandle; /* the line it raises (set once the driver registered it) */
    ULONG RatePerSecond;         /* device ticks a second: each may raise the line once */
    ULONG Processor;             /* the virtual processor its thread binds to */
    pthread_t Thread;
    NDISLOCK_STATUS BindStatus;
    atomic_bool StopReceiving; /* no more packets arrive from the wire */
    atomic_bool Stop;          /* the thread ends after its current tick */
    DEMO_DEVICE Counters;      /* packets it posted on the receive ring (owned by its thread) */
    ULONG64 Ticks;
    BOOLEAN Msix;         /* sends messages instead of raising a line */
    ULONG64 LineRaised;   /* NdislockAssertInterrupt calls; with --msix, messages sent */
    ULONG64 AssertFailed; /* ... that did not return NDISLOCK_OK */
} DEMO_HW, *PDEMO_HW;

/* Resets the device: registers zero (every interrupt source masked), not running. With Msix it
 * sends messages instead of raising a line, each toward any processor of the message's target
 * set (all of them: NDISLOCK_ANY_PROCESSOR, round-robin); the ISR targets the message's DPC. */
void DemoHwInitialize(PDEMO_HW Hw, PADAPTER Adapter, ULONG RatePerSecond, ULONG Processor, BOOLEAN Msix);

/* Starts the device thread; InterruptHandle must be registered by then. Returns the
 * pthread_create error, 0 on success. */
int DemoHwStart(PDEMO_HW Hw);

/* No more packets arrive; the device still sends and still raises the line. */
void DemoHwStopReceiving(PDEMO_HW Hw);

/* Stops the device thread and waits for it. Afterwards the line is never raised again. */
void DemoHwStop(PDEMO_HW Hw);

/* What the device thread does last, before it returns (with --bug thread-exit-holding, the
 * thread's seeded mistake). Also the last step of the device in ndislock-demo --explore. */
void DemoHwLastLook(PADAPTER Adapter);

#endif /* NDISLOCK_DEMO_DEVICE_H */
