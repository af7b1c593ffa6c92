/* The flow table: lookups take the EX_SPIN_LOCK shared, a new flow takes it exclusive (by
 * converting the shared hold when this is the only reader, else by re-acquiring). */
#include "filter.h"

#define FLOW_SLOTS 64

typedef struct _FLOW {
    ULONG Key;                              /* 0: empty slot; written under FlowLock exclusive */
    ULONG64 Packets[FILTER_MAX_PROCESSORS]; /* per processor, under FlowLock shared */
} FLOW;

static EX_SPIN_LOCK FlowLock;
static FLOW Flows[FLOW_SLOTS];

void FlowTableInitialize(void) {
    FlowLock = 0;
    for (ULONG i = 0; i < FLOW_SLOTS; ++i) {
        Flows[i].Key = 0;
        for (ULONG p = 0; p < FILTER_MAX_PROCESSORS; ++p)
            Flows[i].Packets[p] = 0;
    }
}

/* Key + 1 is stored, so key 0 is a flow like any other. Caller holds FlowLock (any mode). */
static FLOW *Find(ULONG Key) {
    for (ULONG i = 0; i < FLOW_SLOTS; ++i)
        if (Flows[i].Key == Key + 1) return &Flows[i];
    return NULL;
}

/* Caller holds FlowLock exclusive. */
static FLOW *Insert(ULONG Key) {
    FLOW *f = Find(Key);
    if (f != NULL) return f;
    for (ULONG i = 0; i < FLOW_SLOTS; ++i)
        if (Flows[i].Key == 0) {
            Flows[i].Key = Key + 1;
            return &Flows[i];
        }
    return NULL;
}

void FlowTableCount(ULONG Key) {
    const ULONG cpu = KeGetCurrentProcessorNumberEx(NULL);
    FLOW *f;
    ExAcquireSpinLockSharedAtDpcLevel(&FlowLock);
    f = Find(Key);
    if (f == NULL) {
        if (ExTryConvertSharedSpinLockExclusive(&FlowLock)) {
            f = Insert(Key);
            if (f != NULL) f->Packets[cpu]++;
            ExReleaseSpinLockExclusiveFromDpcLevel(&FlowLock);
            return;
        }
        ExReleaseSpinLockSharedFromDpcLevel(&FlowLock);
        ExAcquireSpinLockExclusiveAtDpcLevel(&FlowLock);
        f = Insert(Key); /* another processor may have inserted it meanwhile */
        if (f != NULL) f->Packets[cpu]++;
        ExReleaseSpinLockExclusiveFromDpcLevel(&FlowLock);
        return;
    }
    f->Packets[cpu]++; /* this processor's counter: shared holders on other processors use theirs */
    ExReleaseSpinLockSharedFromDpcLevel(&FlowLock);
}

ULONG64 FlowTableSum(void) {
    ULONG64 sum = 0;
    const KIRQL old = ExAcquireSpinLockShared(&FlowLock);
    for (ULONG i = 0; i < FLOW_SLOTS; ++i)
        for (ULONG p = 0; p < FILTER_MAX_PROCESSORS; ++p)
            sum += Flows[i].Packets[p];
    ExReleaseSpinLockShared(&FlowLock, old);
    return sum;
}
