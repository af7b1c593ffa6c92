/*
 * demo/explore.h: ndislock-demo --explore (docs/demo.md, docs/explore.md). The datapath's send
 * and receive paths as a small scenario explored schedule by schedule, instead of run for seconds.
 */
#ifndef DEMO_EXPLORE_H
#define DEMO_EXPLORE_H

#include <ndislock/ndis.h>

/* Whether --bug NAME's mistake shows as a failing schedule (a deadlock), so --explore can find it;
 * the other seeded mistakes are verifier rules. NULL: the correct datapath, explorable. */
BOOLEAN DemoBugIsExplorable(const char *Bug);
/* Names of the explorable bugs, for messages. */
#define DEMO_EXPLORABLE_BUGS "lock-order, recursive-acquire"

/* Explores the scenario: one sender (DemoSendPacket, from PASSIVE_LEVEL) and one receive DPC
 * (DemoIndicateReceivesAtDpcLevel, at DISPATCH_LEVEL) on an adapter made fresh for each
 * schedule, with the portfolio strategy over Schedules schedules split over Jobs processes.
 * Prints the finding, its replay token, the shrunk token and the trace. Returns the exit status:
 * 0 nothing found, 1 found, 2 the exploration could not run. */
int DemoExplore(const char *Bug, ULONG Schedules, ULONG Jobs);

#endif /* DEMO_EXPLORE_H */
