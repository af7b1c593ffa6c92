/*
 * ndislock/sal_legacy.h: the pre-SAL-2 annotations older driver sources still carry (__in,
 * __out_opt, __inout, __drv_maxIRQL, __drv_aliasesMem...), defined empty. Clean C11 and C++.
 *
 * These names are reserved identifiers, and libstdc++ uses __in and __out itself (std::tuple's
 * constructors), so defining them breaks C++ standard headers included afterwards. Hence:
 * ndislock/wdk.h includes this header in C always, in C++ only with NDISLOCK_LEGACY_SAL defined
 * (then include the standard headers before <ndis.h>). NDISLOCK_NO_SAL skips it.
 * Reference: learn.microsoft.com/windows-hardware/drivers/devtest/sal-2-annotations-for-windows-drivers.
 */
#ifndef NDISLOCK_SAL_LEGACY_H
#define NDISLOCK_SAL_LEGACY_H

#if !defined(NDISLOCK_NO_SAL) && !defined(__in)
#define __in
#define __in_opt
#define __out
#define __out_opt
#define __inout
#define __inout_opt
#define __in_z
#define __in_opt_z
#define __out_z
#define __inout_z
#define __deref_out
#define __deref_out_opt
#define __deref_opt_out
#define __deref_inout
#define __deref_out_z
#define __checkReturn
#define __success(a0)
#define __nullterminated
#define __reserved
#define __callback
#define __override
#define __fallthrough
#define __in_bcount(a0)
#define __in_ecount(a0)
#define __in_bcount_opt(a0)
#define __in_ecount_opt(a0)
#define __out_bcount(a0)
#define __out_ecount(a0)
#define __out_bcount_opt(a0)
#define __out_ecount_opt(a0)
#define __out_bcount_part(a0, a1)
#define __out_ecount_part(a0, a1)
#define __out_bcount_full(a0)
#define __out_ecount_full(a0)
#define __inout_bcount(a0)
#define __inout_ecount(a0)
#define __inout_bcount_opt(a0)
#define __inout_ecount_opt(a0)
#define __deref_out_bcount(a0)
#define __deref_out_ecount(a0)
#define __field_bcount(a0)
#define __field_ecount(a0)
#define __field_bcount_opt(a0)
#define __field_ecount_opt(a0)
#define __format_string
#define __analysis_assume(a0)
#define __assume_bound(a0)
#define __drv_aliasesMem
#define __drv_allocatesMem(a0)
#define __drv_freesMem(a0)
#define __drv_arg(a0, a1)
#define __drv_at(a0, a1)
#define __drv_when(a0, a1)
#define __drv_fun(a0)
#define __drv_ret(a0)
#define __drv_in(a0)
#define __drv_out(a0)
#define __drv_in_deref(a0)
#define __drv_out_deref(a0)
#define __drv_requiresIRQL(a0)
#define __drv_maxIRQL(a0)
#define __drv_minIRQL(a0)
#define __drv_setsIRQL(a0)
#define __drv_raisesIRQL(a0)
#define __drv_savesIRQL
#define __drv_restoresIRQL
#define __drv_savesIRQLGlobal(a0, a1)
#define __drv_restoresIRQLGlobal(a0, a1)
#define __drv_sameIRQL
#define __drv_useCancelIRQL
#define __drv_isCancelIRQL
#define __drv_maxFunctionIRQL(a0)
#define __drv_minFunctionIRQL(a0)
#define __drv_functionClass(a0)
#define __drv_dispatchType(a0)
#define __drv_dispatchType_other
#define __drv_acquiresResource(a0)
#define __drv_releasesResource(a0)
#define __drv_mustHold(a0)
#define __drv_neverHold(a0)
#define __drv_acquiresResourceGlobal(a0, a1)
#define __drv_releasesResourceGlobal(a0, a1)
#define __drv_mustHoldGlobal(a0, a1)
#define __drv_neverHoldGlobal(a0, a1)
#define __drv_clearDoInitializing
#define __drv_valueIs(a0)
#define __drv_constant
#define __drv_nonConstant
#define __drv_strictType(a0, a1)
#define __drv_strictTypeMatch(a0)
#define __drv_notPointer
#define __drv_isObjectPointer
#define __drv_inTry
#define __drv_notInTry
#define __drv_floatSaved
#define __drv_floatRestored
#define __drv_floatUsed
#define __drv_interlocked
#define __drv_innerMustHoldGlobal(a0, a1)
#define __drv_innerNeverHoldGlobal(a0, a1)
#define __drv_acquiresCancelSpinLock
#define __drv_releasesCancelSpinLock
#define __drv_mustHoldCancelSpinLock
#define __drv_neverHoldCancelSpinLock
#define __drv_acquiresCriticalRegion
#define __drv_releasesCriticalRegion
#define __drv_mustHoldCriticalRegion
#define __drv_neverHoldCriticalRegion
#define __drv_acquiresPriorityRegion
#define __drv_releasesPriorityRegion
#define __drv_mustHoldPriorityRegion
#define __drv_neverHoldPriorityRegion
#define __drv_acquiresExclusiveResource(a0)
#define __drv_releasesExclusiveResource(a0)
#define __drv_acquiresExclusiveResourceGlobal(a0, a1)
#define __drv_releasesExclusiveResourceGlobal(a0, a1)
#define __drv_formatString(a0)
#define __drv_preferredFunction(a0, a1)
#define __drv_reportError(a0)
#define __drv_Mode_impl(a0)
#define __drv_WDM
#define __drv_KMDF
#define __drv_NDIS
#define __drv_declspec(a0)
#define __drv_nop(a0)
#define __drv_deref(a0)
#define __drv_IoGetDmaAdapter
#endif

#endif /* NDISLOCK_SAL_LEGACY_H */
