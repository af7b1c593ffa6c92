/* Drives the filter as NDIS would: send and receive paths on several threads at DISPATCH_LEVEL (a
 * batch per raise, as a DPC or a send indication runs), attach and detach at PASSIVE_LEVEL on
 * another, more threads than virtual processors. With the verifier on it must report nothing, and
 * every packet is accounted for exactly. Usage: wdk_filter_test [packets per thread]. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "filter.h"

#include <ndislock/verifier.h> /* the exit check reads the verifier's findings */

#define DATAPATH_THREADS 6
#define MODULES 4

static ULONG PacketsPerThread = 20000;
static volatile int DatapathDone;
static ULONG64 Delivered[DATAPATH_THREADS], Dropped[DATAPATH_THREADS], Received[DATAPATH_THREADS],
    Rejected[DATAPATH_THREADS];

static void *Datapath(void *arg) {
    const ULONG index = (ULONG)(ULONG_PTR)arg;
    ULONG x = 2463534242u + index * 7919u;
    for (ULONG done = 0; done < PacketsPerThread;) {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        for (ULONG batch = 0; batch < 32 && done < PacketsPerThread; ++batch, ++done) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if (index % 2 == 0) {
                if (FilterSendNetBufferLists(x % MODULES))
                    Delivered[index]++;
                else
                    Dropped[index]++;
            } else {
                if (FilterReceiveNetBufferLists(x % 48, (x >> 8) % FILTER_VLANS))
                    Received[index]++;
                else
                    Rejected[index]++;
            }
        }
        KeLowerIrql(old);
    }
    return NULL;
}

static void *Control(void *arg) {
    ULONG round = 0;
    (void)arg;
    while (!__atomic_load_n(&DatapathDone, __ATOMIC_ACQUIRE)) {
        const ULONG id = 1 + round % (MODULES - 1); /* module 0 stays attached */
        if (!FilterDetach(id)) FilterAttach(id);
        VlanTableToggle(1 + round % (FILTER_VLANS - 1)); /* VLAN 0 stays allowed */
        ++round;
        NdisMSleep(50);
    }
    return NULL;
}

int main(int argc, char **argv) {
    pthread_t datapath[DATAPATH_THREADS], control;
    ULONG64 delivered = 0, dropped = 0, received = 0, rejected = 0;
    int failed = 0;
    if (argc > 1) PacketsPerThread = (ULONG)strtoul(argv[1], NULL, 10);
    NdislockSetProcessorCount(2);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    if (FilterDriverInitialize() != NDIS_STATUS_SUCCESS) return 2;
    FilterAttach(0);
    pthread_create(&control, NULL, Control, NULL);
    for (ULONG i = 0; i < DATAPATH_THREADS; ++i)
        pthread_create(&datapath[i], NULL, Datapath, (void *)(ULONG_PTR)i);
    for (ULONG i = 0; i < DATAPATH_THREADS; ++i)
        pthread_join(datapath[i], NULL);
    __atomic_store_n(&DatapathDone, 1, __ATOMIC_RELEASE);
    pthread_join(control, NULL);

    for (ULONG i = 0; i < DATAPATH_THREADS; ++i) {
        delivered += Delivered[i];
        dropped += Dropped[i];
        received += Received[i];
        rejected += Rejected[i];
    }
    printf("sent %llu (delivered %llu, dropped %llu), received %llu (accepted %llu, rejected by VLAN %llu)\n",
           (unsigned long long)(delivered + dropped), (unsigned long long)delivered, (unsigned long long)dropped,
           (unsigned long long)(received + rejected), (unsigned long long)received, (unsigned long long)rejected);
    if (FilterSentTotal() != delivered) {
        printf("FAIL: the modules counted %llu sends, the senders %llu\n", (unsigned long long)FilterSentTotal(),
               (unsigned long long)delivered);
        failed = 1;
    }
    if (delivered + dropped != (ULONG64)(DATAPATH_THREADS / 2) * PacketsPerThread) failed = 1;
    if (VlanTableRejected() != rejected) {
        printf("FAIL: the VLAN table counted %llu rejections, the receivers %llu\n",
               (unsigned long long)VlanTableRejected(), (unsigned long long)rejected);
        failed = 1;
    }
    if (FlowTableTotal() != received || received + rejected != (ULONG64)(DATAPATH_THREADS / 2) * PacketsPerThread) {
        printf("FAIL: the flow table counted %llu, the receivers %llu\n", (unsigned long long)FlowTableTotal(),
               (unsigned long long)received);
        failed = 1;
    }
    FilterDriverUnload();
    if (NdislockVerifierFindingCount() != 0) {
        printf("FAIL: the verifier reported %lu finding(s)\n", (unsigned long)NdislockVerifierFindingCount());
        failed = 1;
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) failed = 1;
    printf("%s\n", failed ? "FAIL" : "PASS");
    return failed;
}
