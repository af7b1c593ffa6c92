/*
 * ndislock/verifier_stats.h: the verifier's per-class hold-time histograms. Clean C11 and C++.
 * Included by ndislock/verifier.h.
 */
#ifndef NDISLOCK_VERIFIER_STATS_H
#define NDISLOCK_VERIFIER_STATS_H

#include "ndislock/wdk_types.h"

#define NDISLOCK_HOLD_BUCKETS 40 /* bucket i: hold times in [2^i, 2^(i+1)) ns; bucket 0 also holds 0 */

typedef struct NDISLOCK_CLASS_HOLD_TIMES {
    const char *Class;                      /* the class: its name, or where its locks were allocated */
    ULONG64 Holds;                          /* timed holds (one in NDISLOCK_HOLD_SAMPLE) */
    ULONG64 Descheduled;                    /* holds the OS interrupted: not timed */
    ULONG64 Buckets[NDISLOCK_HOLD_BUCKETS]; /* the histogram */
    ULONG64 MaxNs;
} NDISLOCK_CLASS_HOLD_TIMES;

#endif /* NDISLOCK_VERIFIER_STATS_H */
