/*
 * ndislock/detail/fast_layout.h: what the inline fast path (ndislock/fast_path.h) and the library
 * share, defined once for both: the part of a thread's state, of a virtual processor and of a
 * parking bucket that the inline code reads, the biased-owner flag, the hash that picks a
 * lock's parking bucket, the held value of a spin lock and the layout of NDIS_RW_LOCK_EX's reader
 * counts. Not an API: private to fast_path.h and the library of the same version
 * (the SONAME carries major.minor while the major version is 0).
 *
 * The library's own types embed these structs as their first members (model::ThreadState,
 * model::Processor, lock::parking::Bucket) and reach the fields as atomics (std::atomic_ref); it
 * takes the flag (model::kBiased), the line size, the bucket count (parking::kBucketBits) and the
 * bucket hash (parking::bucket_for) from here, so the two sides cannot drift apart.
 * Clean C11 and C++.
 */
#ifndef NDISLOCK_DETAIL_FAST_LAYOUT_H
#define NDISLOCK_DETAIL_FAST_LAYOUT_H

#include <stdint.h>

#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define NDISLOCK_MAY_ALIAS __attribute__((__may_alias__))
#else
#define NDISLOCK_MAY_ALIAS
#endif

/* A virtual processor and a parking bucket each take one line of this size, the stride of their
 * tables (the library's types are aligned to it). */
#define NDISLOCK_FAST_LINE 64

/* The first member of the library's per-thread state (model::ThreadState::fast). */
typedef struct NDISLOCK_MAY_ALIAS NDISLOCK_FAST_THREAD {
    KIRQL Irql; /* written only by its thread */
    UCHAR Reserved[3];
    ULONG Processor;     /* its virtual processor */
    ULONG DispatchEntry; /* the processor it entered at DISPATCH_LEVEL, | NDISLOCK_FAST_BIASED
                            when through the bias */
    ULONG Id;            /* the tag of the processor owner words, 1..8192 */
} NDISLOCK_FAST_THREAD;

/* The first member of a virtual processor (model::Processor::fast). */
typedef struct NDISLOCK_MAY_ALIAS NDISLOCK_FAST_PROCESSOR {
    ULONG Owner; /* Id | NDISLOCK_FAST_BIASED while biased to thread Id */
} NDISLOCK_FAST_PROCESSOR;

/* The first member of a parking bucket (lock::parking::Bucket::fast). */
typedef struct NDISLOCK_MAY_ALIAS NDISLOCK_FAST_BUCKET {
    ULONG Waiters; /* threads asleep on locks of this bucket */
} NDISLOCK_FAST_BUCKET;

/* An element of the processor and bucket tables as the inline code indexes them: the struct
 * above at the start of its line (the rest of the line is the library's). */
typedef union NDISLOCK_MAY_ALIAS NDISLOCK_FAST_PROCESSOR_LINE {
    NDISLOCK_FAST_PROCESSOR Head;
    UCHAR Line[NDISLOCK_FAST_LINE];
} NDISLOCK_FAST_PROCESSOR_LINE;

typedef union NDISLOCK_MAY_ALIAS NDISLOCK_FAST_BUCKET_LINE {
    NDISLOCK_FAST_BUCKET Head;
    UCHAR Line[NDISLOCK_FAST_LINE];
} NDISLOCK_FAST_BUCKET_LINE;

/* A processor's owner word holds Id | NDISLOCK_FAST_BIASED while it is biased to thread Id. */
#define NDISLOCK_FAST_BIASED 0x40000000u
/* The parking table has 1 << NDISLOCK_FAST_BUCKET_BITS buckets. */
#define NDISLOCK_FAST_BUCKET_BITS 9

/* A held KSPIN_LOCK holds this value (0 is free); the library's spin word (lock::kSpinHeld) takes
 * it from here. */
#define NDISLOCK_FAST_SPIN_HELD 1

/* NDIS_RW_LOCK_EX: the writer word at offset 0; processor p's reader count at
 * (p + 1) * NDISLOCK_FAST_RW_STRIDE bytes from the lock (lock::kRwCountStride). */
#define NDISLOCK_FAST_RW_STRIDE 128
/* LOCK_STATE_EX::LockState while it holds a read (the library's state value). */
#define NDISLOCK_FAST_RW_STATE_READ 1

/* The parking bucket of the lock at address: a multiplicative hash of the address, the folded
 * high bits first so that locks a page apart spread. The inline release and the library's
 * sleepers must find the same bucket, or a wake-up is lost: this is the one definition. */
static inline uint32_t ndislock_fast_bucket_index(const void *address) {
    uint64_t x = (uint64_t)(uintptr_t)address;
    x ^= x >> 17;
    x *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> (64 - NDISLOCK_FAST_BUCKET_BITS));
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_DETAIL_FAST_LAYOUT_H */
