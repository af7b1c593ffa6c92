/*
 * ndislock/wdk_debug.h: the kernel debugger output and breakpoints of wdm.h: DbgPrint,
 * DbgPrintEx, vDbgPrintEx, vDbgPrintExWithPrefix, the KdPrint/KdPrintEx macros, the DPFLTR_*
 * component IDs and levels, DbgBreakPoint and KdBreakPoint. Clean C11 and C++. Included by
 * ndislock/wdk.h; usable alone.
 *
 * Where the output goes: what a kernel debugger would show is written to the process's stderr,
 * as the driver formatted it (no prefix added, nothing appended), one write(2) per message, at
 * most 512 bytes of it (a single DbgPrint call transmits no more on Windows).
 *
 * Which messages are written (Microsoft's "Reading and filtering debugging messages"): a message
 * has a component (ComponentId) and a Level; a Level of 0 to 31 stands for the mask 1 << Level,
 * a larger Level is the mask itself. DbgPrint and KdPrint are DbgPrintEx(DPFLTR_DEFAULT_ID,
 * DPFLTR_INFO_LEVEL, ...). The environment variable NDISLOCK_DBGPRINT, read at the first message,
 * chooses the filter:
 *   default (or unset)  as a Windows machine out of the box: a message whose mask has bit 0 set
 *                       (DPFLTR_ERROR_LEVEL) is written, every other one filtered out. So DbgPrint
 *                       and KdPrint (DPFLTR_INFO_LEVEL) write nothing, as on Windows Vista and
 *                       later; the first message filtered out says so once on stderr.
 *   all                 every message, whatever its component and level (as a debugger with every
 *                       component's filter mask set to 0xFFFFFFFF).
 *   off                 nothing, and no note either.
 *   a number (0x1F)     that filter mask for every component (with bit 0 always in): 0xF writes
 *                       the ERROR, WARNING, TRACE and INFO levels, so DbgPrint too.
 *
 * Any IRQL, ISRs included: the message is formatted into a buffer on the caller's stack by
 * ndislock's own formatter (no allocation, no lock, no stdio, no locale) and written with one
 * write(2), so a thread an emulated interrupt stopped anywhere, inside malloc or stdio included,
 * cannot block it. The formatter follows Microsoft's format rules, not glibc's: 'l' is 32 bits (a
 * LONG or ULONG), 'll' and 'I64' 64 bits, 'I' and 'z' pointer-sized; %p is the address in
 * hexadecimal digits, 16 of them on a 64-bit host; %s/%hs are narrow strings, %S/%ls/%ws wide (16-bit
 * WCHAR, written as UTF-8), %Z a PANSI_STRING, %wZ a PUNICODE_STRING, %c/%C/%wc characters; %n
 * writes nothing. The floating-point conversions (%f, %e, %g, %a and their capitals), which
 * DbgPrint does not support, print their conversion text and consume a double.
 */
#ifndef NDISLOCK_WDK_DEBUG_H
#define NDISLOCK_WDK_DEBUG_H

#include <stdarg.h>

#include "ndislock/export.h"
#include "ndislock/wdk_base.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Components and levels (dpfilter.h) ------------------------------------------------------ */

/* The component IDs DbgPrintEx takes, with dpfilter.h's values: the six Microsoft reserves for
 * independent hardware vendors' drivers (a network driver uses DPFLTR_IHVNETWORK_ID), the system's
 * and the default one (DbgPrint's). */
typedef enum _DPFLTR_TYPE {
    DPFLTR_SYSTEM_ID = 0,
    DPFLTR_IHVDRIVER_ID = 77,
    DPFLTR_IHVVIDEO_ID = 78,
    DPFLTR_IHVAUDIO_ID = 79,
    DPFLTR_IHVNETWORK_ID = 80,
    DPFLTR_IHVSTREAMING_ID = 81,
    DPFLTR_IHVBUS_ID = 82,
    DPFLTR_DEFAULT_ID = 101
} DPFLTR_TYPE;

/* The levels: 0 to 31 stand for the mask 1 << Level; DPFLTR_MASK marks a Level that is a mask. */
#define DPFLTR_ERROR_LEVEL 0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL 2
#define DPFLTR_INFO_LEVEL 3
#define DPFLTR_MASK 0x80000000

/* ---- Output ---------------------------------------------------------------------------------- */

/* DbgPrint: any IRQL, ISRs included (the Unicode conversions %S, %ls, %ws, %wZ, %C, %lc, %wc at
 * PASSIVE_LEVEL only). DbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, Format, ...): written to
 * stderr only if NDISLOCK_DBGPRINT lets DPFLTR_INFO_LEVEL through (all, or a mask with bit 3), as
 * on Windows Vista and later (see the top of this header for the filter, the formatter's rules and
 * the 512-byte limit). Returns STATUS_SUCCESS, written or filtered out. Misuse: a Unicode
 * conversion above PASSIVE_LEVEL is IrqlTooHighForCall with the verifier on, and still printed; a
 * format that does not match its arguments is undefined, as with printf (no format check is
 * attached: Microsoft's 'l' is not glibc's). Page: wdm/nf-wdm-dbgprint. */
NDISLOCK_API ULONG DbgPrint(PCSTR Format, ...);

/* DbgPrintEx: any IRQL, ISRs included (Unicode conversions at PASSIVE_LEVEL only, as DbgPrint).
 * Formats and writes the message if the filter lets ComponentId and Level through (the top of this
 * header: by default only DPFLTR_ERROR_LEVEL messages). Returns STATUS_SUCCESS, written or
 * filtered out. Misuse: as DbgPrint. Page: wdm/nf-wdm-dbgprintex. */
NDISLOCK_API ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...);

/* vDbgPrintEx: any IRQL, ISRs included (Unicode conversions at PASSIVE_LEVEL only). DbgPrintEx
 * with its arguments in a va_list, which it consumes. Page: wdm/nf-wdm-vdbgprintex. */
NDISLOCK_API ULONG vDbgPrintEx(ULONG ComponentId, ULONG Level, PCCH Format, va_list arglist);

/* vDbgPrintExWithPrefix: any IRQL, ISRs included (Unicode conversions at PASSIVE_LEVEL only).
 * vDbgPrintEx with Prefix (NULL for none) written before the message, in the same write and the
 * same 512 bytes. Page: wdm/nf-wdm-vdbgprintexwithprefix. */
NDISLOCK_API ULONG vDbgPrintExWithPrefix(PCCH Prefix, ULONG ComponentId, ULONG Level, PCCH Format, va_list arglist);

/* KdPrint((Format, ...)) / KdPrintEx((ComponentId, Level, Format, ...)): any IRQL, as DbgPrint /
 * DbgPrintEx. Note the double parentheses. As in the WDK, they are DbgPrint / DbgPrintEx in a
 * checked build (DBG defined and nonzero) and do nothing otherwise, their arguments not
 * evaluated: define DBG=1 (the WDK's debug configurations do) to see them. Pages: wdm/nf-wdm-kdprint,
 * wdm/nf-wdm-kdprintex. */
/*@{*/
#define KdPrint(_x_) NDISLOCK_KD_(DbgPrint _x_)
#define KdPrintEx(_x_) NDISLOCK_KD_(DbgPrintEx _x_)
/*@}*/

/* ---- Breakpoints ----------------------------------------------------------------------------- */

/* DbgBreakPoint: any IRQL. A breakpoint for a debugger. What it does depends on
 * NDISLOCK_DBGBREAK, read at each call:
 *   unset or "auto"  stops in the debugger (raise(SIGTRAP)) if one is attached to the process
 *                    (TracerPid in /proc/self/status), else goes on, having said once on stderr
 *                    that a breakpoint was passed (Windows without a kernel debugger attached
 *                    would bug check instead: a test run is not stopped for it here);
 *   "1" or "trap"    always raise(SIGTRAP): with no debugger attached the process ends with a
 *                    core dump, as Windows bug checks on a breakpoint no debugger takes;
 *   "0" or "off"     nothing at all.
 * Async-signal-safe (open, read, write and raise only). Page: wdm/nf-wdm-dbgbreakpoint. */
NDISLOCK_API VOID DbgBreakPoint(VOID);

/* DbgBreakPointWithStatus: any IRQL. DbgBreakPoint; the note it writes names Status. Page:
 * wdm/nf-wdm-dbgbreakpointwithstatus. */
NDISLOCK_API VOID DbgBreakPointWithStatus(ULONG Status);

/* KdBreakPoint(): any IRQL. DbgBreakPoint() in a checked build (DBG defined and nonzero), nothing
 * otherwise, as in the WDK. Page: wdm/nf-wdm-kdbreakpoint. */
#define KdBreakPoint() NDISLOCK_KD_(DbgBreakPoint())

/* What KdPrint, KdPrintEx and KdBreakPoint expand through: their call in a checked build (DBG
 * defined and nonzero), in a free one ((void)0), which runs nothing and evaluates no argument, as
 * the WDK's empty expansion, and leaves no empty body for -Wempty-body to flag in "if (x)
 * KdPrint((...)); else ...". */
#if defined(DBG)
#if DBG
#define NDISLOCK_KD_(call) call
#endif
#endif
#ifndef NDISLOCK_KD_
#define NDISLOCK_KD_(call) ((void)0)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_DEBUG_H */
