/* Race detection from C11 (ndislock/explore.h), driven by race_test.cpp: two threads increment a
 * counter through the C macros NDISLOCK_SHARED_READ / NDISLOCK_SHARED_WRITE, with or without an
 * NDIS spin lock around the read and the write. */
#include <ndislock/explore.h>
#include <ndislock/ndis.h>

#include "race_c_scenarios.h"

/* Static: the same addresses in every schedule and replay, so a replayed report is the same text. */
static NDIS_SPIN_LOCK g_lock;
static LONG g_counter;
static int g_locked;

const int c_race_read_line = __LINE__ + 7;
const int c_race_write_line = __LINE__ + 7;

static void increment(void *context) {
    LONG seen;
    (void)context;
    if (g_locked) NdisAcquireSpinLock(&g_lock);
    seen = NDISLOCK_SHARED_READ(g_counter);
    NDISLOCK_SHARED_WRITE(g_counter, seen + 1);
    if (g_locked) NdisReleaseSpinLock(&g_lock);
}

static void setup(PNDISLOCK_EXPLORE_RUN run, void *context) {
    (void)context;
    NdisAllocateSpinLock(&g_lock);
    g_counter = 0;
    NdislockExploreSpawn(run, increment, NULL);
    NdislockExploreSpawn(run, increment, NULL);
}

static BOOLEAN check(void *context) {
    (void)context;
    return g_counter == 2 ? TRUE : FALSE;
}

NDISLOCK_STATUS c_race_explore(int locked, NDISLOCK_EXPLORE_STRATEGY strategy, ULONG depth, ULONG64 seed,
                               const char *replay, NDISLOCK_EXPLORE_RESULT *result) {
    NDISLOCK_EXPLORE_OPTIONS options = {0};
    g_locked = locked;
    options.Strategy = strategy;
    options.Depth = depth;
    options.Seed = seed;
    options.Schedules = 1000;
    options.Replay = replay;
    return NdislockExplore(&options, setup, check, NULL, result);
}
