/*
 * demo/interrupt.h: the miniport's interrupt side, written as an NDIS 6 miniport's is:
 * MiniportInitializeEx registers a line-based interrupt with NdisMRegisterInterruptEx (with --msix,
 * a message-signalled one: a message per source, each with its ISR and DPC),
 * MiniportHaltEx deregisters it, MiniportInterrupt (the ISR, at DIRQL) claims and masks what the
 * device raised, and MiniportInterruptDPC (at DISPATCH_LEVEL) does the work: takes back what the
 * device sent, drains the receive ring under NdisDprAcquireSpinLock, and turns the interrupt
 * sources back on.
 *
 * The device's InterruptEnable register is shared by the ISR, the DPC and the send path. The ISR
 * runs at DIRQL, where a spin lock must not be taken (it could spin on its own processor's
 * holder, which it has interrupted). So the DPC and the send path change the register only
 * inside a synchronize function run by NdisMSynchronizeWithInterruptEx, which holds the
 * interrupt's own lock at DIRQL: it and the ISR never overlap, on any processor.
 */
#ifndef NDISLOCK_DEMO_INTERRUPT_H
#define NDISLOCK_DEMO_INTERRUPT_H

#include "adapter.h"
#include "device.h"

/* What the "driver" hands NdislockMiniportInitialize as MiniportDriverContext: where the adapter
 * block lives and how to set it up. */
typedef struct _DEMO_DRIVER_CONTEXT {
    PADAPTER Adapter;
    ULONG PoolSize;
    ULONG ProcessorCount;
    PDEMO_HW_REGISTERS Registers; /* the device's register block; NULL: no device (polling) */
    BOOLEAN Msix;                 /* register a message-signalled interrupt, one message per source (--msix) */
} DEMO_DRIVER_CONTEXT, *PDEMO_DRIVER_CONTEXT;

/* MiniportInitializeEx: sets the adapter up (DemoInitializeAdapter), starts the watchdog timer
 * (watchdog.h) and, with a device, registers its interrupt (line-based, or with Msix one message
 * per source, DEMO_MSG_*) and enables receive interrupts. PASSIVE_LEVEL. MiniportDriverContext is a
 * PDEMO_DRIVER_CONTEXT. The adapter context for MiniportHaltEx is its Adapter. */
MINIPORT_INITIALIZE DemoMiniportInitializeEx;

/* MiniportHaltEx: cancels and frees the watchdog timer, masks the device's interrupts, deregisters the interrupt (which
 * waits for any ISR or DPC still running), then frees the adapter (DemoHaltAdapter). PASSIVE_LEVEL. */
MINIPORT_HALT DemoMiniportHaltEx;

/* The send path with a device: DemoSendPacket, then makes sure TX-done interrupts are on, so the
 * packet is completed. PASSIVE_LEVEL. Returns FALSE when the transmit ring is full. */
BOOLEAN DemoNicSendPacket(PADAPTER Adapter, ULONG BufferIndex);

/* TRUE once every descriptor rung up on the transmit doorbell has been taken back by a DPC. Any
 * IRQL; no lock (reads the doorbell register and the DPCs' count). */
BOOLEAN DemoNicSendsIdle(PADAPTER Adapter);

/* Shutdown, after the device stopped: runs MiniportInterruptDPC until the receive ring is empty
 * and every DPC that took packets has returned (KeFlushQueuedDpcs; NdisMQueueDpcEx for what no
 * interrupt will announce any more). PASSIVE_LEVEL. FALSE if the rings did not empty. */
BOOLEAN DemoNicFlushDpcs(PADAPTER Adapter);

#endif /* NDISLOCK_DEMO_INTERRUPT_H */
