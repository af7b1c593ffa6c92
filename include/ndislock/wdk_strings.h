/*
 * ndislock/wdk_strings.h: the counted strings of ntdef.h/wdm.h and ndis.h (UNICODE_STRING,
 * ANSI_STRING, STRING, NDIS_STRING), their initializers (RtlInitUnicodeString, RtlInitAnsiString,
 * RtlInitString, RTL_CONSTANT_STRING, DECLARE_CONST_UNICODE_STRING, NdisInitUnicodeString) and
 * RtlCompareMemory. Clean C11 and C++. Included by ndislock/wdk.h; usable alone.
 *
 * Wide characters: WCHAR is 16 bits (a UTF-16 code unit) as on Windows, but a wide literal L"..."
 * has the host's wchar_t, 32 bits on Linux. Build C driver sources that spell L"..." with
 * -fshort-wchar (GCC and Clang), which makes L"..." 16-bit as on Windows, or write u"..."
 * (char16_t, the same 16 bits). Without it RTL_CONSTANT_STRING(L"...") and
 * DECLARE_CONST_UNICODE_STRING do not compile (rather than building a string of the wrong width),
 * and passing L"..." to RtlInitUnicodeString is an incompatible-pointer diagnostic.
 */
#ifndef NDISLOCK_WDK_STRINGS_H
#define NDISLOCK_WDK_STRINGS_H

#include "ndislock/export.h"
#include "ndislock/wdk_base.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* UNICODE_STRING: a counted UTF-16 string. Length and MaximumLength are in bytes (not
 * characters), Length without a terminating zero, which the buffer need not hold. Page:
 * ntdef/ns-ntdef-_unicode_string. */
typedef struct _UNICODE_STRING {
    USHORT Length;        /* bytes of Buffer in use */
    USHORT MaximumLength; /* bytes Buffer can hold */
    PWCH Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

/* STRING / ANSI_STRING / OEM_STRING: the same for 8-bit characters. Page: ntdef/ns-ntdef-string. */
typedef struct _STRING {
    USHORT Length;        /* bytes of Buffer in use */
    USHORT MaximumLength; /* bytes Buffer can hold */
    PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING, OEM_STRING, *POEM_STRING;
typedef const STRING *PCSTRING;
typedef const ANSI_STRING *PCANSI_STRING;

/* NDIS_STRING: NDIS's name for UNICODE_STRING (ndis.h). Page: ndis/nf-ndis-ndisinitunicodestring. */
typedef UNICODE_STRING NDIS_STRING, *PNDIS_STRING;

/* The longest string a UNICODE_STRING can count, in bytes and in characters (ntdef.h). */
#define UNICODE_STRING_MAX_BYTES ((USHORT)65534)
#define UNICODE_STRING_MAX_CHARS (32767)

/* RtlInitUnicodeString: IRQL <= DISPATCH_LEVEL (ndislock checks nothing). Points
 * DestinationString at SourceString, a zero-terminated WCHAR string (not copied): Length its
 * length in bytes without the zero, MaximumLength that plus the zero's 2 bytes; a NULL
 * SourceString gives an empty string (both 0, Buffer NULL). A string longer than
 * UNICODE_STRING_MAX_CHARS - 1 characters is counted as that long, so the USHORT lengths do not
 * wrap. Page: wdm/nf-wdm-rtlinitunicodestring. */
NDISLOCK_API VOID RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString);

/* RtlInitAnsiString / RtlInitString: IRQL <= DISPATCH_LEVEL (ndislock checks nothing). The same
 * for a zero-terminated 8-bit string: Length its bytes without the zero, MaximumLength one more;
 * NULL gives an empty string; capped at 65533 bytes. Pages: wdm/nf-wdm-rtlinitansistring,
 * wdm/nf-wdm-rtlinitstring. */
/*@{*/
NDISLOCK_API VOID RtlInitAnsiString(PANSI_STRING DestinationString, PCSZ SourceString);
NDISLOCK_API VOID RtlInitString(PSTRING DestinationString, PCSZ SourceString);
/*@}*/

/* NdisInitUnicodeString: IRQL <= DISPATCH_LEVEL. RtlInitUnicodeString under ndis.h's name. Page:
 * ndis/nf-ndis-ndisinitunicodestring. */
#define NdisInitUnicodeString(Destination, Source) RtlInitUnicodeString((Destination), (Source))

/* RtlCompareMemory: any IRQL (nonpaged memory). The number of leading bytes of Source1 and
 * Source2, up to Length, that are equal: Length when the blocks match. Page:
 * wdm/nf-wdm-rtlcomparememory. */
NDISLOCK_API SIZE_T RtlCompareMemory(const VOID *Source1, const VOID *Source2, SIZE_T Length);

#ifdef __cplusplus
} /* extern "C" */

/* RTL_CONSTANT_STRING's Buffer in C++, where void * does not convert to PWCH or PCHAR by itself:
 * converts to the pointer type of the field it initializes. */
struct ndislock_detail_string_buffer {
    const void *p;
    template <class T> operator T *() const { return (T *)p; }
};
#define NDISLOCK_STRING_BUFFER_(s) (::ndislock_detail_string_buffer{(const void *)(s)})
/* C++ has no WCHAR array initializer from a literal (WCHAR is no character type): the string's
 * Buffer is the literal itself. */
#define NDISLOCK_DECLARE_CONST_UNICODE_STRING_(_var, _string) const UNICODE_STRING _var = RTL_CONSTANT_STRING(_string)
#else
#define NDISLOCK_STRING_BUFFER_(s) ((PVOID)(s))
#define NDISLOCK_DECLARE_CONST_UNICODE_STRING_(_var, _string)                                                          \
    const WCHAR _var##_buffer[] = _string;                                                                             \
    const UNICODE_STRING _var = {(USHORT)(sizeof(_string) - sizeof(WCHAR)), (USHORT)sizeof(_string),                   \
                                 (PWCH)_var##_buffer}
#endif
/* A compile-time 0 that fails to compile (a negative array size) unless the literal s has 8- or
 * 16-bit characters. */
#define NDISLOCK_STRING_UNIT_CHECK_(s) (0 * sizeof(char[sizeof((s)[0]) <= 2 ? 1 : -1]))

/* RTL_CONSTANT_STRING(s): any IRQL (a compile-time initializer). The UNICODE_STRING (for a wide
 * literal) or STRING (for a narrow one) initializer counting the literal s: Length its bytes
 * without the terminating zero, MaximumLength with it, Buffer the literal; usable for globals (in
 * C++ they are initialized dynamically). A wide literal must have 16-bit characters (-fshort-wchar,
 * or u"..."): a 32-bit one does not compile (a negative array size). Page:
 * wdm/nf-wdm-rtlinitunicodestring (its Remarks). */
#define RTL_CONSTANT_STRING(s)                                                                                         \
    {                                                                                                                  \
        (USHORT)(sizeof(s) - sizeof((s)[0]) + NDISLOCK_STRING_UNIT_CHECK_(s)), (USHORT)sizeof(s),                      \
            NDISLOCK_STRING_BUFFER_(s)                                                                                 \
    }

/* DECLARE_CONST_UNICODE_STRING(Name, Literal): any IRQL (a declaration). Declares the const
 * UNICODE_STRING Name counting Literal, at file or block scope: in C with the WCHAR array
 * Name##_buffer holding the characters, as the WDK; in C++ pointing at the literal itself.
 * Literal must be a 16-bit wide literal (-fshort-wchar, or u"..."). Pages:
 * wdm/nf-wdm-rtlinitunicodestring, ntdef/ns-ntdef-_unicode_string. */
#define DECLARE_CONST_UNICODE_STRING(_var, _string) NDISLOCK_DECLARE_CONST_UNICODE_STRING_(_var, _string)

#endif /* NDISLOCK_WDK_STRINGS_H */
