/* Scenarios written against the C API (ndislock/explore.h from C11), driven by explore_test.cpp:
 * the AB/BA deadlock between two threads taking two NDIS spin locks in opposite orders. */
#include <ndislock/explore.h>
#include <ndislock/ndis.h>

#include "explore_c_scenarios.h"

static NDIS_SPIN_LOCK g_a, g_b; /* static: the same addresses in every schedule and replay */

static void take_a_then_b(void *context) {
    (void)context;
    NdisAcquireSpinLock(&g_a);
    NdisAcquireSpinLock(&g_b);
    NdisReleaseSpinLock(&g_b);
    NdisReleaseSpinLock(&g_a);
}

static void take_b_then_a(void *context) {
    (void)context;
    NdisAcquireSpinLock(&g_b);
    NdisAcquireSpinLock(&g_a);
    NdisReleaseSpinLock(&g_a);
    NdisReleaseSpinLock(&g_b);
}

static void setup(PNDISLOCK_EXPLORE_RUN run, void *context) {
    (void)context;
    NdisAllocateSpinLock(&g_a);
    NdisAllocateSpinLock(&g_b);
    NdislockExploreSpawn(run, take_a_then_b, NULL);
    NdislockExploreSpawn(run, take_b_then_a, NULL);
}

NDISLOCK_STATUS c_abba_explore(NDISLOCK_EXPLORE_STRATEGY strategy, ULONG depth, ULONG64 seed, const char *replay,
                               NDISLOCK_EXPLORE_RESULT *result) {
    NDISLOCK_EXPLORE_OPTIONS options = {0};
    options.Strategy = strategy;
    options.Depth = depth;
    options.Seed = seed;
    options.Schedules = 1000;
    options.Replay = replay;
    return NdislockExplore(&options, setup, NULL, NULL, result);
}
