/* The harness of the deferred-work miniport (miniport.h): it plays NDIS (initialize, halt, the
 * completion and indication calls), the protocol above (a thread returning indicated buffers at
 * PASSIVE_LEVEL) and the hardware below (a thread sending what was rung up, receiving a fixed
 * number of packets, and raising the interrupt line while the driver has work). Send threads race
 * the interrupt DPC, the watchdog timer's DPC and its work item for the adapter's one lock, on 2
 * virtual processors, with the verifier on.
 *
 * Passes when the verifier reported nothing and the totals are exact: every packet sent was
 * completed exactly once, every packet received indicated exactly once and its buffer returned
 * and reclaimed, every work item queued ran at PASSIVE_LEVEL, and the receive buffers are all back.
 * Bounded: fixed packet counts, and a wall-time limit on every wait (a hang fails, it does not
 * stall). Usage: wdk_deferred_miniport_test [packets per sender] [packets received]. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <ndislock/device.h> /* the harness plays NDIS and the hardware */
#include <ndislock/verifier.h>

#include "miniport.h"

#define SENDERS 3
#define TIME_LIMIT_S 90.0 /* for the whole run; the ctest timeout is above it */

static ULONG PacketsPerSender = 20000;
static ULONG PacketsReceived = 20000;

static MP_REGISTERS Registers;
static MP_DRIVER_CONTEXT Driver;
static PMP_PACKET SendPackets;         /* SENDERS * PacketsPerSender, Id = index */
static volatile LONG *CompletedTimes;  /* per send packet */
static volatile LONG *IndicatedTimes;  /* per received sequence number */
static volatile LONG64 DoubleHandover; /* a packet completed that the miniport did not own */
static volatile LONG SendersDone, TimedOut;
static volatile LONG64 Returned;

/* The protocol's queue of indicated buffers it has yet to return. */
static LIST_ENTRY ProtocolQueue;
static NDIS_SPIN_LOCK ProtocolLock;

static double Now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
static double Deadline;
static BOOLEAN Late(void) {
    if (Now() < Deadline) return FALSE;
    InterlockedExchange(&TimedOut, 1);
    return TRUE;
}

/* ---- NDIS's side ---------------------------------------------------------------------------- */

VOID MpHarnessSendComplete(PMP_PACKET Packet) {
    if (InterlockedCompareExchange(&Packet->Owner, MP_OWNER_HARNESS, MP_OWNER_MINIPORT) != MP_OWNER_MINIPORT)
        InterlockedIncrement64(&DoubleHandover);
    InterlockedIncrement(&CompletedTimes[Packet->Id]);
}

VOID MpHarnessIndicateReceive(NDIS_HANDLE MiniportAdapterContext, PMP_PACKET Packet) {
    UNREFERENCED_PARAMETER(MiniportAdapterContext);
    if (Packet->Id < PacketsReceived)
        InterlockedIncrement(&IndicatedTimes[Packet->Id]);
    else
        InterlockedIncrement64(&DoubleHandover); /* a sequence number the hardware never produced */
    NdisInterlockedInsertTailList(&ProtocolQueue, &Packet->Link, &ProtocolLock);
}

/* ---- Threads -------------------------------------------------------------------------------- */

static void *Sender(void *Context) {
    const ULONG Index = (ULONG)(ULONG_PTR)Context;
    NdislockBindCurrentThread(Index % 2);
    for (ULONG i = 0; i < PacketsPerSender && !Late(); i++) {
        PMP_PACKET Packet = &SendPackets[(ULONG64)Index * PacketsPerSender + i];
        InterlockedExchange(&Packet->Owner, MP_OWNER_MINIPORT);
        while (!MpSendPacket(Driver.Adapter, Packet) && !Late())
            NdisMSleep(20);               /* the queue is full: NDIS would pend the send */
        if (i % 64 == 63) NdisMSleep(10); /* a sender that pauses, as a real stack's does */
    }
    return NULL;
}

/* The protocol: returns every indicated buffer, at PASSIVE_LEVEL. */
static void *Protocol(void *Context) {
    UNREFERENCED_PARAMETER(Context);
    NdislockBindCurrentThread(1);
    while (ReadAcquire64(&Returned) < (LONG64)PacketsReceived && !Late()) {
        PLIST_ENTRY Entry = NdisInterlockedRemoveHeadList(&ProtocolQueue, &ProtocolLock);
        if (Entry == NULL) {
            NdisMSleep(20);
            continue;
        }
        MpReturnPacket(Driver.Adapter, CONTAINING_RECORD(Entry, MP_PACKET, Link));
        InterlockedIncrement64(&Returned);
    }
    return NULL;
}

/* The hardware: each tick sends what was rung up, receives up to 16 packets, and raises the line
 * while the driver has work. Level-triggered: it keeps raising until the driver caught up. */
static void *Hardware(void *Context) {
    UNREFERENCED_PARAMETER(Context);
    NdislockBindCurrentThread(0);
    for (;;) {
        BOOLEAN Done = ReadAcquire(&SendersDone) != 0;
        WriteRelease64(&Registers.TxSent, ReadAcquire64(&Registers.TxDoorbell));
        LONG64 Arrived = ReadAcquire64(&Registers.RxArrived);
        if (Arrived < (LONG64)PacketsReceived)
            WriteRelease64(&Registers.RxArrived,
                           Arrived + 16 < (LONG64)PacketsReceived ? Arrived + 16 : PacketsReceived);
        if (!MpIdle(Driver.Adapter))
            NdislockAssertInterrupt(Driver.InterruptHandle, NDISLOCK_ANY_PROCESSOR);
        else if (Done && ReadAcquire64(&Registers.RxArrived) == (LONG64)PacketsReceived &&
                 ReadAcquire64(&Registers.TxSent) == ReadAcquire64(&Registers.TxDoorbell))
            break; /* everything sent and received, and the driver took it all */
        if (Late()) break;
        NdisMSleep(50);
    }
    return NULL;
}

/* ---- main ----------------------------------------------------------------------------------- */

static int Check(const char *What, BOOLEAN Ok) {
    printf("  %-60s %s\n", What, Ok ? "ok" : "FAILED");
    return Ok ? 0 : 1;
}

int main(int argc, char **argv) {
    pthread_t Senders[SENDERS], ProtocolThread, HardwareThread;
    NDIS_HANDLE AdapterHandle = NULL;
    MP_COUNTERS Counters, Live;
    ULONG64 SendTotal;
    ULONG Wrong = 0;
    int Failed = 0;

    if (argc > 1) PacketsPerSender = (ULONG)strtoul(argv[1], NULL, 10);
    if (argc > 2) PacketsReceived = (ULONG)strtoul(argv[2], NULL, 10);
    if (PacketsPerSender == 0 || PacketsReceived == 0) {
        fprintf(stderr, "usage: %s [packets per sender >= 1] [packets received >= 1]\n", argv[0]);
        return 2;
    }
    SendTotal = (ULONG64)SENDERS * PacketsPerSender;
    NdislockSetProcessorCount(2);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    Deadline = Now() + TIME_LIMIT_S;

    SendPackets = calloc(SendTotal, sizeof(MP_PACKET));
    CompletedTimes = calloc(SendTotal, sizeof(LONG));
    IndicatedTimes = calloc(PacketsReceived, sizeof(LONG));
    if (SendPackets == NULL || CompletedTimes == NULL || IndicatedTimes == NULL) return 2;
    for (ULONG64 i = 0; i < SendTotal; i++)
        SendPackets[i].Id = i;
    InitializeListHead(&ProtocolQueue);
    NdisAllocateSpinLock(&ProtocolLock);

    Driver.Registers = &Registers;
    Driver.CountersAtHalt = &Counters;
    if (NdislockMiniportInitialize(MpInitializeEx, &Driver, &AdapterHandle) != NDIS_STATUS_SUCCESS) {
        printf("FAIL: MiniportInitializeEx failed\n");
        return 1;
    }

    pthread_create(&HardwareThread, NULL, Hardware, NULL);
    pthread_create(&ProtocolThread, NULL, Protocol, NULL);
    for (ULONG i = 0; i < SENDERS; i++)
        pthread_create(&Senders[i], NULL, Sender, (void *)(ULONG_PTR)i);
    for (ULONG i = 0; i < SENDERS; i++)
        pthread_join(Senders[i], NULL);
    InterlockedExchange(&SendersDone, 1);
    pthread_join(HardwareThread, NULL);
    pthread_join(ProtocolThread, NULL);

    /* The deferred work has run, at least once each way, before the adapter halts. (Receives
     * cannot finish without the watchdog's reclaims, so it has been racing the datapath.) */
    do {
        MpQueryCounters(Driver.Adapter, &Live);
        if (Live.WorkItemsRun >= 1 && Live.TimerTicks >= 2 * MP_WORK_ITEM_EVERY) break;
        NdisMSleep(1000);
    } while (!Late());

    NdislockMiniportHalt(AdapterHandle, MpHaltEx, Driver.Adapter);
    NdisFreeSpinLock(&ProtocolLock);

    for (ULONG64 i = 0; i < SendTotal; i++)
        Wrong += CompletedTimes[i] != 1;
    for (ULONG i = 0; i < PacketsReceived; i++)
        Wrong += IndicatedTimes[i] != 1;

    printf("sent %llu, completed %lld; received %lu, indicated %lld, returned %lld, reclaimed %lld\n",
           (unsigned long long)SendTotal, (long long)Counters.Completed, (unsigned long)PacketsReceived,
           (long long)Counters.Indicated, (long long)Counters.Returned, (long long)Counters.Reclaimed);
    printf("ISR claimed %lld, DPC runs %lld; watchdog ticks %lld (stalled %lld), work items queued %lld, run %lld, "
           "deepest send queue %lld\n",
           (long long)Counters.IsrClaimed, (long long)Counters.DpcRuns, (long long)Counters.TimerTicks,
           (long long)Counters.StalledTicks, (long long)Counters.WorkItemsQueued, (long long)Counters.WorkItemsRun,
           (long long)Counters.MaxSendDepth);
    Failed |= Check("finished within the time limit", !TimedOut && !Counters.HaltWaitTimedOut);
    Failed |= Check("every packet sent was completed exactly once", Counters.Queued == (LONG64)SendTotal &&
                                                                        Counters.Completed == (LONG64)SendTotal &&
                                                                        Wrong == 0 && DoubleHandover == 0);
    Failed |= Check("every packet received was indicated once, returned, reclaimed",
                    Counters.Indicated == (LONG64)PacketsReceived && Counters.Returned == (LONG64)PacketsReceived &&
                        Counters.Reclaimed == (LONG64)PacketsReceived && Returned == (LONG64)PacketsReceived);
    Failed |= Check("every receive buffer back on the free list", Counters.FreeAtHalt == MP_RX_BUFFERS);
    Failed |= Check("the watchdog ran; every work item it queued ran at PASSIVE_LEVEL",
                    Counters.TimerTicks >= 2 * MP_WORK_ITEM_EVERY && Counters.WorkItemsRun >= 1 &&
                        Counters.WorkItemsQueued == Counters.WorkItemsRun &&
                        Counters.WorkItemsQueued <= Counters.TimerTicks / MP_WORK_ITEM_EVERY &&
                        Counters.WorkItemsWrongIrql == 0 && Counters.WorkItemAllocFailures == 0 &&
                        Counters.WalkMismatches == 0);
    Failed |= Check("the ISR claimed interrupts and the DPC ran", Counters.IsrClaimed >= 1 && Counters.DpcRuns >= 1);
    Failed |= Check("the verifier reported nothing", NdislockVerifierFindingCount() == 0);
    Failed |= Check("back at PASSIVE_LEVEL", KeGetCurrentIrql() == PASSIVE_LEVEL);
    printf("%s\n", Failed ? "FAIL" : "PASS");
    free(SendPackets);
    free((void *)CompletedTimes);
    free((void *)IndicatedTimes);
    return Failed;
}
