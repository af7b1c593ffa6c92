/*
 * demo/explore.c: ndislock-demo --explore. The send path and the receive DPC of adapter.c, one
 * thread each, explored by NdislockExplore (ndislock/explore.h): where a timed run of the demo
 * shows --bug lock-order only when the verifier sees the two orders (or when the threads happen to
 * deadlock), the exploration runs the interleaving that deadlocks, replays it from a token, and
 * shrinks it to the one preemption it needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndislock/explore.h>
#include <ndislock/verifier.h>

#include "adapter.h"
#include "explore.h"

#define DEMO_EXPLORE_POOL 8u

/* Static: the same lock addresses in every schedule (a replay prints the same finding). */
static ADAPTER ExploreAdapter;
static DEMO_RECEIVER ExploreReceiver;

BOOLEAN DemoBugIsExplorable(const char *Bug) {
    return (BOOLEAN)(Bug == NULL || strcmp(Bug, "lock-order") == 0 || strcmp(Bug, "recursive-acquire") == 0);
}

/* A sender: a buffer from the pool, onto the transmit ring (TxLock, then StatsLock; with
 * --bug lock-order also RxLock under TxLock, with --bug recursive-acquire TxLock again). */
static void DemoExploreSender(void *Context) {
    PADAPTER Adapter = Context;
    ULONG Index = 0;
    if (DemoAllocateBuffers(Adapter, &Index, 1) == 1) DemoSendPacket(Adapter, Index);
}

/* The receive DPC, at DISPATCH_LEVEL as MiniportInterruptDPC runs it (RxLock; with --bug
 * lock-order TxLock under it). */
static void DemoExploreReceiveDpc(void *Context) {
    PADAPTER Adapter = Context;
    KIRQL OldIrql;
    BOOLEAN More = FALSE;
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    DemoIndicateReceivesAtDpcLevel(Adapter, &ExploreReceiver, &More);
    KeLowerIrql(OldIrql);
}

/* Each schedule: a fresh adapter (the previous schedule's buffers freed; its locks, maybe left
 * held by a failed schedule, made anew by DemoInitializeAdapter), and the two threads. */
static void DemoExploreSetup(PNDISLOCK_EXPLORE_RUN Run, void *Context) {
    (void)Context;
    free(ExploreAdapter.Buffers);
    free(ExploreAdapter.FreeList);
    memset(&ExploreReceiver, 0, sizeof(ExploreReceiver));
    if (!DemoInitializeAdapter(&ExploreAdapter, DEMO_EXPLORE_POOL, KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS)))
        return; /* no thread: an empty schedule */
    NdislockExploreSpawn(Run, DemoExploreSender, &ExploreAdapter);
    NdislockExploreSpawn(Run, DemoExploreReceiveDpc, &ExploreAdapter);
}

/* Every thread returned: the packet is on the transmit ring, counted once. */
static BOOLEAN DemoExploreCheck(void *Context) {
    (void)Context;
    return (BOOLEAN)(ExploreAdapter.TxRing.Count == 1 && ExploreAdapter.Stats.TxQueued == 1);
}

int DemoExplore(const char *Bug, ULONG Schedules, ULONG Jobs) {
    if (NdislockVerifierGetMode() != NDISLOCK_VERIFIER_OFF) {
        /* It would report the holds a failing schedule abandons (docs/explore.md). */
        fprintf(stderr, "ndislock-demo: --explore turns the verifier off\n");
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    }
    /* Two virtual processors at least: the receive DPC holds its own at DISPATCH_LEVEL. */
    if (KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS) < 2 && NdislockSetProcessorCount(2) != NDISLOCK_OK)
        return 2;

    NDISLOCK_EXPLORE_OPTIONS Options;
    memset(&Options, 0, sizeof(Options));
    Options.Strategy = NDISLOCK_EXPLORE_PORTFOLIO;
    Options.Seed = 1;
    Options.Schedules = Schedules;
    Options.Jobs = Jobs;
    NDISLOCK_EXPLORE_RESULT *Result = calloc(1, sizeof(*Result)); /* large: the trace */
    if (Result == NULL) return 2;
    printf("exploring %s: a sender (DemoSendPacket) and the receive DPC (DemoIndicateReceivesAtDpcLevel),\n"
           "portfolio strategy, up to %lu schedules%s\n",
           Bug != NULL ? Bug : "the correct datapath", (unsigned long)Schedules,
           Jobs > 1 ? " over worker processes" : "");
    NDISLOCK_STATUS Status = NdislockExplore(&Options, DemoExploreSetup, DemoExploreCheck, NULL, Result);
    int Exit = 0;
    if (Status != NDISLOCK_OK) {
        fprintf(stderr, "ndislock-demo: NdislockExplore failed with status %d\n", (int)Status);
        Exit = 2;
    } else if (!Result->Found) {
        printf("nothing found in %lu schedules (%llu scheduling points)\n", (unsigned long)Result->Schedules,
               (unsigned long long)Result->Steps);
    } else {
        printf("found after %lu schedules: %s\n", (unsigned long)Result->Schedules, Result->Message);
        if (Result->ShrunkToken[0] != '\0')
            printf("shrunk to %lu preemption(s) in %lu replays: NDISLOCK_EXPLORE_REPLAY=%s\n",
                   (unsigned long)Result->Preemptions, (unsigned long)Result->ShrinkReplays, Result->ShrunkToken);
        printf("%s", Result->Trace);
        Exit = 1;
    }
    free(Result);
    free(ExploreAdapter.Buffers);
    free(ExploreAdapter.FreeList);
    return Exit;
}
