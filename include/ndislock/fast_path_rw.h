/*
 * ndislock/fast_path_rw.h: the uncontended read path of NDIS_RW_LOCK_EX, inlined into the caller,
 * as ndislock/fast_path.h does for the spin locks. Included by ndislock/rw_lock.h; not an API of
 * its own.
 *
 * Why: a read of a read-mostly lock is the common operation (S7 in docs/performance.md), and out
 * of line it paid two calls, the thread-state lookup and the out-of-line IRQL raise and drop
 * around the one locked increment the read needs.
 *
 * What it does inline, under the conditions of fast_path.h (no observer, the thread registered):
 *   - NdisAcquireRWLockRead: the raise to DISPATCH_LEVEL through the processor's bias (or none
 *     with NDIS_RWL_AT_DISPATCH_LEVEL at DISPATCH_LEVEL, or a raising read at DISPATCH_LEVEL),
 *     then lock::rw_read_acquire's fast half: a seq_cst increment of the processor's reader count
 *     and a seq_cst read of the writer word; a count that was already nonzero (this processor's
 *     own read) or a free or own writer word and the read is held. A writer in: its wait is out
 *     of line (ndislock_fast_rw_read_wait), from the same state the out-of-line acquire has then;
 *   - NdisReleaseRWLock of a read: lock::rw_read_release at DISPATCH_LEVEL (a release store of
 *     the count, which only this processor's DISPATCH_LEVEL owner writes), the wake of a writer
 *     that waits for the drain out of line, then the drop back to the saved IRQL through the bias.
 * Writes, the NDIS 5 lock, EX_SPIN_LOCK, misuse (a NULL lock or state, a flag at the wrong IRQL, a
 * release of a state that holds no read) and everything fast_path.h leaves out of line go to the
 * exported calls, with their diagnostics.
 *
 * The lock's layout (the writer word first, then one reader count per processor,
 * NDISLOCK_FAST_RW_STRIDE bytes apart) and the read's state value are defined once, in
 * ndislock/detail/fast_layout.h, for this header and the library: private to both, as
 * fast_path.h's.
 */
#ifndef NDISLOCK_FAST_PATH_RW_H
#define NDISLOCK_FAST_PATH_RW_H

#include "ndislock/fast_path.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The slow ends, exported by the library; internal to the inline path. */
NDISLOCK_API void ndislock_fast_rw_read_wait(PNDIS_RW_LOCK_EX Lock, ULONG Processor);
NDISLOCK_API void ndislock_fast_rw_wake(PNDIS_RW_LOCK_EX Lock);

#if NDISLOCK_INLINE_FAST_PATH

static inline ULONG *ndislock_fast_rw_count(PNDIS_RW_LOCK_EX l, ULONG processor) {
    return (ULONG *)(void *)((unsigned char *)(void *)l + NDISLOCK_FAST_RW_STRIDE +
                             (ULONG_PTR)processor * NDISLOCK_FAST_RW_STRIDE);
}

/* 1 with the read held and *s filled, 0 when the caller must call out of line (nothing changed). */
static inline int ndislock_fast_rw_read_acquire(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, UCHAR flags) {
    NDISLOCK_FAST_THREAD *t = ndislock_fast_thread();
    if (t == 0 || l == 0 || s == 0) return 0;
    const KIRQL irql = __atomic_load_n(&t->Irql, __ATOMIC_RELAXED);
    if (flags & NDIS_RWL_AT_DISPATCH_LEVEL) {
        if (irql != DISPATCH_LEVEL) return 0; /* RwLockDispatchFlagWrongIrql, out of line */
    } else {
        if (irql > DISPATCH_LEVEL) return 0;
        if (irql < DISPATCH_LEVEL && !ndislock_fast_enter_dispatch(t, irql)) return 0;
    }
    const ULONG processor = __atomic_load_n(&t->Processor, __ATOMIC_RELAXED);
    if (__atomic_fetch_add(ndislock_fast_rw_count(l, processor), 1u, __ATOMIC_SEQ_CST) == 0) {
        const KSPIN_LOCK writer = __atomic_load_n((KSPIN_LOCK *)(void *)l, __ATOMIC_SEQ_CST);
        if (__builtin_expect(writer != 0 && writer != (KSPIN_LOCK)t->Id, 0)) ndislock_fast_rw_read_wait(l, processor);
    }
    s->OldIrql = irql;
    s->LockState = NDISLOCK_FAST_RW_STATE_READ;
    s->Flags = flags;
    return 1;
}

/* 1 when the read is released and the IRQL restored, 0 when the caller must call out of line
 * (nothing changed). */
static inline int ndislock_fast_rw_read_release(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s) {
    NDISLOCK_FAST_THREAD *t = ndislock_fast_thread();
    if (t == 0 || l == 0 || s == 0 || s->LockState != NDISLOCK_FAST_RW_STATE_READ) return 0;
    if (__atomic_load_n(&t->Irql, __ATOMIC_RELAXED) != DISPATCH_LEVEL) return 0;
    const KIRQL new_irql = s->OldIrql;
    ULONG entry = 0;
    if (new_irql < DISPATCH_LEVEL) {
        entry = ndislock_fast_dispatch_entry(t);
        if ((entry & NDISLOCK_FAST_BIASED) == 0) return 0;
    } else if (new_irql > DISPATCH_LEVEL) {
        return 0;
    }
    ULONG *count = ndislock_fast_rw_count(l, __atomic_load_n(&t->Processor, __ATOMIC_RELAXED));
    const ULONG n = __atomic_load_n(count, __ATOMIC_RELAXED);
    if (__builtin_expect(n == 0, 0)) return 0; /* no read held here: ReleaseNotHeld, out of line */
    __atomic_store_n(count, n - 1, __ATOMIC_RELEASE);
    if (n == 1 && __builtin_expect(__atomic_load_n((KSPIN_LOCK *)(void *)l, __ATOMIC_SEQ_CST) != 0, 0))
        ndislock_fast_rw_wake(l); /* the last read of this processor gone while a writer waits */
    s->LockState = 0;
    if (new_irql < DISPATCH_LEVEL) ndislock_fast_leave_dispatch(t, entry, new_irql);
    return 1;
}

static inline void ndislock_inline_NdisAcquireRWLockRead(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, UCHAR flags,
                                                         const char *file, int line, const char *func) {
    if (__builtin_expect(!ndislock_fast_rw_read_acquire(l, s, flags), 0))
        ndislock_at_NdisAcquireRWLockRead(l, s, flags, file, line, func);
}

static inline void ndislock_inline_NdisReleaseRWLock(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, const char *file, int line,
                                                     const char *func) {
    if (__builtin_expect(!ndislock_fast_rw_read_release(l, s), 0))
        ndislock_at_NdisReleaseRWLock(l, s, file, line, func);
}

#endif /* NDISLOCK_INLINE_FAST_PATH */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_FAST_PATH_RW_H */
