/*
 * ndislock/wdk_interlocked.h: the Interlocked* operations, memory barriers and ordered reads and
 * writes of wdm.h/winnt.h, the NDIS interlocked counters, and the lists guarded by a spin lock
 * (NdisInterlocked*List, ExInterlocked*List). Clean C11 and C++. Included by ndislock/wdk.h.
 *
 * Atomics: static inline functions over the GCC/clang __atomic builtins, any IRQL, ISRs
 * included (lock-free, async-signal-safe), with the WDK's types (LONG 32-bit, SHORT, CHAR,
 * LONG64, PVOID) and return values:
 *   Increment/Decrement/Add         the new value
 *   ExchangeAdd/Exchange/Or/And/Xor the old value
 *   CompareExchange(D, Exch, Comp)  the old value; *D = Exch only if it was Comp
 *   BitTestAndSet/Reset/Complement  the bit's old value (BOOLEAN)
 * Widths: no suffix (LONG), 8, 16, 64; fences: full (no suffix), Acquire, Release, NoFence
 * (relaxed), spelled as Microsoft spells them (InterlockedIncrementAcquire64 and
 * InterlockedOr64Acquire both exist). Pages: wdm/nf-wdm-interlockedincrement and the family's
 * other pages (winnt/nf-winnt-interlocked* for the width and fence forms).
 *
 * Ordered reads and writes: ReadAcquire / ReadNoFence / ReadRaw and WriteRelease / WriteNoFence /
 * WriteRaw in every width, the Pointer forms, the typed forms of wdm.h (ReadULongAcquire,
 * WriteBooleanRelease, ReadInt32NoFence, ReadUInt32Raw...) and the pointer-sized spellings
 * (ReadULongPtrAcquire, ReadSizeTNoFence...). Every inline operation is also a macro of its own
 * name, so that a driver's "#ifndef InterlockedExchangePointerRelease" sees it, as it sees the
 * WDK's macros.
 *
 * Locked lists: library calls that take the caller's spin lock through exactly the path
 * NdisAcquireSpinLock / KeAcquireSpinLock take (IRQL rules, lock order, hold time and statistics
 * apply, and verifier reports name the driver's line), do the list operation with its corruption
 * check (ndislock/wdk_list.h), and release it. Never mix them with the plain list operations on
 * one list.
 */
#ifndef NDISLOCK_WDK_INTERLOCKED_H
#define NDISLOCK_WDK_INTERLOCKED_H

#include "ndislock/export.h"
#include "ndislock/wdk_base.h"
#include "ndislock/wdk_list.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Exploration's scheduling points ------------------------------------------------------- */

/* Inside an exploration (ndislock/explore.h) every operation below is a scheduling point, as
 * every ndislock call is: before it runs, the scheduler may run another thread of the scenario.
 * The inline operations call ndislock_interlocked_point only while ndislock_interlocked_observers
 * is not 0 (an exploration runs); otherwise they pay one relaxed load and a branch predicted not
 * taken. Compiler-only barriers (_ReadWriteBarrier, KeMemoryBarrierWithoutFence) order nothing
 * between processors and are not points. */
NDISLOCK_API extern unsigned ndislock_interlocked_observers;
NDISLOCK_API void ndislock_interlocked_point(const volatile void *Address);
#define NDISLOCK_INTERLOCKED_POINT_(Address)                                                                           \
    ((void)(__builtin_expect(__atomic_load_n(&ndislock_interlocked_observers, __ATOMIC_RELAXED) != 0, 0)               \
                ? (ndislock_interlocked_point((const volatile void *)(Address)), 0)                                    \
                : 0))

/* ---- Interlocked arithmetic and logic ------------------------------------------------------ */

#define NDISLOCK_INTERLOCKED_FAMILY(T, W, F, O, FO)                                                                    \
    static inline T InterlockedIncrement##W##F(T volatile *Addend) {                                                   \
        NDISLOCK_INTERLOCKED_POINT_(Addend);                                                                           \
        return (T)__atomic_add_fetch(Addend, (T)1, O);                                                                 \
    }                                                                                                                  \
    static inline T InterlockedDecrement##W##F(T volatile *Addend) {                                                   \
        NDISLOCK_INTERLOCKED_POINT_(Addend);                                                                           \
        return (T)__atomic_sub_fetch(Addend, (T)1, O);                                                                 \
    }                                                                                                                  \
    static inline T InterlockedAdd##W##F(T volatile *Addend, T Value) {                                                \
        NDISLOCK_INTERLOCKED_POINT_(Addend);                                                                           \
        return (T)__atomic_add_fetch(Addend, Value, O);                                                                \
    }                                                                                                                  \
    static inline T InterlockedExchangeAdd##W##F(T volatile *Addend, T Value) {                                        \
        NDISLOCK_INTERLOCKED_POINT_(Addend);                                                                           \
        return (T)__atomic_fetch_add(Addend, Value, O);                                                                \
    }                                                                                                                  \
    static inline T InterlockedExchange##W##F(T volatile *Target, T Value) {                                           \
        NDISLOCK_INTERLOCKED_POINT_(Target);                                                                           \
        return (T)__atomic_exchange_n(Target, Value, O);                                                               \
    }                                                                                                                  \
    static inline T InterlockedCompareExchange##W##F(T volatile *Destination, T ExChange, T Comperand) {               \
        NDISLOCK_INTERLOCKED_POINT_(Destination);                                                                      \
        __atomic_compare_exchange_n(Destination, &Comperand, ExChange, 0, O, FO);                                      \
        return Comperand;                                                                                              \
    }                                                                                                                  \
    static inline T InterlockedOr##W##F(T volatile *Destination, T Value) {                                            \
        NDISLOCK_INTERLOCKED_POINT_(Destination);                                                                      \
        return (T)__atomic_fetch_or(Destination, Value, O);                                                            \
    }                                                                                                                  \
    static inline T InterlockedAnd##W##F(T volatile *Destination, T Value) {                                           \
        NDISLOCK_INTERLOCKED_POINT_(Destination);                                                                      \
        return (T)__atomic_fetch_and(Destination, Value, O);                                                           \
    }                                                                                                                  \
    static inline T InterlockedXor##W##F(T volatile *Destination, T Value) {                                           \
        NDISLOCK_INTERLOCKED_POINT_(Destination);                                                                      \
        return (T)__atomic_fetch_xor(Destination, Value, O);                                                           \
    }

/* Bit Offset of the bit string at Base (Offset >= 0; bit n of word n / width). */
#define NDISLOCK_INTERLOCKED_BITS(T, W, F, O)                                                                          \
    static inline BOOLEAN InterlockedBitTestAndSet##W##F(T volatile *Base, T Offset) {                                 \
        NDISLOCK_INTERLOCKED_POINT_(Base);                                                                             \
        const T bits = (T)(sizeof(T) * 8);                                                                             \
        const T mask = (T)(1ULL << (Offset % bits));                                                                   \
        return (BOOLEAN)((__atomic_fetch_or(Base + Offset / bits, mask, O) & mask) != 0);                              \
    }                                                                                                                  \
    static inline BOOLEAN InterlockedBitTestAndReset##W##F(T volatile *Base, T Offset) {                               \
        NDISLOCK_INTERLOCKED_POINT_(Base);                                                                             \
        const T bits = (T)(sizeof(T) * 8);                                                                             \
        const T mask = (T)(1ULL << (Offset % bits));                                                                   \
        return (BOOLEAN)((__atomic_fetch_and(Base + Offset / bits, (T)~mask, O) & mask) != 0);                         \
    }                                                                                                                  \
    static inline BOOLEAN InterlockedBitTestAndComplement##W##F(T volatile *Base, T Offset) {                          \
        NDISLOCK_INTERLOCKED_POINT_(Base);                                                                             \
        const T bits = (T)(sizeof(T) * 8);                                                                             \
        const T mask = (T)(1ULL << (Offset % bits));                                                                   \
        return (BOOLEAN)((__atomic_fetch_xor(Base + Offset / bits, mask, O) & mask) != 0);                             \
    }

#define NDISLOCK_INTERLOCKED_POINTER(F, O, FO)                                                                         \
    static inline PVOID InterlockedExchangePointer##F(PVOID volatile *Target, PVOID Value) {                           \
        NDISLOCK_INTERLOCKED_POINT_(Target);                                                                           \
        return __atomic_exchange_n(Target, Value, O);                                                                  \
    }                                                                                                                  \
    static inline PVOID InterlockedCompareExchangePointer##F(PVOID volatile *Destination, PVOID ExChange,              \
                                                             PVOID Comperand) {                                        \
        NDISLOCK_INTERLOCKED_POINT_(Destination);                                                                      \
        __atomic_compare_exchange_n(Destination, &Comperand, ExChange, 0, O, FO);                                      \
        return Comperand;                                                                                              \
    }

/* Interlocked*: any IRQL, ISRs included (lock-free, async-signal-safe). One atomic
 * read-modify-write of the variable, ordered as the name says: no suffix a full fence, Acquire no
 * later access moves before it, Release no earlier access moves after it, NoFence no ordering; 8,
 * 16, 64 or no width (LONG). Increment, Decrement and Add return the new value; ExchangeAdd,
 * Exchange, Or, And and Xor the old one; CompareExchange(Destination, ExChange, Comperand) the old
 * value, having stored ExChange only if it was Comperand; BitTestAndSet/Reset/Complement(Base,
 * Offset) the old value of bit Offset of the bit string at Base; the Pointer forms do Exchange and
 * CompareExchange on a PVOID. Misuse: the variable must be naturally aligned, and it is atomic only
 * against other Interlocked calls on it (a plain access racing with them is a data race, which a
 * ThreadSanitizer build reports); ndislock checks nothing else. In an exploration each call is a
 * scheduling point. Pages: wdm/nf-wdm-interlockedincrement, wdm/nf-wdm-interlockeddecrement,
 * winnt/nf-winnt-interlockedadd, wdm/nf-wdm-interlockedexchangeadd, wdm/nf-wdm-interlockedexchange,
 * wdm/nf-wdm-interlockedcompareexchange, wdm/nf-wdm-interlockedor, wdm/nf-wdm-interlockedand,
 * wdm/nf-wdm-interlockedxor, winnt/nf-winnt-interlockedbittestandset,
 * winnt/nf-winnt-interlockedbittestandreset, winnt/nf-winnt-interlockedbittestandcomplement,
 * wdm/nf-wdm-interlockedexchangepointer, wdm/nf-wdm-interlockedcompareexchangepointer (the width and
 * fence forms are beside them in winnt.h's reference). */
/*@{*/
NDISLOCK_INTERLOCKED_FAMILY(CHAR, 8, , __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
NDISLOCK_INTERLOCKED_FAMILY(CHAR, 8, Acquire, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)
NDISLOCK_INTERLOCKED_FAMILY(CHAR, 8, Release, __ATOMIC_RELEASE, __ATOMIC_RELAXED)
NDISLOCK_INTERLOCKED_FAMILY(CHAR, 8, NoFence, __ATOMIC_RELAXED, __ATOMIC_RELAXED)
NDISLOCK_INTERLOCKED_FAMILY(SHORT, 16, , __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
NDISLOCK_INTERLOCKED_FAMILY(SHORT, 16, Acquire, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)
NDISLOCK_INTERLOCKED_FAMILY(SHORT, 16, Release, __ATOMIC_RELEASE, __ATOMIC_RELAXED)
NDISLOCK_INTERLOCKED_FAMILY(SHORT, 16, NoFence, __ATOMIC_RELAXED, __ATOMIC_RELAXED)
NDISLOCK_INTERLOCKED_FAMILY(LONG, , , __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
NDISLOCK_INTERLOCKED_FAMILY(LONG, , Acquire, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)
NDISLOCK_INTERLOCKED_FAMILY(LONG, , Release, __ATOMIC_RELEASE, __ATOMIC_RELAXED)
NDISLOCK_INTERLOCKED_FAMILY(LONG, , NoFence, __ATOMIC_RELAXED, __ATOMIC_RELAXED)
NDISLOCK_INTERLOCKED_FAMILY(LONG64, 64, , __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
NDISLOCK_INTERLOCKED_FAMILY(LONG64, 64, Acquire, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)
NDISLOCK_INTERLOCKED_FAMILY(LONG64, 64, Release, __ATOMIC_RELEASE, __ATOMIC_RELAXED)
NDISLOCK_INTERLOCKED_FAMILY(LONG64, 64, NoFence, __ATOMIC_RELAXED, __ATOMIC_RELAXED)

NDISLOCK_INTERLOCKED_BITS(LONG, , , __ATOMIC_SEQ_CST)
NDISLOCK_INTERLOCKED_BITS(LONG, , Acquire, __ATOMIC_ACQUIRE)
NDISLOCK_INTERLOCKED_BITS(LONG, , Release, __ATOMIC_RELEASE)
NDISLOCK_INTERLOCKED_BITS(LONG, , NoFence, __ATOMIC_RELAXED)
NDISLOCK_INTERLOCKED_BITS(LONG64, 64, , __ATOMIC_SEQ_CST)
NDISLOCK_INTERLOCKED_BITS(LONG64, 64, Acquire, __ATOMIC_ACQUIRE)
NDISLOCK_INTERLOCKED_BITS(LONG64, 64, Release, __ATOMIC_RELEASE)
NDISLOCK_INTERLOCKED_BITS(LONG64, 64, NoFence, __ATOMIC_RELAXED)

NDISLOCK_INTERLOCKED_POINTER(, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
NDISLOCK_INTERLOCKED_POINTER(Acquire, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)
NDISLOCK_INTERLOCKED_POINTER(Release, __ATOMIC_RELEASE, __ATOMIC_RELAXED)
NDISLOCK_INTERLOCKED_POINTER(NoFence, __ATOMIC_RELAXED, __ATOMIC_RELAXED)
/*@}*/

/* The Interlocked* width and fence forms spelled with the fence first (InterlockedIncrementAcquire64
 * for InterlockedIncrement64Acquire): Microsoft spells the width before or after the fence
 * depending on the family, and both work. Any IRQL; each is the call it names, with that call's
 * contract and page (wdm/nf-wdm-interlockedincrement and the family above). */
/*@{*/
#define InterlockedIncrementAcquire8 InterlockedIncrement8Acquire
#define InterlockedDecrementAcquire8 InterlockedDecrement8Acquire
#define InterlockedAddAcquire8 InterlockedAdd8Acquire
#define InterlockedExchangeAddAcquire8 InterlockedExchangeAdd8Acquire
#define InterlockedExchangeAcquire8 InterlockedExchange8Acquire
#define InterlockedCompareExchangeAcquire8 InterlockedCompareExchange8Acquire
#define InterlockedOrAcquire8 InterlockedOr8Acquire
#define InterlockedAndAcquire8 InterlockedAnd8Acquire
#define InterlockedXorAcquire8 InterlockedXor8Acquire
#define InterlockedIncrementRelease8 InterlockedIncrement8Release
#define InterlockedDecrementRelease8 InterlockedDecrement8Release
#define InterlockedAddRelease8 InterlockedAdd8Release
#define InterlockedExchangeAddRelease8 InterlockedExchangeAdd8Release
#define InterlockedExchangeRelease8 InterlockedExchange8Release
#define InterlockedCompareExchangeRelease8 InterlockedCompareExchange8Release
#define InterlockedOrRelease8 InterlockedOr8Release
#define InterlockedAndRelease8 InterlockedAnd8Release
#define InterlockedXorRelease8 InterlockedXor8Release
#define InterlockedIncrementNoFence8 InterlockedIncrement8NoFence
#define InterlockedDecrementNoFence8 InterlockedDecrement8NoFence
#define InterlockedAddNoFence8 InterlockedAdd8NoFence
#define InterlockedExchangeAddNoFence8 InterlockedExchangeAdd8NoFence
#define InterlockedExchangeNoFence8 InterlockedExchange8NoFence
#define InterlockedCompareExchangeNoFence8 InterlockedCompareExchange8NoFence
#define InterlockedOrNoFence8 InterlockedOr8NoFence
#define InterlockedAndNoFence8 InterlockedAnd8NoFence
#define InterlockedXorNoFence8 InterlockedXor8NoFence
#define InterlockedIncrementAcquire16 InterlockedIncrement16Acquire
#define InterlockedDecrementAcquire16 InterlockedDecrement16Acquire
#define InterlockedAddAcquire16 InterlockedAdd16Acquire
#define InterlockedExchangeAddAcquire16 InterlockedExchangeAdd16Acquire
#define InterlockedExchangeAcquire16 InterlockedExchange16Acquire
#define InterlockedCompareExchangeAcquire16 InterlockedCompareExchange16Acquire
#define InterlockedOrAcquire16 InterlockedOr16Acquire
#define InterlockedAndAcquire16 InterlockedAnd16Acquire
#define InterlockedXorAcquire16 InterlockedXor16Acquire
#define InterlockedIncrementRelease16 InterlockedIncrement16Release
#define InterlockedDecrementRelease16 InterlockedDecrement16Release
#define InterlockedAddRelease16 InterlockedAdd16Release
#define InterlockedExchangeAddRelease16 InterlockedExchangeAdd16Release
#define InterlockedExchangeRelease16 InterlockedExchange16Release
#define InterlockedCompareExchangeRelease16 InterlockedCompareExchange16Release
#define InterlockedOrRelease16 InterlockedOr16Release
#define InterlockedAndRelease16 InterlockedAnd16Release
#define InterlockedXorRelease16 InterlockedXor16Release
#define InterlockedIncrementNoFence16 InterlockedIncrement16NoFence
#define InterlockedDecrementNoFence16 InterlockedDecrement16NoFence
#define InterlockedAddNoFence16 InterlockedAdd16NoFence
#define InterlockedExchangeAddNoFence16 InterlockedExchangeAdd16NoFence
#define InterlockedExchangeNoFence16 InterlockedExchange16NoFence
#define InterlockedCompareExchangeNoFence16 InterlockedCompareExchange16NoFence
#define InterlockedOrNoFence16 InterlockedOr16NoFence
#define InterlockedAndNoFence16 InterlockedAnd16NoFence
#define InterlockedXorNoFence16 InterlockedXor16NoFence
#define InterlockedIncrementAcquire64 InterlockedIncrement64Acquire
#define InterlockedDecrementAcquire64 InterlockedDecrement64Acquire
#define InterlockedAddAcquire64 InterlockedAdd64Acquire
#define InterlockedExchangeAddAcquire64 InterlockedExchangeAdd64Acquire
#define InterlockedExchangeAcquire64 InterlockedExchange64Acquire
#define InterlockedCompareExchangeAcquire64 InterlockedCompareExchange64Acquire
#define InterlockedOrAcquire64 InterlockedOr64Acquire
#define InterlockedAndAcquire64 InterlockedAnd64Acquire
#define InterlockedXorAcquire64 InterlockedXor64Acquire
#define InterlockedIncrementRelease64 InterlockedIncrement64Release
#define InterlockedDecrementRelease64 InterlockedDecrement64Release
#define InterlockedAddRelease64 InterlockedAdd64Release
#define InterlockedExchangeAddRelease64 InterlockedExchangeAdd64Release
#define InterlockedExchangeRelease64 InterlockedExchange64Release
#define InterlockedCompareExchangeRelease64 InterlockedCompareExchange64Release
#define InterlockedOrRelease64 InterlockedOr64Release
#define InterlockedAndRelease64 InterlockedAnd64Release
#define InterlockedXorRelease64 InterlockedXor64Release
#define InterlockedIncrementNoFence64 InterlockedIncrement64NoFence
#define InterlockedDecrementNoFence64 InterlockedDecrement64NoFence
#define InterlockedAddNoFence64 InterlockedAdd64NoFence
#define InterlockedExchangeAddNoFence64 InterlockedExchangeAdd64NoFence
#define InterlockedExchangeNoFence64 InterlockedExchange64NoFence
#define InterlockedCompareExchangeNoFence64 InterlockedCompareExchange64NoFence
#define InterlockedOrNoFence64 InterlockedOr64NoFence
#define InterlockedAndNoFence64 InterlockedAnd64NoFence
#define InterlockedXorNoFence64 InterlockedXor64NoFence
#define InterlockedBitTestAndSetAcquire64 InterlockedBitTestAndSet64Acquire
#define InterlockedBitTestAndSetRelease64 InterlockedBitTestAndSet64Release
#define InterlockedBitTestAndSetNoFence64 InterlockedBitTestAndSet64NoFence
#define InterlockedBitTestAndResetAcquire64 InterlockedBitTestAndReset64Acquire
#define InterlockedBitTestAndResetRelease64 InterlockedBitTestAndReset64Release
#define InterlockedBitTestAndResetNoFence64 InterlockedBitTestAndReset64NoFence
#define InterlockedBitTestAndComplementAcquire64 InterlockedBitTestAndComplement64Acquire
#define InterlockedBitTestAndComplementRelease64 InterlockedBitTestAndComplement64Release
#define InterlockedBitTestAndComplementNoFence64 InterlockedBitTestAndComplement64NoFence
/*@}*/

/* ---- Barriers and ordered accesses ---------------------------------------------------------- */

#if defined(__SANITIZE_THREAD__) /* a ThreadSanitizer build: the full barrier below is made differently */
#define NDISLOCK_UNDER_TSAN_ 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NDISLOCK_UNDER_TSAN_ 1
#endif
#endif
/* KeMemoryBarrier / MemoryBarrier: any IRQL. A full fence: neither the compiler nor the processor
 * moves a memory access across it. No misuse to report; in an exploration it is a scheduling
 * point. Pages: wdm/nf-wdm-kememorybarrier, winnt/nf-winnt-memorybarrier. */
/*@{*/
#if defined(NDISLOCK_UNDER_TSAN_)
/* ThreadSanitizer does not model a stand-alone fence (GCC refuses it under -Werror=tsan): under it
 * the full barrier is a sequentially consistent read-modify-write of one word of the library's,
 * which orders as much for the code around it and which TSan does see. */
NDISLOCK_API void ndislock_full_barrier(void);
#define KeMemoryBarrier() (NDISLOCK_INTERLOCKED_POINT_(0), ndislock_full_barrier())
#define MemoryBarrier() (NDISLOCK_INTERLOCKED_POINT_(0), ndislock_full_barrier())
#else
#define KeMemoryBarrier() (NDISLOCK_INTERLOCKED_POINT_(0), __atomic_thread_fence(__ATOMIC_SEQ_CST))
#define MemoryBarrier() (NDISLOCK_INTERLOCKED_POINT_(0), __atomic_thread_fence(__ATOMIC_SEQ_CST))
#endif
/*@}*/
/* KeMemoryBarrierWithoutFence / _ReadWriteBarrier / _ReadBarrier / _WriteBarrier: any IRQL.
 * Compiler barriers: the compiler may not move a memory access across them (all four are the full
 * compiler barrier here), the processor still may; so they order nothing between processors, and
 * are no scheduling point in an exploration. Microsoft deprecates the three intrinsics (atomics or
 * KeMemoryBarrier instead); in the WDK KeMemoryBarrierWithoutFence is _ReadWriteBarrier. Pages:
 * cpp/intrinsics/readwritebarrier, cpp/intrinsics/readbarrier, cpp/intrinsics/writebarrier. */
/*@{*/
#define KeMemoryBarrierWithoutFence() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define _ReadWriteBarrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define _ReadBarrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define _WriteBarrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)
/*@}*/
/* YieldProcessor: any IRQL. A hint for a spin-wait loop (PAUSE on x86, YIELD on AArch64, nothing
 * elsewhere): neither a barrier nor a scheduling point. Page: winnt/nf-winnt-yieldprocessor. */
#if defined(__x86_64__) || defined(__i386__)
#define YieldProcessor() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define YieldProcessor() __asm__ __volatile__("yield")
#else
#define YieldProcessor() ((void)0)
#endif

/* Stamps out the four ordered accesses of type T with width suffix W (their contract is below). */
#define NDISLOCK_ORDERED_ACCESS(T, W)                                                                                  \
    static inline T ReadAcquire##W(T const volatile *Source) {                                                         \
        NDISLOCK_INTERLOCKED_POINT_(Source);                                                                           \
        return __atomic_load_n(Source, __ATOMIC_ACQUIRE);                                                              \
    }                                                                                                                  \
    static inline T ReadNoFence##W(T const volatile *Source) {                                                         \
        NDISLOCK_INTERLOCKED_POINT_(Source);                                                                           \
        return __atomic_load_n(Source, __ATOMIC_RELAXED);                                                              \
    }                                                                                                                  \
    static inline void WriteRelease##W(T volatile *Destination, T Value) {                                             \
        NDISLOCK_INTERLOCKED_POINT_(Destination);                                                                      \
        __atomic_store_n(Destination, Value, __ATOMIC_RELEASE);                                                        \
    }                                                                                                                  \
    static inline void WriteNoFence##W(T volatile *Destination, T Value) {                                             \
        NDISLOCK_INTERLOCKED_POINT_(Destination);                                                                      \
        __atomic_store_n(Destination, Value, __ATOMIC_RELAXED);                                                        \
    }
/* ReadAcquire / ReadNoFence / WriteRelease / WriteNoFence, with widths 8, 16, none (LONG), 64 and
 * the Pointer forms: any IRQL, ISRs included. ReadAcquire: a load that no later access moves
 * before; WriteRelease: a store that no earlier access moves after; the NoFence forms: a single
 * untorn load or store, no ordering. Misuse: the variable must be naturally aligned; a plain
 * access racing with these is a data race (a ThreadSanitizer build reports it). In an exploration
 * each is a scheduling point. Pages: wdm/nf-wdm-readint32acquire, wdm/nf-wdm-readint32nofence
 * (Microsoft documents the family under its sized names: ReadInt32Acquire is ReadAcquire on a
 * LONG, and so on). */
/*@{*/
NDISLOCK_ORDERED_ACCESS(CHAR, 8)
NDISLOCK_ORDERED_ACCESS(SHORT, 16)
NDISLOCK_ORDERED_ACCESS(LONG, )
NDISLOCK_ORDERED_ACCESS(LONG64, 64)
static inline PVOID ReadPointerAcquire(PVOID const volatile *Source) {
    NDISLOCK_INTERLOCKED_POINT_(Source);
    return __atomic_load_n(Source, __ATOMIC_ACQUIRE);
}
static inline PVOID ReadPointerNoFence(PVOID const volatile *Source) {
    NDISLOCK_INTERLOCKED_POINT_(Source);
    return __atomic_load_n(Source, __ATOMIC_RELAXED);
}
static inline void WritePointerRelease(PVOID volatile *Destination, PVOID Value) {
    NDISLOCK_INTERLOCKED_POINT_(Destination);
    __atomic_store_n(Destination, Value, __ATOMIC_RELEASE);
}
static inline void WritePointerNoFence(PVOID volatile *Destination, PVOID Value) {
    NDISLOCK_INTERLOCKED_POINT_(Destination);
    __atomic_store_n(Destination, Value, __ATOMIC_RELAXED);
}
/*@}*/

/* The Raw forms: a plain access of the variable, as the WDK's (which reads and writes through a
 * pointer without volatile): neither atomic against a concurrent write nor ordered, and the
 * compiler may merge, move or tear it like any other access. For data no other processor touches
 * meanwhile (under a lock, or before the object is published). No scheduling point in an
 * exploration (a plain access is none); a Raw access racing with another access of the variable
 * is a data race, which a ThreadSanitizer build reports. */
#define NDISLOCK_READ_RAW_(T, Source) (*(T const *)(uintptr_t)(Source)) /* through uintptr_t: no -Wcast-qual */
#define NDISLOCK_WRITE_RAW_(T, Destination, Value) (*(T *)(uintptr_t)(Destination) = (Value))

/* ReadRaw8 / ReadRaw16 / ReadRaw / ReadRaw64 / ReadPointerRaw and WriteRaw8 / WriteRaw16 /
 * WriteRaw / WriteRaw64 / WritePointerRaw: any IRQL, ISRs included. A plain read or write of the
 * CHAR, SHORT, LONG, LONG64 or PVOID at Source / Destination (see "The Raw forms" above): no
 * atomicity against concurrent access, no ordering, no scheduling point. Misuse: a Raw access that
 * races with another access of the variable is a data race (a ThreadSanitizer build reports it);
 * ndislock checks nothing. Pages: wdm/nf-wdm-readint32raw, wdm/nf-wdm-writeint32raw (Microsoft
 * documents the family under its sized names). */
/*@{*/
static inline CHAR ReadRaw8(CHAR const volatile *Source) { return NDISLOCK_READ_RAW_(CHAR, Source); }
static inline SHORT ReadRaw16(SHORT const volatile *Source) { return NDISLOCK_READ_RAW_(SHORT, Source); }
static inline LONG ReadRaw(LONG const volatile *Source) { return NDISLOCK_READ_RAW_(LONG, Source); }
static inline LONG64 ReadRaw64(LONG64 const volatile *Source) { return NDISLOCK_READ_RAW_(LONG64, Source); }
static inline PVOID ReadPointerRaw(PVOID const volatile *Source) { return NDISLOCK_READ_RAW_(PVOID, Source); }
static inline void WriteRaw8(CHAR volatile *Destination, CHAR Value) { NDISLOCK_WRITE_RAW_(CHAR, Destination, Value); }
static inline void WriteRaw16(SHORT volatile *Destination, SHORT Value) {
    NDISLOCK_WRITE_RAW_(SHORT, Destination, Value);
}
static inline void WriteRaw(LONG volatile *Destination, LONG Value) { NDISLOCK_WRITE_RAW_(LONG, Destination, Value); }
static inline void WriteRaw64(LONG64 volatile *Destination, LONG64 Value) {
    NDISLOCK_WRITE_RAW_(LONG64, Destination, Value);
}
static inline void WritePointerRaw(PVOID volatile *Destination, PVOID Value) {
    NDISLOCK_WRITE_RAW_(PVOID, Destination, Value);
}
/*@}*/

/* What the typed Acquire / NoFence / Release forms below do: the scheduling point, then one atomic
 * load or store with the given order. */
#define NDISLOCK_ORDERED_LOAD_(Source, Order) (NDISLOCK_INTERLOCKED_POINT_(Source), __atomic_load_n((Source), (Order)))
#define NDISLOCK_ORDERED_STORE_(Destination, Value, Order)                                                             \
    (NDISLOCK_INTERLOCKED_POINT_(Destination), __atomic_store_n((Destination), (Value), (Order)))

/* The typed ordered accesses of wdm.h: Read<Type>Acquire / Read<Type>NoFence / Read<Type>Raw and
 * Write<Type>Release / Write<Type>NoFence / Write<Type>Raw for UChar (UCHAR), Boolean (BOOLEAN;
 * no WriteBooleanRaw, as in the WDK), UShort (USHORT), ULong (ULONG), Int32 (INT32), UInt32
 * (UINT32) and ULong64 (ULONG64). Any IRQL, ISRs included. Acquire: a load that no later access
 * moves before; Release: a store that no earlier access moves after; NoFence: a single untorn load
 * or store with no ordering; Raw: a plain access (see "The Raw forms" above). The reads return the
 * value (the UChar and Boolean reads as a UCHAR, as the WDK declares them). Misuse: the variable
 * must be naturally aligned; a plain or Raw access racing with these is a data race (a
 * ThreadSanitizer build reports it); ndislock checks nothing else. In an exploration each Acquire,
 * NoFence and Release form is a scheduling point. Pages: wdm/nf-wdm-readint32acquire,
 * wdm/nf-wdm-readint32nofence, wdm/nf-wdm-readint32raw, wdm/nf-wdm-writeint32release,
 * wdm/nf-wdm-writeint32nofence, wdm/nf-wdm-writeint32raw, wdm/nf-wdm-readuint32acquire,
 * wdm/nf-wdm-readuint32nofence, wdm/nf-wdm-readuint32raw, wdm/nf-wdm-writeuint32release,
 * wdm/nf-wdm-writeuint32nofence, wdm/nf-wdm-writeuint32raw, wdm/nf-wdm-readbooleanraw (Microsoft
 * documents the family under these names; the UChar, UShort, ULong and ULong64 forms are the same
 * operations on their types). */
/*@{*/
static inline UCHAR ReadUCharAcquire(UCHAR const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_ACQUIRE);
}
static inline UCHAR ReadUCharNoFence(UCHAR const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_RELAXED);
}
static inline UCHAR ReadUCharRaw(UCHAR const volatile *Source) { return NDISLOCK_READ_RAW_(UCHAR, Source); }
static inline void WriteUCharRelease(UCHAR volatile *Destination, UCHAR Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELEASE);
}
static inline void WriteUCharNoFence(UCHAR volatile *Destination, UCHAR Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELAXED);
}
static inline void WriteUCharRaw(UCHAR volatile *Destination, UCHAR Value) {
    NDISLOCK_WRITE_RAW_(UCHAR, Destination, Value);
}
static inline UCHAR ReadBooleanAcquire(BOOLEAN const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_ACQUIRE);
}
static inline UCHAR ReadBooleanNoFence(BOOLEAN const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_RELAXED);
}
static inline UCHAR ReadBooleanRaw(BOOLEAN const volatile *Source) { return NDISLOCK_READ_RAW_(BOOLEAN, Source); }
static inline void WriteBooleanRelease(BOOLEAN volatile *Destination, BOOLEAN Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELEASE);
}
static inline void WriteBooleanNoFence(BOOLEAN volatile *Destination, BOOLEAN Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELAXED);
}
static inline USHORT ReadUShortAcquire(USHORT const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_ACQUIRE);
}
static inline USHORT ReadUShortNoFence(USHORT const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_RELAXED);
}
static inline USHORT ReadUShortRaw(USHORT const volatile *Source) { return NDISLOCK_READ_RAW_(USHORT, Source); }
static inline void WriteUShortRelease(USHORT volatile *Destination, USHORT Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELEASE);
}
static inline void WriteUShortNoFence(USHORT volatile *Destination, USHORT Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELAXED);
}
static inline void WriteUShortRaw(USHORT volatile *Destination, USHORT Value) {
    NDISLOCK_WRITE_RAW_(USHORT, Destination, Value);
}
static inline ULONG ReadULongAcquire(ULONG const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_ACQUIRE);
}
static inline ULONG ReadULongNoFence(ULONG const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_RELAXED);
}
static inline ULONG ReadULongRaw(ULONG const volatile *Source) { return NDISLOCK_READ_RAW_(ULONG, Source); }
static inline void WriteULongRelease(ULONG volatile *Destination, ULONG Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELEASE);
}
static inline void WriteULongNoFence(ULONG volatile *Destination, ULONG Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELAXED);
}
static inline void WriteULongRaw(ULONG volatile *Destination, ULONG Value) {
    NDISLOCK_WRITE_RAW_(ULONG, Destination, Value);
}
static inline INT32 ReadInt32Acquire(INT32 const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_ACQUIRE);
}
static inline INT32 ReadInt32NoFence(INT32 const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_RELAXED);
}
static inline INT32 ReadInt32Raw(INT32 const volatile *Source) { return NDISLOCK_READ_RAW_(INT32, Source); }
static inline void WriteInt32Release(INT32 volatile *Destination, INT32 Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELEASE);
}
static inline void WriteInt32NoFence(INT32 volatile *Destination, INT32 Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELAXED);
}
static inline void WriteInt32Raw(INT32 volatile *Destination, INT32 Value) {
    NDISLOCK_WRITE_RAW_(INT32, Destination, Value);
}
static inline UINT32 ReadUInt32Acquire(UINT32 const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_ACQUIRE);
}
static inline UINT32 ReadUInt32NoFence(UINT32 const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_RELAXED);
}
static inline UINT32 ReadUInt32Raw(UINT32 const volatile *Source) { return NDISLOCK_READ_RAW_(UINT32, Source); }
static inline void WriteUInt32Release(UINT32 volatile *Destination, UINT32 Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELEASE);
}
static inline void WriteUInt32NoFence(UINT32 volatile *Destination, UINT32 Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELAXED);
}
static inline void WriteUInt32Raw(UINT32 volatile *Destination, UINT32 Value) {
    NDISLOCK_WRITE_RAW_(UINT32, Destination, Value);
}
static inline ULONG64 ReadULong64Acquire(ULONG64 const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_ACQUIRE);
}
static inline ULONG64 ReadULong64NoFence(ULONG64 const volatile *Source) {
    return NDISLOCK_ORDERED_LOAD_(Source, __ATOMIC_RELAXED);
}
static inline ULONG64 ReadULong64Raw(ULONG64 const volatile *Source) { return NDISLOCK_READ_RAW_(ULONG64, Source); }
static inline void WriteULong64Release(ULONG64 volatile *Destination, ULONG64 Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELEASE);
}
static inline void WriteULong64NoFence(ULONG64 volatile *Destination, ULONG64 Value) {
    NDISLOCK_ORDERED_STORE_(Destination, Value, __ATOMIC_RELAXED);
}
static inline void WriteULong64Raw(ULONG64 volatile *Destination, ULONG64 Value) {
    NDISLOCK_WRITE_RAW_(ULONG64, Destination, Value);
}
/*@}*/

/* The pointer-sized spellings, as wdm.h maps them on a 64-bit (or 32-bit) build: LongPtr is the
 * LONG64 (LONG) form, ULongPtr the ULONG64 (ULONG) form, SizeT the ULongPtr form. Any IRQL; each
 * is the call it names, with that call's contract. Pages: wdm/nf-wdm-readint32acquire and the
 * family above. */
/*@{*/
#if UINTPTR_MAX > 0xFFFFFFFFu
#define ReadLongPtrAcquire ReadAcquire64
#define ReadLongPtrNoFence ReadNoFence64
#define ReadLongPtrRaw ReadRaw64
#define WriteLongPtrRelease WriteRelease64
#define WriteLongPtrNoFence WriteNoFence64
#define WriteLongPtrRaw WriteRaw64
#define ReadULongPtrAcquire ReadULong64Acquire
#define ReadULongPtrNoFence ReadULong64NoFence
#define ReadULongPtrRaw ReadULong64Raw
#define WriteULongPtrRelease WriteULong64Release
#define WriteULongPtrNoFence WriteULong64NoFence
#define WriteULongPtrRaw WriteULong64Raw
#else
#define ReadLongPtrAcquire ReadAcquire
#define ReadLongPtrNoFence ReadNoFence
#define ReadLongPtrRaw ReadRaw
#define WriteLongPtrRelease WriteRelease
#define WriteLongPtrNoFence WriteNoFence
#define WriteLongPtrRaw WriteRaw
#define ReadULongPtrAcquire ReadULongAcquire
#define ReadULongPtrNoFence ReadULongNoFence
#define ReadULongPtrRaw ReadULongRaw
#define WriteULongPtrRelease WriteULongRelease
#define WriteULongPtrNoFence WriteULongNoFence
#define WriteULongPtrRaw WriteULongRaw
#endif
#define ReadSizeTAcquire ReadULongPtrAcquire
#define ReadSizeTNoFence ReadULongPtrNoFence
#define ReadSizeTRaw ReadULongPtrRaw
#define WriteSizeTRelease WriteULongPtrRelease
#define WriteSizeTNoFence WriteULongPtrNoFence
#define WriteSizeTRaw WriteULongPtrRaw
/*@}*/

/* Every inline operation above is also a macro of its own name (#define InterlockedIncrement
 * InterlockedIncrement), as most of them are macros in the WDK: driver code that tests for one
 * with #ifndef before supplying its own (#ifndef InterlockedExchangePointerRelease ... #define
 * InterlockedExchangePointerRelease ...) finds it and keeps ndislock's. A macro that names itself
 * is expanded once and stays that name, so calls, declarations and &InterlockedIncrement mean what
 * they meant, in C and C++; only #ifdef, #ifndef and #undef see the difference, and a driver that
 * #defines one of these names unconditionally redefines a macro (a compiler warning, as against
 * the WDK's own macros). Any IRQL; each is the call it names, with that call's contract and page
 * (wdm/nf-wdm-interlockedincrement, wdm/nf-wdm-readint32acquire and the families above). */
/*@{*/
#define InterlockedIncrement8 InterlockedIncrement8
#define InterlockedDecrement8 InterlockedDecrement8
#define InterlockedAdd8 InterlockedAdd8
#define InterlockedExchangeAdd8 InterlockedExchangeAdd8
#define InterlockedExchange8 InterlockedExchange8
#define InterlockedCompareExchange8 InterlockedCompareExchange8
#define InterlockedOr8 InterlockedOr8
#define InterlockedAnd8 InterlockedAnd8
#define InterlockedXor8 InterlockedXor8
#define InterlockedIncrement8Acquire InterlockedIncrement8Acquire
#define InterlockedDecrement8Acquire InterlockedDecrement8Acquire
#define InterlockedAdd8Acquire InterlockedAdd8Acquire
#define InterlockedExchangeAdd8Acquire InterlockedExchangeAdd8Acquire
#define InterlockedExchange8Acquire InterlockedExchange8Acquire
#define InterlockedCompareExchange8Acquire InterlockedCompareExchange8Acquire
#define InterlockedOr8Acquire InterlockedOr8Acquire
#define InterlockedAnd8Acquire InterlockedAnd8Acquire
#define InterlockedXor8Acquire InterlockedXor8Acquire
#define InterlockedIncrement8Release InterlockedIncrement8Release
#define InterlockedDecrement8Release InterlockedDecrement8Release
#define InterlockedAdd8Release InterlockedAdd8Release
#define InterlockedExchangeAdd8Release InterlockedExchangeAdd8Release
#define InterlockedExchange8Release InterlockedExchange8Release
#define InterlockedCompareExchange8Release InterlockedCompareExchange8Release
#define InterlockedOr8Release InterlockedOr8Release
#define InterlockedAnd8Release InterlockedAnd8Release
#define InterlockedXor8Release InterlockedXor8Release
#define InterlockedIncrement8NoFence InterlockedIncrement8NoFence
#define InterlockedDecrement8NoFence InterlockedDecrement8NoFence
#define InterlockedAdd8NoFence InterlockedAdd8NoFence
#define InterlockedExchangeAdd8NoFence InterlockedExchangeAdd8NoFence
#define InterlockedExchange8NoFence InterlockedExchange8NoFence
#define InterlockedCompareExchange8NoFence InterlockedCompareExchange8NoFence
#define InterlockedOr8NoFence InterlockedOr8NoFence
#define InterlockedAnd8NoFence InterlockedAnd8NoFence
#define InterlockedXor8NoFence InterlockedXor8NoFence
#define InterlockedIncrement16 InterlockedIncrement16
#define InterlockedDecrement16 InterlockedDecrement16
#define InterlockedAdd16 InterlockedAdd16
#define InterlockedExchangeAdd16 InterlockedExchangeAdd16
#define InterlockedExchange16 InterlockedExchange16
#define InterlockedCompareExchange16 InterlockedCompareExchange16
#define InterlockedOr16 InterlockedOr16
#define InterlockedAnd16 InterlockedAnd16
#define InterlockedXor16 InterlockedXor16
#define InterlockedIncrement16Acquire InterlockedIncrement16Acquire
#define InterlockedDecrement16Acquire InterlockedDecrement16Acquire
#define InterlockedAdd16Acquire InterlockedAdd16Acquire
#define InterlockedExchangeAdd16Acquire InterlockedExchangeAdd16Acquire
#define InterlockedExchange16Acquire InterlockedExchange16Acquire
#define InterlockedCompareExchange16Acquire InterlockedCompareExchange16Acquire
#define InterlockedOr16Acquire InterlockedOr16Acquire
#define InterlockedAnd16Acquire InterlockedAnd16Acquire
#define InterlockedXor16Acquire InterlockedXor16Acquire
#define InterlockedIncrement16Release InterlockedIncrement16Release
#define InterlockedDecrement16Release InterlockedDecrement16Release
#define InterlockedAdd16Release InterlockedAdd16Release
#define InterlockedExchangeAdd16Release InterlockedExchangeAdd16Release
#define InterlockedExchange16Release InterlockedExchange16Release
#define InterlockedCompareExchange16Release InterlockedCompareExchange16Release
#define InterlockedOr16Release InterlockedOr16Release
#define InterlockedAnd16Release InterlockedAnd16Release
#define InterlockedXor16Release InterlockedXor16Release
#define InterlockedIncrement16NoFence InterlockedIncrement16NoFence
#define InterlockedDecrement16NoFence InterlockedDecrement16NoFence
#define InterlockedAdd16NoFence InterlockedAdd16NoFence
#define InterlockedExchangeAdd16NoFence InterlockedExchangeAdd16NoFence
#define InterlockedExchange16NoFence InterlockedExchange16NoFence
#define InterlockedCompareExchange16NoFence InterlockedCompareExchange16NoFence
#define InterlockedOr16NoFence InterlockedOr16NoFence
#define InterlockedAnd16NoFence InterlockedAnd16NoFence
#define InterlockedXor16NoFence InterlockedXor16NoFence
#define InterlockedIncrement InterlockedIncrement
#define InterlockedDecrement InterlockedDecrement
#define InterlockedAdd InterlockedAdd
#define InterlockedExchangeAdd InterlockedExchangeAdd
#define InterlockedExchange InterlockedExchange
#define InterlockedCompareExchange InterlockedCompareExchange
#define InterlockedOr InterlockedOr
#define InterlockedAnd InterlockedAnd
#define InterlockedXor InterlockedXor
#define InterlockedIncrementAcquire InterlockedIncrementAcquire
#define InterlockedDecrementAcquire InterlockedDecrementAcquire
#define InterlockedAddAcquire InterlockedAddAcquire
#define InterlockedExchangeAddAcquire InterlockedExchangeAddAcquire
#define InterlockedExchangeAcquire InterlockedExchangeAcquire
#define InterlockedCompareExchangeAcquire InterlockedCompareExchangeAcquire
#define InterlockedOrAcquire InterlockedOrAcquire
#define InterlockedAndAcquire InterlockedAndAcquire
#define InterlockedXorAcquire InterlockedXorAcquire
#define InterlockedIncrementRelease InterlockedIncrementRelease
#define InterlockedDecrementRelease InterlockedDecrementRelease
#define InterlockedAddRelease InterlockedAddRelease
#define InterlockedExchangeAddRelease InterlockedExchangeAddRelease
#define InterlockedExchangeRelease InterlockedExchangeRelease
#define InterlockedCompareExchangeRelease InterlockedCompareExchangeRelease
#define InterlockedOrRelease InterlockedOrRelease
#define InterlockedAndRelease InterlockedAndRelease
#define InterlockedXorRelease InterlockedXorRelease
#define InterlockedIncrementNoFence InterlockedIncrementNoFence
#define InterlockedDecrementNoFence InterlockedDecrementNoFence
#define InterlockedAddNoFence InterlockedAddNoFence
#define InterlockedExchangeAddNoFence InterlockedExchangeAddNoFence
#define InterlockedExchangeNoFence InterlockedExchangeNoFence
#define InterlockedCompareExchangeNoFence InterlockedCompareExchangeNoFence
#define InterlockedOrNoFence InterlockedOrNoFence
#define InterlockedAndNoFence InterlockedAndNoFence
#define InterlockedXorNoFence InterlockedXorNoFence
#define InterlockedIncrement64 InterlockedIncrement64
#define InterlockedDecrement64 InterlockedDecrement64
#define InterlockedAdd64 InterlockedAdd64
#define InterlockedExchangeAdd64 InterlockedExchangeAdd64
#define InterlockedExchange64 InterlockedExchange64
#define InterlockedCompareExchange64 InterlockedCompareExchange64
#define InterlockedOr64 InterlockedOr64
#define InterlockedAnd64 InterlockedAnd64
#define InterlockedXor64 InterlockedXor64
#define InterlockedIncrement64Acquire InterlockedIncrement64Acquire
#define InterlockedDecrement64Acquire InterlockedDecrement64Acquire
#define InterlockedAdd64Acquire InterlockedAdd64Acquire
#define InterlockedExchangeAdd64Acquire InterlockedExchangeAdd64Acquire
#define InterlockedExchange64Acquire InterlockedExchange64Acquire
#define InterlockedCompareExchange64Acquire InterlockedCompareExchange64Acquire
#define InterlockedOr64Acquire InterlockedOr64Acquire
#define InterlockedAnd64Acquire InterlockedAnd64Acquire
#define InterlockedXor64Acquire InterlockedXor64Acquire
#define InterlockedIncrement64Release InterlockedIncrement64Release
#define InterlockedDecrement64Release InterlockedDecrement64Release
#define InterlockedAdd64Release InterlockedAdd64Release
#define InterlockedExchangeAdd64Release InterlockedExchangeAdd64Release
#define InterlockedExchange64Release InterlockedExchange64Release
#define InterlockedCompareExchange64Release InterlockedCompareExchange64Release
#define InterlockedOr64Release InterlockedOr64Release
#define InterlockedAnd64Release InterlockedAnd64Release
#define InterlockedXor64Release InterlockedXor64Release
#define InterlockedIncrement64NoFence InterlockedIncrement64NoFence
#define InterlockedDecrement64NoFence InterlockedDecrement64NoFence
#define InterlockedAdd64NoFence InterlockedAdd64NoFence
#define InterlockedExchangeAdd64NoFence InterlockedExchangeAdd64NoFence
#define InterlockedExchange64NoFence InterlockedExchange64NoFence
#define InterlockedCompareExchange64NoFence InterlockedCompareExchange64NoFence
#define InterlockedOr64NoFence InterlockedOr64NoFence
#define InterlockedAnd64NoFence InterlockedAnd64NoFence
#define InterlockedXor64NoFence InterlockedXor64NoFence
#define InterlockedBitTestAndSet InterlockedBitTestAndSet
#define InterlockedBitTestAndReset InterlockedBitTestAndReset
#define InterlockedBitTestAndComplement InterlockedBitTestAndComplement
#define InterlockedBitTestAndSetAcquire InterlockedBitTestAndSetAcquire
#define InterlockedBitTestAndResetAcquire InterlockedBitTestAndResetAcquire
#define InterlockedBitTestAndComplementAcquire InterlockedBitTestAndComplementAcquire
#define InterlockedBitTestAndSetRelease InterlockedBitTestAndSetRelease
#define InterlockedBitTestAndResetRelease InterlockedBitTestAndResetRelease
#define InterlockedBitTestAndComplementRelease InterlockedBitTestAndComplementRelease
#define InterlockedBitTestAndSetNoFence InterlockedBitTestAndSetNoFence
#define InterlockedBitTestAndResetNoFence InterlockedBitTestAndResetNoFence
#define InterlockedBitTestAndComplementNoFence InterlockedBitTestAndComplementNoFence
#define InterlockedBitTestAndSet64 InterlockedBitTestAndSet64
#define InterlockedBitTestAndReset64 InterlockedBitTestAndReset64
#define InterlockedBitTestAndComplement64 InterlockedBitTestAndComplement64
#define InterlockedBitTestAndSet64Acquire InterlockedBitTestAndSet64Acquire
#define InterlockedBitTestAndReset64Acquire InterlockedBitTestAndReset64Acquire
#define InterlockedBitTestAndComplement64Acquire InterlockedBitTestAndComplement64Acquire
#define InterlockedBitTestAndSet64Release InterlockedBitTestAndSet64Release
#define InterlockedBitTestAndReset64Release InterlockedBitTestAndReset64Release
#define InterlockedBitTestAndComplement64Release InterlockedBitTestAndComplement64Release
#define InterlockedBitTestAndSet64NoFence InterlockedBitTestAndSet64NoFence
#define InterlockedBitTestAndReset64NoFence InterlockedBitTestAndReset64NoFence
#define InterlockedBitTestAndComplement64NoFence InterlockedBitTestAndComplement64NoFence
#define InterlockedExchangePointer InterlockedExchangePointer
#define InterlockedCompareExchangePointer InterlockedCompareExchangePointer
#define InterlockedExchangePointerAcquire InterlockedExchangePointerAcquire
#define InterlockedCompareExchangePointerAcquire InterlockedCompareExchangePointerAcquire
#define InterlockedExchangePointerRelease InterlockedExchangePointerRelease
#define InterlockedCompareExchangePointerRelease InterlockedCompareExchangePointerRelease
#define InterlockedExchangePointerNoFence InterlockedExchangePointerNoFence
#define InterlockedCompareExchangePointerNoFence InterlockedCompareExchangePointerNoFence
#define ReadAcquire8 ReadAcquire8
#define ReadNoFence8 ReadNoFence8
#define WriteRelease8 WriteRelease8
#define WriteNoFence8 WriteNoFence8
#define ReadAcquire16 ReadAcquire16
#define ReadNoFence16 ReadNoFence16
#define WriteRelease16 WriteRelease16
#define WriteNoFence16 WriteNoFence16
#define ReadAcquire ReadAcquire
#define ReadNoFence ReadNoFence
#define WriteRelease WriteRelease
#define WriteNoFence WriteNoFence
#define ReadAcquire64 ReadAcquire64
#define ReadNoFence64 ReadNoFence64
#define WriteRelease64 WriteRelease64
#define WriteNoFence64 WriteNoFence64
#define ReadPointerAcquire ReadPointerAcquire
#define ReadPointerNoFence ReadPointerNoFence
#define WritePointerRelease WritePointerRelease
#define WritePointerNoFence WritePointerNoFence
#define ReadRaw8 ReadRaw8
#define ReadRaw16 ReadRaw16
#define ReadRaw ReadRaw
#define ReadRaw64 ReadRaw64
#define ReadPointerRaw ReadPointerRaw
#define WriteRaw8 WriteRaw8
#define WriteRaw16 WriteRaw16
#define WriteRaw WriteRaw
#define WriteRaw64 WriteRaw64
#define WritePointerRaw WritePointerRaw
#define ReadUCharAcquire ReadUCharAcquire
#define ReadUCharNoFence ReadUCharNoFence
#define ReadUCharRaw ReadUCharRaw
#define WriteUCharRelease WriteUCharRelease
#define WriteUCharNoFence WriteUCharNoFence
#define WriteUCharRaw WriteUCharRaw
#define ReadBooleanAcquire ReadBooleanAcquire
#define ReadBooleanNoFence ReadBooleanNoFence
#define ReadBooleanRaw ReadBooleanRaw
#define WriteBooleanRelease WriteBooleanRelease
#define WriteBooleanNoFence WriteBooleanNoFence
#define ReadUShortAcquire ReadUShortAcquire
#define ReadUShortNoFence ReadUShortNoFence
#define ReadUShortRaw ReadUShortRaw
#define WriteUShortRelease WriteUShortRelease
#define WriteUShortNoFence WriteUShortNoFence
#define WriteUShortRaw WriteUShortRaw
#define ReadULongAcquire ReadULongAcquire
#define ReadULongNoFence ReadULongNoFence
#define ReadULongRaw ReadULongRaw
#define WriteULongRelease WriteULongRelease
#define WriteULongNoFence WriteULongNoFence
#define WriteULongRaw WriteULongRaw
#define ReadInt32Acquire ReadInt32Acquire
#define ReadInt32NoFence ReadInt32NoFence
#define ReadInt32Raw ReadInt32Raw
#define WriteInt32Release WriteInt32Release
#define WriteInt32NoFence WriteInt32NoFence
#define WriteInt32Raw WriteInt32Raw
#define ReadUInt32Acquire ReadUInt32Acquire
#define ReadUInt32NoFence ReadUInt32NoFence
#define ReadUInt32Raw ReadUInt32Raw
#define WriteUInt32Release WriteUInt32Release
#define WriteUInt32NoFence WriteUInt32NoFence
#define WriteUInt32Raw WriteUInt32Raw
#define ReadULong64Acquire ReadULong64Acquire
#define ReadULong64NoFence ReadULong64NoFence
#define ReadULong64Raw ReadULong64Raw
#define WriteULong64Release WriteULong64Release
#define WriteULong64NoFence WriteULong64NoFence
#define WriteULong64Raw WriteULong64Raw
/*@}*/

/* ---- NDIS interlocked counters (ndis.h) ----------------------------------------------------- */

/* NdisInterlockedIncrement: any IRQL. InterlockedIncrement on the LONG at Addend: returns the new
 * value. Atomic only against other interlocked calls on it (as Interlocked*). Page:
 * ndis/nf-ndis-ndisinterlockedincrement. */
#define NdisInterlockedIncrement(Addend) InterlockedIncrement(Addend)
/* NdisInterlockedDecrement: any IRQL. InterlockedDecrement on the LONG at Addend: returns the new
 * value. Atomic only against other interlocked calls on it (as Interlocked*). Page:
 * ndis/nf-ndis-ndisinterlockeddecrement. */
#define NdisInterlockedDecrement(Addend) InterlockedDecrement(Addend)
/* NdisInterlockedExchange: any IRQL. *Target = Value atomically; returns the old value. No NDIS
 * page of its own: it is InterlockedExchange, with that call's contract. Page:
 * wdm/nf-wdm-interlockedexchange. */
#define NdisInterlockedExchange(Target, Value) InterlockedExchange((Target), (Value))
/* NdisInterlockedAddLargeStatistic: any IRQL; adds Increment to a 64-bit LARGE_INTEGER counter
 * atomically, no lock. Page: ndis/nf-ndis-ndisinterlockedaddlargestatistic. */
#define NdisInterlockedAddLargeStatistic(Addend, Increment)                                                            \
    ((void)InterlockedExchangeAdd64(&(Addend)->QuadPart, (LONG64)(Increment)))

/* ---- Lists and counters guarded by a spin lock ---------------------------------------------- */

/* NdisInterlockedInsertHeadList / NdisInterlockedInsertTailList / NdisInterlockedRemoveHeadList:
 * IRQL <= DISPATCH_LEVEL. Take SpinLock as NdisAcquireSpinLock does, link ListEntry first (Head)
 * or last (Tail) or unlink the first entry (Remove), and release it. Insert returns the entry that
 * was first / last before, Remove the entry it unlinked; both NULL if the list was empty. Misuse:
 * every NdisAcquireSpinLock rule (AcquireAboveDispatch above DISPATCH_LEVEL, RecursiveAcquire if
 * this context holds SpinLock, LockNotInitialized...), and ListCorrupted. Pages:
 * ndis/nf-ndis-ndisinterlockedinsertheadlist, ndis/nf-ndis-ndisinterlockedinserttaillist,
 * ndis/nf-ndis-ndisinterlockedremoveheadlist. */
/*@{*/
NDISLOCK_API PLIST_ENTRY NdisInterlockedInsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry,
                                                       PNDIS_SPIN_LOCK SpinLock);
NDISLOCK_API PLIST_ENTRY NdisInterlockedInsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry,
                                                       PNDIS_SPIN_LOCK SpinLock);
NDISLOCK_API PLIST_ENTRY NdisInterlockedRemoveHeadList(PLIST_ENTRY ListHead, PNDIS_SPIN_LOCK SpinLock);
/*@}*/
/* NdisInterlockedPushEntryList / NdisInterlockedPopEntryList: IRQL <= DISPATCH_LEVEL. The same for
 * a singly linked list under Lock: Push links ListEntry first and returns the previous first entry
 * (NULL if the list was empty), Pop unlinks and returns the first entry (NULL if empty). Misuse:
 * every NdisAcquireSpinLock rule, as above. Pages: ndis/nf-ndis-ndisinterlockedpushentrylist,
 * ndis/nf-ndis-ndisinterlockedpopentrylist. */
/*@{*/
NDISLOCK_API PSINGLE_LIST_ENTRY NdisInterlockedPushEntryList(PSINGLE_LIST_ENTRY ListHead, PSINGLE_LIST_ENTRY ListEntry,
                                                             PNDIS_SPIN_LOCK Lock);
NDISLOCK_API PSINGLE_LIST_ENTRY NdisInterlockedPopEntryList(PSINGLE_LIST_ENTRY ListHead, PNDIS_SPIN_LOCK Lock);
/*@}*/
/* NdisInterlockedAddUlong: IRQL <= DISPATCH_LEVEL. *Addend += Increment under SpinLock (taken as
 * NdisAcquireSpinLock does). Page: ndis/nf-ndis-ndisinterlockedaddulong. */
NDISLOCK_API VOID NdisInterlockedAddUlong(PULONG Addend, ULONG Increment, PNDIS_SPIN_LOCK SpinLock);

/* ExInterlockedInsertHeadList / ExInterlockedInsertTailList / ExInterlockedRemoveHeadList /
 * ExInterlockedPushEntryList / ExInterlockedPopEntryList / ExInterlockedAddUlong: any IRQL on
 * Windows (which disables interrupts around the lock); here IRQL <= DISPATCH_LEVEL, see below. The
 * kernel forms over a KSPIN_LOCK used only with ExInterlocked* calls, with the results of the NDIS
 * forms (Insert/Push return the previous first or last entry, Remove/Pop the unlinked one, each
 * NULL on an empty list), and ExInterlockedAddUlong adding Increment to *Addend and returning its
 * old value. At IRQL <= DISPATCH_LEVEL the lock is taken as KeAcquireSpinLock does (its rules
 * apply); above DISPATCH_LEVEL (an ISR) it is taken as KeAcquireSpinLockAtDpcLevel does, which the
 * verifier reports as AcquireAboveDispatch: an ISR sharing a list with other code should use
 * NdisMSynchronizeWithInterruptEx. A corrupt list is ListCorrupted. Pages:
 * wdm/nf-wdm-exinterlockedinsertheadlist, wdm/nf-wdm-exinterlockedinserttaillist,
 * wdm/nf-wdm-exinterlockedremoveheadlist, wdm/nf-wdm-exinterlockedpushentrylist,
 * wdm/nf-wdm-exinterlockedpopentrylist, wdm/nf-wdm-exinterlockedaddulong. */
/*@{*/
NDISLOCK_API PLIST_ENTRY ExInterlockedInsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock);
NDISLOCK_API PLIST_ENTRY ExInterlockedInsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock);
NDISLOCK_API PLIST_ENTRY ExInterlockedRemoveHeadList(PLIST_ENTRY ListHead, PKSPIN_LOCK Lock);
NDISLOCK_API PSINGLE_LIST_ENTRY ExInterlockedPushEntryList(PSINGLE_LIST_ENTRY ListHead, PSINGLE_LIST_ENTRY ListEntry,
                                                           PKSPIN_LOCK Lock);
NDISLOCK_API PSINGLE_LIST_ENTRY ExInterlockedPopEntryList(PSINGLE_LIST_ENTRY ListHead, PKSPIN_LOCK Lock);
NDISLOCK_API ULONG ExInterlockedAddUlong(PULONG Addend, ULONG Increment, PKSPIN_LOCK Lock);
/*@}*/

/* Site-taking forms, which the macros below call. */
NDISLOCK_API PLIST_ENTRY ndislock_at_NdisInterlockedInsertHeadList(PLIST_ENTRY, PLIST_ENTRY, PNDIS_SPIN_LOCK,
                                                                   const char *, int, const char *);
NDISLOCK_API PLIST_ENTRY ndislock_at_NdisInterlockedInsertTailList(PLIST_ENTRY, PLIST_ENTRY, PNDIS_SPIN_LOCK,
                                                                   const char *, int, const char *);
NDISLOCK_API PLIST_ENTRY ndislock_at_NdisInterlockedRemoveHeadList(PLIST_ENTRY, PNDIS_SPIN_LOCK, const char *, int,
                                                                   const char *);
NDISLOCK_API PSINGLE_LIST_ENTRY ndislock_at_NdisInterlockedPushEntryList(PSINGLE_LIST_ENTRY, PSINGLE_LIST_ENTRY,
                                                                         PNDIS_SPIN_LOCK, const char *, int,
                                                                         const char *);
NDISLOCK_API PSINGLE_LIST_ENTRY ndislock_at_NdisInterlockedPopEntryList(PSINGLE_LIST_ENTRY, PNDIS_SPIN_LOCK,
                                                                        const char *, int, const char *);
NDISLOCK_API VOID ndislock_at_NdisInterlockedAddUlong(PULONG, ULONG, PNDIS_SPIN_LOCK, const char *, int, const char *);
NDISLOCK_API PLIST_ENTRY ndislock_at_ExInterlockedInsertHeadList(PLIST_ENTRY, PLIST_ENTRY, PKSPIN_LOCK, const char *,
                                                                 int, const char *);
NDISLOCK_API PLIST_ENTRY ndislock_at_ExInterlockedInsertTailList(PLIST_ENTRY, PLIST_ENTRY, PKSPIN_LOCK, const char *,
                                                                 int, const char *);
NDISLOCK_API PLIST_ENTRY ndislock_at_ExInterlockedRemoveHeadList(PLIST_ENTRY, PKSPIN_LOCK, const char *, int,
                                                                 const char *);
NDISLOCK_API PSINGLE_LIST_ENTRY ndislock_at_ExInterlockedPushEntryList(PSINGLE_LIST_ENTRY, PSINGLE_LIST_ENTRY,
                                                                       PKSPIN_LOCK, const char *, int, const char *);
NDISLOCK_API PSINGLE_LIST_ENTRY ndislock_at_ExInterlockedPopEntryList(PSINGLE_LIST_ENTRY, PKSPIN_LOCK, const char *,
                                                                      int, const char *);
NDISLOCK_API ULONG ndislock_at_ExInterlockedAddUlong(PULONG, ULONG, PKSPIN_LOCK, const char *, int, const char *);

#ifndef NDISLOCK_NO_SITE_MACROS
#define NDISLOCK_ILK_HERE __FILE__, __LINE__, __func__
#define NdisInterlockedInsertHeadList(H, E, L)                                                                         \
    ndislock_at_NdisInterlockedInsertHeadList((H), (E), (L), NDISLOCK_ILK_HERE)
#define NdisInterlockedInsertTailList(H, E, L)                                                                         \
    ndislock_at_NdisInterlockedInsertTailList((H), (E), (L), NDISLOCK_ILK_HERE)
#define NdisInterlockedRemoveHeadList(H, L) ndislock_at_NdisInterlockedRemoveHeadList((H), (L), NDISLOCK_ILK_HERE)
#define NdisInterlockedPushEntryList(H, E, L) ndislock_at_NdisInterlockedPushEntryList((H), (E), (L), NDISLOCK_ILK_HERE)
#define NdisInterlockedPopEntryList(H, L) ndislock_at_NdisInterlockedPopEntryList((H), (L), NDISLOCK_ILK_HERE)
#define NdisInterlockedAddUlong(A, I, L) ndislock_at_NdisInterlockedAddUlong((A), (I), (L), NDISLOCK_ILK_HERE)
#define ExInterlockedInsertHeadList(H, E, L) ndislock_at_ExInterlockedInsertHeadList((H), (E), (L), NDISLOCK_ILK_HERE)
#define ExInterlockedInsertTailList(H, E, L) ndislock_at_ExInterlockedInsertTailList((H), (E), (L), NDISLOCK_ILK_HERE)
#define ExInterlockedRemoveHeadList(H, L) ndislock_at_ExInterlockedRemoveHeadList((H), (L), NDISLOCK_ILK_HERE)
#define ExInterlockedPushEntryList(H, E, L) ndislock_at_ExInterlockedPushEntryList((H), (E), (L), NDISLOCK_ILK_HERE)
#define ExInterlockedPopEntryList(H, L) ndislock_at_ExInterlockedPopEntryList((H), (L), NDISLOCK_ILK_HERE)
#define ExInterlockedAddUlong(A, I, L) ndislock_at_ExInterlockedAddUlong((A), (I), (L), NDISLOCK_ILK_HERE)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_INTERLOCKED_H */
