/* The filter-module list: attach and detach write it, the datapath reads it. */
#include "filter.h"

#include <stdlib.h>

static PNDIS_RW_LOCK_EX FilterListLock;
static LIST_ENTRY FilterModuleList; /* under FilterListLock */
static ULONG64 DetachedSent;        /* what detached modules took, under FilterListLock (write) */

static ULONG64 ModuleSent(const FILTER_MODULE *Module) {
    ULONG64 sum = 0;
    for (ULONG i = 0; i < FILTER_MAX_PROCESSORS; ++i)
        sum += Module->Sent[i];
    return sum;
}

NDIS_STATUS FilterDriverInitialize(void) {
    FilterListLock = NdisAllocateRWLock(NULL);
    if (FilterListLock == NULL) return NDIS_STATUS_RESOURCES;
    NdislockSetLockName(FilterListLock, "filter module list");
    InitializeListHead(&FilterModuleList);
    DetachedSent = 0;
    FlowTableInitialize();
    VlanTableInitialize();
    return NDIS_STATUS_SUCCESS;
}

void FilterDriverUnload(void) {
    while (FilterModuleList.Flink != &FilterModuleList) {
        PFILTER_MODULE m = (PFILTER_MODULE)FilterModuleList.Flink;
        FilterDetach(m->Id);
    }
    NdisFreeRWLock(FilterListLock);
}

NDIS_STATUS FilterAttach(ULONG Id) {
    LOCK_STATE_EX state;
    PFILTER_MODULE m = (PFILTER_MODULE)calloc(1, sizeof *m);
    if (m == NULL) return NDIS_STATUS_RESOURCES;
    m->Id = Id;
    NdisAcquireRWLockWrite(FilterListLock, &state, 0); /* PASSIVE_LEVEL: no flag */
    InsertTailList(&FilterModuleList, &m->Link);
    NdisReleaseRWLock(FilterListLock, &state);
    return NDIS_STATUS_SUCCESS;
}

BOOLEAN FilterDetach(ULONG Id) {
    LOCK_STATE_EX state;
    PFILTER_MODULE found = NULL;
    NdisAcquireRWLockWrite(FilterListLock, &state, 0);
    for (PLIST_ENTRY e = FilterModuleList.Flink; e != &FilterModuleList; e = e->Flink) {
        PFILTER_MODULE m = (PFILTER_MODULE)e; /* Link is the first member */
        if (m->Id != Id) continue;
        RemoveEntryList(e);
        DetachedSent += ModuleSent(m); /* no reader sees it any more: its counters are final */
        found = m;
        break;
    }
    NdisReleaseRWLock(FilterListLock, &state);
    free(found);
    return found != NULL;
}

BOOLEAN FilterSendNetBufferLists(ULONG ModuleId) {
    LOCK_STATE_EX state;
    BOOLEAN taken = FALSE;
    const ULONG cpu = KeGetCurrentProcessorNumberEx(NULL); /* stable: DISPATCH_LEVEL */
    NdisAcquireRWLockRead(FilterListLock, &state, NDIS_RWL_AT_DISPATCH_LEVEL);
    for (PLIST_ENTRY e = FilterModuleList.Flink; e != &FilterModuleList; e = e->Flink) {
        PFILTER_MODULE m = (PFILTER_MODULE)e;
        if (m->Id != ModuleId) continue;
        m->Sent[cpu]++;
        taken = TRUE;
        break;
    }
    NdisReleaseRWLock(FilterListLock, &state);
    return taken;
}

BOOLEAN FilterReceiveNetBufferLists(ULONG FlowKey, ULONG Vlan) {
    if (!VlanTableAccepts(Vlan)) return FALSE;
    FlowTableCount(FlowKey);
    return TRUE;
}

ULONG64 FilterSentTotal(void) {
    LOCK_STATE_EX state;
    ULONG64 sum;
    NdisAcquireRWLockRead(FilterListLock, &state, 0);
    sum = DetachedSent;
    for (PLIST_ENTRY e = FilterModuleList.Flink; e != &FilterModuleList; e = e->Flink)
        sum += ModuleSent((const FILTER_MODULE *)e);
    NdisReleaseRWLock(FilterListLock, &state);
    return sum;
}

ULONG64 FlowTableTotal(void) { return FlowTableSum(); }
