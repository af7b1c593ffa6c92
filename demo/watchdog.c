/*
 * demo/watchdog.c: the miniport's watchdog timer (watchdog.h).
 *
 * A periodic timer's routine may run on one processor while its next expiry queues it on
 * another (Microsoft documents this for KeSetTimerEx), so the routine keeps no state of its own
 * outside a lock: what it compares against, the progress it saw last time, lives beside the
 * queue it describes, under that queue's lock.
 */
#include "watchdog.h"

#include "tool_annotations.h"

#include <string.h>

/* True if the queue holds work and its progress counter has not moved since the last look;
 * remembers the counter for the next look. Called under the queue's lock. */
static BOOLEAN DemoWatchdogStalled(ULONG Queued, ULONG64 Progress, ULONG64 *LastProgress) {
    BOOLEAN Stalled = (BOOLEAN)(Queued != 0 && Progress == *LastProgress);
    *LastProgress = Progress;
    return Stalled;
}

/* NetTimerCallback, at DISPATCH_LEVEL (a DPC). Two short holds, one lock each. */
static VOID DemoWatchdogTimer(PVOID SystemSpecific1, PVOID FunctionContext, PVOID SystemSpecific2,
                              PVOID SystemSpecific3) {
    PADAPTER Adapter = FunctionContext;
    BOOLEAN TxStalled, RxStalled;
    (void)SystemSpecific1;
    (void)SystemSpecific2;
    (void)SystemSpecific3;

    NdisDprAcquireSpinLock(&Adapter->TxLock);
    TxStalled = DemoWatchdogStalled(
        Adapter->TxRing.Count, atomic_load_explicit(&Adapter->TxReaped, memory_order_relaxed), &Adapter->WatchTxReaped);
    NdisDprReleaseSpinLock(&Adapter->TxLock);

    NdisDprAcquireSpinLock(&Adapter->RxLock);
    RxStalled = DemoWatchdogStalled(Adapter->RxRing.Count, Adapter->RxTaken, &Adapter->WatchRxTaken);
    NdisDprReleaseSpinLock(&Adapter->RxLock);

    if (TxStalled) atomic_fetch_add_explicit(&Adapter->WatchdogTxStalled, 1, memory_order_relaxed);
    if (RxStalled) atomic_fetch_add_explicit(&Adapter->WatchdogRxStalled, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&Adapter->WatchdogTicks, 1, memory_order_release);
}

NDIS_STATUS DemoWatchdogStart(PADAPTER Adapter, NDIS_HANDLE MiniportAdapterHandle) {
    NDIS_TIMER_CHARACTERISTICS Timer;
    LARGE_INTEGER DueTime;

    atomic_init(&Adapter->WatchdogTicks, 0);
    atomic_init(&Adapter->WatchdogTxStalled, 0);
    atomic_init(&Adapter->WatchdogRxStalled, 0);
    DEMO_ATOMIC_FOR_HELGRIND(Adapter->WatchdogTicks); /* atomics only (tool_annotations.h) */
    DEMO_ATOMIC_FOR_HELGRIND(Adapter->WatchdogTxStalled);
    DEMO_ATOMIC_FOR_HELGRIND(Adapter->WatchdogRxStalled);
    memset(&Timer, 0, sizeof(Timer));
    Timer.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
    Timer.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
    Timer.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
    Timer.AllocationTag = 0x676f4457; /* 'WDog', as a pool tag reads in a debugger */
    Timer.TimerFunction = DemoWatchdogTimer;
    Timer.FunctionContext = Adapter;
    NDIS_STATUS Status = NdisAllocateTimerObject(MiniportAdapterHandle, &Timer, &Adapter->WatchdogTimer);
    if (Status != NDIS_STATUS_SUCCESS) {
        Adapter->WatchdogTimer = NULL;
        return Status;
    }
    DueTime.QuadPart = -(LONGLONG)DEMO_WATCHDOG_PERIOD_MS * 10000; /* relative, in 100 ns units */
    NdisSetTimerObject(Adapter->WatchdogTimer, DueTime, DEMO_WATCHDOG_PERIOD_MS, NULL);
    return NDIS_STATUS_SUCCESS;
}

void DemoWatchdogStop(PADAPTER Adapter) {
    if (Adapter->WatchdogTimer == NULL) return;
    NdisCancelTimerObject(Adapter->WatchdogTimer); /* periodic: returns once the routine no longer runs */
    NdisFreeTimerObject(Adapter->WatchdogTimer);
    Adapter->WatchdogTimer = NULL;
}

void DemoWatchdogQuery(PADAPTER Adapter, DEMO_WATCHDOG_VIEW *Out) {
    Out->Ticks = atomic_load_explicit(&Adapter->WatchdogTicks, memory_order_acquire);
    Out->TxStalled = atomic_load_explicit(&Adapter->WatchdogTxStalled, memory_order_relaxed);
    Out->RxStalled = atomic_load_explicit(&Adapter->WatchdogRxStalled, memory_order_relaxed);
}
