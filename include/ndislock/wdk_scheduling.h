/*
 * ndislock/wdk_scheduling.h: the scheduling vocabulary of wdm.h and ndis.h around the calls
 * ndislock models: the priority boosts a driver passes to KeSetEvent and IoCompleteRequest
 * (IO_NETWORK_INCREMENT...), the thread priorities (LOW_REALTIME_PRIORITY...), the processor
 * index (KeGetCurrentProcessorIndex, NDIS_CURRENT_PROCESSOR_NUMBER) and KeShouldYieldProcessor.
 * Clean C11 and C++. Included by ndislock/wdk.h; usable alone.
 */
#ifndef NDISLOCK_WDK_SCHEDULING_H
#define NDISLOCK_WDK_SCHEDULING_H

#include "ndislock/ndis.h"
#include "ndislock/wdk_base.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Priorities and boosts (wdm.h) ----------------------------------------------------------- */

/* A thread priority, and the boost a waker hands the thread it wakes (KeSetEvent's Increment). */
typedef LONG KPRIORITY;

/* The thread priorities: 0 to 15 the variable range, 16 to 31 the real-time one. ndislock's
 * threads have no priority; these are for the driver's arithmetic. */
#define LOW_PRIORITY 0
#define LOW_REALTIME_PRIORITY 16
#define HIGH_PRIORITY 31
#define MAXIMUM_PRIORITY 32

/* The boosts wdm.h names per device class, for KeSetEvent, KeReleaseSemaphore and
 * IoCompleteRequest: no effect here (ndislock does not schedule by priority), any value is
 * accepted. */
#ifndef IO_NO_INCREMENT
#define IO_NO_INCREMENT 0
#endif
#define IO_CD_ROM_INCREMENT 1
#define IO_DISK_INCREMENT 1
#define IO_PARALLEL_INCREMENT 1
#define IO_VIDEO_INCREMENT 1
#define IO_MAILSLOT_INCREMENT 2
#define IO_NAMED_PIPE_INCREMENT 2
#define IO_NETWORK_INCREMENT 2
#define IO_SERIAL_INCREMENT 2
#define IO_KEYBOARD_INCREMENT 6
#define IO_MOUSE_INCREMENT 6
#define IO_SOUND_INCREMENT 8

/* ---- Processors (wdm.h, ndis.h) -------------------------------------------------------------- */

/* KeGetCurrentProcessorIndex: any IRQL; below DISPATCH_LEVEL the answer may be stale by the time
 * it is used (the thread may move). The system-wide index of this thread's virtual processor,
 * 0..N-1: KeGetCurrentProcessorNumberEx(NULL), as ndislock has one processor group. Page:
 * wdm/nf-wdm-kegetcurrentprocessorindex. */
static inline ULONG KeGetCurrentProcessorIndex(void) { return KeGetCurrentProcessorNumberEx(NULL); }

/* NDIS_CURRENT_PROCESSOR_NUMBER: any IRQL, stable at DISPATCH_LEVEL and above (as
 * KeGetCurrentProcessorNumber). ndis.h's name for KeGetCurrentProcessorNumber(), without
 * parentheses of its own. Page: ndis/nf-ndis-ndis_current_processor_number. */
#define NDIS_CURRENT_PROCESSOR_NUMBER KeGetCurrentProcessorNumber()

/* KeShouldYieldProcessor: DISPATCH_LEVEL (ndislock answers at any IRQL and checks nothing). TRUE
 * when a DPC routine that loops over work should stop and leave the rest to later (queue it to a
 * work item and return, or lower the IRQL in thread context): here, while the calling thread runs
 * a DPC (KeQueryDpcWatchdogInformation succeeds) that has used more than half of the modelled
 * watchdog's single-DPC limit, or whose processor's run of back-to-back DPCs has used more than
 * half of the cumulative one (ndislock/ext.h, NdislockSetDpcWatchdogLimits). FALSE otherwise,
 * outside a DPC always (Windows' own threshold is not documented). Page:
 * wdm/nf-wdm-keshouldyieldprocessor. */
static inline LOGICAL KeShouldYieldProcessor(void) {
    KDPC_WATCHDOG_INFORMATION info;
    if (KeQueryDpcWatchdogInformation(&info) != STATUS_SUCCESS) return FALSE;
    return (info.DpcTimeCount < info.DpcTimeLimit / 2 || info.DpcWatchdogCount < info.DpcWatchdogLimit / 2) ? TRUE
                                                                                                            : FALSE;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_SCHEDULING_H */
