/*
 * demo/tool_annotations.h: the demo's C11 atomics, announced to Helgrind.
 *
 * Helgrind knows locks, not atomics: every atomic load, store or read-modify-write is a plain
 * access to it, so a flag or counter shared through atomics alone (g_StopSending, TxReaped, the
 * DPC and watchdog counts) looks like a race. DEMO_ATOMIC_FOR_HELGRIND(Object) tells Helgrind not
 * to check that one object (VALGRIND_HG_DISABLE_CHECKING over its bytes): every access to an
 * _Atomic object is atomic in C11, so none of them can race. Nothing else is hidden: a plain
 * variable accessed without its lock in the same functions is still reported
 * (tools.helgrind.demo runs the demo under Helgrind and expects no error at all).
 *
 * The request is a few no-op instructions when not under Valgrind. Without Valgrind's headers
 * (Debian: valgrind) the macro is empty and the demo builds the same; Helgrind would then report
 * these atomics.
 */
#ifndef NDISLOCK_DEMO_TOOL_ANNOTATIONS_H
#define NDISLOCK_DEMO_TOOL_ANNOTATIONS_H

#if defined(__has_include)
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#define DEMO_ATOMIC_FOR_HELGRIND(Object) VALGRIND_HG_DISABLE_CHECKING(&(Object), sizeof(Object))
#endif
#endif

#ifndef DEMO_ATOMIC_FOR_HELGRIND
#define DEMO_ATOMIC_FOR_HELGRIND(Object) ((void)sizeof(Object))
#endif

#endif /* NDISLOCK_DEMO_TOOL_ANNOTATIONS_H */
