// The exploration tests' device: one line-based interrupt whose ISR and DPC run the scenario's
// bodies (std::function, set per test or per schedule). Registered once per test, before the
// exploration, on the test's thread.
#pragma once

#include <functional>

#include "ndislock/device.h"
#include "ndislock/ndis.h"

namespace explore_support {

struct Device {
    NDIS_HANDLE adapter = nullptr;
    NDIS_HANDLE interrupt = nullptr;
    std::function<void(PBOOLEAN queue_dpc)> isr; // default: queue the DPC
    std::function<void()> dpc;

    static BOOLEAN Isr(NDIS_HANDLE context, PBOOLEAN queue_dpc, PULONG) {
        auto &d = *static_cast<Device *>(context);
        *queue_dpc = TRUE;
        if (d.isr) d.isr(queue_dpc);
        return TRUE;
    }
    static VOID Dpc(NDIS_HANDLE context, PVOID, PVOID, PVOID) {
        auto &d = *static_cast<Device *>(context);
        if (d.dpc) d.dpc();
    }
    static NDIS_STATUS Initialize(NDIS_HANDLE adapter, NDIS_HANDLE driver_context, PNDIS_MINIPORT_INIT_PARAMETERS) {
        auto &d = *static_cast<Device *>(driver_context);
        NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS c{};
        c.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
        c.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
        c.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
        c.InterruptHandler = Isr;
        c.InterruptDpcHandler = Dpc;
        c.InterruptType = NDIS_CONNECT_LINE_BASED;
        d.adapter = adapter;
        return NdisMRegisterInterruptEx(adapter, &d, &c, &d.interrupt);
    }
    static VOID Halt(NDIS_HANDLE context, NDIS_HALT_ACTION) {
        NdisMDeregisterInterruptEx(static_cast<Device *>(context)->interrupt);
    }
};

} // namespace explore_support
