/*
 * demo/interrupt.c: the miniport's interrupt side (interrupt.h): registration, the ISR, the DPC,
 * and every change to the device's InterruptEnable register.
 *
 * The interrupt sources and who turns them on and off:
 *
 *   RX       the ISR masks it when it claims it; the DPC turns it back on once the receive ring
 *            is empty (until then the DPC queues itself again: the device raises RX only for new
 *            packets, not for packets already on the ring).
 *   TX-done  the ISR masks it when it claims it; whoever leaves transmits outstanding turns it
 *            back on: the send path after ringing the doorbell, the DPC if descriptors remain.
 *
 * The ISR does only what must happen at DIRQL (read and acknowledge the status register, mask)
 * and leaves the rest to the DPC, where a spin lock may be taken and time is less dear
 * (NDIS asks for ISRs under 25 us and DPCs under 100 us).
 */
#include "interrupt.h"
#include "watchdog.h"

#include <string.h>

/* ---- The enable register ----------------------------------------------------------------- */

typedef struct _DEMO_ENABLE_CHANGE {
    PADAPTER Adapter;
    ULONG Set;   /* sources to turn on; DEMO_INT_TX_DONE only while transmits are outstanding */
    ULONG Clear; /* sources to turn off */
} DEMO_ENABLE_CHANGE;

BOOLEAN DemoNicSendsIdle(PADAPTER Adapter) {
    return (BOOLEAN)(DemoHwReadTxTail(Adapter->Registers) == atomic_load(&Adapter->TxReaped));
}

/* MiniportSynchronizeInterrupt: runs at DIRQL holding the interrupt's lock, so the
 * read-modify-write of InterruptEnable cannot interleave with the ISR's (or another synchronize
 * function's) on any processor. Takes no spin lock: it runs above DISPATCH_LEVEL. */
static BOOLEAN DemoSyncUpdateEnable(NDIS_HANDLE SynchronizeContext) {
    DEMO_ENABLE_CHANGE *Change = SynchronizeContext;
    PDEMO_HW_REGISTERS Registers = Change->Adapter->Registers;
    ULONG Old = DemoHwReadEnable(Registers);
    ULONG New = (Old & ~Change->Clear) | (Change->Set & DEMO_INT_RX);

    /* The doorbell is written before the send path reads this register, and this reads the
     * doorbell after the ISR masked TX-done: either the send path sees TX-done masked and asks
     * for it, or this sees its descriptor outstanding. No sent packet is left without a TX-done. */
    if ((Change->Set & DEMO_INT_TX_DONE) != 0 && !DemoNicSendsIdle(Change->Adapter)) New |= DEMO_INT_TX_DONE;
    if (New != Old) DemoHwWriteEnable(Registers, New);
    return (BOOLEAN)(New != Old);
}

/* Turns interrupt sources on and off. IRQL <= DISPATCH_LEVEL. */
static void DemoUpdateInterrupts(PADAPTER Adapter, ULONG Set, ULONG Clear) {
    DEMO_ENABLE_CHANGE Change = {Adapter, Set, Clear};

    if (DemoBug == DEMO_BUG_ISR_SPIN_LOCK) {
        /* The seeded mistake's other half: the register guarded by an ordinary spin lock. */
        NdisAcquireSpinLock(&Adapter->RegisterLock);
        DemoSyncUpdateEnable(&Change);
        NdisReleaseSpinLock(&Adapter->RegisterLock);
        return;
    }
    NdisMSynchronizeWithInterruptEx(Adapter->InterruptHandle, 0, DemoSyncUpdateEnable, &Change);
}

/* ---- ISR and DPC ------------------------------------------------------------------------- */

/* MiniportInterrupt, at DIRQL: claims what the device raised and masks it until the DPC has dealt
 * with it (the line would otherwise stay up and interrupt again at once). */
static BOOLEAN DemoMiniportInterrupt(NDIS_HANDLE MiniportInterruptContext, PBOOLEAN QueueDefaultInterruptDpc,
                                     PULONG TargetProcessors) {
    PADAPTER Adapter = MiniportInterruptContext;
    PDEMO_HW_REGISTERS Registers = Adapter->Registers;

    *TargetProcessors = 0;
    *QueueDefaultInterruptDpc = FALSE;
    if (DemoBug == DEMO_BUG_ISR_SPIN_LOCK) {
        /* Seeded mistake: an NDIS spin lock taken at DIRQL to guard the enable register. If the
         * interrupted code on this processor holds it, this spins forever. */
        NdisDprAcquireSpinLock(&Adapter->RegisterLock); /* BUG:isr-spin-lock */
    }
    ULONG Enabled = DemoHwReadEnable(Registers);
    ULONG Pending = DemoHwReadStatus(Registers) & Enabled;
    if (Pending != 0) {
        DemoHwAcknowledge(Registers, Pending);
        DemoHwWriteEnable(Registers, Enabled & ~Pending);
    }
    if (DemoBug == DEMO_BUG_ISR_SPIN_LOCK) NdisDprReleaseSpinLock(&Adapter->RegisterLock);

    /* Nothing enabled and raised: not this device's interrupt (a line may be shared), or one the
     * line raised again before an earlier run of this ISR acknowledged it. */
    if (Pending == 0) return FALSE;
    *QueueDefaultInterruptDpc = TRUE;
    return TRUE;
}

/* The work of a DPC for the interrupt sources Sources (DEMO_INT_*), at DISPATCH_LEVEL. Bounded
 * work per run (DEMO_TX_DPC_BUDGET send completions, DEMO_RX_DPC_BUDGET receives) keeps it far
 * below 100 us. Returns TRUE when a budget ran out with work left. */
static BOOLEAN DemoDpcService(PADAPTER Adapter, ULONG Sources, ULONG Processor) {
    DEMO_DPC_COUNTERS *Counters = &Adapter->Dpc[Processor];
    BOOLEAN More = FALSE, SendsLeft = FALSE;

    atomic_fetch_add_explicit(&Counters->Runs, 1, memory_order_relaxed);
    if ((Sources & DEMO_INT_TX_DONE) != 0) {
        /* What the device has sent (its TxHead): skip TxLock when every descriptor is back. */
        ULONG64 Sent = DemoHwReadTxHead(Adapter->Registers);
        if (Sent > atomic_load(&Adapter->TxReaped))
            SendsLeft = (BOOLEAN)(DemoCompleteSendsAtDpcLevel(Adapter, Sent, DEMO_TX_DPC_BUDGET, &Counters->TxCompleted,
                                                              &Counters->TxCompletedIdSum) == DEMO_TX_DPC_BUDGET);
    }
    if ((Sources & DEMO_INT_RX) != 0) DemoIndicateReceivesAtDpcLevel(Adapter, &Counters->Rx, &More);
    if (More || SendsLeft) atomic_fetch_add_explicit(&Counters->Requeued, 1, memory_order_relaxed);
    return (BOOLEAN)(More || SendsLeft);
}

/* Queues the DPC (of message MessageId; 0 for the line) again on processor Processor. */
static void DemoRequeueDpc(PADAPTER Adapter, ULONG MessageId, ULONG Processor) {
    GROUP_AFFINITY Here;
    memset(&Here, 0, sizeof(Here));
    Here.Mask = (KAFFINITY)1 << Processor;
    NdisMQueueDpcEx(Adapter->InterruptHandle, MessageId, &Here, NULL);
}

/* MiniportInterruptDPC, at DISPATCH_LEVEL on the processor the ISR ran on. */
static VOID DemoMiniportInterruptDpc(NDIS_HANDLE MiniportInterruptContext, PVOID MiniportDpcContext,
                                     PVOID ReceiveThrottleParameters, PVOID NdisReserved2) {
    PADAPTER Adapter = MiniportInterruptContext;
    const ULONG Processor = KeGetCurrentProcessorNumberEx(NULL);
    (void)MiniportDpcContext;
    (void)ReceiveThrottleParameters;
    (void)NdisReserved2;

    if (DemoDpcService(Adapter, DEMO_INT_ALL, Processor)) {
        /* A budget ran out with work left: run again (after other DPCs), what the ISR masked
         * still masked. */
        DemoRequeueDpc(Adapter, 0, Processor);
        return;
    }
    DemoUpdateInterrupts(Adapter, DEMO_INT_ALL, 0);
}

/* ---- MSI-X: one message per source --------------------------------------------------------- */

/* MiniportMessageInterrupt, at DIRQL: as MiniportInterrupt, for the one source of MessageId. The
 * interrupt is registered with MsiSyncWithAllMessages, so every message's ISR and every
 * synchronize function hold the same lock: their read-modify-writes of InterruptEnable never
 * interleave. The DPC goes to the message's own processor (TargetProcessors), not the one the
 * message happened to land on. */
static BOOLEAN DemoMiniportMessageInterrupt(NDIS_HANDLE MiniportInterruptContext, ULONG MessageId,
                                            PBOOLEAN QueueDefaultInterruptDpc, PULONG TargetProcessors) {
    PADAPTER Adapter = MiniportInterruptContext;
    PDEMO_HW_REGISTERS Registers = Adapter->Registers;

    *QueueDefaultInterruptDpc = FALSE;
    *TargetProcessors = 0;
    atomic_fetch_add_explicit(&Adapter->MessageIsrs[MessageId], 1, memory_order_relaxed);
    if (DemoBug == DEMO_BUG_ISR_SPIN_LOCK) NdisDprAcquireSpinLock(&Adapter->RegisterLock); /* BUG:isr-spin-lock */
    ULONG Enabled = DemoHwReadEnable(Registers);
    ULONG Pending = DemoHwReadStatus(Registers) & Enabled & DemoMessageSource(MessageId);
    if (Pending != 0) {
        DemoHwAcknowledge(Registers, Pending);
        DemoHwWriteEnable(Registers, Enabled & ~Pending);
    }
    if (DemoBug == DEMO_BUG_ISR_SPIN_LOCK) NdisDprReleaseSpinLock(&Adapter->RegisterLock);

    /* Zero: a message sent again before an earlier delivery of it masked its source. */
    if (Pending == 0) return FALSE;
    atomic_fetch_add_explicit(&Adapter->MessageClaimed[MessageId], 1, memory_order_relaxed);
    *TargetProcessors = 1u << Adapter->MessageProcessor[MessageId];
    return TRUE;
}

/* MiniportMessageInterruptDPC, at DISPATCH_LEVEL on the message's processor: the work of its
 * source only, then its source back on. */
static VOID DemoMiniportMessageInterruptDpc(NDIS_HANDLE MiniportInterruptContext, ULONG MessageId,
                                            PVOID MiniportDpcContext, PVOID ReceiveThrottleParameters,
                                            PVOID NdisReserved2) {
    PADAPTER Adapter = MiniportInterruptContext;
    const ULONG Processor = KeGetCurrentProcessorNumberEx(NULL);
    const ULONG Source = DemoMessageSource(MessageId);
    (void)MiniportDpcContext;
    (void)ReceiveThrottleParameters;
    (void)NdisReserved2;

    atomic_fetch_add_explicit(&Adapter->MessageDpcs[MessageId], 1, memory_order_relaxed);
    if (Processor != Adapter->MessageProcessor[MessageId])
        atomic_fetch_add_explicit(&Adapter->MessageDpcsElsewhere[MessageId], 1, memory_order_relaxed);
    if (DemoDpcService(Adapter, Source, Processor)) {
        DemoRequeueDpc(Adapter, MessageId, Processor);
        return;
    }
    DemoUpdateInterrupts(Adapter, Source, 0);
}

/* The line-based handlers NDIS also asks for beside the message ones (used if the system grants
 * no messages; ndislock always grants them here, so these are never called). */
static BOOLEAN DemoMiniportLineInterruptUnused(NDIS_HANDLE MiniportInterruptContext, PBOOLEAN QueueDefaultInterruptDpc,
                                               PULONG TargetProcessors) {
    (void)MiniportInterruptContext;
    (void)TargetProcessors;
    *QueueDefaultInterruptDpc = FALSE;
    return FALSE;
}

/* ---- Initialize and halt ----------------------------------------------------------------- */

/* The last step of initialize: the watchdog timer, once everything its routine looks at is set
 * up. On failure undoes initialize (MiniportHaltEx's work) and returns the status. */
static NDIS_STATUS DemoStartWatchdogOrHalt(PADAPTER Adapter) {
    NDIS_STATUS Status = DemoWatchdogStart(Adapter, Adapter->MiniportAdapterHandle);
    if (Status != NDIS_STATUS_SUCCESS) DemoMiniportHaltEx(Adapter, NdisHaltDeviceInitializationFailed);
    return Status;
}

NDIS_STATUS DemoMiniportInitializeEx(NDIS_HANDLE NdisMiniportHandle, NDIS_HANDLE MiniportDriverContext,
                                     PNDIS_MINIPORT_INIT_PARAMETERS MiniportInitParameters) {
    PDEMO_DRIVER_CONTEXT Driver = MiniportDriverContext;
    PADAPTER Adapter = Driver->Adapter;
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS Interrupt;
    (void)MiniportInitParameters;

    if (!DemoInitializeAdapter(Adapter, Driver->PoolSize, Driver->ProcessorCount)) return NDIS_STATUS_RESOURCES;
    Adapter->MiniportAdapterHandle = NdisMiniportHandle;
    NDIS_STATUS Status = NDIS_STATUS_SUCCESS;
    if (Driver->Registers == NULL) return DemoStartWatchdogOrHalt(Adapter); /* no device: the polling datapath */

    memset(&Interrupt, 0, sizeof(Interrupt));
    Interrupt.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
    Interrupt.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
    Interrupt.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
    Interrupt.InterruptHandler = DemoMiniportInterrupt;
    Interrupt.InterruptDpcHandler = DemoMiniportInterruptDpc;
    Interrupt.InterruptType = NDIS_CONNECT_LINE_BASED;
    if (Driver->Msix) {
        /* One message per source (the PnP manager's grant, played by ndislock), each message's
         * DPC on a processor of its own: message N on processor N (modulo the count). */
        Status = NdislockSetAdapterMessageCount(NdisMiniportHandle, DEMO_MSIX_MESSAGES) == NDISLOCK_OK
                     ? NDIS_STATUS_SUCCESS
                     : NDIS_STATUS_RESOURCES;
        Interrupt.InterruptHandler = DemoMiniportLineInterruptUnused;
        Interrupt.MsiSupported = TRUE;
        Interrupt.MsiSyncWithAllMessages = TRUE; /* one InterruptEnable register for every message */
        Interrupt.MessageInterruptHandler = DemoMiniportMessageInterrupt;
        Interrupt.MessageInterruptDpcHandler = DemoMiniportMessageInterruptDpc;
        Adapter->Msix = TRUE;
        for (ULONG m = 0; m < DEMO_MSIX_MESSAGES; m++)
            Adapter->MessageProcessor[m] = m % Driver->ProcessorCount;
    }

    /* The registers before the interrupt: the ISR reads them from its first run. */
    Adapter->Registers = Driver->Registers;
    if (Status == NDIS_STATUS_SUCCESS)
        Status = NdisMRegisterInterruptEx(NdisMiniportHandle, Adapter, &Interrupt, &Adapter->InterruptHandle);
    if (Status == NDIS_STATUS_SUCCESS && Driver->Msix &&
        (Interrupt.InterruptType != NDIS_CONNECT_MESSAGE_BASED ||
         Interrupt.MessageInfoTable->MessageCount < DEMO_MSIX_MESSAGES)) {
        /* Fewer messages than sources: this driver does not fall back to one. */
        NdisMDeregisterInterruptEx(Adapter->InterruptHandle);
        Status = NDIS_STATUS_RESOURCES;
    }
    if (Status != NDIS_STATUS_SUCCESS) {
        Adapter->InterruptHandle = NULL;
        Adapter->Registers = NULL;
        DemoHaltAdapter(Adapter);
        return Status;
    }
    /* The device comes out of reset with every source masked. Receive interrupts from now on;
     * TX-done ones once something is sent (DemoNicSendPacket). */
    DemoUpdateInterrupts(Adapter, DEMO_INT_RX, 0);
    return DemoStartWatchdogOrHalt(Adapter);
}

VOID DemoMiniportHaltEx(NDIS_HANDLE MiniportAdapterContext, NDIS_HALT_ACTION HaltAction) {
    PADAPTER Adapter = MiniportAdapterContext;
    (void)HaltAction;

    DemoWatchdogStop(Adapter); /* its routine takes the adapter's locks: gone before they are freed */
    if (Adapter->InterruptHandle != NULL) {
        DemoUpdateInterrupts(Adapter, 0, DEMO_INT_ALL);
        NdisMDeregisterInterruptEx(Adapter->InterruptHandle); /* waits for running ISRs and DPCs */
        Adapter->InterruptHandle = NULL;
    }
    DemoHaltAdapter(Adapter);
}

/* ---- Send path and shutdown -------------------------------------------------------------- */

BOOLEAN DemoNicSendPacket(PADAPTER Adapter, ULONG BufferIndex) {
    if (!DemoSendPacket(Adapter, BufferIndex)) return FALSE;
    /* The ISR masks TX-done when it claims one. Reading the register is harmless; changing it is
     * the ISR's business too, so that goes through the interrupt's lock. */
    if (Adapter->InterruptHandle != NULL && (DemoHwReadEnable(Adapter->Registers) & DEMO_INT_TX_DONE) == 0)
        DemoUpdateInterrupts(Adapter, DEMO_INT_TX_DONE, 0);
    return TRUE;
}

static BOOLEAN DemoNicReceiveRingEmpty(PADAPTER Adapter) {
    NdisAcquireSpinLock(&Adapter->RxLock);
    ULONG Count = Adapter->RxRing.Count;
    NdisReleaseSpinLock(&Adapter->RxLock);
    return (BOOLEAN)(Count == 0);
}

BOOLEAN DemoNicFlushDpcs(PADAPTER Adapter) {
    GROUP_AFFINITY Here;
    memset(&Here, 0, sizeof(Here));
    Here.Mask = (KAFFINITY)1 << KeGetCurrentProcessorNumberEx(NULL);

    for (ULONG Round = 0; Round < 10000; Round++) {
        KeFlushQueuedDpcs();
        if (DemoNicReceiveRingEmpty(Adapter) && DemoNicSendsIdle(Adapter)) {
            /* A DPC may still hold packets it took off the ring before the check: it was queued
             * before this flush, which waits for it. A DPC queued later (an interrupt the device
             * raised before it stopped) finds both rings empty and changes nothing but its own
             * run count and the enable register; MiniportHaltEx's deregistration waits for it. */
            KeFlushQueuedDpcs();
            return TRUE;
        }
        /* Packets whose RX status the ISR acknowledged, or that arrived while RX was masked, and
         * no device left to raise the line: queue the DPC ourselves (each message's, with MSI-X). */
        if (!Adapter->Msix) {
            NdisMQueueDpcEx(Adapter->InterruptHandle, 0, &Here, NULL);
            continue;
        }
        for (ULONG m = 0; m < DEMO_MSIX_MESSAGES; m++)
            DemoRequeueDpc(Adapter, m, Adapter->MessageProcessor[m]);
    }
    return FALSE;
}
