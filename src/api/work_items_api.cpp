// Work items (ndislock/wdk_work_items.h): the NDIS and I/O manager calls over interrupt/work_items.h,
// and the reports of their misuse (WorkItemMisuse).
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <cstdio>

#include "api/spin_lock_ops.h"
#include "interrupt/work_items.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// A handle that is no live work item: ends the process (a bug check on Windows), before anything
// touches it.
void check_item(const char *call, PIO_WORKITEM item, const Site &site) noexcept {
    if (interrupt::work_item_valid(item)) return;
    char detail[200];
    std::snprintf(detail, sizeof detail,
                  "%s(%p): not a live work item (NULL, never allocated, or freed): bug check 0xE4 WORKER_INVALID", call,
                  static_cast<void *>(item));
    observe::report_misuse(observe::Rule::BugCheck, site, detail);
    platform::fatal("BugCheck: %s", detail); // reached only if an observer let it go on
}

void misuse(const char *call, PIO_WORKITEM item, interrupt::WorkItemUse use, const Site &site) noexcept {
    if (use == interrupt::WorkItemUse::Done) return;
    char detail[300];
    if (use == interrupt::WorkItemUse::AlreadyQueued)
        std::snprintf(detail, sizeof detail,
                      "%s(%p) of a work item that is still queued: it runs once per queueing that finds it idle; "
                      "queueing it again corrupts the system queue on Windows (it is not queued again)",
                      call, static_cast<void *>(item));
    else
        std::snprintf(detail, sizeof detail,
                      "%s(%p) of a work item that is queued or running: its routine would run on freed memory on "
                      "Windows (ndislock frees it once the routine has returned)",
                      call, static_cast<void *>(item));
    observe::report_if_observed(observe::Rule::WorkItemMisuse, site, detail);
}

void queue(const char *call, PIO_WORKITEM item, void (*routine)(), PVOID context, const Site &site) noexcept {
    check_call_irql(this_thread(), DISPATCH_LEVEL, call, site);
    check_item(call, item, site);
    misuse(call, item, interrupt::work_item_queue(item, routine, context), site);
}

void free_item(const char *call, PIO_WORKITEM item, const Site &site) noexcept {
    this_thread();
    check_item(call, item, site);
    misuse(call, item, interrupt::work_item_free(item), site);
}

} // namespace

extern "C" {

NDISLOCK_API PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT device) {
    this_thread();
    if (device == nullptr) return nullptr;
    return interrupt::work_item_allocate(device, false);
}

NDISLOCK_API VOID ndislock_at_IoQueueWorkItem(PIO_WORKITEM item, PIO_WORKITEM_ROUTINE routine, WORK_QUEUE_TYPE,
                                              PVOID context, const char *f, int n, const char *fn) {
    queue("IoQueueWorkItem", item, reinterpret_cast<void (*)()>(routine), context, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID IoQueueWorkItem(PIO_WORKITEM item, PIO_WORKITEM_ROUTINE routine, WORK_QUEUE_TYPE, PVOID context) {
    queue("IoQueueWorkItem", item, reinterpret_cast<void (*)()>(routine), context, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_IoFreeWorkItem(PIO_WORKITEM item, const char *f, int n, const char *fn) {
    free_item("IoFreeWorkItem", item, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID IoFreeWorkItem(PIO_WORKITEM item) {
    free_item("IoFreeWorkItem", item, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API NDIS_HANDLE NdisAllocateIoWorkItem(NDIS_HANDLE object) {
    this_thread();
    if (object == nullptr) return nullptr;
    return interrupt::work_item_allocate(object, true);
}

NDISLOCK_API VOID ndislock_at_NdisQueueIoWorkItem(NDIS_HANDLE item, NDIS_IO_WORKITEM_ROUTINE routine, PVOID context,
                                                  const char *f, int n, const char *fn) {
    queue("NdisQueueIoWorkItem", static_cast<PIO_WORKITEM>(item), reinterpret_cast<void (*)()>(routine), context,
          NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID NdisQueueIoWorkItem(NDIS_HANDLE item, NDIS_IO_WORKITEM_ROUTINE routine, PVOID context) {
    queue("NdisQueueIoWorkItem", static_cast<PIO_WORKITEM>(item), reinterpret_cast<void (*)()>(routine), context,
          NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_NdisFreeIoWorkItem(NDIS_HANDLE item, const char *f, int n, const char *fn) {
    free_item("NdisFreeIoWorkItem", static_cast<PIO_WORKITEM>(item), NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID NdisFreeIoWorkItem(NDIS_HANDLE item) {
    free_item("NdisFreeIoWorkItem", static_cast<PIO_WORKITEM>(item), NDISLOCK_SITE(nullptr, 0, nullptr));
}

} // extern "C"
