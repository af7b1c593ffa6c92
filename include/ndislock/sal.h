/*
 * ndislock/sal.h: the SAL 2 annotations that NDIS driver code carries on its declarations,
 * defined empty so the code compiles unchanged. They mean nothing to gcc or clang; ndislock's
 * verifier checks the IRQL and lock rules they describe at run time instead.
 *
 * Define NDISLOCK_NO_SAL to skip them (for example when another header already defines them).
 */
#ifndef NDISLOCK_SAL_H
#define NDISLOCK_SAL_H

#ifndef NDISLOCK_NO_SAL
#ifndef _In_
#define _In_
#define _In_opt_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _In_reads_(n)
#define _In_reads_bytes_(n)
#define _Out_writes_(n)
#define _Out_writes_bytes_(n)
#define _Outptr_
#define _Outptr_opt_
#define _Must_inspect_result_
#define _Use_decl_annotations_
#define _Success_(x)
#define _Check_return_
#define _When_(c, a)
#define _At_(t, a)
#define _Field_size_(n)
#define _Analysis_assume_(x)
#define _IRQL_requires_(x)
#define _IRQL_requires_max_(x)
#define _IRQL_requires_min_(x)
#define _IRQL_raises_(x)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(k, p)
#define _IRQL_restores_global_(k, p)
#define _IRQL_requires_same_
#define _IRQL_always_function_max_(x)
#define _IRQL_always_function_min_(x)
#define _IRQL_is_cancel_
#define _Function_class_(x)
#define _Acquires_lock_(x)
#define _Releases_lock_(x)
#define _Requires_lock_held_(x)
#define _Requires_lock_not_held_(x)
#define _Acquires_exclusive_lock_(x)
#define _Releases_exclusive_lock_(x)
#define _Guarded_by_(x)
#define _Interlocked_
#define _Kernel_requires_resource_held_(x)
#define _Kernel_requires_resource_not_held_(x)
#define _Kernel_acquires_resource_(x)
#define _Kernel_releases_resource_(x)
#define _Post_same_lock_(a, b)
#define _Requires_exclusive_lock_held_(x)
#endif
#endif /* NDISLOCK_NO_SAL */

#endif /* NDISLOCK_SAL_H */
