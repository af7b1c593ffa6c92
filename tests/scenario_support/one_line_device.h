/* The scenario programs' device (tests/trace, tests/report): one line-based interrupt whose ISR
 * claims it and queues its DPC, and a DPC that counts its runs. NdislockMiniportInitialize with
 * Initialize registers it (Interrupt), NdislockMiniportHalt with Halt deregisters it. C11. */
#ifndef NDISLOCK_TESTS_ONE_LINE_DEVICE_H
#define NDISLOCK_TESTS_ONE_LINE_DEVICE_H

#include <string.h>

#include <ndislock/device.h>
#include <ndislock/ndis.h>

static NDIS_HANDLE Interrupt;
static volatile LONG DpcRuns;

static BOOLEAN Isr(NDIS_HANDLE Context, PBOOLEAN QueueDpc, PULONG Targets) {
    (void)Context;
    (void)Targets;
    *QueueDpc = TRUE;
    return TRUE;
}

static VOID Dpc(NDIS_HANDLE Context, PVOID DpcContext, PVOID Arg1, PVOID Arg2) {
    (void)Context;
    (void)DpcContext;
    (void)Arg1;
    (void)Arg2;
    __atomic_add_fetch(&DpcRuns, 1, __ATOMIC_SEQ_CST);
}

static NDIS_STATUS Initialize(NDIS_HANDLE Adapter, NDIS_HANDLE DriverContext, PNDIS_MINIPORT_INIT_PARAMETERS Params) {
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS c;
    (void)DriverContext;
    (void)Params;
    memset(&c, 0, sizeof c);
    c.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
    c.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
    c.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
    c.InterruptHandler = Isr;
    c.InterruptDpcHandler = Dpc;
    c.InterruptType = NDIS_CONNECT_LINE_BASED;
    return NdisMRegisterInterruptEx(Adapter, NULL, &c, &Interrupt);
}

static VOID Halt(NDIS_HANDLE Context, NDIS_HALT_ACTION Action) {
    (void)Context;
    (void)Action;
    NdisMDeregisterInterruptEx(Interrupt);
}

#endif
