/*
 * demo/explore.c: ndislock-demo --explore. The miniport's life as a small scenario explored
 * schedule by schedule by NdislockExplore (ndislock/explore.h), with the verifier on: a driver
 * thread initializes the adapter (MiniportInitializeEx: its locks, its line-based interrupt, its
 * watchdog timer), a sender sends one packet and queries the statistics, the device posts one
 * receive and raises the interrupt, whose ISR and DPC the scheduler delivers where the schedule
 * says; the driver thread then halts the adapter. Every seeded mistake of --bug lies on that path:
 * the lock-order inversion and the recursive acquire as the two orders or the deadlock they make,
 * the others as the verifier's rule at the line that breaks it. Each is found, replayed from its
 * token, and shrunk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndislock/device.h>
#include <ndislock/wdk_dispatcher.h>
#include <ndislock/explore.h>
#include <ndislock/verifier.h>

#include "adapter.h"
#include "device.h"
#include "explore.h"
#include "interrupt.h"
#include "watchdog.h"

#define DEMO_EXPLORE_POOL (DEMO_RX_POST_BATCH + 2u) /* the device posts up to a batch; the sender needs one */
#define DEMO_EXPLORE_WORKERS 2u                     /* the sender and the device, which the driver thread waits for */

/* Static: the same lock addresses in every schedule (a replay prints the same finding). Each
 * schedule starts them afresh (DemoExploreSetup); a failed schedule's threads are abandoned where
 * they stood, their locks with them, and the next MiniportInitializeEx allocates the locks again. */
static ADAPTER ExploreAdapter;
static DEMO_HW_REGISTERS ExploreRegisters;
static DEMO_DEVICE ExploreDevice;
static DEMO_DRIVER_CONTEXT ExploreDriver;
static NDIS_HANDLE ExploreMiniport;
static KEVENT ExploreWorkerDone[DEMO_EXPLORE_WORKERS];
static DEMO_ADAPTER_STATS ExploreStats;
static ULONG ExploreSent;

/* A sender at PASSIVE_LEVEL: a buffer from the pool, onto the transmit ring and the doorbell
 * (TxLock, StatsLock; with --bug lock-order RxLock under TxLock), then the statistics query. */
static void DemoExploreSender(void *Context) {
    PADAPTER Adapter = Context;
    ULONG Index = 0;
    if (DemoAllocateBuffers(Adapter, &Index, 1) == 1 && DemoNicSendPacket(Adapter, Index)) ExploreSent++;
    DemoQueryStatistics(Adapter, &ExploreStats);
    KeSetEvent(&ExploreWorkerDone[0], IO_NO_INCREMENT, FALSE);
}

/* The device: arrived packets onto the receive ring (RxLock, then StatsLock), the receive
 * status raised and the line asserted toward processor 0 (MiniportInterrupt, then its DPC, run
 * where the schedule delivers them), then the device thread's last step. */
static void DemoExploreDevice(void *Context) {
    PADAPTER Adapter = Context;
    DemoDevicePostReceives(Adapter, &ExploreDevice);
    atomic_fetch_or(&ExploreRegisters.InterruptStatus, DEMO_INT_RX);
    NdislockAssertInterrupt(Adapter->InterruptHandle, 0);
    KeSetEvent(&ExploreWorkerDone[1], IO_NO_INCREMENT, FALSE);
    DemoHwLastLook(Adapter);
}

/* The driver thread: MiniportInitializeEx, the two others started, both waited for, then
 * MiniportHaltEx (its interrupt deregistered, its locks freed). */
static void DemoExploreDriver(void *Context) {
    PNDISLOCK_EXPLORE_RUN Run = Context;
    if (NdislockMiniportInitialize(DemoMiniportInitializeEx, &ExploreDriver, &ExploreMiniport) != NDIS_STATUS_SUCCESS)
        return;
    for (ULONG i = 0; i < DEMO_EXPLORE_WORKERS; i++)
        KeInitializeEvent(&ExploreWorkerDone[i], NotificationEvent, FALSE);
    NdislockExploreSpawn(Run, DemoExploreSender, &ExploreAdapter);
    NdislockExploreSpawn(Run, DemoExploreDevice, &ExploreAdapter);
    PVOID Objects[DEMO_EXPLORE_WORKERS] = {&ExploreWorkerDone[0], &ExploreWorkerDone[1]};
    KWAIT_BLOCK Blocks[DEMO_EXPLORE_WORKERS];
    KeWaitForMultipleObjects(DEMO_EXPLORE_WORKERS, Objects, WaitAll, Executive, KernelMode, FALSE, NULL, Blocks);
    NdislockMiniportHalt(ExploreMiniport, DemoMiniportHaltEx, &ExploreAdapter);
    ExploreMiniport = NULL;
}

/* A failed schedule abandons the driver thread before MiniportHaltEx: what ndislock keeps of the
 * adapter goes without the driver's halt (which could hit the same seeded mistake again, outside
 * any schedule): the watchdog timer cancelled and freed, the interrupt deregistered, the adapter
 * removed. */
static void DemoExploreForgetAdapter(void) {
    if (ExploreMiniport == NULL) return;
    DemoWatchdogStop(&ExploreAdapter);
    if (ExploreAdapter.InterruptHandle != NULL) NdisMDeregisterInterruptEx(ExploreAdapter.InterruptHandle);
    ExploreAdapter.InterruptHandle = NULL;
    NdislockMiniportHalt(ExploreMiniport, NULL, NULL);
    ExploreMiniport = NULL;
}

/* Each schedule: everything the last one left, zeroed (its buffers were freed by the halt, or
 * left by a failed schedule and freed here), and the driver thread. */
static void DemoExploreSetup(PNDISLOCK_EXPLORE_RUN Run, void *Context) {
    (void)Context;
    DemoExploreForgetAdapter();
    free(ExploreAdapter.Buffers);
    free(ExploreAdapter.FreeList);
    memset(&ExploreAdapter, 0, sizeof(ExploreAdapter));
    memset(&ExploreRegisters, 0, sizeof(ExploreRegisters));
    memset(&ExploreDevice, 0, sizeof(ExploreDevice));
    memset(&ExploreStats, 0, sizeof(ExploreStats));
    ExploreSent = 0;
    ExploreDriver.Adapter = &ExploreAdapter;
    ExploreDriver.PoolSize = DEMO_EXPLORE_POOL;
    ExploreDriver.ProcessorCount = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
    ExploreDriver.Registers = &ExploreRegisters;
    ExploreDriver.Msix = FALSE;
    NdislockExploreSpawn(Run, DemoExploreDriver, Run);
}

/* Every thread returned: the packet was sent and counted once, and the device's receives were
 * posted. */
static BOOLEAN DemoExploreCheck(void *Context) {
    (void)Context;
    return (BOOLEAN)(ExploreSent == 1 && ExploreAdapter.Stats.TxQueued == 1 && ExploreAdapter.Stats.RxPosted != 0);
}

int DemoExplore(const char *Bug, ULONG Schedules, ULONG Jobs) {
    if (NdislockVerifierGetMode() == NDISLOCK_VERIFIER_OFF)
        printf("the verifier is off: only deadlocks, livelocks and the scenario's check are found\n");
    /* Two virtual processors at least: the interrupt's DPC holds its own at DISPATCH_LEVEL. */
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
    printf("exploring %s: MiniportInitializeEx, a sender, the device and its interrupt, MiniportHaltEx;\n"
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
    DemoExploreForgetAdapter();
    free(ExploreAdapter.Buffers);
    free(ExploreAdapter.FreeList);
    return Exit;
}
