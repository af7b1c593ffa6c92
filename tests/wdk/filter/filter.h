/*
 * A lightweight filter written as an NDIS 6 LWF is (tests/wdk: driver-shaped code built against
 * the WDK face, `#include <ndis.h>`). The global list of attached filter modules is guarded by an
 * NDIS_RW_LOCK_EX: FilterAttach/FilterDetach write it at PASSIVE_LEVEL, the send and receive
 * paths read it at DISPATCH_LEVEL (NDIS_RWL_AT_DISPATCH_LEVEL). A flow table guarded by an
 * EX_SPIN_LOCK counts received packets per flow, after a VLAN allow-list guarded by an NDIS 5
 * NDIS_RW_LOCK has accepted them. Counters written on the datapath are per
 * processor, as a real filter keeps them: readers share the lock, so they must not share a
 * counter.
 */
#ifndef FILTER_H
#define FILTER_H

#include <ndis.h> /* the WDK face (ndislock::wdk): ndislock's NDIS, read/write locks and lists */

#define FILTER_MAX_PROCESSORS 64
#define FILTER_VLANS 8

typedef struct _FILTER_MODULE {
    LIST_ENTRY Link; /* in FilterModuleList, under FilterListLock */
    ULONG Id;
    ULONG64 Sent[FILTER_MAX_PROCESSORS]; /* per processor, written at DISPATCH_LEVEL */
} FILTER_MODULE, *PFILTER_MODULE;

/* DriverEntry / unload. */
NDIS_STATUS FilterDriverInitialize(void);
void FilterDriverUnload(void);

/* FilterAttach / FilterDetach: PASSIVE_LEVEL. */
NDIS_STATUS FilterAttach(ULONG Id);
BOOLEAN FilterDetach(ULONG Id);

/* FilterSendNetBufferLists: DISPATCH_LEVEL. TRUE if a module with this id took the packet. */
BOOLEAN FilterSendNetBufferLists(ULONG ModuleId);

/* FilterReceiveNetBufferLists: DISPATCH_LEVEL. Counts the packet in its flow if its VLAN is
 * allowed; TRUE if it was. */
BOOLEAN FilterReceiveNetBufferLists(ULONG FlowKey, ULONG Vlan);

/* Totals (PASSIVE_LEVEL, after the datapath stopped): packets the modules took, attached ones and
 * detached ones; packets the flow table counted. */
ULONG64 FilterSentTotal(void);
ULONG64 FlowTableTotal(void);

/* The flow table (flow_table.c). */
void FlowTableInitialize(void);
void FlowTableCount(ULONG Key); /* DISPATCH_LEVEL */
ULONG64 FlowTableSum(void);     /* PASSIVE_LEVEL */

/* The VLAN allow-list (vlan_table.c). */
void VlanTableInitialize(void);
BOOLEAN VlanTableAccepts(ULONG Vlan); /* DISPATCH_LEVEL */
void VlanTableToggle(ULONG Vlan);     /* PASSIVE_LEVEL */
ULONG64 VlanTableRejected(void);      /* PASSIVE_LEVEL */

#endif
