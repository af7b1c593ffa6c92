/*
 * ndislock/fast_path.h: the uncontended path of the ordinary spin-lock calls, inlined into the
 * caller. Included by ndislock/ndis.h; not an API of its own.
 *
 * Why: an out-of-line NdisAcquireSpinLock + NdisReleaseSpinLock pair costs two calls, the
 * thread-state lookup and the register traffic of a general function, several times the one
 * atomic read-modify-write the pair needs (docs/performance.md, S0). The site macros of
 * ndislock/ndis.h therefore call the static inline functions below, which do the common case
 * themselves and call the exported ndislock_at_* function for everything else:
 *
 *   - no observer registered (verifier and lock statistics off; ndislock_active_observers == 0),
 *     and the thread already registered (its first call is out of line);
 *   - raising acquire: the thread is below DISPATCH_LEVEL and its virtual processor is biased to
 *     it (the processor's owner word reads Id | BIASED): entering DISPATCH_LEVEL is then a plain
 *     store of the thread's IRQL, which is also its mark on the processor, and a re-read of the
 *     owner word, exactly as model::enter_biased; then one compare-exchange on the lock word. At
 *     DISPATCH_LEVEL already (a nested acquire) only the compare-exchange;
 *   - release: a release store of 0, a compiler barrier and one read of the parking bucket's
 *     sleeper count (lock/spin_word.h), then the IRQL store that gives the processor back and a
 *     re-read of the owner word, as model::lower_irql;
 *   - the in-stack queued pair: the same IRQL halves around one exchange of the handle's entry
 *     into the word (the lock is taken when the word was 0), and back to 0 at the release when no
 *     successor linked itself (lock/queued_lock.h); waiting behind a holder and granting a
 *     successor are out of line.
 *
 * Everything else (first call, observers, a processor in shared mode, an interrupt-owning
 * processor, a revoked bias, contention, misuse, any IRQL other than the cases above) goes to
 * the same exported function as before, so the semantics, diagnostics and call sites are those of
 * the out-of-line calls. The algorithms, with the proofs of the handshakes, are the library's
 * spin word and virtual-processor code (docs/performance.md, "The algorithms"); this file
 * must do what they do, in the same order. What both sides read (the heads of the thread,
 * processor and bucket, the biased flag, the bucket hash, the held value) is defined once, in
 * ndislock/detail/fast_layout.h.
 *
 * The layouts below are private to this header and the library of the same version: code built
 * against one ndislock version runs against the shared library of the same SOVERSION only.
 * Define NDISLOCK_NO_INLINE_FAST_PATH before including ndislock/ndis.h to call out of line
 * always (the library itself does).
 */
#ifndef NDISLOCK_FAST_PATH_H
#define NDISLOCK_FAST_PATH_H

#if defined(__GNUC__) && !defined(NDISLOCK_NO_INLINE_FAST_PATH) && !defined(NDISLOCK_NO_SITE_MACROS)
#define NDISLOCK_INLINE_FAST_PATH 1
#else
#define NDISLOCK_INLINE_FAST_PATH 0
#endif

/* The exported calls the inline forms fall back to. Included after NDISLOCK_INLINE_FAST_PATH,
 * which ndis.h reads; when ndis.h is what included this header, its guard makes this a no-op (its
 * declarations already stand above). */
#include "ndislock/ndis.h"
#include "ndislock/ext.h"                /* NDISLOCK_MAX_PROCESSORS */
#include "ndislock/detail/fast_layout.h" /* the layouts, flag and bucket hash shared with the library */

#ifdef __cplusplus
extern "C" {
#endif

#if NDISLOCK_INLINE_FAST_PATH

NDISLOCK_API extern __thread NDISLOCK_FAST_THREAD *ndislock_tls_thread __attribute__((tls_model("initial-exec")));
NDISLOCK_API extern NDISLOCK_FAST_PROCESSOR_LINE ndislock_fast_processors[NDISLOCK_MAX_PROCESSORS];
NDISLOCK_API extern NDISLOCK_FAST_BUCKET_LINE ndislock_fast_buckets[1u << NDISLOCK_FAST_BUCKET_BITS];
NDISLOCK_API extern unsigned ndislock_active_observers;
/* Nonzero when releases may pair a compiler barrier with the sleeper's membarrier (always
 * false in a ThreadSanitizer build of the library). */
NDISLOCK_API extern unsigned char ndislock_fast_asymmetric;

/* The out-of-line ends of the inline paths, exported by the library; internal to them. */
NDISLOCK_API void ndislock_fast_acquire_contended(PKSPIN_LOCK SpinLock);
NDISLOCK_API void ndislock_fast_release_wake(PKSPIN_LOCK SpinLock);
NDISLOCK_API void ndislock_fast_wake_revoker(ULONG Processor);
/* Called by the inline queued acquire of earlier headers (after a failed compare-exchange of a
 * free word): kept for programs built against them. */
NDISLOCK_API void ndislock_fast_queued_acquire_contended(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle,
                                                         const char *file, int line, const char *func);
NDISLOCK_API void ndislock_fast_queued_wait(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle, KSPIN_LOCK Previous,
                                            const char *file, int line, const char *func);
NDISLOCK_API void ndislock_fast_queued_hand_off(PKLOCK_QUEUE_HANDLE LockHandle);

/* The calling thread, when the inline path may run for it: registered and unobserved. */
static inline NDISLOCK_FAST_THREAD *ndislock_fast_thread(void) {
    NDISLOCK_FAST_THREAD *t = ndislock_tls_thread;
    if (__builtin_expect(t == 0, 0)) return 0;
    if (__builtin_expect(__atomic_load_n(&ndislock_active_observers, __ATOMIC_RELAXED) != 0, 0)) return 0;
    return t;
}

static inline NDISLOCK_FAST_BUCKET *ndislock_fast_bucket(const void *address) {
    return &ndislock_fast_buckets[ndislock_fast_bucket_index(address)].Head;
}

static inline int ndislock_fast_try_word(PKSPIN_LOCK s) {
    KSPIN_LOCK expected = 0;
    return __atomic_compare_exchange_n(s, &expected, (KSPIN_LOCK)NDISLOCK_FAST_SPIN_HELD, 0, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

/* lock::spin_release with asymmetric fences (the only case the inline paths handle). */
static inline void ndislock_fast_release_word(PKSPIN_LOCK s) {
    __atomic_store_n(s, (KSPIN_LOCK)0, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* pairs with the sleeper's heavy fence */
    if (__builtin_expect(__atomic_load_n(&ndislock_fast_bucket(s)->Waiters, __ATOMIC_RELAXED) != 0, 0))
        ndislock_fast_release_wake(s);
}

/* At irql, below DISPATCH_LEVEL, on a processor biased to t: enter DISPATCH_LEVEL
 * (model::enter_biased). Returns 0 when the bias is not t's, with the IRQL as it was (a withdrawn
 * entry leaves DispatchEntry biased; every other entry path rewrites it before raising). */
static inline int ndislock_fast_enter_dispatch(NDISLOCK_FAST_THREAD *t, KIRQL irql) {
    const ULONG index = __atomic_load_n(&t->Processor, __ATOMIC_RELAXED);
    NDISLOCK_FAST_PROCESSOR *p = &ndislock_fast_processors[index].Head;
    const ULONG biased = t->Id | NDISLOCK_FAST_BIASED;
    if (__builtin_expect(__atomic_load_n(&p->Owner, __ATOMIC_RELAXED) != biased, 0)) return 0;
    const ULONG entry = index | NDISLOCK_FAST_BIASED;
    if (__builtin_expect(__atomic_load_n(&t->DispatchEntry, __ATOMIC_RELAXED) != entry, 0))
        __atomic_store_n(&t->DispatchEntry, entry, __ATOMIC_RELAXED);    /* a store less when unchanged */
    __atomic_store_n(&t->Irql, (KIRQL)DISPATCH_LEVEL, __ATOMIC_RELEASE); /* the mark, after the entry */
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the revoker's heavy fence closes the window */
    if (__builtin_expect(__atomic_load_n(&p->Owner, __ATOMIC_RELAXED) != biased, 0)) {
        /* Revoked in between: give the IRQL back before anything else, so the revoker, waiting
         * for it, goes on (model::enter_biased does the same). */
        __atomic_store_n(&t->Irql, irql, __ATOMIC_RELEASE);
        ndislock_fast_wake_revoker(index);
        return 0;
    }
    return 1;
}

/* At DISPATCH_LEVEL: how it was entered. With NDISLOCK_FAST_BIASED set (through the bias) the
 * release may give the processor back inline (model::lower_irql's biased branch), passing the
 * entry on to ndislock_fast_leave_dispatch (read once). That leave reads no work pending for the
 * drop (the processor's DPCs, a deferred move): the library clears the flag in the entry of a
 * thread that gives its own processor such work, so that its drop calls out of line. */
static inline ULONG ndislock_fast_dispatch_entry(const NDISLOCK_FAST_THREAD *t) {
    return __atomic_load_n(&t->DispatchEntry, __ATOMIC_RELAXED);
}

static inline void ndislock_fast_leave_dispatch(NDISLOCK_FAST_THREAD *t, ULONG entry, KIRQL new_irql) {
    const ULONG index = entry & ~NDISLOCK_FAST_BIASED;
    __atomic_store_n(&t->Irql, new_irql, __ATOMIC_RELEASE); /* frees the processor */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);                /* against the revoker's heavy fence */
    if (__builtin_expect(__atomic_load_n(&ndislock_fast_processors[index].Head.Owner, __ATOMIC_RELAXED) !=
                             (t->Id | NDISLOCK_FAST_BIASED),
                         0))
        ndislock_fast_wake_revoker(index);
}

/* The raising acquire (NdisAcquireSpinLock, KeAcquireSpinLock[RaiseToDpc]): 1 with the lock
 * taken and *old set, 0 when the caller must call out of line (nothing changed). */
static inline int ndislock_fast_acquire_raising(PKSPIN_LOCK s, KIRQL *old) {
    NDISLOCK_FAST_THREAD *t = ndislock_fast_thread();
    if (t == 0) return 0;
    const KIRQL irql = __atomic_load_n(&t->Irql, __ATOMIC_RELAXED);
    if (irql > DISPATCH_LEVEL) return 0;
    if (irql < DISPATCH_LEVEL && !ndislock_fast_enter_dispatch(t, irql))
        return 0; /* at DISPATCH_LEVEL: the word only */
    if (__builtin_expect(!ndislock_fast_try_word(s), 0)) ndislock_fast_acquire_contended(s);
    *old = irql;
    return 1;
}

/* The lowering release (NdisReleaseSpinLock, KeReleaseSpinLock): 1 when done, 0 when the caller
 * must call out of line (nothing changed). */
static inline int ndislock_fast_release_lowering(PKSPIN_LOCK s, KIRQL new_irql) {
    NDISLOCK_FAST_THREAD *t = ndislock_fast_thread();
    if (t == 0 || __atomic_load_n(&t->Irql, __ATOMIC_RELAXED) != DISPATCH_LEVEL) return 0;
    if (new_irql == DISPATCH_LEVEL) {
        if (!ndislock_fast_asymmetric) return 0;
        ndislock_fast_release_word(s);
        return 1;
    }
    if (new_irql > DISPATCH_LEVEL) return 0;
    const ULONG entry = ndislock_fast_dispatch_entry(t);
    if ((entry & NDISLOCK_FAST_BIASED) == 0) return 0;
    ndislock_fast_release_word(s); /* a biased processor implies asymmetric fences */
    ndislock_fast_leave_dispatch(t, entry, new_irql);
    return 1;
}

/* The AtDpcLevel / Dpr acquire: no IRQL change, so only the word. */
static inline int ndislock_fast_acquire_at_dpc(PKSPIN_LOCK s) {
    if (ndislock_fast_thread() == 0) return 0;
    if (!ndislock_fast_try_word(s)) ndislock_fast_acquire_contended(s);
    return 1;
}

static inline int ndislock_fast_release_at_dpc(PKSPIN_LOCK s) {
    if (ndislock_fast_thread() == 0 || !ndislock_fast_asymmetric) return 0;
    ndislock_fast_release_word(s);
    return 1;
}

/* The in-stack queued acquire (lock::queued_acquire): the handle's entry becomes the tail with one
 * exchange of the word, and owns the lock if the word was free. Its Next and Lock are written
 * before the entry is published in the word (a successor reads them once it has swapped itself
 * in behind), already as the owner's; behind a holder (or an ordinary acquisition's mark), the
 * out-of-line wait makes it a waiter, links it behind the previous tail and waits for the grant
 * (or reports the mark). The lock is held on return. */
static inline void ndislock_fast_queued_join(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h, const char *file, int line,
                                             const char *func) {
    PKSPIN_LOCK_QUEUE e = &h->LockQueue;
    __atomic_store_n(&e->Next, (PKSPIN_LOCK_QUEUE)0, __ATOMIC_RELAXED);
    __atomic_store_n(&e->Lock, (PKSPIN_LOCK)((ULONG_PTR)s | LOCK_QUEUE_OWNER), __ATOMIC_RELAXED);
    const KSPIN_LOCK previous = __atomic_exchange_n(s, (KSPIN_LOCK)(ULONG_PTR)e, __ATOMIC_ACQ_REL);
    if (__builtin_expect(previous != 0, 0)) ndislock_fast_queued_wait(s, h, previous, file, line, func);
}

/* The in-stack queued release (lock::queued_release): with no successor linked, one
 * compare-exchange frees the word; a successor (linked, or joining right now) gets the lock out of
 * line. 0, with nothing changed, when the handle does not own a lock (the library reports it). */
static inline int ndislock_fast_queued_give(PKLOCK_QUEUE_HANDLE h) {
    PKSPIN_LOCK_QUEUE e = &h->LockQueue;
    const PKSPIN_LOCK tagged = __atomic_load_n(&e->Lock, __ATOMIC_RELAXED);
    if (__builtin_expect(((ULONG_PTR)tagged & 7u) != LOCK_QUEUE_OWNER, 0)) return 0;
    const PKSPIN_LOCK s = (PKSPIN_LOCK)((ULONG_PTR)tagged & ~(ULONG_PTR)7u);
    __atomic_store_n(&e->Lock, s, __ATOMIC_RELAXED); /* no longer the owner: a second release is caught */
    if (__atomic_load_n(&e->Next, __ATOMIC_ACQUIRE) == 0) {
        KSPIN_LOCK expected = (KSPIN_LOCK)(ULONG_PTR)e;
        if (__builtin_expect(__atomic_compare_exchange_n(s, &expected, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED), 1))
            return 1;
    }
    ndislock_fast_queued_hand_off(h);
    return 1;
}

/* The queued acquire on a lock and handle the caller gave (NULL ones are reported out of line):
 * raising from below DISPATCH_LEVEL through the bias, or at DISPATCH_LEVEL already. 1 with the
 * lock taken and OldIrql saved. */
static inline int ndislock_fast_queued_acquire_raising(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h, const char *file, int line,
                                                       const char *func) {
    NDISLOCK_FAST_THREAD *t = ndislock_fast_thread();
    if (t == 0 || s == 0 || h == 0) return 0;
    const KIRQL irql = __atomic_load_n(&t->Irql, __ATOMIC_RELAXED);
    if (irql > DISPATCH_LEVEL) return 0;
    if (irql < DISPATCH_LEVEL && !ndislock_fast_enter_dispatch(t, irql)) return 0;
    ndislock_fast_queued_join(s, h, file, line, func);
    h->OldIrql = irql; /* written once the lock is held, as the out-of-line acquire does */
    return 1;
}

/* The lowering queued release: back to the OldIrql its acquire saved, giving the processor back
 * through the bias when that drops below DISPATCH_LEVEL. 0 when the caller must call out of line
 * (nothing changed). */
static inline int ndislock_fast_queued_release_lowering(PKLOCK_QUEUE_HANDLE h) {
    NDISLOCK_FAST_THREAD *t = ndislock_fast_thread();
    if (t == 0 || h == 0 || __atomic_load_n(&t->Irql, __ATOMIC_RELAXED) != DISPATCH_LEVEL) return 0;
    const KIRQL new_irql = h->OldIrql;
    if (new_irql == DISPATCH_LEVEL) return ndislock_fast_queued_give(h);
    if (new_irql > DISPATCH_LEVEL) return 0;
    const ULONG entry = ndislock_fast_dispatch_entry(t);
    if ((entry & NDISLOCK_FAST_BIASED) == 0 || !ndislock_fast_queued_give(h)) return 0;
    ndislock_fast_leave_dispatch(t, entry, new_irql);
    return 1;
}

/* The forms the site macros of ndislock/ndis.h call. */

/* An NDIS_SPIN_LOCK's word, without a member access: SpinLock is its first member (wdk_types.h
 * checks the layout), and a NULL lock then reaches the library's NullLockPointer check instead of
 * being dereferenced here. */
static inline PKSPIN_LOCK ndislock_word_of(PNDIS_SPIN_LOCK l) { return (PKSPIN_LOCK)(void *)l; }

static inline void ndislock_inline_NdisAcquireSpinLock(PNDIS_SPIN_LOCK l, const char *file, int line,
                                                       const char *func) {
    KIRQL old;
    if (__builtin_expect(ndislock_fast_acquire_raising(ndislock_word_of(l), &old), 1))
        l->OldIrql = old; /* written once the lock is held: it belongs to the holder */
    else
        ndislock_at_NdisAcquireSpinLock(l, file, line, func);
}

static inline void ndislock_inline_NdisReleaseSpinLock(PNDIS_SPIN_LOCK l, const char *file, int line,
                                                       const char *func) {
    if (__builtin_expect(!ndislock_fast_release_lowering(&l->SpinLock, l->OldIrql), 0))
        ndislock_at_NdisReleaseSpinLock(l, file, line, func);
}

static inline void ndislock_inline_NdisDprAcquireSpinLock(PNDIS_SPIN_LOCK l, const char *file, int line,
                                                          const char *func) {
    if (__builtin_expect(!ndislock_fast_acquire_at_dpc(ndislock_word_of(l)), 0))
        ndislock_at_NdisDprAcquireSpinLock(l, file, line, func);
}

static inline void ndislock_inline_NdisDprReleaseSpinLock(PNDIS_SPIN_LOCK l, const char *file, int line,
                                                          const char *func) {
    if (__builtin_expect(!ndislock_fast_release_at_dpc(ndislock_word_of(l)), 0))
        ndislock_at_NdisDprReleaseSpinLock(l, file, line, func);
}

static inline KIRQL ndislock_inline_KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK s, const char *file, int line,
                                                                const char *func) {
    KIRQL old;
    if (__builtin_expect(ndislock_fast_acquire_raising(s, &old), 1)) return old;
    return ndislock_at_KeAcquireSpinLockRaiseToDpc(s, file, line, func);
}

static inline void ndislock_inline_KeReleaseSpinLock(PKSPIN_LOCK s, KIRQL new_irql, const char *file, int line,
                                                     const char *func) {
    if (__builtin_expect(!ndislock_fast_release_lowering(s, new_irql), 0))
        ndislock_at_KeReleaseSpinLock(s, new_irql, file, line, func);
}

static inline void ndislock_inline_KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK s, const char *file, int line,
                                                               const char *func) {
    if (__builtin_expect(!ndislock_fast_acquire_at_dpc(s), 0))
        ndislock_at_KeAcquireSpinLockAtDpcLevel(s, file, line, func);
}

static inline void ndislock_inline_KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK s, const char *file, int line,
                                                                 const char *func) {
    if (__builtin_expect(!ndislock_fast_release_at_dpc(s), 0))
        ndislock_at_KeReleaseSpinLockFromDpcLevel(s, file, line, func);
}

static inline void ndislock_inline_KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h,
                                                                  const char *file, int line, const char *func) {
    if (__builtin_expect(!ndislock_fast_queued_acquire_raising(s, h, file, line, func), 0))
        ndislock_at_KeAcquireInStackQueuedSpinLock(s, h, file, line, func);
}

static inline void ndislock_inline_KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE h, const char *file, int line,
                                                                  const char *func) {
    if (__builtin_expect(!ndislock_fast_queued_release_lowering(h), 0))
        ndislock_at_KeReleaseInStackQueuedSpinLock(h, file, line, func);
}

static inline void ndislock_inline_KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK s, PKLOCK_QUEUE_HANDLE h,
                                                                            const char *file, int line,
                                                                            const char *func) {
    if (__builtin_expect(ndislock_fast_thread() != 0 && s != 0 && h != 0, 1)) {
        ndislock_fast_queued_join(s, h, file, line, func);
        return;
    }
    ndislock_at_KeAcquireInStackQueuedSpinLockAtDpcLevel(s, h, file, line, func);
}

static inline void ndislock_inline_KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE h, const char *file,
                                                                              int line, const char *func) {
    if (__builtin_expect(ndislock_fast_thread() != 0 && h != 0, 1) && ndislock_fast_queued_give(h)) return;
    ndislock_at_KeReleaseInStackQueuedSpinLockFromDpcLevel(h, file, line, func);
}

/* KeRaiseIrql to DISPATCH_LEVEL from below it, and KeLowerIrql from DISPATCH_LEVEL to below it,
 * on a processor biased to the thread (the IRQL half of the raising acquire and release). Every
 * other raise or lower, valid or not, calls out of line. */
static inline KIRQL ndislock_inline_KeRaiseIrql(KIRQL new_irql, const char *file, int line, const char *func) {
    NDISLOCK_FAST_THREAD *t = ndislock_fast_thread();
    if (__builtin_expect(t != 0 && new_irql == DISPATCH_LEVEL, 1)) {
        const KIRQL irql = __atomic_load_n(&t->Irql, __ATOMIC_RELAXED);
        if (irql < DISPATCH_LEVEL && ndislock_fast_enter_dispatch(t, irql)) return irql;
    }
    return ndislock_at_KeRaiseIrql(new_irql, file, line, func);
}

static inline void ndislock_inline_KeLowerIrql(KIRQL new_irql, const char *file, int line, const char *func) {
    NDISLOCK_FAST_THREAD *t = ndislock_fast_thread();
    if (__builtin_expect(t != 0 && new_irql < DISPATCH_LEVEL, 1) &&
        __atomic_load_n(&t->Irql, __ATOMIC_RELAXED) == DISPATCH_LEVEL) {
        const ULONG entry = ndislock_fast_dispatch_entry(t);
        if ((entry & NDISLOCK_FAST_BIASED) != 0) {
            ndislock_fast_leave_dispatch(t, entry, new_irql);
            return;
        }
    }
    ndislock_at_KeLowerIrql(new_irql, file, line, func);
}

#endif /* NDISLOCK_INLINE_FAST_PATH */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_FAST_PATH_H */
