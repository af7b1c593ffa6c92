/*
 * ndislock/wdk.h: the WDK face, everything a driver source that includes <ndis.h>, <wdm.h>,
 * <ntddk.h> or <ntdef.h> expects from ndislock: the spin-lock, IRQL, interrupt and DPC calls
 * (ndislock/ndis.h), the base types, assertions and status codes (wdk_base.h), SAL
 * (sal.h), lists (wdk_list.h), interlocked operations and locked lists (wdk_interlocked.h), the
 * datapath flags (ndis_flags.h), the processor queries and thread affinity (wdk_processors.h),
 * the APC state (wdk_apc.h), the kernel and NDIS timers (wdk_timers.h), dispatcher objects, waits
 * and time (wdk_dispatcher.h) and work items (wdk_work_items.h). Clean C11 and C++.
 *
 * Driver sources include it through the headers in include/wdk/ (the ndislock::wdk CMake target
 * or `pkg-config ndislock-wdk` put that folder on the include path), so they compile unchanged.
 *
 * ndislock models synchronization, not the datapath: NET_BUFFER_LIST, MDL, OID requests and the
 * rest are the driver's (or its test harness's) to declare. Name a header with them in
 * NDISLOCK_WDK_USER_HEADER (e.g. -DNDISLOCK_WDK_USER_HEADER='"my_ndis_types.h"') and it is
 * included at the end of this one, after every ndislock declaration, so it can use them.
 */
#ifndef NDISLOCK_WDK_H
#define NDISLOCK_WDK_H

#include "ndislock/sal.h"
#if !defined(__cplusplus) || defined(NDISLOCK_LEGACY_SAL)
#include "ndislock/sal_legacy.h" /* __in, __drv_*: see there why C++ opts in */
#endif
#include "ndislock/wdk_types.h"
#include "ndislock/wdk_base.h"
#include "ndislock/wdk_list.h"
#include "ndislock/wdk_interlocked.h"
#include "ndislock/wdk_slist.h"
#include "ndislock/ndis.h"
#include "ndislock/ndis_flags.h"
#include "ndislock/wdk_processors.h"
#include "ndislock/wdk_apc.h"
#include "ndislock/wdk_threads.h"
#include "ndislock/wdk_timers.h"

/* ---- Read/write locks: NDIS_RW_LOCK_EX, NDIS 5's NDIS_RW_LOCK, EX_SPIN_LOCK ----------------- */
#include "ndislock/rw_lock.h"

/* ---- Dispatcher objects and waits, time; work items at PASSIVE_LEVEL ------------------------- */
#include "ndislock/wdk_dispatcher.h"
#include "ndislock/wdk_work_items.h"
#include "ndislock/wdk_scheduling.h"
#include "ndislock/wdk_debug.h"
#include "ndislock/wdk_pool.h"
#include "ndislock/wdk_strings.h"
#include "ndislock/ndis_versions.h"

/* ---- The driver's own declarations (datapath types ndislock does not model) ------------------ */
#ifdef NDISLOCK_WDK_USER_HEADER
#include NDISLOCK_WDK_USER_HEADER
#endif

#endif /* NDISLOCK_WDK_H */
