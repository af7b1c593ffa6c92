/*
 * demo/explore.h: ndislock-demo --explore (docs/demo.md, docs/explore.md). The datapath's send
 * and receive paths as a small scenario explored schedule by schedule, instead of run for seconds.
 */
#ifndef DEMO_EXPLORE_H
#define DEMO_EXPLORE_H

#include <ndislock/ndis.h>

/* Explores the scenario (demo/explore.c: MiniportInitializeEx, a sender, the device and its
 * interrupt's ISR and DPC, MiniportHaltEx) on an adapter made fresh for each schedule, with the
 * verifier as the process has it (a seeded mistake --bug names is found as its rule, or as the
 * deadlock it makes) and the portfolio strategy over Schedules schedules split over Jobs processes.
 * Prints the finding, its replay token, the shrunk token and the trace. Returns the exit status:
 * 0 nothing found, 1 found, 2 the exploration could not run. */
int DemoExplore(const char *Bug, ULONG Schedules, ULONG Jobs);

#endif /* DEMO_EXPLORE_H */
