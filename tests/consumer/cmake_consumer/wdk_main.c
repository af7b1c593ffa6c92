/* consumer.installed_package, the WDK face: driver-style code that includes <ndis.h> from the
 * installed include/wdk (ndislock::wdk or `pkg-config ndislock-wdk`), with a user header for the
 * datapath type it needs. Exits 0 and prints "wdk consumer: ok" when every check holds. */
#include <stdio.h>

#include <ndis.h>
#include <ndislock/verifier.h>

typedef struct _ITEM {
    LIST_ENTRY Link;
    ULONG Value;
} ITEM;

int main(void) {
    NDIS_SPIN_LOCK Lock;
    LIST_ENTRY Queue;
    ITEM Items[8];
    ULONG i, Sum = 0;
    LONG Count = 0;
    CONSUMER_PACKET Packet = {0};
    int Failures = 0;

    NdisAllocateSpinLock(&Lock);
    InitializeListHead(&Queue);
    for (i = 0; i < RTL_NUMBER_OF(Items); i++) {
        Items[i].Value = i;
        NdisInterlockedInsertTailList(&Queue, &Items[i].Link, &Lock);
        InterlockedIncrement(&Count);
    }
    for (PLIST_ENTRY e; (e = NdisInterlockedRemoveHeadList(&Queue, &Lock)) != NULL;)
        Sum += CONTAINING_RECORD(e, ITEM, Link)->Value;
    Packet.Length = 60;
    if (Sum != 28 || Count != 8 || !IsListEmpty(&Queue)) Failures++;
    if (NDIS_TEST_SEND_AT_DISPATCH_LEVEL(0) || !NT_SUCCESS(STATUS_SUCCESS) || Packet.Length != 60) Failures++;
    if (KeQueryMaximumProcessorCount() == 0 || NdislockVerifierErrorCount() != 0) Failures++;
    NdisFreeSpinLock(&Lock);
    if (Failures != 0) {
        printf("wdk consumer: %d failure(s)\n", Failures);
        return 1;
    }
    printf("wdk consumer: ok\n");
    return 0;
}
