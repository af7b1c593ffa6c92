/*
 * ndislock/wdk_base.h: the ntdef.h/wdm.h vocabulary every driver header needs before anything
 * else: the remaining base types, status codes and NT_SUCCESS, the structural macros
 * (CONTAINING_RECORD, FIELD_OFFSET, C_ASSERT...), the checked-build assertions and PAGED_CODE().
 * Clean C11 and C++. Included by ndislock/wdk.h; usable alone.
 *
 * Types follow Windows' LLP64 model whatever the host's: LONG is 32 bits, LONG64 64 bits. With
 * NDISLOCK_HAVE_WINDOWS_TYPES defined (another header already gives the Windows base types), the
 * types are skipped here as in ndislock/wdk_types.h; the macros are still defined.
 *
 * Assertions behave as on a checked (DBG=1) build by default: a false ASSERT/NT_ASSERT prints
 * file:line and the expression and ends the process (rule AssertionFailed, a verifier finding
 * first when the verifier is on). Define NDISLOCK_WDK_DBG=0 for a free build, where ASSERT and
 * NT_ASSERT vanish and NT_VERIFY only evaluates. Pages: ntdef/, wdm/nf-wdm-... below.
 */
#ifndef NDISLOCK_WDK_BASE_H
#define NDISLOCK_WDK_BASE_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Base types (ntdef.h, basetsd.h) ------------------------------------------------------- */

#ifndef NDISLOCK_HAVE_WINDOWS_TYPES
typedef short SHORT;
typedef SHORT *PSHORT;
typedef unsigned short CSHORT;
typedef CHAR *PCHAR, *PSTR, *LPSTR;
typedef const CHAR *PCSTR, *LPCSTR;
typedef CCHAR *PCCHAR;
typedef CHAR *PCH, *LPCH, *PSZ;
typedef const CHAR *PCCH, *LPCCH, *PCSZ;
typedef signed char SCHAR, *PSCHAR;
typedef uint16_t WCHAR; /* UTF-16 code unit, 16 bits as on Windows (wchar_t is 32 bits here) */
typedef WCHAR *PWCHAR, *PWSTR, *LPWSTR, *PWCH;
typedef const WCHAR *PCWSTR, *LPCWSTR, *PCWCH;
typedef LONG *PLONG;
typedef LONG64 *PLONG64;
typedef ULONG64 *PULONG64;
typedef LONGLONG *PLONGLONG;
typedef ULONGLONG *PULONGLONG;
typedef int32_t LONG32, *PLONG32, INT32, *PINT32;
typedef uint32_t ULONG32, *PULONG32, UINT32, *PUINT32, DWORD32, *PDWORD32;
typedef int8_t INT8, *PINT8;
typedef uint8_t UINT8, *PUINT8;
typedef int16_t INT16, *PINT16;
typedef uint16_t UINT16, *PUINT16;
typedef int64_t INT64, *PINT64;
typedef uint64_t UINT64, *PUINT64, DWORD64, *PDWORD64;
typedef int INT, *PINT;
typedef UINT *PUINT;
typedef UCHAR BYTE, *PBYTE;
typedef USHORT WORD, *PWORD;
typedef ULONG DWORD, *PDWORD;
typedef int BOOL;
typedef intptr_t INT_PTR, *PINT_PTR;
typedef uintptr_t UINT_PTR, *PUINT_PTR;
typedef ULONG_PTR *PULONG_PTR, DWORD_PTR, *PDWORD_PTR;
typedef LONG_PTR *PLONG_PTR;
typedef SIZE_T *PSIZE_T;
typedef LONG_PTR SSIZE_T, *PSSIZE_T;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
typedef NTSTATUS *PNTSTATUS;
typedef const void *PCVOID, *LPCVOID;
typedef void *LPVOID;
/* PVOID64 is a pointer with __ptr64 on Windows; on a 64-bit host every pointer is that. */
typedef void *PVOID64;
typedef UCHAR KPROCESSOR_MODE;
typedef ULONG CLONG;
#endif /* NDISLOCK_HAVE_WINDOWS_TYPES */

/* LARGE_INTEGER / ULARGE_INTEGER: a 64-bit value with its 32-bit halves (little-endian), as the
 * WDK lays it out. Page: winnt/ns-winnt-large_integer-r1. */
#ifndef NDISLOCK_HAVE_WINDOWS_TYPES
typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;
#endif

/* ---- Words driver code spells on declarations (meaningless here) --------------------------- */

#ifndef IN
#define IN
#endif
#ifndef OUT
#define OUT
#endif
#ifndef OPTIONAL
#define OPTIONAL
#endif
#ifndef UNALIGNED
#define UNALIGNED
#endif
#ifndef CONST
#define CONST const
#endif
#ifndef FORCEINLINE
#define FORCEINLINE static inline __attribute__((always_inline))
#endif
#ifndef DECLSPEC_ALIGN
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))
#endif
#ifndef SYSTEM_CACHE_ALIGNMENT_SIZE
#define SYSTEM_CACHE_ALIGNMENT_SIZE 64
#endif
#ifndef DECLSPEC_CACHEALIGN
#define DECLSPEC_CACHEALIGN DECLSPEC_ALIGN(SYSTEM_CACHE_ALIGNMENT_SIZE)
#endif
#ifndef DECLSPEC_NOINLINE
#define DECLSPEC_NOINLINE __attribute__((noinline))
#endif
#ifndef DECLSPEC_NORETURN
#define DECLSPEC_NORETURN __attribute__((noreturn))
#endif
#ifndef DECLSPEC_NOTHROW
#define DECLSPEC_NOTHROW
#endif
#ifndef DECLSPEC_SELECTANY
#define DECLSPEC_SELECTANY __attribute__((weak))
#endif
#ifndef NTSYSAPI
#define NTSYSAPI
#endif
#ifndef NTSYSCALLAPI
#define NTSYSCALLAPI
#endif
#ifndef WINAPI
#define WINAPI
#endif
#ifndef __stdcall
#define __stdcall
#endif
#ifndef __cdecl
#define __cdecl
#endif
#ifndef __fastcall
#define __fastcall
#endif
#ifndef __forceinline
#define __forceinline inline __attribute__((always_inline))
#endif
#ifndef __declspec
#define __declspec(x) NDISLOCK_DECLSPEC_##x
#define NDISLOCK_DECLSPEC_noinline __attribute__((noinline))
#define NDISLOCK_DECLSPEC_noreturn __attribute__((noreturn))
#define NDISLOCK_DECLSPEC_selectany __attribute__((weak))
#define NDISLOCK_DECLSPEC_nothrow
#define NDISLOCK_DECLSPEC_align(x) __attribute__((aligned(x)))
#endif
#ifndef ANYSIZE_ARRAY
#define ANYSIZE_ARRAY 1
#endif
#ifndef MAXULONG
#define MAXULONG 0xffffffffUL
#define MAXLONG 0x7fffffffL
#define MINLONG (-MAXLONG - 1)
#define MAXUSHORT 0xffff
#define MAXSHORT 0x7fff
#define MAXUCHAR 0xff
#define MAXULONG64 ((ULONG64) ~((ULONG64)0))
#define MAXLONG64 ((LONG64)(MAXULONG64 >> 1))
#define MAXULONG_PTR (~((ULONG_PTR)0))
#define MAXLONG_PTR ((LONG_PTR)(MAXULONG_PTR >> 1))
#endif
/* The sized limits of basetsd.h and winnt.h (MAXUINT32, MAXINT64, MAXSIZE_T...), each defined
 * only if nothing defined it before. */
#ifndef MAXUINT8
#define MAXUINT8 ((UINT8) ~((UINT8)0))
#endif
#ifndef MAXINT8
#define MAXINT8 ((INT8)(MAXUINT8 >> 1))
#endif
#ifndef MININT8
#define MININT8 ((INT8)~MAXINT8)
#endif
#ifndef MAXUINT16
#define MAXUINT16 ((UINT16) ~((UINT16)0))
#endif
#ifndef MAXINT16
#define MAXINT16 ((INT16)(MAXUINT16 >> 1))
#endif
#ifndef MININT16
#define MININT16 ((INT16)~MAXINT16)
#endif
#ifndef MAXUINT32
#define MAXUINT32 ((UINT32) ~((UINT32)0))
#endif
#ifndef MAXINT32
#define MAXINT32 ((INT32)(MAXUINT32 >> 1))
#endif
#ifndef MININT32
#define MININT32 ((INT32)~MAXINT32)
#endif
#ifndef MAXUINT64
#define MAXUINT64 ((UINT64) ~((UINT64)0))
#endif
#ifndef MAXINT64
#define MAXINT64 ((INT64)(MAXUINT64 >> 1))
#endif
#ifndef MININT64
#define MININT64 ((INT64)~MAXINT64)
#endif
#ifndef MAXULONG32
#define MAXULONG32 ((ULONG32) ~((ULONG32)0))
#endif
#ifndef MAXLONG32
#define MAXLONG32 ((LONG32)(MAXULONG32 >> 1))
#endif
#ifndef MINLONG32
#define MINLONG32 ((LONG32)~MAXLONG32)
#endif
#ifndef MINLONG64
#define MINLONG64 ((LONG64)~MAXLONG64)
#endif
#ifndef MAXULONGLONG
#define MAXULONGLONG ((ULONGLONG) ~((ULONGLONG)0))
#endif
#ifndef MAXLONGLONG
#define MAXLONGLONG ((LONGLONG)(MAXULONGLONG >> 1))
#endif
#ifndef MINLONGLONG
#define MINLONGLONG ((LONGLONG)~MAXLONGLONG)
#endif
#ifndef MAXUINT
#define MAXUINT ((UINT) ~((UINT)0))
#endif
#ifndef MAXINT
#define MAXINT ((INT)(MAXUINT >> 1))
#endif
#ifndef MININT
#define MININT ((INT)~MAXINT)
#endif
#ifndef MAXDWORD
#define MAXDWORD 0xffffffffUL
#endif
#ifndef MAXDWORD32
#define MAXDWORD32 ((DWORD32) ~((DWORD32)0))
#endif
#ifndef MAXDWORD64
#define MAXDWORD64 ((DWORD64) ~((DWORD64)0))
#endif
#ifndef MAXUINT_PTR
#define MAXUINT_PTR (~((UINT_PTR)0))
#endif
#ifndef MAXINT_PTR
#define MAXINT_PTR ((INT_PTR)(MAXUINT_PTR >> 1))
#endif
#ifndef MININT_PTR
#define MININT_PTR (~MAXINT_PTR)
#endif
#ifndef MAXSIZE_T
#define MAXSIZE_T ((SIZE_T) ~((SIZE_T)0))
#endif
#ifndef MAXSSIZE_T
#define MAXSSIZE_T ((SSIZE_T)(MAXSIZE_T >> 1))
#endif
#ifndef MINSSIZE_T
#define MINSSIZE_T ((SSIZE_T)~MAXSSIZE_T)
#endif

/* ---- Structural macros (ntdef.h) ------------------------------------------------------------ */

/* UNREFERENCED_PARAMETER(P): marks a parameter used; compiles to nothing. */
#define UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))
#define UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))

/* C_ASSERT(e): a compile-time assertion at file or block scope. */
#ifdef __cplusplus
#define C_ASSERT(e) static_assert((e), #e)
#else
#define C_ASSERT(e) _Static_assert((e), #e)
#endif

/* FIELD_OFFSET(type, field): the byte offset of field in type, a LONG as in ntdef.h. */
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_SIZEOF_THROUGH_FIELD(type, field) (FIELD_OFFSET(type, field) + RTL_FIELD_SIZE(type, field))
#define RTL_CONTAINS_FIELD(Struct, Size, Field)                                                                        \
    ((((PCHAR)(&(Struct)->Field)) + sizeof((Struct)->Field)) <= (((PCHAR)(Struct)) + (Size)))

/* CONTAINING_RECORD(address, type, field): the address of the type whose field is at address
 * (how a LIST_ENTRY found in a list becomes its packet or request). Page: ntdef/nf-ntdef-containing_record. */
#define CONTAINING_RECORD(address, type, field) ((type *)((PCHAR)(address)-offsetof(type, field)))

/* RTL_NUMBER_OF / ARRAYSIZE: elements in an array (an array, not a pointer). */
#define RTL_NUMBER_OF_V1(A) (sizeof(A) / sizeof((A)[0]))
#define RTL_NUMBER_OF_V2(A) RTL_NUMBER_OF_V1(A)
#define RTL_NUMBER_OF(A) RTL_NUMBER_OF_V1(A)
#ifndef ARRAYSIZE
#define ARRAYSIZE(A) RTL_NUMBER_OF(A)
#endif
#define RTL_NUMBER_OF_FIELD(type, field) (RTL_NUMBER_OF(((type *)0)->field))
#define ALIGN_DOWN_BY(length, alignment) ((ULONG_PTR)(length) & ~((ULONG_PTR)(alignment)-1))
#define ALIGN_UP_BY(length, alignment) (ALIGN_DOWN_BY(((ULONG_PTR)(length) + (alignment)-1), alignment))
#define ALIGN_DOWN_POINTER_BY(address, alignment) ((PVOID)((ULONG_PTR)(address) & ~((ULONG_PTR)(alignment)-1)))
#define ALIGN_UP_POINTER_BY(address, alignment)                                                                        \
    (ALIGN_DOWN_POINTER_BY(((ULONG_PTR)(address) + (alignment)-1), alignment))
#define FlagOn(_F, _SF) ((_F) & (_SF))
#define BooleanFlagOn(F, SF) ((BOOLEAN)(((F) & (SF)) != 0))
#define SetFlag(_F, _SF) ((_F) |= (_SF))
#define ClearFlag(_F, _SF) ((_F) &= ~(_SF))
/* Int32x32To64 / UInt32x32To64: any IRQL (plain arithmetic). The 64-bit product of two 32-bit
 * integers, signed (a LONGLONG) or unsigned (a ULONGLONG); each operand is first cut to 32 bits,
 * as the WDK's casts do. Pages: winnt/nf-winnt-int32x32to64, winnt/nf-winnt-uint32x32to64. */
/*@{*/
#define Int32x32To64(a, b) ((LONGLONG)((LONG)(a)) * (LONGLONG)((LONG)(b)))
#define UInt32x32To64(a, b) ((ULONGLONG)((ULONG)(a)) * (ULONGLONG)((ULONG)(b)))
/*@}*/
/* min/max as in minwindef.h: C only (they would break std::min in C++), and not with NOMINMAX. */
#if !defined(__cplusplus) && !defined(NOMINMAX)
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#endif

/* EXTERN_C, EXTERN_C_START / EXTERN_C_END (ntdef.h): C linkage for declarations shared with C++
 * sources; nothing in C. */
#ifndef EXTERN_C
#ifdef __cplusplus
#define EXTERN_C extern "C"
#define EXTERN_C_START extern "C" {
#define EXTERN_C_END }
#else
#define EXTERN_C extern
#define EXTERN_C_START
#define EXTERN_C_END
#endif
#endif

/* Pointer arithmetic and pages: plain arithmetic, any IRQL. Add2Ptr and PtrOffset as ntifs.h
 * defines them; the page macros as wdm.h does for x64 (4 KiB pages). Pages:
 * wdm/nf-wdm-round_to_pages, wdm/nf-wdm-bytes_to_pages, wdm/nf-wdm-byte_offset, wdm/nf-wdm-page_align
 * (learn.microsoft.com/windows-hardware/drivers/ddi/). */
#ifndef Add2Ptr
#define Add2Ptr(P, I) ((PVOID)((PUCHAR)(P) + (I)))
#endif
#ifndef PtrOffset
#define PtrOffset(B, O) ((ULONG)((ULONG_PTR)(O) - (ULONG_PTR)(B)))
#endif

#ifndef PAGE_SIZE
#define PAGE_SIZE 0x1000
#endif
#ifndef PAGE_SHIFT
#define PAGE_SHIFT 12L
#endif
#define BYTE_OFFSET(Va) ((ULONG)((LONG_PTR)(Va) & (PAGE_SIZE - 1)))
#define PAGE_ALIGN(Va) ((PVOID)((ULONG_PTR)(Va) & ~(PAGE_SIZE - 1)))
#define ROUND_TO_PAGES(Size) (((ULONG_PTR)(Size) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define BYTES_TO_PAGES(Size) (((Size) >> PAGE_SHIFT) + (((Size) & (PAGE_SIZE - 1)) != 0))

/* ---- Memory (wdm.h's Rtl*Memory, ndis.h's Ndis*Memory) ----------------------------------------
 * Macros over the C library, as the WDK defines them; the Ndis forms are ndis.h's own macros over
 * the Rtl ones. */
/* RtlZeroMemory: any IRQL (nonpaged memory). Page: wdm/nf-wdm-rtlzeromemory. */
#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
/* RtlFillMemory: any IRQL (nonpaged memory). Page: wdm/nf-wdm-rtlfillmemory. */
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
/* RtlCopyMemory: any IRQL (nonpaged memory); the blocks must not overlap. Page: wdm/nf-wdm-rtlcopymemory. */
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
/* RtlMoveMemory: any IRQL (nonpaged memory); the blocks may overlap. Page: wdm/nf-wdm-rtlmovememory. */
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
/* RtlEqualMemory: any IRQL (nonpaged memory); nonzero when equal. Page: wdm/nf-wdm-rtlequalmemory. */
#define RtlEqualMemory(Destination, Source, Length) (!memcmp((Destination), (Source), (Length)))
/* RtlSecureZeroMemory: any IRQL; zeroes with stores the compiler cannot drop, returns Destination.
 * Page: wdm/nf-wdm-rtlsecurezeromemory. */
#define RtlSecureZeroMemory(Destination, Length) ndislock_secure_zero((Destination), (Length))
/* NdisZeroMemory: any IRQL (nonpaged memory). Page: ndis/nf-ndis-ndiszeromemory. */
#define NdisZeroMemory(Destination, Length) RtlZeroMemory(Destination, Length)
/* NdisFillMemory: any IRQL (nonpaged memory). Page: ndis/nf-ndis-ndisfillmemory. */
#define NdisFillMemory(Destination, Length, Fill) RtlFillMemory(Destination, Length, Fill)
/* NdisMoveMemory: any IRQL (nonpaged memory); the blocks must not overlap. Page: ndis/nf-ndis-ndismovememory. */
#define NdisMoveMemory(Destination, Source, Length) RtlCopyMemory(Destination, Source, Length)
/* NdisEqualMemory: any IRQL (nonpaged memory); 1 when equal. Page: ndis/nf-ndis-ndisequalmemory. */
#define NdisEqualMemory(Source1, Source2, Length) RtlEqualMemory(Source1, Source2, Length)
/* RtlSecureZeroMemory: zeroes through volatile stores the compiler cannot drop. */
static inline PVOID ndislock_secure_zero(PVOID Destination, SIZE_T Length) {
    volatile UCHAR *p = (volatile UCHAR *)Destination;
    while (Length-- != 0)
        *p++ = 0;
    return Destination;
}

/* ---- Status codes (ntstatus.h) -------------------------------------------------------------- */

/* NT_SUCCESS: success and informational codes are >= 0. Page: kernel/using-ntstatus-values. */
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status) ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status) ((((ULONG)(Status)) >> 30) == 3)

#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#define STATUS_WAIT_0 ((NTSTATUS)0x00000000L)
#define STATUS_ABANDONED ((NTSTATUS)0x00000080L)
#define STATUS_USER_APC ((NTSTATUS)0x000000C0L)
#define STATUS_ALERTED ((NTSTATUS)0x00000101L)
#define STATUS_TIMEOUT ((NTSTATUS)0x00000102L)
#define STATUS_PENDING ((NTSTATUS)0x00000103L)
#define STATUS_REPARSE ((NTSTATUS)0x00000104L)
#define STATUS_MORE_ENTRIES ((NTSTATUS)0x00000105L)
#define STATUS_BUFFER_OVERFLOW ((NTSTATUS)0x80000005L)
#define STATUS_NO_MORE_ENTRIES ((NTSTATUS)0x8000001AL)
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
#define STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002L)
#define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008L)
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#define STATUS_MORE_PROCESSING_REQUIRED ((NTSTATUS)0xC0000016L)
#define STATUS_NO_MEMORY ((NTSTATUS)0xC0000017L)
#define STATUS_ACCESS_DENIED ((NTSTATUS)0xC0000022L)
#define STATUS_BUFFER_TOO_SMALL ((NTSTATUS)0xC0000023L)
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034L)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009AL)
#define STATUS_DEVICE_NOT_READY ((NTSTATUS)0xC00000A3L)
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
#define STATUS_CANCELLED ((NTSTATUS)0xC0000120L)
#define STATUS_INVALID_DEVICE_STATE ((NTSTATUS)0xC0000184L)
#define STATUS_INVALID_BUFFER_SIZE ((NTSTATUS)0xC0000206L)
#define STATUS_NOT_FOUND ((NTSTATUS)0xC0000225L)
#define STATUS_DEVICE_REMOVED ((NTSTATUS)0xC00002B6L)
#define STATUS_ASSERTION_FAILURE ((NTSTATUS)0xC0000420L)

/* NDIS 6 status codes are NTSTATUS values (ndis.h maps NDIS_STATUS_X to STATUS_NDIS_X). The
 * first six are in ndislock/wdk_types.h. Page: network/ndis-status-codes. */
#define NDIS_STATUS_NOT_ACCEPTED ((NDIS_STATUS)0x00010003L)
#define NDIS_STATUS_INDICATION_REQUIRED ((NDIS_STATUS)0x40230001L)
#define NDIS_STATUS_BUFFER_OVERFLOW ((NDIS_STATUS)STATUS_BUFFER_OVERFLOW)
#define NDIS_STATUS_CLOSING ((NDIS_STATUS)0xC0230002L)
#define NDIS_STATUS_MULTICAST_FULL ((NDIS_STATUS)0xC0230009L)
#define NDIS_STATUS_REQUEST_ABORTED ((NDIS_STATUS)0xC023000CL)
#define NDIS_STATUS_RESET_IN_PROGRESS ((NDIS_STATUS)0xC023000DL)
#define NDIS_STATUS_INVALID_DEVICE_REQUEST ((NDIS_STATUS)STATUS_INVALID_DEVICE_REQUEST)
#define NDIS_STATUS_ADAPTER_NOT_READY ((NDIS_STATUS)0xC0230011L)
#define NDIS_STATUS_INVALID_LENGTH ((NDIS_STATUS)0xC0230014L)
#define NDIS_STATUS_INVALID_DATA ((NDIS_STATUS)0xC0230015L)
#define NDIS_STATUS_BUFFER_TOO_SHORT ((NDIS_STATUS)0xC0230016L)
#define NDIS_STATUS_INVALID_OID ((NDIS_STATUS)0xC0230017L)
#define NDIS_STATUS_ADAPTER_REMOVED ((NDIS_STATUS)0xC0230018L)
#define NDIS_STATUS_PAUSED ((NDIS_STATUS)0xC023002AL)
#define NDIS_STATUS_LOW_POWER_STATE ((NDIS_STATUS)0xC023002FL)
#define NDIS_STATUS_MEDIA_DISCONNECTED ((NDIS_STATUS)0xC023001FL)
#define NDIS_STATUS_INVALID_STATE ((NDIS_STATUS)STATUS_INVALID_DEVICE_STATE)
#define NDIS_STATUS_NOT_RECOGNIZED ((NDIS_STATUS)0x00010001L)
/* Status indications (NdisMIndicateStatusEx's StatusCode): the NDIS 6 link-state one, and the
 * NDIS 5 reset and media-connect ones drivers still name. */
#define NDIS_STATUS_RESET_START ((NDIS_STATUS)0x40010004L)
#define NDIS_STATUS_RESET_END ((NDIS_STATUS)0x40010005L)
#define NDIS_STATUS_MEDIA_CONNECT ((NDIS_STATUS)0x4001000BL)
#define NDIS_STATUS_MEDIA_DISCONNECT ((NDIS_STATUS)0x4001000CL)
#define NDIS_STATUS_LINK_STATE ((NDIS_STATUS)0x40010017L)

/* ---- Bug checks (wdm.h, ntddk.h) ------------------------------------------------------------ */

/* KeBugCheckEx: any IRQL. The driver stops the machine on purpose: a BugCheck report (terminal)
 * with BugCheckCode and the four parameters, as the crash dump shows them, at the caller's line,
 * then the process ends, with the verifier on or off. Never returns. Page:
 * wdm/nf-wdm-kebugcheckex. */
NDISLOCK_API __attribute__((noreturn)) void KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR BugCheckParameter1,
                                                         ULONG_PTR BugCheckParameter2, ULONG_PTR BugCheckParameter3,
                                                         ULONG_PTR BugCheckParameter4);
/* KeBugCheck: any IRQL. As KeBugCheckEx with four zero parameters: a BugCheck report, then the
 * process ends. Never returns. Page: ntddk/nf-ntddk-kebugcheck. */
NDISLOCK_API __attribute__((noreturn)) void KeBugCheck(ULONG BugCheckCode);
NDISLOCK_API __attribute__((noreturn)) void ndislock_at_KeBugCheckEx(ULONG, ULONG_PTR, ULONG_PTR, ULONG_PTR, ULONG_PTR,
                                                                     const char *, int, const char *);
#ifndef NDISLOCK_NO_SITE_MACROS
#define KeBugCheckEx(Code, P1, P2, P3, P4)                                                                             \
    ndislock_at_KeBugCheckEx((Code), (ULONG_PTR)(P1), (ULONG_PTR)(P2), (ULONG_PTR)(P3), (ULONG_PTR)(P4), __FILE__,     \
                             __LINE__, __func__)
#define KeBugCheck(Code) ndislock_at_KeBugCheckEx((Code), 0, 0, 0, 0, __FILE__, __LINE__, __func__)
#endif

/* ---- Assertions (wdm.h, ntdef.h) ------------------------------------------------------------ */

/* Reports AssertionFailed for Expression (Message may be NULL) at the caller's file:line and ends
 * the process, as a checked build's assertion does when no debugger takes it (on Windows: the
 * STATUS_ASSERTION_FAILURE exception, then a bug check). With the verifier on the report is a
 * finding first (and in the SARIF log). Any IRQL; async-signal-safe (an ISR may assert). */
NDISLOCK_API __attribute__((noreturn)) void ndislock_assertion_failed(const char *Expression, const char *Message,
                                                                      const char *File, int Line, const char *Function);

/* The expression is spelled by the outer macro (#e there), as the driver wrote it, unexpanded. */
#define NDISLOCK_ASSERT_AT(e, text, msg)                                                                               \
    ((e) ? (void)0 : ndislock_assertion_failed((text), (msg), __FILE__, __LINE__, __func__))
#define NDISLOCK_VERIFY_AT(e, text, msg)                                                                               \
    ((e) ? TRUE : (ndislock_assertion_failed((text), (msg), __FILE__, __LINE__, __func__), FALSE))

#if !defined(NDISLOCK_WDK_DBG) || NDISLOCK_WDK_DBG
/* ASSERT(e), ASSERTMSG(msg, e), NT_ASSERT(e), NT_ASSERTMSG(msg, e), NT_ASSERTMSGW(msg, e),
 * NT_ASSERT_ASSUME(e), NT_ASSERT_NOASSUME(e): any IRQL, ISRs included. Nothing if e is true; if
 * not, AssertionFailed at the macro's line with e as written (and msg, the MSG forms' narrow
 * message) and the process ends. Checked build only: with NDISLOCK_WDK_DBG=0 they vanish and e is
 * not evaluated, so e must have no side effect the program needs (NT_VERIFY evaluates it in every
 * build). Pages: wdm/nf-wdm-assert, wdm/nf-wdm-assertmsg, wdm/nf-wdm-nt_assert. */
/*@{*/
#define ASSERT(e) NDISLOCK_ASSERT_AT(e, #e, NULL)
#define ASSERTMSG(msg, e) NDISLOCK_ASSERT_AT(e, #e, (msg))
#define NT_ASSERT(e) NDISLOCK_ASSERT_AT(e, #e, NULL)
#define NT_ASSERTMSG(msg, e) NDISLOCK_ASSERT_AT(e, #e, (msg))
#define NT_ASSERTMSGW(msg, e) NDISLOCK_ASSERT_AT(e, #e, NULL)
#define NT_ASSERT_ASSUME(e) NDISLOCK_ASSERT_AT(e, #e, NULL)
#define NT_ASSERT_NOASSUME(e) NDISLOCK_ASSERT_AT(e, #e, NULL)
/*@}*/
/* NT_VERIFY(e), NT_VERIFYMSG(msg, e), NT_VERIFYMSGW(msg, e): any IRQL, ISRs included. Evaluate e
 * in every build and yield it as a BOOLEAN; a false one is AssertionFailed (terminal) in a checked
 * build and just FALSE with NDISLOCK_WDK_DBG=0. Page: wdm/nf-wdm-nt_verify. */
/*@{*/
#define NT_VERIFY(e) NDISLOCK_VERIFY_AT(e, #e, NULL)
#define NT_VERIFYMSG(msg, e) NDISLOCK_VERIFY_AT(e, #e, (msg))
#define NT_VERIFYMSGW(msg, e) NDISLOCK_VERIFY_AT(e, #e, NULL)
/*@}*/
#else
#define ASSERT(e) ((void)0)
#define ASSERTMSG(msg, e) ((void)0)
#define NT_ASSERT(e) ((void)0)
#define NT_ASSERTMSG(msg, e) ((void)0)
#define NT_ASSERTMSGW(msg, e) ((void)0)
#define NT_ASSERT_ASSUME(e) ((void)0)
#define NT_ASSERT_NOASSUME(e) ((void)0)
#define NT_VERIFY(e) ((e) ? TRUE : FALSE)
#define NT_VERIFYMSG(msg, e) ((e) ? TRUE : FALSE)
#define NT_VERIFYMSGW(msg, e) ((e) ? TRUE : FALSE)
#endif

/* ---- PAGED_CODE (wdm.h) --------------------------------------------------------------------- */

/* What PAGED_CODE() calls: the check at File:Line. */
NDISLOCK_API void ndislock_at_PagedCode(const char *File, int Line, const char *Function);
/* PAGED_CODE(): IRQL <= APC_LEVEL is what it checks (the macro itself may run at any IRQL). Marks
 * a function whose code may be paged out, so it must run at IRQL <= APC_LEVEL. With the verifier
 * on, a call above APC_LEVEL is PagedCodeAtRaisedIrql at the macro's line and the program goes on
 * (on Windows the page fault it may take is bug check 0xA or 0x50; a checked build asserts). With
 * the verifier off it checks nothing, as in a free build. Page: kernel/paged_code. */
#define PAGED_CODE() ndislock_at_PagedCode(__FILE__, __LINE__, __func__)
/* PAGED_CODE_LOCKED(): any IRQL. Marks paged code that runs with its section locked in memory, so
 * no IRQL rule applies; nothing to check, and it compiles to nothing. Page: kernel/paged_code. */
#define PAGED_CODE_LOCKED() ((void)0)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_BASE_H */
