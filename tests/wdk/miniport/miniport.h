/* What the harness knows of the miniport: its entry points and the adapter's counters. The
 * adapter itself is the driver's (miniport.c). */
#ifndef MINIPORT_H
#define MINIPORT_H

#include <ndis.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MP_RX_BUFFERS 64

/* Deliberate bugs, one per new verifier rule, switched on by the misuse tests. */
typedef enum _MP_BUG {
    MpBugNone,
    MpBugPagedCodeInDpc, /* PagedCodeAtRaisedIrql */
    MpBugReturnTwice,    /* ListCorrupted: a receive buffer unlinked twice */
    MpBugAssertInIsr,    /* AssertionFailed: an invariant the ISR asserts */
} MP_BUG;

typedef struct _MP_COUNTERS {
    LONG64 SentNbls;      /* taken by MiniportSendNetBufferLists */
    LONG64 CompletedNbls; /* handed back by the DPC */
    LONG64 Indicated;     /* receive buffers indicated */
    LONG64 RxDropped;     /* receive events with no free buffer */
    LONG64 Returned;      /* receive buffers returned */
    LONG64 BytesSent;     /* NdisInterlockedAddLargeStatistic */
    ULONG FreeRxBuffers;  /* on the free list now */
    LONG IsrClaimed;
    LONG DpcRuns;
} MP_COUNTERS;

MINIPORT_INITIALIZE MpInitializeEx;
MINIPORT_HALT MpHaltEx;
MINIPORT_SEND_NET_BUFFER_LISTS MpSendNetBufferLists;
MINIPORT_RETURN_NET_BUFFER_LISTS MpReturnNetBufferLists;

/* The harness plays the hardware: a receive event, then the interrupt line. */
VOID MpHwReceive(NDIS_HANDLE MiniportAdapterContext);
NDIS_HANDLE MpInterruptHandle(NDIS_HANDLE MiniportAdapterContext);
VOID MpGetCounters(NDIS_HANDLE MiniportAdapterContext, MP_COUNTERS *Counters);
VOID MpSetBug(NDIS_HANDLE MiniportAdapterContext, MP_BUG Bug);

#ifdef __cplusplus
}
#endif

#endif /* MINIPORT_H */
