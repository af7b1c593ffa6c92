// A small miniport for the interrupt tests: an adapter with one line-based interrupt whose ISR
// and DPC run test-supplied bodies, registered through NdislockMiniportInitialize as NDIS would.
#pragma once

#include <atomic>
#include <functional>

#include <gtest/gtest.h>

#include "../unit/test_support.h"
#include "model/thread_state.h"
#include "ndislock/device.h" // the harness: adapters, asserting the line, interrupt statistics
#include "ndislock/ndis.h"

namespace ndislock_test {

// NdislockSetProcessorCount for a test that may run in one process after others (a whole binary,
// not ctest's process per test): the call is NDISLOCK_BUSY while any thread is at DISPATCH_LEVEL
// or above, which an earlier test's interrupt and DPC threads can still be for a moment after its
// device is gone. Waits for that (bounded: eventually's limit), then returns the call's result.
inline NDISLOCK_STATUS set_processor_count(ULONG count) {
    NDISLOCK_STATUS status = NDISLOCK_BUSY;
    eventually([&] { return (status = NdislockSetProcessorCount(count)) != NDISLOCK_BUSY; });
    return status;
}

struct TestDevice {
    NDIS_HANDLE adapter = nullptr;
    NDIS_HANDLE interrupt = nullptr;
    // What the callbacks do; each gets the device. Defaults: claim the interrupt, queue the DPC.
    std::function<BOOLEAN(TestDevice &, PBOOLEAN queue_dpc, PULONG targets)> isr;
    std::function<void(TestDevice &, PVOID dpc_context)> dpc;
    std::function<void(TestDevice &, bool enable)> enable_disable;
    // Completed runs: counted after the body, so a test that sees the count move also sees
    // everything the body stored.
    std::atomic<int> isr_runs{0}, dpc_runs{0};

    static BOOLEAN Isr(NDIS_HANDLE context, PBOOLEAN queue_dpc, PULONG targets) {
        auto &d = *static_cast<TestDevice *>(context);
        BOOLEAN claimed = TRUE;
        if (d.isr)
            claimed = d.isr(d, queue_dpc, targets);
        else
            *queue_dpc = TRUE;
        d.isr_runs.fetch_add(1);
        return claimed;
    }
    static VOID Dpc(NDIS_HANDLE context, PVOID dpc_context, PVOID, PVOID) {
        auto &d = *static_cast<TestDevice *>(context);
        if (d.dpc) d.dpc(d, dpc_context);
        d.dpc_runs.fetch_add(1);
    }
    static VOID Enable(NDIS_HANDLE context) {
        auto &d = *static_cast<TestDevice *>(context);
        if (d.enable_disable) d.enable_disable(d, true);
    }
    static VOID Disable(NDIS_HANDLE context) {
        auto &d = *static_cast<TestDevice *>(context);
        if (d.enable_disable) d.enable_disable(d, false);
    }
    static NDIS_STATUS Initialize(NDIS_HANDLE adapter, NDIS_HANDLE driver_context, PNDIS_MINIPORT_INIT_PARAMETERS) {
        auto &d = *static_cast<TestDevice *>(driver_context);
        d.adapter = adapter;
        NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS c{};
        c.Header.Type = NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT;
        c.Header.Revision = NDIS_MINIPORT_INTERRUPT_REVISION_1;
        c.Header.Size = NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1;
        c.InterruptHandler = Isr;
        c.InterruptDpcHandler = Dpc;
        c.EnableInterruptHandler = Enable;
        c.DisableInterruptHandler = Disable;
        c.InterruptType = NDIS_CONNECT_LINE_BASED;
        return NdisMRegisterInterruptEx(adapter, &d, &c, &d.interrupt);
    }
    static VOID Halt(NDIS_HANDLE context, NDIS_HALT_ACTION) {
        auto &d = *static_cast<TestDevice *>(context);
        NdisMDeregisterInterruptEx(d.interrupt);
        d.interrupt = nullptr;
    }

    void start() { ASSERT_EQ(NdislockMiniportInitialize(Initialize, this, &adapter), NDIS_STATUS_SUCCESS); }
    void halt() {
        if (adapter != nullptr) NdislockMiniportHalt(adapter, Halt, this);
        adapter = nullptr;
    }
    NDISLOCK_INTERRUPT_STATS stats() const {
        NDISLOCK_INTERRUPT_STATS s{};
        EXPECT_EQ(NdislockGetInterruptStats(interrupt, &s), NDISLOCK_OK);
        return s;
    }
    ~TestDevice() { halt(); }
};

// Runs body on a thread bound to processor, joined before returning.
inline void on_processor(ULONG processor, const std::function<void()> &body) {
    std::thread t([&] {
        EXPECT_EQ(NdislockBindCurrentThread(processor), NDISLOCK_OK);
        body();
    });
    t.join();
}

} // namespace ndislock_test
