/* The VLAN allow-list: which VLANs the receive path passes up. Written the NDIS 5 way, as many
 * filters and intermediate drivers still are: an NDIS_RW_LOCK with a LOCK_STATE per acquisition.
 * The receive path reads it at DISPATCH_LEVEL (the Dpr forms, no IRQL change); the control path
 * changes it at PASSIVE_LEVEL (the raising forms). Rejections are counted per processor: readers
 * share the lock, so they must not share a counter. */
#include "filter.h"

static NDIS_RW_LOCK VlanLock;
static BOOLEAN Allowed[FILTER_VLANS];           /* under VlanLock */
static ULONG64 Rejected[FILTER_MAX_PROCESSORS]; /* per processor, under VlanLock read */

void VlanTableInitialize(void) {
    NdisInitializeReadWriteLock(&VlanLock);
    for (ULONG v = 0; v < FILTER_VLANS; ++v)
        Allowed[v] = TRUE;
    for (ULONG p = 0; p < FILTER_MAX_PROCESSORS; ++p)
        Rejected[p] = 0;
}

BOOLEAN VlanTableAccepts(ULONG Vlan) {
    LOCK_STATE state;
    const ULONG cpu = KeGetCurrentProcessorNumberEx(NULL); /* stable: DISPATCH_LEVEL */
    BOOLEAN accepted;
    NdisDprAcquireReadWriteLock(&VlanLock, FALSE, &state);
    accepted = Allowed[Vlan % FILTER_VLANS];
    if (!accepted) Rejected[cpu]++;
    NdisDprReleaseReadWriteLock(&VlanLock, &state);
    return accepted;
}

void VlanTableToggle(ULONG Vlan) {
    LOCK_STATE state;
    NdisAcquireReadWriteLock(&VlanLock, TRUE, &state); /* raises to DISPATCH_LEVEL */
    Allowed[Vlan % FILTER_VLANS] = !Allowed[Vlan % FILTER_VLANS];
    NdisReleaseReadWriteLock(&VlanLock, &state); /* back to PASSIVE_LEVEL */
}

ULONG64 VlanTableRejected(void) {
    LOCK_STATE state;
    ULONG64 sum = 0;
    NdisAcquireReadWriteLock(&VlanLock, FALSE, &state);
    for (ULONG p = 0; p < FILTER_MAX_PROCESSORS; ++p)
        sum += Rejected[p];
    NdisReleaseReadWriteLock(&VlanLock, &state);
    return sum;
}
