#ifndef EXPLORE_C_SCENARIOS_H
#define EXPLORE_C_SCENARIOS_H

#include <ndislock/explore.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Explores (replay NULL) or replays the C AB/BA scenario (explore_c_scenarios.c). */
NDISLOCK_STATUS c_abba_explore(NDISLOCK_EXPLORE_STRATEGY strategy, ULONG depth, ULONG64 seed, const char *replay,
                               NDISLOCK_EXPLORE_RESULT *result);

#ifdef __cplusplus
}
#endif

#endif
