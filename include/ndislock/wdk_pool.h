/*
 * ndislock/wdk_pool.h: pool memory as wdm.h and ndis.h hand it out: POOL_TYPE, POOL_FLAGS,
 * EX_POOL_PRIORITY, ExAllocatePoolWithTag, ExAllocatePool2, ExAllocatePoolZero,
 * ExAllocatePoolUninitialized, ExAllocatePool, ExFreePoolWithTag, ExFreePool and the NDIS forms
 * (NdisAllocateMemoryWithTagPriority, NdisAllocateMemoryWithTag, NdisFreeMemoryWithTagPriority,
 * NdisFreeMemory). Clean C11 and C++. Included by ndislock/wdk.h; usable alone.
 *
 * A pool block is heap memory behind a small header of ndislock's that keeps the block's tag, pool
 * type and size and a mark that says the block is live. The block itself is aligned as the WDK
 * promises and more: to 64 bytes (a cache line, for DECLSPEC_CACHEALIGN members) below PAGE_SIZE,
 * to a page from PAGE_SIZE up. Memory that a call does not zero holds whatever the heap gave.
 *
 * IRQL, as Microsoft documents it: a nonpaged allocation or free at IRQL <= DISPATCH_LEVEL, a paged
 * one at IRQL <= APC_LEVEL. Above that the verifier reports IrqlTooHighForCall at the call. Above
 * DISPATCH_LEVEL (an ISR or a synchronize routine, whose interrupted thread may be stopped inside
 * the heap holding its lock), an allocation returns NULL without touching the heap, with the
 * verifier on or off, and a free marks the block freed and leaves it to the next pool call made at
 * DISPATCH_LEVEL or below, which gives it back to the heap: neither can deadlock.
 *
 * Misuse the header shows ends the process as the bug check Windows stops on, 0xC2
 * BAD_POOL_CALLER (the BugCheck rule, with the verifier on or off): freeing a block a second time
 * (parameter 1 = 0x7), freeing with a tag other than the one it was allocated with (0xA: the
 * block, the allocator's tag, the tag given), freeing an address no pool call returned or NULL
 * (0x42). A wrong address is caught when the 32 bytes before it are readable and do not carry the
 * mark, which is the usual case, not always. A second free is caught while the heap has not reused
 * the block; under AddressSanitizer or ThreadSanitizer the sanitizer reports it first (the header
 * read is a heap-use-after-free).
 */
#ifndef NDISLOCK_WDK_POOL_H
#define NDISLOCK_WDK_POOL_H

#include "ndislock/export.h"
#include "ndislock/wdk_base.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* POOL_TYPE: which pool ExAllocatePoolWithTag draws from, with wdm.h's values. The odd base types
 * (PagedPool, PagedPoolCacheAligned and their session forms) are pageable, to be touched at
 * IRQL <= APC_LEVEL; the others are nonpaged. The session, cache-aligned and Nx variants all get
 * the same memory here. Page: wdm/ne-wdm-_pool_type. */
typedef enum _POOL_TYPE {
    NonPagedPool = 0,
    NonPagedPoolExecute = NonPagedPool,
    PagedPool = 1,
    NonPagedPoolMustSucceed = NonPagedPool + 2,
    DontUseThisType = 3,
    NonPagedPoolCacheAligned = NonPagedPool + 4,
    PagedPoolCacheAligned = 5,
    NonPagedPoolCacheAlignedMustS = NonPagedPool + 6,
    MaxPoolType = 7,
    NonPagedPoolBase = 0,
    NonPagedPoolBaseMustSucceed = NonPagedPoolBase + 2,
    NonPagedPoolBaseCacheAligned = NonPagedPoolBase + 4,
    NonPagedPoolBaseCacheAlignedMustS = NonPagedPoolBase + 6,
    NonPagedPoolSession = 32,
    PagedPoolSession = NonPagedPoolSession + 1,
    NonPagedPoolMustSucceedSession = PagedPoolSession + 1,
    DontUseThisTypeSession = NonPagedPoolMustSucceedSession + 1,
    NonPagedPoolCacheAlignedSession = DontUseThisTypeSession + 1,
    PagedPoolCacheAlignedSession = NonPagedPoolCacheAlignedSession + 1,
    NonPagedPoolCacheAlignedMustSSession = PagedPoolCacheAlignedSession + 1,
    NonPagedPoolNx = 512,
    NonPagedPoolNxCacheAligned = NonPagedPoolNx + 4,
    NonPagedPoolSessionNx = NonPagedPoolNx + 32
} POOL_TYPE;

/* The POOL_TYPE modifiers a caller may OR in (wdm.h): POOL_ZERO_ALLOCATION zeroes the block;
 * ndislock ignores the others. */
#define POOL_QUOTA_FAIL_INSTEAD_OF_RAISE 8
#define POOL_RAISE_IF_ALLOCATION_FAILURE 16
#define POOL_COLD_ALLOCATION 256
#define POOL_NX_ALLOCATION 512
#define POOL_ZERO_ALLOCATION 1024

/* POOL_FLAGS: ExAllocatePool2's flags, with wdm.h's values. The low 32 bits are required (an
 * unknown one fails the allocation), the high 32 optional (ignored when unknown). Exactly one of
 * POOL_FLAG_NON_PAGED, POOL_FLAG_NON_PAGED_EXECUTE and POOL_FLAG_PAGED says the pool. Page:
 * kernel/pool_flags. */
typedef ULONG64 POOL_FLAGS;
#define POOL_FLAG_REQUIRED_START 0x0000000000000001ULL
#define POOL_FLAG_USE_QUOTA 0x0000000000000001ULL
#define POOL_FLAG_UNINITIALIZED 0x0000000000000002ULL
#define POOL_FLAG_SESSION 0x0000000000000004ULL
#define POOL_FLAG_CACHE_ALIGNED 0x0000000000000008ULL
#define POOL_FLAG_RESERVED1 0x0000000000000010ULL
#define POOL_FLAG_RAISE_ON_FAILURE 0x0000000000000020ULL
#define POOL_FLAG_NON_PAGED 0x0000000000000040ULL
#define POOL_FLAG_NON_PAGED_EXECUTE 0x0000000000000080ULL
#define POOL_FLAG_PAGED 0x0000000000000100ULL
#define POOL_FLAG_RESERVED2 0x0000000000000200ULL
#define POOL_FLAG_RESERVED3 0x0000000000000400ULL
#define POOL_FLAG_REQUIRED_END 0x0000000080000000ULL
#define POOL_FLAG_OPTIONAL_START 0x0000000100000000ULL
#define POOL_FLAG_SPECIAL_POOL 0x0000000100000000ULL
#define POOL_FLAG_OPTIONAL_END 0x8000000000000000ULL

/* EX_POOL_PRIORITY: how much an allocation may fail when memory is short (wdm.h's values).
 * ndislock's allocations fail only when the heap does, whatever the priority. Page:
 * wdm/ne-wdm-ex_pool_priority. */
typedef enum _EX_POOL_PRIORITY {
    LowPoolPriority,
    LowPoolPrioritySpecialPoolOverrun = 8,
    LowPoolPrioritySpecialPoolUnderrun = 9,
    NormalPoolPriority = 16,
    NormalPoolPrioritySpecialPoolOverrun = 24,
    NormalPoolPrioritySpecialPoolUnderrun = 25,
    HighPoolPriority = 32,
    HighPoolPrioritySpecialPoolOverrun = 40,
    HighPoolPrioritySpecialPoolUnderrun = 41
} EX_POOL_PRIORITY;

/* Bit 31 of a tag marks protected pool (wdm.h); ndislock compares the whole tag. */
#define PROTECTED_POOL 0x80000000

/* ---- The executive's calls (wdm.h) ----------------------------------------------------------- */

/* ExAllocatePoolWithTag: IRQL <= DISPATCH_LEVEL for a nonpaged PoolType, IRQL <= APC_LEVEL for a
 * paged one. NumberOfBytes of PoolType memory tagged Tag, not zeroed, or NULL when the heap has
 * none. Misuse: above its IRQL, IrqlTooHighForCall with the verifier on; above DISPATCH_LEVEL it
 * returns NULL, verifier on or off (see the top of this header). A zero-byte request gets a valid
 * block of no bytes. Page: wdm/nf-wdm-exallocatepoolwithtag. */
NDISLOCK_API PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);

/* ExAllocatePool2: IRQL <= DISPATCH_LEVEL with POOL_FLAG_NON_PAGED or POOL_FLAG_NON_PAGED_EXECUTE,
 * IRQL <= APC_LEVEL with POOL_FLAG_PAGED. NumberOfBytes zeroed (not with POOL_FLAG_UNINITIALIZED)
 * tagged Tag, or NULL: when the heap has none, for Tag 0, and for invalid Flags (an unknown
 * required flag, or not exactly one pool flag). POOL_FLAG_RAISE_ON_FAILURE cannot raise here: the
 * call returns NULL instead. Misuse: as ExAllocatePoolWithTag (IrqlTooHighForCall; NULL above
 * DISPATCH_LEVEL). Page: wdm/nf-wdm-exallocatepool2. */
NDISLOCK_API PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);

/* ExAllocatePoolZero / ExAllocatePoolUninitialized: IRQL <= DISPATCH_LEVEL for a nonpaged PoolType,
 * IRQL <= APC_LEVEL for a paged one. ExAllocatePoolWithTag, the block zeroed (Zero) or not
 * (Uninitialized). Misuse: as ExAllocatePoolWithTag. Pages: wdm/nf-wdm-exallocatepoolzero,
 * wdm/nf-wdm-exallocatepooluninitialized. */
/*@{*/
NDISLOCK_API PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
NDISLOCK_API PVOID ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
/*@}*/

/* ExAllocatePool: IRQL <= DISPATCH_LEVEL for a nonpaged PoolType, IRQL <= APC_LEVEL for a paged
 * one. Deprecated by Microsoft (and still declared): ExAllocatePoolWithTag with the tag the WDK
 * gives untagged allocations, 'enoN' (0x656E6F4E, "None" in a pool dump). Misuse: as
 * ExAllocatePoolWithTag. Page: wdm/nf-wdm-exallocatepool. */
NDISLOCK_API PVOID ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes);

/* ExFreePoolWithTag: IRQL <= DISPATCH_LEVEL, IRQL <= APC_LEVEL for a block from paged pool. Frees
 * the pool block P, which must have been allocated with Tag (Tag 0 skips the comparison). Misuse:
 * above its IRQL, IrqlTooHighForCall with the verifier on; above DISPATCH_LEVEL the block is marked
 * freed and given back to the heap by the next pool call below; a second free of P, a wrong Tag, or a P no pool call
 * returned (NULL included) is bug check 0xC2 BAD_POOL_CALLER: BugCheck, and the process ends (see
 * the top of this header). Page: wdm/nf-wdm-exfreepoolwithtag. */
NDISLOCK_API VOID ExFreePoolWithTag(PVOID P, ULONG Tag);

/* ExFreePool: IRQL <= DISPATCH_LEVEL, IRQL <= APC_LEVEL for a block from paged pool.
 * ExFreePoolWithTag(P, 0): any tag is accepted; the other misuse is checked (IrqlTooHighForCall,
 * BugCheck 0xC2 for a second free or an address no pool call returned). Page:
 * wdm/nf-wdm-exfreepool. */
NDISLOCK_API VOID ExFreePool(PVOID P);

/* ---- NDIS's (ndis.h) ------------------------------------------------------------------------- */

/* NdisAllocateMemoryWithTagPriority: IRQL <= DISPATCH_LEVEL. Length bytes of nonpaged memory tagged
 * Tag, not zeroed, or NULL; NdisHandle (the driver's, a filter's or an adapter's) and Priority are
 * not checked. Free it with NdisFreeMemoryWithTagPriority or NdisFreeMemory. Misuse: as
 * ExAllocatePoolWithTag (IrqlTooHighForCall; NULL above DISPATCH_LEVEL). Page:
 * ndis/nf-ndis-ndisallocatememorywithtagpriority. */
NDISLOCK_API PVOID NdisAllocateMemoryWithTagPriority(NDIS_HANDLE NdisHandle, UINT Length, ULONG Tag,
                                                     EX_POOL_PRIORITY Priority);

/* NdisFreeMemoryWithTagPriority: IRQL <= DISPATCH_LEVEL. Frees VirtualAddress, allocated with Tag.
 * Misuse: as ExFreePoolWithTag (IrqlTooHighForCall; BugCheck 0xC2 for a second free, a wrong tag,
 * an address NDIS never gave). Page: ndis/nf-ndis-ndisfreememorywithtagpriority. */
NDISLOCK_API VOID NdisFreeMemoryWithTagPriority(NDIS_HANDLE NdisHandle, PVOID VirtualAddress, ULONG Tag);

/* NdisAllocateMemoryWithTag: IRQL <= DISPATCH_LEVEL. Deprecated for NDIS 6 (which uses
 * NdisAllocateMemoryWithTagPriority): sets *VirtualAddress to Length bytes of nonpaged memory
 * tagged Tag and returns NDIS_STATUS_SUCCESS, or sets it to NULL and returns NDIS_STATUS_FAILURE.
 * Misuse: as ExAllocatePoolWithTag. Page: ndis/nf-ndis-ndisallocatememorywithtag. */
NDISLOCK_API NDIS_STATUS NdisAllocateMemoryWithTag(PVOID *VirtualAddress, UINT Length, ULONG Tag);

/* NdisFreeMemory: IRQL <= DISPATCH_LEVEL. Frees VirtualAddress, from NdisAllocateMemoryWithTag or
 * NdisAllocateMemoryWithTagPriority; Length and MemoryFlags (0 for that memory) are not checked.
 * Misuse: as ExFreePool. Page: ndis/nf-ndis-ndisfreememory. */
NDISLOCK_API VOID NdisFreeMemory(PVOID VirtualAddress, UINT Length, UINT MemoryFlags);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_POOL_H */
