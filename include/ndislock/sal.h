/*
 * ndislock/sal.h: the SAL 2 annotations (sal.h, driverspecs.h) and their legacy forms (__in,
 * __drv_*) that driver code carries on its declarations, so the code compiles unchanged. They mean
 * nothing to gcc and expand to nothing, except the lock annotations, which can become clang
 * thread-safety attributes (below). ndislock's verifier checks the IRQL and lock rules they
 * describe at run time instead. References: learn.microsoft.com/cpp/code-quality/understanding-sal,
 * .../annotating-locking-behavior and learn.microsoft.com/windows-hardware/drivers/devtest/
 * irql-annotations-for-drivers (and sal-2-annotations-for-windows-drivers).
 *
 * Define NDISLOCK_NO_SAL to skip them all (for example when another header already defines
 * them). The legacy forms (__in, __out, __drv_*) are in ndislock/sal_legacy.h, which only the
 * WDK face (ndislock/wdk.h) includes: libstdc++ uses __in and __out as identifiers.
 */
#ifndef NDISLOCK_SAL_H
#define NDISLOCK_SAL_H

#ifndef NDISLOCK_NO_SAL

/* Lock annotations. With NDISLOCK_SAL_THREAD_SAFETY defined and clang, the ones that have a clang
 * thread-safety counterpart become it, so `clang -Wthread-safety` checks what /analyze would (the
 * lock expressions must then name capabilities: ndislock::NdisSpinLock in C++, or a type the
 * driver annotates). Off by default: on plain C structs such as NDIS_SPIN_LOCK clang would warn
 * that the argument is no capability, and drivers build with -Werror. */
#if defined(NDISLOCK_SAL_THREAD_SAFETY) && defined(__clang__)
#define NDISLOCK_SAL_TSA(x) __attribute__((x))
#else
#define NDISLOCK_SAL_TSA(x)
#endif
#ifndef _Guarded_by_
#define _Guarded_by_(lock) NDISLOCK_SAL_TSA(guarded_by(lock))
#define _Write_guarded_by_(lock) NDISLOCK_SAL_TSA(guarded_by(lock))
#define _Requires_lock_held_(lock) NDISLOCK_SAL_TSA(requires_capability(lock))
#define _Requires_exclusive_lock_held_(lock) NDISLOCK_SAL_TSA(requires_capability(lock))
#define _Requires_shared_lock_held_(lock) NDISLOCK_SAL_TSA(requires_shared_capability(lock))
#define _Requires_lock_not_held_(lock) NDISLOCK_SAL_TSA(locks_excluded(lock))
#define _Acquires_lock_(lock) NDISLOCK_SAL_TSA(acquire_capability(lock))
#define _Acquires_exclusive_lock_(lock) NDISLOCK_SAL_TSA(acquire_capability(lock))
#define _Acquires_nonreentrant_lock_(lock) NDISLOCK_SAL_TSA(acquire_capability(lock))
#define _Acquires_shared_lock_(lock) NDISLOCK_SAL_TSA(acquire_shared_capability(lock))
#define _Releases_lock_(lock) NDISLOCK_SAL_TSA(release_capability(lock))
#define _Releases_exclusive_lock_(lock) NDISLOCK_SAL_TSA(release_capability(lock))
#define _Releases_nonreentrant_lock_(lock) NDISLOCK_SAL_TSA(release_capability(lock))
#define _Releases_shared_lock_(lock) NDISLOCK_SAL_TSA(release_shared_capability(lock))
#endif

/* Parameters, results, IRQL: the set ndislock has always declared. */
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
#define _Interlocked_
#define _Kernel_requires_resource_held_(x)
#define _Kernel_requires_resource_not_held_(x)
#define _Kernel_acquires_resource_(x)
#define _Kernel_releases_resource_(x)
#define _Post_same_lock_(a, b)
#endif

/* The rest of SAL 2: buffers, pointers, results, structs, locks, kernel and IRQL forms. */
#ifndef _In_z_
#define _In_z_
#define _In_opt_z_
#define _Inout_z_
#define _Inout_opt_z_
#define _Out_z_
#define _In_reads_opt_(a0)
#define _In_reads_bytes_opt_(a0)
#define _In_reads_z_(a0)
#define _In_reads_or_z_(a0)
#define _In_reads_to_ptr_(a0)
#define _In_reads_to_ptr_opt_(a0)
#define _In_range_(a0, a1)
#define _Out_range_(a0, a1)
#define _Ret_range_(a0, a1)
#define _Deref_in_range_(a0, a1)
#define _Deref_out_range_(a0, a1)
#define _Out_writes_opt_(a0)
#define _Out_writes_bytes_opt_(a0)
#define _Out_writes_z_(a0)
#define _Out_writes_to_(a0, a1)
#define _Out_writes_to_opt_(a0, a1)
#define _Out_writes_all_(a0)
#define _Out_writes_bytes_to_(a0, a1)
#define _Out_writes_bytes_to_opt_(a0, a1)
#define _Out_writes_bytes_all_(a0)
#define _Out_writes_bytes_all_opt_(a0)
#define _Inout_updates_(a0)
#define _Inout_updates_opt_(a0)
#define _Inout_updates_z_(a0)
#define _Inout_updates_bytes_(a0)
#define _Inout_updates_bytes_opt_(a0)
#define _Inout_updates_to_(a0, a1)
#define _Inout_updates_bytes_to_(a0, a1)
#define _Inout_updates_all_(a0)
#define _Inout_updates_bytes_all_(a0)
#define _Outptr_result_maybenull_
#define _Outptr_opt_result_maybenull_
#define _Outptr_result_z_
#define _Outptr_opt_result_z_
#define _Outptr_result_nullonfailure_
#define _Outptr_opt_result_nullonfailure_
#define _Outptr_result_buffer_(a0)
#define _Outptr_result_buffer_maybenull_(a0)
#define _Outptr_opt_result_buffer_(a0)
#define _Outptr_result_bytebuffer_(a0)
#define _Outptr_result_bytebuffer_maybenull_(a0)
#define _Outptr_opt_result_bytebuffer_(a0)
#define _Outptr_result_buffer_to_(a0, a1)
#define _Outptr_result_bytebuffer_to_(a0, a1)
#define _Outptr_result_to_(a0)
#define _COM_Outptr_
#define _COM_Outptr_opt_
#define _COM_Outptr_result_maybenull_
#define _COM_Outptr_opt_result_maybenull_
#define _Outref_
#define _Outref_result_maybenull_
#define _Outref_result_buffer_(a0)
#define _Outref_result_bytebuffer_(a0)
#define _Ret_z_
#define _Ret_maybenull_
#define _Ret_maybenull_z_
#define _Ret_notnull_
#define _Ret_null_
#define _Ret_valid_
#define _Ret_writes_(a0)
#define _Ret_writes_bytes_(a0)
#define _Ret_writes_maybenull_(a0)
#define _Ret_writes_bytes_maybenull_(a0)
#define _Ret_writes_to_(a0, a1)
#define _Ret_writes_bytes_to_(a0, a1)
#define _Result_nullonfailure_
#define _Result_zeroonfailure_
#define _Points_to_data_
#define _Literal_
#define _Notliteral_
#define _Printf_format_string_
#define _Scanf_format_string_
#define _Return_type_success_(a0)
#define _On_failure_(a0)
#define _Always_(a0)
#define _Post_writable_byte_size_(a0)
#define _Field_size_opt_(a0)
#define _Field_size_bytes_(a0)
#define _Field_size_bytes_opt_(a0)
#define _Field_size_part_(a0, a1)
#define _Field_size_part_opt_(a0, a1)
#define _Field_size_bytes_part_(a0, a1)
#define _Field_size_bytes_part_opt_(a0, a1)
#define _Field_size_full_(a0)
#define _Field_size_full_opt_(a0)
#define _Field_size_bytes_full_(a0)
#define _Field_size_bytes_full_opt_(a0)
#define _Field_z_
#define _Field_range_(a0, a1)
#define _Struct_size_bytes_(a0)
#define _Pre_
#define _Post_
#define _Deref_pre_
#define _Deref_post_
#define _Null_
#define _Notnull_
#define _Maybenull_
#define _Valid_
#define _Notvalid_
#define _Pre_valid_
#define _Post_valid_
#define _Post_invalid_
#define _Pre_null_
#define _Pre_notnull_
#define _Pre_maybenull_
#define _Post_null_
#define _Post_notnull_
#define _Post_maybenull_
#define _Post_z_
#define _Pre_z_
#define _Pre_readable_size_(a0)
#define _Pre_writable_size_(a0)
#define _Pre_readable_byte_size_(a0)
#define _Pre_writable_byte_size_(a0)
#define _Post_readable_size_(a0)
#define _Post_readable_byte_size_(a0)
#define _Pre_satisfies_(a0)
#define _Post_satisfies_(a0)
#define _Post_equal_to_(a0)
#define _Unchanged_(a0)
#define _Const_
#define _Readable_bytes_(a0)
#define _Readable_elements_(a0)
#define _Writable_bytes_(a0)
#define _Writable_elements_(a0)
#define _Null_terminated_
#define _NullNull_terminated_
#define _Reserved_
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _In_defensive_(a0)
#define _Out_defensive_(a0)
#define _Inout_defensive_(a0)
#define _Analysis_noreturn_
#define _Analysis_mode_(a0)
#define _Benign_race_begin_
#define _Benign_race_end_
#define _No_competing_thread_
#define _No_competing_thread_begin_
#define _No_competing_thread_end_
#define _Raises_SEH_exception_
#define _Maybe_raises_SEH_exception_
#define _Function_ignore_lock_checking_(a0)
#define _Analysis_assume_lock_acquired_(a0)
#define _Analysis_assume_lock_released_(a0)
#define _Analysis_assume_lock_held_(a0)
#define _Analysis_assume_lock_not_held_(a0)
#define _Analysis_assume_same_lock_(a0, a1)
#define _Analysis_suppress_lock_checking_(a0)
#define _Create_lock_level_(a0)
#define _Has_lock_kind_(a0)
#define _Has_lock_level_(a0)
#define _Lock_level_order_(a0, a1)
#define _Requires_no_locks_held_
#define _Interlocked_operand_
#define _Lock_kind_mutex_
#define _Lock_kind_event_
#define _Lock_kind_semaphore_
#define _Lock_kind_spin_lock_
#define _Lock_kind_critical_section_
#define _IRQL_uses_cancel_
#define _IRQL_lowers_to_(a0)
#define _Kernel_clear_do_init_(a0)
#define _Kernel_float_saved_
#define _Kernel_float_restored_
#define _Kernel_float_used_
#define _Kernel_IoGetDmaAdapter_
#define _Dispatch_type_(a0)
#define _Enum_is_bitflag_
#define _Strict_type_match_
#define _Translates_Win32_to_HRESULT_(a0)
#define _Translates_NTSTATUS_to_HRESULT_(a0)
#define _In_count_(a0)
#define _In_bytecount_(a0)
#define _In_opt_count_(a0)
#define _Out_cap_(a0)
#define _Out_bytecap_(a0)
#define _Out_opt_cap_(a0)
#define _Inout_cap_(a0)
#define _Inout_bytecount_(a0)
#define _Deref_out_
#define _Deref_out_opt_
#define _Deref_opt_out_
#define _Deref_out_z_
#define _Deref_inout_
#define _In_NLS_string_(a0)
#define _Pre_opt_valid_
#define _Post_ptr_invalid_
#define _At_buffer_(a0, a1, a2, a3)
#define _Group_(a0)
#endif

#endif /* NDISLOCK_NO_SAL */

#endif /* NDISLOCK_SAL_H */
