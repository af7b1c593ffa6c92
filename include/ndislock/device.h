/*
 * ndislock/device.h: ndislock's stand-in for NDIS and the hardware around a miniport's interrupt:
 * adapter handles (NDIS calling MiniportInitializeEx and MiniportHaltEx), a simulated device that
 * asserts interrupts toward processors, and what the interrupts did (counts and latencies).
 * Nothing here exists in the WDK; it belongs in a test harness or a demo's device model. Clean C11
 * and C++. Not included by ndislock/ndis.h: it is not driver vocabulary, so a harness or a device
 * model includes it by name (after or instead of ndislock/ndis.h). docs/interrupts.md explains
 * the model.
 */
#ifndef NDISLOCK_DEVICE_H
#define NDISLOCK_DEVICE_H

#include "ndislock/export.h"
#include "ndislock/ext.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Adapters ---------------------------------------------------------------------------- */

/* Plays NDIS calling MiniportInitializeEx: creates an adapter, calls
 * Initialize(adapter handle, MiniportDriverContext, NULL) at PASSIVE_LEVEL on the calling thread
 * (Initialize may be NULL: the adapter is then just created), stores the handle in
 * *MiniportAdapterHandle and returns Initialize's status. If Initialize fails, interrupts it
 * registered and did not deregister are InterruptRegistrationMisuse, and the adapter is gone.
 * The caller must be at PASSIVE_LEVEL (NDIS_STATUS_FAILURE otherwise). */
NDISLOCK_API NDIS_STATUS NdislockMiniportInitialize(MINIPORT_INITIALIZE_HANDLER Initialize,
                                                    NDIS_HANDLE MiniportDriverContext,
                                                    PNDIS_HANDLE MiniportAdapterHandle);

/* Plays NDIS calling MiniportHaltEx: calls Halt(MiniportAdapterContext, NdisHaltDeviceDisabled)
 * at PASSIVE_LEVEL (Halt may be NULL), then frees the adapter. An interrupt of the adapter still
 * registered after Halt returns is InterruptRegistrationMisuse (ndislock then deregisters it). */
NDISLOCK_API VOID NdislockMiniportHalt(NDIS_HANDLE MiniportAdapterHandle, MINIPORT_HALT_HANDLER Halt,
                                       NDIS_HANDLE MiniportAdapterContext);

/* ---- The simulated device ---------------------------------------------------------------- */

/* The DIRQL ndislock gives line-based interrupts (a device level between DISPATCH_LEVEL and
 * CLOCK_LEVEL, as on x64). */
#define NDISLOCK_DEVICE_IRQL 8

#define NDISLOCK_ANY_PROCESSOR 0xFFFFFFFFu

/* Asserts the interrupt's line toward Processor (NDISLOCK_ANY_PROCESSOR: the affinity policy
 * picks one, round-robin). Any thread, any IRQL. The interrupt preempts whatever runs on that
 * processor below the DIRQL (docs/interrupts.md), runs MiniportInterrupt there, and queues the
 * DPCs it asks for. The line is level-triggered: asserting it again before the ISR ran merges
 * into the pending interrupt (counted as Coalesced). On a message-signalled interrupt it sends
 * message 0 (NdislockAssertInterruptMessage). If the caller itself runs on Processor below
 * the DIRQL, the ISR has run when this returns; otherwise this returns at once. Returns
 * NDISLOCK_INVALID_ARGUMENT for an unknown or deregistered handle or a processor out of range. */
NDISLOCK_API NDISLOCK_STATUS NdislockAssertInterrupt(NDIS_HANDLE NdisInterruptHandle, ULONG Processor);

/* Plays the PnP manager granting the adapter MessageCount MSI-X messages (1..32), for the
 * message-signalled NdisMRegisterInterruptEx that follows. PASSIVE_LEVEL, before that call (from
 * MiniportInitializeEx or before NdislockMiniportInitialize's adapter registers). Without it an
 * adapter has one message per virtual processor (at most 32). Returns NDISLOCK_INVALID_ARGUMENT
 * for an unknown adapter or a count out of range. */
NDISLOCK_API NDISLOCK_STATUS NdislockSetAdapterMessageCount(NDIS_HANDLE MiniportAdapterHandle, ULONG MessageCount);

/* Plays the device sending message MessageId of a message-signalled interrupt toward Processor
 * (NDISLOCK_ANY_PROCESSOR: round-robin): as NdislockAssertInterrupt, except that messages are
 * edge-like: every assert is one delivery of MiniportMessageInterrupt(MessageId), none merges
 * into a pending one (on a line-based interrupt, MessageId 0 asserts the line). Returns
 * NDISLOCK_INVALID_ARGUMENT for an unknown handle, a MessageId past the message count (any but 0
 * on a line-based interrupt) or a processor out of range. */
NDISLOCK_API NDISLOCK_STATUS NdislockAssertInterruptMessage(NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
                                                            ULONG Processor);

/* Plays NDIS calling MiniportEnableInterruptEx / MiniportDisableInterruptEx (for a message-
 * signalled interrupt, MiniportEnable/DisableMessageInterrupt for each message in turn): at the
 * interrupt's DIRQL, holding its spin lock, on the calling thread. PASSIVE_LEVEL..DISPATCH_LEVEL.
 * Returns NDISLOCK_INVALID_ARGUMENT for an unknown handle or a missing handler. */
NDISLOCK_API NDISLOCK_STATUS NdislockEnableInterrupt(NDIS_HANDLE NdisInterruptHandle);
NDISLOCK_API NDISLOCK_STATUS NdislockDisableInterrupt(NDIS_HANDLE NdisInterruptHandle);

/* ---- What the interrupts did ------------------------------------------------------------- */

typedef struct NDISLOCK_LATENCY {
    ULONG64 Count;
    ULONG64 P50Ns; /* within 1/16 of the value */
    ULONG64 P99Ns;
    ULONG64 MaxNs; /* exact */
} NDISLOCK_LATENCY;

typedef struct NDISLOCK_INTERRUPT_STATS {
    ULONG64 Asserted;    /* NdislockAssertInterrupt calls */
    ULONG64 Coalesced;   /* asserts merged into an interrupt still pending */
    ULONG64 Delivered;   /* MiniportInterrupt runs */
    ULONG64 Claimed;     /* runs that returned TRUE */
    ULONG64 Preempted;   /* deliveries that stopped a thread running at DISPATCH_LEVEL or below */
    ULONG64 HeldPending; /* deliveries that waited for the processor's IRQL to drop below DIRQL */
    ULONG64 DpcsQueued;  /* MiniportInterruptDPC queued (by the ISR or NdisMQueueDpcEx) */
    ULONG64 DpcsRun;
    ULONG64 Synchronized;             /* synchronize functions run */
    NDISLOCK_LATENCY DeliveryLatency; /* assert to MiniportInterrupt entry */
    NDISLOCK_LATENCY DpcLatency;      /* queue to MiniportInterruptDPC entry */
    NDISLOCK_LATENCY IsrDuration;     /* MiniportInterrupt, entry to return, in the routine's own time */
    NDISLOCK_LATENCY DpcDuration;     /* MiniportInterruptDPC, the same; runs the OS descheduled are not
                                         timed, so these Counts may be below Delivered and DpcsRun */
} NDISLOCK_INTERRUPT_STATS;

/* Copies the interrupt's figures since registration (or the last reset) into *Out. Any IRQL.
 * NDISLOCK_INVALID_ARGUMENT for an unknown handle. */
NDISLOCK_API NDISLOCK_STATUS NdislockGetInterruptStats(NDIS_HANDLE NdisInterruptHandle, NDISLOCK_INTERRUPT_STATS *Out);
NDISLOCK_API NDISLOCK_STATUS NdislockResetInterruptStats(NDIS_HANDLE NdisInterruptHandle);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_DEVICE_H */
