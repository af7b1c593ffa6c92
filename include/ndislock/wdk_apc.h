/*
 * ndislock/wdk_apc.h: the APC-state calls of wdm.h and ntddk.h: critical regions, guarded regions
 * and the two queries that read them. Clean C11 and C++. Included by ndislock/wdk.h.
 *
 * ndislock delivers no APCs, so nothing is held off by these regions; what they keep is exactly
 * the state Windows keeps, per thread, so code that asserts it (ASSERT(KeAreApcsDisabled()) before
 * taking a resource, say) and code that enters and leaves regions around waits behaves as there.
 * Contract: each call's IRQL, semantics and misuse below; pages under
 * https://learn.microsoft.com/windows-hardware/drivers/ddi/.
 */
#ifndef NDISLOCK_WDK_APC_H
#define NDISLOCK_WDK_APC_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* KeEnterCriticalRegion: IRQL <= APC_LEVEL. Enters a critical region: user APCs and normal kernel
 * APCs are off for this thread until the matching KeLeaveCriticalRegion. Regions nest (a count per
 * thread). Page: wdm/nf-wdm-keentercriticalregion. */
NDISLOCK_API VOID KeEnterCriticalRegion(VOID);

/* KeLeaveCriticalRegion: IRQL <= APC_LEVEL. Leaves the innermost critical region. Leaving one the
 * thread is not in is BugCheck 0x1 (APC_INDEX_MISMATCH, which Windows raises when the thread next
 * returns to user mode; ndislock reports it at the call) and ends the process, verifier on or off.
 * Page: wdm/nf-wdm-keleavecriticalregion. */
NDISLOCK_API VOID KeLeaveCriticalRegion(VOID);

/* KeEnterGuardedRegion: IRQL <= APC_LEVEL. Enters a guarded region: all APCs are off for this
 * thread until the matching KeLeaveGuardedRegion. Regions nest. Page:
 * ntddk/nf-ntddk-keenterguardedregion. */
NDISLOCK_API VOID KeEnterGuardedRegion(VOID);

/* KeLeaveGuardedRegion: IRQL <= APC_LEVEL. Leaves the innermost guarded region; leaving one the
 * thread is not in is BugCheck 0x1 as for KeLeaveCriticalRegion. Page:
 * ntddk/nf-ntddk-keleaveguardedregion. */
NDISLOCK_API VOID KeLeaveGuardedRegion(VOID);

/* KeAreApcsDisabled: IRQL <= DISPATCH_LEVEL. TRUE while this thread is inside a critical region or
 * a guarded region (normal kernel APCs off), FALSE otherwise; as documented, the IRQL does not
 * enter into it. Page: wdm/nf-wdm-keareapcsdisabled. */
NDISLOCK_API BOOLEAN KeAreApcsDisabled(VOID);

/* KeAreAllApcsDisabled: IRQL <= DISPATCH_LEVEL. TRUE while this thread is inside a guarded region
 * or runs at IRQL >= APC_LEVEL (all APCs off, special kernel APCs included), FALSE otherwise.
 * Page: wdm/nf-wdm-keareallapcsdisabled. */
NDISLOCK_API BOOLEAN KeAreAllApcsDisabled(VOID);

/* Site-taking forms (see ndislock/ndis.h): the leaves report their caller's line. */
NDISLOCK_API VOID ndislock_at_KeLeaveCriticalRegion(const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_KeLeaveGuardedRegion(const char *, int, const char *);

#ifndef NDISLOCK_NO_SITE_MACROS
#define KeLeaveCriticalRegion() ndislock_at_KeLeaveCriticalRegion(__FILE__, __LINE__, __func__)
#define KeLeaveGuardedRegion() ndislock_at_KeLeaveGuardedRegion(__FILE__, __LINE__, __func__)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_APC_H */
