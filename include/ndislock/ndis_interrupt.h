/*
 * ndislock/ndis_interrupt.h: the NDIS 6 interrupt calls, kernel DPCs and NDIS events, with the
 * semantics Microsoft documents. Clean C11 and C++. Included by ndislock/ndis.h.
 *
 * Contract: this header (each call's IRQL, semantics and misuse, as in ndislock/ndis.h). Pages under
 * https://learn.microsoft.com/windows-hardware/drivers/ddi/ (ndis/nf-ndis-*, ndis/nc-ndis-*,
 * wdm/nf-wdm-*).
 *
 * How interrupts happen in a process (docs/interrupts.md has the whole story): each virtual
 * processor has an interrupt thread of its own. An interrupt asserted toward a processor (by a
 * test or the demo's device, ndislock/device.h) preempts the code running on that processor below
 * the interrupt's DIRQL: the thread that owns the processor at DISPATCH_LEVEL is stopped where it
 * is by a signal and stays stopped while MiniportInterrupt runs at DIRQL on the interrupt thread,
 * which then counts as that processor. So everything the interrupted code holds stays held, and an
 * ISR that takes a spin lock its processor's interrupted code holds spins forever, as on Windows.
 * An interrupt toward a processor at or above its DIRQL stays pending until the IRQL drops below
 * it. DPCs run at DISPATCH_LEVEL on their target processor when its IRQL drops below
 * DISPATCH_LEVEL, on the thread that drops it, as on Windows (see KeInsertQueueDpc); what no drop
 * runs, the processor's DPC thread runs as soon as no thread there is at DISPATCH_LEVEL or above.
 *
 * Every callback ndislock runs (ISR, DPC, enable/disable, synchronize function, MiniportHaltEx's
 * neighbours) is watched: the verifier reports a callback that returns holding a lock it took or
 * at another IRQL (LockHeldAtCallbackReturn), an ISR or synchronize function over 25 us
 * (IsrTooLong), a DPC over 100 us (DpcTooLong). An ISR or DPC that never returns is ended by the
 * watchdog (NDISLOCK_WATCHDOG_MS, default 2000) with a Deadlock report, verifier on or off.
 */
#ifndef NDISLOCK_NDIS_INTERRUPT_H
#define NDISLOCK_NDIS_INTERRUPT_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================================
 * Interrupt registration and synchronization (ndis.h)
 * ====================================================================================== */

/* NdisMRegisterInterruptEx: PASSIVE_LEVEL, from MiniportInitializeEx (MiniportAdapterHandle is
 * the handle NdislockMiniportInitialize passed it, see ndislock/device.h).
 * MiniportInterruptCharacteristics must have Header {NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
 * NDIS_MINIPORT_INTERRUPT_REVISION_1, its size}, InterruptHandler and InterruptDpcHandler.
 * With MsiSupported FALSE it registers a line-based interrupt (InterruptType is set to
 * NDIS_CONNECT_LINE_BASED); Enable/DisableInterruptHandler are optional (NdislockEnableInterrupt
 * calls them). With MsiSupported TRUE it registers message-signalled interrupts (MSI-X): one
 * message per the adapter's message count (NdislockSetAdapterMessageCount, ndislock/device.h),
 * MessageInterruptHandler and MessageInterruptDpcHandler required, the enable/disable message
 * handlers optional; it sets InterruptType to NDIS_CONNECT_MESSAGE_BASED and MessageInfoTable to
 * a table of the messages (MessageCount, UnifiedIrql and per message its DIRQL, MessageData =
 * MessageId, edge-triggered), valid until NdisMDeregisterInterruptEx. Each message is an
 * interrupt of its own: asserted toward a processor (NdislockAssertInterruptMessage), edge-like
 * (each assert is a delivery, none merges), with its own DPC per processor; MsiSyncWithAllMessages
 * TRUE makes one spin lock serialize every message's ISR (else each message has its own). Stores
 * the interrupt handle in *NdisInterruptHandle. Returns NDIS_STATUS_SUCCESS,
 * NDIS_STATUS_INVALID_PARAMETER (bad header, missing handler, unknown adapter) or
 * NDIS_STATUS_RESOURCES (more than 64 interrupts and messages). Off PASSIVE_LEVEL it is
 * InterruptRegistrationMisuse. Page: ndis/nf-ndis-ndismregisterinterruptex. */
NDISLOCK_API NDIS_STATUS NdisMRegisterInterruptEx(
    NDIS_HANDLE MiniportAdapterHandle, NDIS_HANDLE MiniportInterruptContext,
    PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS MiniportInterruptCharacteristics, PNDIS_HANDLE NdisInterruptHandle);

/* NdisMDeregisterInterruptEx: PASSIVE_LEVEL, from MiniportHaltEx or the initialize failure path.
 * Waits until no ISR or DPC of the interrupt runs or is queued, then releases the handle: it must
 * not be used again. Off PASSIVE_LEVEL, or on an unknown or already deregistered handle, it is
 * InterruptRegistrationMisuse. Page: ndis/nf-ndis-ndismderegisterinterruptex. */
NDISLOCK_API VOID NdisMDeregisterInterruptEx(NDIS_HANDLE NdisInterruptHandle);

/* NdisMSynchronizeWithInterruptEx: IRQL <= the interrupt's DIRQL. Raises to the DIRQL, takes the
 * interrupt's own spin lock (so SynchronizeFunction never runs at the same time as
 * MiniportInterrupt on any processor), calls SynchronizeFunction(SynchronizeContext), releases,
 * restores the caller's IRQL, and returns what the function returned. An interrupt toward the
 * caller's processor meanwhile stays pending and is taken when the IRQL drops. MessageId is 0 for
 * a line-based interrupt; for message-signalled ones it names the message whose ISR the function
 * is serialized with (all of them with MsiSyncWithAllMessages). After NdisMDeregisterInterruptEx,
 * on an unknown handle, with a MessageId the interrupt does not have, nested in an ISR or
 * synchronize function holding the same spin lock, or above the DIRQL it is SyncInterruptMisuse
 * (the function is not called; FALSE is returned). Page: ndis/nf-ndis-ndismsynchronizewithinterruptex. */
NDISLOCK_API BOOLEAN NdisMSynchronizeWithInterruptEx(NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
                                                     MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER SynchronizeFunction,
                                                     PVOID SynchronizeContext);

/* NdisMQueueDpcEx: any IRQL. Queues the interrupt's MiniportInterruptDPC (for a message-signalled
 * interrupt, message MessageId's MiniportMessageInterruptDPC) on every processor set in
 * TargetProcessors->Mask (group 0), with MiniportDpcContext, at medium importance as on Windows:
 * it runs at that processor's next drop below DISPATCH_LEVEL, or on its DPC thread if no thread
 * drops it; queued toward the caller's own processor from below DISPATCH_LEVEL, it has run when the
 * call returns (as KeInsertQueueDpc's). A processor where that DPC is already queued gets no second
 * one. Returns the processors where it was queued
 * (0, with a message, for a MessageId the interrupt does not have). Page: ndis/nf-ndis-ndismqueuedpcex. */
NDISLOCK_API KAFFINITY NdisMQueueDpcEx(NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
                                       PGROUP_AFFINITY TargetProcessors, PVOID MiniportDpcContext);

/* NdisMQueueDpc: any IRQL. The NDIS 6.0 form of NdisMQueueDpcEx with a 32-bit processor mask:
 * returns the mask of processors where the DPC was queued (not those where it already was).
 * Page: ndis/nf-ndis-ndismqueuedpc. */
NDISLOCK_API ULONG NdisMQueueDpc(NDIS_HANDLE NdisInterruptHandle, ULONG MessageId, ULONG TargetProcessors,
                                 PVOID MiniportDpcContext);

/* ======================================================================================
 * Kernel DPCs (wdm.h)
 * ====================================================================================== */

/* KeInitializeDpc: any IRQL. Prepares Dpc to run DeferredRoutine(Dpc, DeferredContext, Arg1, Arg2)
 * at DISPATCH_LEVEL. As NT, it sets Type, Importance (medium), the target (none), the routine, the
 * context and DpcData (not queued), and leaves DpcListEntry and the system arguments as they were.
 * A NULL routine is accepted here and at insert and remove; running it is BugCheck (0xD1, as
 * Windows calling address 0), which ends the process with the verifier on or off. Page:
 * wdm/nf-wdm-keinitializedpc. */
NDISLOCK_API VOID KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);

/* KeInitializeThreadedDpc: any IRQL. As KeInitializeDpc, for a threaded DPC (Type
 * ThreadedDpcObject). Windows runs a threaded DPC at PASSIVE_LEVEL, or at DISPATCH_LEVEL when
 * threaded DPCs are turned off, and requires its routine to keep every DISPATCH_LEVEL rule either
 * way; ndislock runs it as an ordinary DPC, at DISPATCH_LEVEL, so a routine that breaks one (waits,
 * say) is caught as it would be on a machine with threaded DPCs off. Page:
 * wdm/nf-wdm-keinitializethreadeddpc. */
NDISLOCK_API VOID KeInitializeThreadedDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);

/* KeSetTargetProcessorDpc: any IRQL. The DPC runs on processor Number instead of the processor
 * that queues it (from the next KeInsertQueueDpc on). Page: wdm/nf-wdm-kesettargetprocessordpc. */
NDISLOCK_API VOID KeSetTargetProcessorDpc(PRKDPC Dpc, CCHAR Number);

/* KeSetTargetProcessorDpcEx: any IRQL. As KeSetTargetProcessorDpc, with the processor named by
 * group and number: STATUS_SUCCESS, or STATUS_INVALID_PARAMETER (target unchanged) for a NULL
 * ProcNumber, a group other than 0 or a number at or past the virtual processor count. Page:
 * wdm/nf-wdm-kesettargetprocessordpcex. */
NDISLOCK_API NTSTATUS KeSetTargetProcessorDpcEx(PKDPC Dpc, PPROCESSOR_NUMBER ProcNumber);

/* KeSetImportanceDpc: any IRQL, before KeInsertQueueDpc. HighImportance puts the DPC at the head
 * of its target processor's queue (it runs before the DPCs already queued there); LowImportance,
 * MediumImportance (the default) and MediumHighImportance put it at the tail. The WDK also lets
 * LowImportance leave the queue unprocessed until the next clock tick; ndislock has no clock tick:
 * a LowImportance DPC is left to its processor's DPC thread (as soon as no thread there is at
 * DISPATCH_LEVEL or above), while the other importances also run at the processor's next drop
 * below DISPATCH_LEVEL (see KeInsertQueueDpc). Page: wdm/nf-wdm-kesetimportancedpc. */
NDISLOCK_API VOID KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance);

/* KeQueryDpcWatchdogInformation: DISPATCH_LEVEL, from a DPC routine. Fills *WatchdogInformation
 * from ndislock's modelled DPC watchdog and returns STATUS_SUCCESS while the calling thread runs
 * a DPC (a KDPC routine, a timer's routine or MiniportInterruptDPC); otherwise STATUS_UNSUCCESSFUL
 * and the structure is zeroed. Figures in microseconds: DpcTimeLimit the single-DPC limit,
 * DpcTimeCount what is left of it for the running DPC, DpcWatchdogLimit the cumulative limit,
 * DpcWatchdogCount what is left of it for the processor's current run of back-to-back DPCs (both
 * counts 0 once over). Limits: NdislockSetDpcWatchdogLimits (ndislock/ext.h). Page:
 * wdm/nf-wdm-kequerydpcwatchdoginformation. */
NDISLOCK_API NTSTATUS KeQueryDpcWatchdogInformation(PKDPC_WATCHDOG_INFORMATION WatchdogInformation);

/* KeInsertQueueDpc: any IRQL. Queues Dpc on its target processor with the two arguments and
 * returns TRUE; if it is already queued, changes nothing and returns FALSE (it runs once). It runs
 * at DISPATCH_LEVEL on that processor, in queue order, when the processor's IRQL drops below
 * DISPATCH_LEVEL (at the head for HighImportance, see KeSetImportanceDpc), as on Windows: queued toward the caller's
 * own processor from below DISPATCH_LEVEL (medium or high importance), it has run before the insert returns; queued
 * from DISPATCH_LEVEL, it runs before the caller's KeLowerIrql or lowering release returns. Low importance, and a
 * processor no thread drops, leave it to that processor's DPC thread, which runs it as soon as no thread there is at
 * DISPATCH_LEVEL or above. Page: wdm/nf-wdm-keinsertqueuedpc. */
NDISLOCK_API BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2);

/* KeRemoveQueueDpc: any IRQL. Takes Dpc out of its queue: TRUE if it was queued (it will not
 * run), FALSE if it was not (it may be running). Page: wdm/nf-wdm-keremovequeuedpc. */
NDISLOCK_API BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc);

/* KeFlushQueuedDpcs: PASSIVE_LEVEL. Returns once every DPC queued before the call, on every
 * processor, has run. At DISPATCH_LEVEL or holding a spin lock it is BlockingAtDispatch (and would
 * wait forever for the caller's own processor). Page: wdm/nf-wdm-keflushqueueddpcs. */
NDISLOCK_API VOID KeFlushQueuedDpcs(VOID);

/* KeGenericCallDpc: PASSIVE_LEVEL or APC_LEVEL. Runs Routine(Dpc, Context, SystemArgument1,
 * SystemArgument2) as a DPC on every virtual processor at once, at DISPATCH_LEVEL, and returns when
 * all of them have returned. The routine must call KeSignalCallDpcDone(SystemArgument1) before it
 * returns, and may meet the other processors with KeSignalCallDpcSynchronize(SystemArgument2).
 * One generic call runs at a time (a second caller waits), as in NT. A routine that returns
 * without KeSignalCallDpcDone is Deadlock (Windows' caller would wait forever), terminal; a call
 * at DISPATCH_LEVEL or above is BlockingAtDispatch and ends the process (it would wait for its own
 * processor forever). No DDI page of its own (exported by the kernel since Windows Server 2008,
 * used by drivers as a broadcast); the semantics are NT's, and Routine is a DPC routine, whose
 * page is wdm/nc-wdm-kdeferred_routine. */
NDISLOCK_API VOID KeGenericCallDpc(PKDEFERRED_ROUTINE Routine, PVOID Context);

/* KeSignalCallDpcSynchronize: DISPATCH_LEVEL, inside a KeGenericCallDpc routine, with its
 * SystemArgument2. Waits until the routine has reached this call on every processor; returns TRUE
 * on exactly one of them (the last to arrive) and FALSE on the others. The barrier can be met again
 * (each call waits for all processors' next call). A pointer that is not a generic call's ends the
 * process with a diagnostic. No DDI page of its own (as KeGenericCallDpc); the routine's is
 * wdm/nc-wdm-kdeferred_routine. */
NDISLOCK_API LOGICAL KeSignalCallDpcSynchronize(PVOID SystemArgument2);

/* KeSignalCallDpcDone: DISPATCH_LEVEL, inside a KeGenericCallDpc routine, with its
 * SystemArgument1: this processor's part is done; every routine must call it once before it
 * returns (a routine that returns without it is Deadlock, see KeGenericCallDpc). No DDI page of its
 * own (as KeGenericCallDpc); the routine's is wdm/nc-wdm-kdeferred_routine. */
NDISLOCK_API VOID KeSignalCallDpcDone(PVOID SystemArgument1);

/* ======================================================================================
 * NDIS events (ndis.h): notification events, set until reset.
 * ====================================================================================== */

/* NdisInitializeEvent: PASSIVE_LEVEL (above it: IrqlTooHighForCall). The event starts not signalled. Page:
 * ndis/nf-ndis-ndisinitializeevent. */
NDISLOCK_API VOID NdisInitializeEvent(PNDIS_EVENT Event);

/* NdisSetEvent: IRQL <= DISPATCH_LEVEL (above it, as from an ISR: IrqlTooHighForCall). Signals the event and wakes
 * every waiter; it stays signalled until NdisResetEvent. Page: ndis/nf-ndis-ndissetevent. */
NDISLOCK_API VOID NdisSetEvent(PNDIS_EVENT Event);

/* NdisResetEvent: IRQL <= DISPATCH_LEVEL (above it: IrqlTooHighForCall). Back to not signalled. Page:
 * ndis/nf-ndis-ndisresetevent. */
NDISLOCK_API VOID NdisResetEvent(PNDIS_EVENT Event);

/* NdisWaitEvent: PASSIVE_LEVEL. Waits until the event is signalled or MsToWait milliseconds pass
 * (0: no limit). TRUE if signalled. A wait at DISPATCH_LEVEL or above, or while holding a spin
 * lock, is BlockingAtDispatch; at APC_LEVEL (inside a fast mutex) IrqlTooHighForCall. Page:
 * ndis/nf-ndis-ndiswaitevent. */
NDISLOCK_API BOOLEAN NdisWaitEvent(PNDIS_EVENT Event, UINT MsToWait);

/* ---- Site-taking forms (see ndislock/ndis.h) ---------------------------------------------- */

NDISLOCK_API NDIS_STATUS ndislock_at_NdisMRegisterInterruptEx(NDIS_HANDLE, NDIS_HANDLE,
                                                              PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, PNDIS_HANDLE,
                                                              const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_NdisMDeregisterInterruptEx(NDIS_HANDLE, const char *, int, const char *);
NDISLOCK_API BOOLEAN ndislock_at_NdisMSynchronizeWithInterruptEx(NDIS_HANDLE, ULONG,
                                                                 MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER, PVOID,
                                                                 const char *, int, const char *);
NDISLOCK_API BOOLEAN ndislock_at_NdisWaitEvent(PNDIS_EVENT, UINT, const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeFlushQueuedDpcs(const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeGenericCallDpc(PKDEFERRED_ROUTINE, PVOID, const char *, int, const char *);

#ifndef NDISLOCK_HERE
#define NDISLOCK_HERE __FILE__, __LINE__, __func__
#endif
#ifndef NDISLOCK_NO_SITE_MACROS
#define NdisMRegisterInterruptEx(A, C, Ch, H) ndislock_at_NdisMRegisterInterruptEx((A), (C), (Ch), (H), NDISLOCK_HERE)
#define NdisMDeregisterInterruptEx(H) ndislock_at_NdisMDeregisterInterruptEx((H), NDISLOCK_HERE)
#define NdisMSynchronizeWithInterruptEx(H, M, F, C)                                                                    \
    ndislock_at_NdisMSynchronizeWithInterruptEx((H), (M), (F), (C), NDISLOCK_HERE)
#define NdisWaitEvent(E, Ms) ndislock_at_NdisWaitEvent((E), (Ms), NDISLOCK_HERE)
#define KeFlushQueuedDpcs() ndislock_at_KeFlushQueuedDpcs(NDISLOCK_HERE)
#define KeGenericCallDpc(R, C) ndislock_at_KeGenericCallDpc((R), (C), NDISLOCK_HERE)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_NDIS_INTERRUPT_H */
