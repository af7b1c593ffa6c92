/*
 * ndislock/wdk_processors.h: the IRQL shorthands of ndis.h and the group-aware processor queries
 * of wdm.h/ndis.h, over ndislock's one processor group (group 0, up to 64 virtual processors;
 * active = maximum, nothing is hot-added). Clean C11 and C++. Included by ndislock/wdk.h.
 * PROCESSOR_NUMBER and ALL_PROCESSOR_GROUPS are in ndislock/wdk_types.h; KeGetCurrentIrql,
 * KeRaiseIrql, KeLowerIrql, KeQueryActiveProcessorCount(Ex) and KeGetCurrentProcessorNumber(Ex)
 * in ndislock/ndis.h.
 */
#ifndef NDISLOCK_WDK_PROCESSORS_H
#define NDISLOCK_WDK_PROCESSORS_H

#include "ndislock/ndis.h"
#include "ndislock/wdk_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IRQL (ndis.h, wdm.h) -------------------------------------------------------------------- */

/* NDIS_CURRENT_IRQL(): any IRQL. KeGetCurrentIrql() under ndis.h's name: the IRQL of this
 * thread's processor. Page: wdm/nf-wdm-kegetcurrentirql. */
#define NDIS_CURRENT_IRQL() KeGetCurrentIrql()
/* NDIS_RAISE_IRQL_TO_DISPATCH(&Old): IRQL <= DISPATCH_LEVEL. KeRaiseIrql(DISPATCH_LEVEL, &Old):
 * raises to DISPATCH_LEVEL and stores the previous IRQL in Old, for NDIS_LOWER_IRQL. Above
 * DISPATCH_LEVEL it is IrqlInvalidRaise (KeRaiseIrql's rules). Page:
 * ndis/nf-ndis-ndis_raise_irql_to_dispatch. */
#define NDIS_RAISE_IRQL_TO_DISPATCH(pOldIrql) KeRaiseIrql(DISPATCH_LEVEL, (pOldIrql))
/* NDIS_LOWER_IRQL(Old, Cur): any IRQL. Lowers to Old (what NDIS_RAISE_IRQL_TO_DISPATCH saved)
 * unless Old is Cur, the current IRQL; the KeLowerIrql rules apply (IrqlInvalidLower for an Old
 * above the current IRQL). Page: ndis/nf-ndis-ndis_lower_irql. */
#define NDIS_LOWER_IRQL(OldIrql, CurIrql)                                                                              \
    do {                                                                                                               \
        if ((KIRQL)(OldIrql) != (KIRQL)(CurIrql)) KeLowerIrql(OldIrql);                                                \
    } while (0)

/* KeRaiseIrqlToSynchLevel: IRQL <= SYNCH_LEVEL. Raises to SYNCH_LEVEL (12 on x64: above every
 * device IRQL, so emulated interrupts wait) and returns the previous IRQL; lower with
 * KeLowerIrql. Above SYNCH_LEVEL it is IrqlInvalidRaise. Page: ntddk/nf-ntddk-keraiseirqltosynchlevel. */
NDISLOCK_API KIRQL KeRaiseIrqlToSynchLevel(void);
#ifndef NDISLOCK_NO_SITE_MACROS
#define KeRaiseIrqlToSynchLevel() ndislock_at_KeRaiseIrql(SYNCH_LEVEL, __FILE__, __LINE__, __func__)
#endif

/* ---- Processors (wdm.h, ntddk.h, ndis.h); all any IRQL --------------------------------------- */

#define INVALID_PROCESSOR_INDEX 0xffffffff
#define MAXIMUM_PROC_PER_GROUP 64

/* KeQueryMaximumProcessorCount / KeQueryMaximumProcessorCountEx: any IRQL. The processor count
 * (of GroupNumber for the Ex form: 0 or ALL_PROCESSOR_GROUPS; any other group has none, 0). The
 * same as the active count: nothing is hot-added. Pages: wdm/nf-wdm-kequerymaximumprocessorcount,
 * wdm/nf-wdm-kequerymaximumprocessorcountex. */
/*@{*/
static inline ULONG KeQueryMaximumProcessorCount(void) { return KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS); }
static inline ULONG KeQueryMaximumProcessorCountEx(USHORT GroupNumber) {
    return KeQueryActiveProcessorCountEx(GroupNumber);
}
/*@}*/
/* KeQueryActiveGroupCount / KeQueryMaximumGroupCount: any IRQL. 1: ndislock has one processor
 * group. Pages: wdm/nf-wdm-kequeryactivegroupcount, wdm/nf-wdm-kequerymaximumgroupcount. */
/*@{*/
static inline USHORT KeQueryActiveGroupCount(void) { return 1; }
static inline USHORT KeQueryMaximumGroupCount(void) { return 1; }
/*@}*/

/* KeGetProcessorIndexFromNumber: any IRQL. The index of *ProcNumber, or INVALID_PROCESSOR_INDEX if
 * it names no processor (a group other than 0, or a number past the count). Page:
 * wdm/nf-wdm-kegetprocessorindexfromnumber. */
static inline ULONG KeGetProcessorIndexFromNumber(PPROCESSOR_NUMBER ProcNumber) {
    if (ProcNumber->Group != 0 || ProcNumber->Number >= KeQueryMaximumProcessorCount()) return INVALID_PROCESSOR_INDEX;
    return ProcNumber->Number;
}
/* KeGetProcessorNumberFromIndex: any IRQL. Fills *ProcNumber (group 0) for ProcIndex and returns
 * STATUS_SUCCESS, or STATUS_INVALID_PARAMETER if there is no such processor (*ProcNumber is then
 * left as it was). Page: wdm/nf-wdm-kegetprocessornumberfromindex. */
static inline NTSTATUS KeGetProcessorNumberFromIndex(ULONG ProcIndex, PPROCESSOR_NUMBER ProcNumber) {
    if (ProcIndex >= KeQueryMaximumProcessorCount()) return STATUS_INVALID_PARAMETER;
    ProcNumber->Group = 0;
    ProcNumber->Number = (UCHAR)ProcIndex;
    ProcNumber->Reserved = 0;
    return STATUS_SUCCESS;
}

/* ---- Thread affinity (wdm.h): mapped onto processor binding -------------------------------
 *
 * A system affinity runs the calling thread on one virtual processor of its mask: the one it is on
 * if the mask has it, else the lowest (as NdislockBindCurrentThread binds it). Reverting to the
 * user affinity restores the binding the thread had before its first system affinity. Below
 * DISPATCH_LEVEL the call returns on the new processor; at DISPATCH_LEVEL the move is deferred
 * until the thread drops below DISPATCH_LEVEL, as documented. A mask that is 0 or names a
 * processor that does not exist changes nothing (as documented for an invalid mask); so does a
 * call from an ISR or DPC routine (ndislock's interrupt and DPC threads stay on their processor).
 * Only group 0 exists: a GROUP_AFFINITY of another group changes nothing. */

/* KeSetSystemAffinityThreadEx: IRQL <= DISPATCH_LEVEL. Sets the system affinity; returns the
 * previous one, or 0 if the thread had none, for KeRevertToUserAffinityThreadEx. Page:
 * wdm/nf-wdm-kesetsystemaffinitythreadex. */
NDISLOCK_API KAFFINITY KeSetSystemAffinityThreadEx(KAFFINITY Affinity);

/* KeRevertToUserAffinityThreadEx: IRQL <= DISPATCH_LEVEL. Affinity 0 restores the thread's own
 * binding; otherwise Affinity becomes the system affinity (pass what KeSetSystemAffinityThreadEx
 * returned). No effect unless KeSetSystemAffinityThreadEx came first. Page:
 * wdm/nf-wdm-kereverttouseraffinitythreadex. */
NDISLOCK_API VOID KeRevertToUserAffinityThreadEx(KAFFINITY Affinity);

/* KeSetSystemGroupAffinityThread: IRQL <= DISPATCH_LEVEL. As KeSetSystemAffinityThreadEx with
 * Affinity->Mask in Affinity->Group; fills *PreviousAffinity (optional) with what
 * KeRevertToUserGroupAffinityThread restores (Mask 0: the thread's own binding). A NULL Affinity
 * ends the process with a diagnostic. Page: wdm/nf-wdm-kesetsystemgroupaffinitythread. */
NDISLOCK_API VOID KeSetSystemGroupAffinityThread(PGROUP_AFFINITY Affinity, PGROUP_AFFINITY PreviousAffinity);

/* KeRevertToUserGroupAffinityThread: IRQL <= DISPATCH_LEVEL. PreviousAffinity->Mask 0 restores the
 * thread's own binding; otherwise that group affinity becomes the system affinity. No effect
 * unless KeSetSystemGroupAffinityThread (or KeSetSystemAffinityThreadEx) came first. Page:
 * wdm/nf-wdm-kereverttousergroupaffinitythread. */
NDISLOCK_API VOID KeRevertToUserGroupAffinityThread(PGROUP_AFFINITY PreviousAffinity);

/* NdisSystemProcessorCount: PASSIVE_LEVEL, Microsoft says (ndislock answers at any IRQL and does
 * not check). The processor count, as a CCHAR. NDIS 6.20 and later drivers use
 * NdisGroupMaxProcessorCount. Page: ndis/nf-ndis-ndissystemprocessorcount. */
static inline CCHAR NdisSystemProcessorCount(void) {
    return (CCHAR)KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
}
/* NdisGroupActiveProcessorCount / NdisGroupMaxProcessorCount: any IRQL. The processor count in
 * Group (0 or ALL_PROCESSOR_GROUPS; any other group has none, 0); active and maximum are the same.
 * Pages: ndis/nf-ndis-ndisgroupactiveprocessorcount, ndis/nf-ndis-ndisgroupmaxprocessorcount. */
/*@{*/
static inline ULONG NdisGroupActiveProcessorCount(USHORT Group) { return KeQueryActiveProcessorCountEx(Group); }
static inline ULONG NdisGroupMaxProcessorCount(USHORT Group) { return KeQueryActiveProcessorCountEx(Group); }
/*@}*/
/* NdisGroupActiveProcessorMask: any IRQL. The affinity mask of Group's processors (bit n for
 * processor n; 0 for a group other than 0). Page: ndis/nf-ndis-ndisgroupactiveprocessormask. */
static inline KAFFINITY NdisGroupActiveProcessorMask(USHORT Group) {
    KAFFINITY mask = 0;
    if (Group == 0) KeQueryActiveProcessorCount(&mask);
    return mask;
}
/* NdisActiveGroupCount / NdisMaxGroupCount: any IRQL. 1: ndislock has one processor group. Pages:
 * ndis/nf-ndis-ndisactivegroupcount, ndis/nf-ndis-ndismaxgroupcount. */
/*@{*/
static inline USHORT NdisActiveGroupCount(void) { return 1; }
static inline USHORT NdisMaxGroupCount(void) { return 1; }
/*@}*/
/* NdisProcessorNumberToIndex: any IRQL. KeGetProcessorIndexFromNumber on ProcNum, passed by
 * value: its index, or INVALID_PROCESSOR_INDEX. With that call's contract and page:
 * wdm/nf-wdm-kegetprocessorindexfromnumber. */
static inline ULONG NdisProcessorNumberToIndex(PROCESSOR_NUMBER ProcNum) {
    return KeGetProcessorIndexFromNumber(&ProcNum);
}
/* NdisProcessorIndexToNumber: any IRQL. KeGetProcessorNumberFromIndex: fills *ProcNum for
 * ProcIndex, NDIS_STATUS_SUCCESS or STATUS_INVALID_PARAMETER. With that call's contract and page:
 * wdm/nf-wdm-kegetprocessornumberfromindex. */
static inline NDIS_STATUS NdisProcessorIndexToNumber(ULONG ProcIndex, PPROCESSOR_NUMBER ProcNum) {
    return KeGetProcessorNumberFromIndex(ProcIndex, ProcNum);
}
/* NdisCurrentGroupAndProcessor / NdisCurrentProcessorIndex: DISPATCH_LEVEL (Microsoft gives IRQL
 * >= DISPATCH_LEVEL for the first, DISPATCH_LEVEL for the second), where the thread cannot move to
 * another processor; ndislock answers at any IRQL and does not check, but below DISPATCH_LEVEL the
 * answer may be stale when it is used. This thread's processor: group 0 and its number, or its
 * index. Pages: ndis/nf-ndis-ndiscurrentgroupandprocessor, ndis/nf-ndis-ndiscurrentprocessorindex. */
/*@{*/
static inline PROCESSOR_NUMBER NdisCurrentGroupAndProcessor(void) {
    PROCESSOR_NUMBER n;
    KeGetCurrentProcessorNumberEx(&n);
    return n;
}
static inline ULONG NdisCurrentProcessorIndex(void) { return KeGetCurrentProcessorNumberEx(NULL); }
/*@}*/

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_PROCESSORS_H */
