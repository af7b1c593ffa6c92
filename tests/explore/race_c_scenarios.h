#ifndef RACE_C_SCENARIOS_H
#define RACE_C_SCENARIOS_H

#include <ndislock/explore.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Lines of race_c_scenarios.c's annotated read and write of the counter (for the report's check). */
extern const int c_race_read_line, c_race_write_line;

/* Explores (replay NULL) or replays the C counter scenario (race_c_scenarios.c): two threads
 * increment a counter with NDISLOCK_SHARED_READ / NDISLOCK_SHARED_WRITE, under an NDIS spin lock
 * when locked is nonzero. */
NDISLOCK_STATUS c_race_explore(int locked, NDISLOCK_EXPLORE_STRATEGY strategy, ULONG depth, ULONG64 seed,
                               const char *replay, NDISLOCK_EXPLORE_RESULT *result);

#ifdef __cplusplus
}
#endif

#endif
