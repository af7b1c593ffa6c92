/*
 * demo/watchdog.h: the miniport's watchdog timer, as real miniports keep one: a periodic NDIS
 * timer object (NdisAllocateTimerObject + NdisSetTimerObject) whose routine runs as a DPC, at
 * DISPATCH_LEVEL, every DEMO_WATCHDOG_PERIOD_MS, and looks for a stalled queue: one that holds
 * packets but made no progress since the routine's last run. It looks under the queue's own spin
 * lock (TxLock, RxLock, with the Dpr pair: it already runs at DISPATCH_LEVEL), one lock at a
 * time, so it adds no lock order. Started by MiniportInitializeEx, cancelled and freed by
 * MiniportHaltEx (interrupt.c).
 *
 * The watchdog only observes: a stall it sees is counted and shown in the summary (on a loaded
 * machine the device thread may really be descheduled for a whole period), never "repaired".
 */
#ifndef NDISLOCK_DEMO_WATCHDOG_H
#define NDISLOCK_DEMO_WATCHDOG_H

#include <ndislock/wdk_timers.h> /* NdisAllocateTimerObject and friends */

#include "adapter.h"

#define DEMO_WATCHDOG_PERIOD_MS 100

/* MiniportInitializeEx's part: allocates the timer object with the adapter's handle (so NDIS's
 * halt check covers it) and sets it periodic. PASSIVE_LEVEL, the adapter's locks set up. Returns
 * the NdisAllocateTimerObject status. */
NDIS_STATUS DemoWatchdogStart(PADAPTER Adapter, NDIS_HANDLE MiniportAdapterHandle);

/* MiniportHaltEx's part: NdisCancelTimerObject (a periodic timer: at PASSIVE_LEVEL, and it waits
 * until the routine no longer runs), then NdisFreeTimerObject. Before the adapter's locks are
 * freed. Does nothing if the watchdog was not started. */
void DemoWatchdogStop(PADAPTER Adapter);

/* What the watchdog saw so far. Any IRQL: the counts are atomics (the routine may still run). */
typedef struct _DEMO_WATCHDOG_VIEW {
    ULONG64 Ticks;     /* routine runs */
    ULONG64 TxStalled; /* runs that found the transmit ring holding descriptors none were taken back from */
    ULONG64 RxStalled; /* runs that found the receive ring holding packets none were taken off */
} DEMO_WATCHDOG_VIEW;

void DemoWatchdogQuery(PADAPTER Adapter, DEMO_WATCHDOG_VIEW *Out);

#endif /* NDISLOCK_DEMO_WATCHDOG_H */
