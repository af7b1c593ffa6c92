// Both work item workers held in routines that wait for an event, so that an item queued meanwhile
// stays queued: for the tests of queueing an item that is still queued (tests/unit/work_items_test,
// tests/verifier/waits_rules_test). let_go returns once both routines are past their use of this
// object and their items are idle and freed (those the test did not free itself).
#pragma once

#include <atomic>

#include <gtest/gtest.h>

#include "interrupt/work_items.h"
#include "ndislock/wdk.h"
#include "test_support.h"

namespace ndislock_test {

struct BusyWorkers {
    KEVENT go;
    std::atomic<int> started{0}, finished{0};
    NDIS_HANDLE items[2] = {};
    int adapter = 0;

    static void Hold(PVOID context, NDIS_HANDLE) {
        auto *self = static_cast<BusyWorkers *>(context);
        self->started.fetch_add(1);
        LARGE_INTEGER limit;
        limit.QuadPart = -200'000'000; // 20 s: the test's watchdog ends it first
        KeWaitForSingleObject(&self->go, Executive, KernelMode, FALSE, &limit);
        self->finished.fetch_add(1);
    }
    void occupy() {
        KeInitializeEvent(&go, NotificationEvent, FALSE);
        for (NDIS_HANDLE &item : items) {
            item = NdisAllocateIoWorkItem(&adapter);
            ASSERT_NE(item, nullptr);
            NdisQueueIoWorkItem(item, Hold, this);
        }
        ASSERT_TRUE(eventually([&] { return started.load() == 2; }));
    }
    void let_go() {
        KeSetEvent(&go, IO_NO_INCREMENT, FALSE);
        ASSERT_TRUE(eventually([&] { return finished.load() == 2; }));
        for (NDIS_HANDLE item : items) {
            ASSERT_TRUE(
                eventually([&] { return !ndislock::interrupt::work_item_busy(static_cast<PIO_WORKITEM>(item)); }));
            if (ndislock::interrupt::work_item_valid(static_cast<PIO_WORKITEM>(item))) // not freed by the test
                NdisFreeIoWorkItem(item);
        }
    }
};

} // namespace ndislock_test
