/*
 * ndislock/wdk_slist.h: the sequenced singly linked lists of wdm.h and ndis.h (SLIST_HEADER,
 * InterlockedPushEntrySList and the rest), the lists a driver shares between its ISR, DPCs and
 * other code without a spin lock of its own. Clean C11 and C++. Included by ndislock/wdk.h.
 *
 * The layout is x64's: an SLIST_HEADER of 16 bytes, 16-byte aligned, and SLIST_ENTRY 16-byte
 * aligned (embed it in your own structs; CONTAINING_RECORD gets them back). Entries must stay
 * valid while they are on a list.
 *
 * Each operation is atomic with respect to every other on the same header, from any thread and
 * from an emulated ISR: the library serializes one header's operations for a few instructions,
 * during which no emulated interrupt stops the caller (async-signal-safe), instead of Windows's
 * 16-byte compare-exchange, whose pop reads the first entry's link after another processor may
 * have popped and freed it (the kernel survives that fault; a user-mode process does not).
 * Results are Windows's: push returns the previous first entry, pop the entry taken off, flush
 * the whole former chain, each NULL on an empty list; the depth counts entries (16 bits).
 *
 * Inside an exploration (ndislock/explore.h) each call is a scheduling point and orders what
 * earlier calls on the same header did before what later ones do, as the interlocked operations
 * of ndislock/wdk_interlocked.h do.
 *
 * Misuse is not detected, as on Windows: an entry pushed while it is on a list, a header used
 * before InitializeSListHead, or an entry freed while on a list leaves the list corrupt. More than
 * 65,535 entries wrap the depth (the list itself stays whole).
 */
#ifndef NDISLOCK_WDK_SLIST_H
#define NDISLOCK_WDK_SLIST_H

#include "ndislock/export.h"
#include "ndislock/wdk_base.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct DECLSPEC_ALIGN(16) _SLIST_ENTRY {
    struct _SLIST_ENTRY *Next;
} SLIST_ENTRY, *PSLIST_ENTRY;

/* Opaque to drivers, as on Windows: ndislock keeps the first entry in Alignment and the depth
 * (low 16 bits) and a sequence number in Region. */
typedef union DECLSPEC_ALIGN(16) _SLIST_HEADER {
    __extension__ struct {
        ULONGLONG Alignment;
        ULONGLONG Region;
    };
    __extension__ struct {
        ULONGLONG Depth : 16;
        ULONGLONG Sequence : 48;
        ULONGLONG Reserved : 4;
        ULONGLONG NextEntry : 60;
    } HeaderX64;
} SLIST_HEADER, *PSLIST_HEADER;

/* InitializeSListHead: any IRQL. An empty list. Page: wdm/nf-wdm-initializeslisthead. */
NDISLOCK_API VOID InitializeSListHead(PSLIST_HEADER SListHead);
/* InterlockedPushEntrySList: any IRQL (nonpaged memory). Puts ListEntry first; returns the entry
 * that was first, or NULL. Page: wdm/nf-wdm-interlockedpushentryslist. */
NDISLOCK_API PSLIST_ENTRY InterlockedPushEntrySList(PSLIST_HEADER ListHead, PSLIST_ENTRY ListEntry);
/* InterlockedPopEntrySList: any IRQL (nonpaged memory). Takes the first entry off and returns it,
 * or NULL on an empty list. Page: wdm/nf-wdm-interlockedpopentryslist. */
NDISLOCK_API PSLIST_ENTRY InterlockedPopEntrySList(PSLIST_HEADER ListHead);
/* InterlockedFlushSList: any IRQL (nonpaged memory). Empties the list; returns its former chain
 * (first entry), or NULL. Page: wdm/nf-wdm-interlockedflushslist. */
NDISLOCK_API PSLIST_ENTRY InterlockedFlushSList(PSLIST_HEADER ListHead);
/* QueryDepthSList: any IRQL. The number of entries on the list. Page: wdm/nf-wdm-querydepthslist. */
NDISLOCK_API USHORT QueryDepthSList(PSLIST_HEADER SListHead);
/* FirstEntrySList: any IRQL. The first entry, left on the list, or NULL: a snapshot that another
 * thread may change at once. Page: wdm/nf-wdm-firstentryslist. */
NDISLOCK_API PSLIST_ENTRY FirstEntrySList(PSLIST_HEADER SListHead);

/* The Ex and Ndis forms are macros over the calls above, as x64's wdm.h and ndis.h define them:
 * the spin lock argument is not used (not even evaluated). */
/* ExInterlockedPushEntrySList: any IRQL (nonpaged memory). Page: wdm/nf-wdm-exinterlockedpushentryslist. */
#define ExInterlockedPushEntrySList(ListHead, ListEntry, Lock) InterlockedPushEntrySList(ListHead, ListEntry)
/* ExInterlockedPopEntrySList: any IRQL (nonpaged memory). Page: wdm/nf-wdm-exinterlockedpopentryslist. */
#define ExInterlockedPopEntrySList(ListHead, Lock) InterlockedPopEntrySList(ListHead)
/* ExInterlockedFlushSList: any IRQL (nonpaged memory). Page: wdm/nf-wdm-exinterlockedflushslist. */
#define ExInterlockedFlushSList(ListHead) InterlockedFlushSList(ListHead)
/* ExQueryDepthSList: any IRQL. Page: wdm/nf-wdm-exquerydepthslist. */
#define ExQueryDepthSList(SListHead) QueryDepthSList(SListHead)
/* ExInitializeSListHead: any IRQL. Page: wdm/nf-wdm-exinitializeslisthead. */
#define ExInitializeSListHead(SListHead) InitializeSListHead(SListHead)
/* NdisInitializeSListHead: IRQL <= DISPATCH_LEVEL. Page: ndis/nf-ndis-ndisinitializeslisthead. */
#define NdisInitializeSListHead(SListHead) InitializeSListHead(SListHead)
/* NdisInterlockedPushEntrySList: IRQL <= DISPATCH_LEVEL. Page: ndis/nf-ndis-ndisinterlockedpushentryslist. */
#define NdisInterlockedPushEntrySList(SListHead, SListEntry, Lock) InterlockedPushEntrySList(SListHead, SListEntry)
/* NdisInterlockedPopEntrySList: IRQL <= DISPATCH_LEVEL. Page: ndis/nf-ndis-ndisinterlockedpopentryslist. */
#define NdisInterlockedPopEntrySList(SListHead, Lock) InterlockedPopEntrySList(SListHead)
/* NdisInterlockedFlushSList: IRQL <= DISPATCH_LEVEL. Page: ndis/nf-ndis-ndisinterlockedflushslist. */
#define NdisInterlockedFlushSList(SListHead) InterlockedFlushSList(SListHead)
/* NdisQueryDepthSList: IRQL <= DISPATCH_LEVEL. Page: ndis/nf-ndis-ndisquerydepthslist. */
#define NdisQueryDepthSList(SListHead) QueryDepthSList(SListHead)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_SLIST_H */
