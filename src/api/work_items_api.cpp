// Work items (ndislock/wdk_work_items.h): the NDIS, I/O manager and executive calls over
// interrupt/work_items.h, and the reports of their misuse (WorkItemMisuse).
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <cstdio>

#include "api/spin_lock_ops.h"
#include "interrupt/work_items.h"

using namespace ndislock;
using namespace ndislock::api;
using interrupt::WorkItemUse;
using interrupt::WorkRoutine;

namespace {

// Reports a bug check (the process ends unless an observer lets it go on).
void bug_check(const char *detail, const Site &site) noexcept {
    observe::report_misuse(observe::Rule::BugCheck, site, detail);
    platform::fatal("BugCheck: %s", detail); // reached only if an observer let it go on
}

// A handle that is no live work item: ends the process (a bug check on Windows), before anything
// touches it.
void check_item(const char *call, PIO_WORKITEM item, const Site &site) noexcept {
    if (interrupt::work_item_valid(item)) return;
    char detail[240];
    std::snprintf(detail, sizeof detail,
                  "%s(%p): not a live work item (NULL, never allocated or initialized, freed, or uninitialized): "
                  "bug check 0xE4 WORKER_INVALID",
                  call, static_cast<void *>(item));
    bug_check(detail, site);
}

void misuse(const char *call, const void *item, WorkItemUse use, const Site &site) noexcept {
    char detail[400];
    switch (use) {
    case WorkItemUse::Done:
    case WorkItemUse::NoItem: // said on stderr by the pool
        return;
    case WorkItemUse::AlreadyQueued:
        std::snprintf(detail, sizeof detail,
                      "%s(%p) of a work item that is still queued: it runs once per queueing that finds it idle; "
                      "queueing it again corrupts the system queue on Windows (it is not queued again)",
                      call, item);
        break;
    case WorkItemUse::FreedWhileBusy:
        if (interrupt::work_item_is_initialized(static_cast<PIO_WORKITEM>(const_cast<void *>(item))))
            std::snprintf(detail, sizeof detail,
                          "%s(%p) of a work item that is queued or running: on Windows its routine would run on "
                          "storage the driver may free next (the pending run still happens; ndislock no longer "
                          "touches the storage)",
                          call, item);
        else
            std::snprintf(detail, sizeof detail,
                          "%s(%p) of a work item that is queued or running: its routine would run on freed memory on "
                          "Windows (ndislock frees it once the routine has returned)",
                          call, item);
        break;
    case WorkItemUse::WrongKind:
        if (interrupt::work_item_is_initialized(static_cast<PIO_WORKITEM>(const_cast<void *>(item))))
            std::snprintf(detail, sizeof detail,
                          "%s(%p) of a work item that IoInitializeWorkItem initialized in the driver's storage: end it "
                          "with IoUninitializeWorkItem (Windows would free memory it never allocated; nothing is done)",
                          call, item);
        else
            std::snprintf(detail, sizeof detail,
                          "%s(%p) of a work item from IoAllocateWorkItem or NdisAllocateIoWorkItem: free it with "
                          "IoFreeWorkItem or NdisFreeIoWorkItem (uninitialized, it would leak on Windows; nothing is "
                          "done)",
                          call, item);
        break;
    case WorkItemUse::InitializedAgain:
        std::snprintf(detail, sizeof detail,
                      "%s(%p) of storage that is still an initialized work item (no IoUninitializeWorkItem since its "
                      "last IoInitializeWorkItem): Windows leaks the first, or corrupts its queue if it is queued "
                      "(ndislock keeps the one item)",
                      call, item);
        break;
    }
    observe::report_if_observed(observe::Rule::WorkItemMisuse, site, detail);
}

void queue(const char *call, PIO_WORKITEM item, WorkRoutine shape, void (*routine)(), PVOID context,
           const Site &site) noexcept {
    check_call_irql(this_thread(), DISPATCH_LEVEL, call, site);
    check_item(call, item, site);
    misuse(call, item, interrupt::work_item_queue(item, shape, routine, context), site);
}

void free_item(const char *call, PIO_WORKITEM item, const Site &site) noexcept {
    this_thread();
    check_item(call, item, site);
    misuse(call, item, interrupt::work_item_free(item), site);
}

void initialize(PVOID object, PIO_WORKITEM item, const Site &site) noexcept {
    this_thread();
    char detail[200];
    if (item == nullptr) {
        std::snprintf(detail, sizeof detail, "IoInitializeWorkItem(%p, NULL): no storage to initialize", object);
        bug_check(detail, site);
        return;
    }
    if (object == nullptr) {
        std::snprintf(detail, sizeof detail,
                      "IoInitializeWorkItem(NULL, %p): no driver or device object (Windows references it; the "
                      "routine receives NULL)",
                      static_cast<void *>(item));
        observe::report_if_observed(observe::Rule::WorkItemMisuse, site, detail);
    }
    misuse("IoInitializeWorkItem", item, interrupt::work_item_initialize(object, item), site);
}

void uninitialize(PIO_WORKITEM item, const Site &site) noexcept {
    this_thread();
    check_item("IoUninitializeWorkItem", item, site);
    misuse("IoUninitializeWorkItem", item, interrupt::work_item_uninitialize(item), site);
}

void ex_queue(PWORK_QUEUE_ITEM item, const Site &site) noexcept {
    check_call_irql(this_thread(), DISPATCH_LEVEL, "ExQueueWorkItem", site);
    if (item == nullptr || item->WorkerRoutine == nullptr) {
        char detail[200];
        std::snprintf(detail, sizeof detail, "ExQueueWorkItem(%p): %s (a system worker thread faults on it on Windows)",
                      static_cast<void *>(item),
                      item == nullptr ? "no WORK_QUEUE_ITEM" : "its WorkerRoutine is NULL (no ExInitializeWorkItem?)");
        bug_check(detail, site);
        return;
    }
    misuse("ExQueueWorkItem", item, interrupt::work_item_queue_executive(item), site);
}

} // namespace

extern "C" {

NDISLOCK_API PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT device) {
    this_thread();
    if (device == nullptr) return nullptr;
    return interrupt::work_item_allocate(device);
}

NDISLOCK_API VOID ndislock_at_IoQueueWorkItem(PIO_WORKITEM item, PIO_WORKITEM_ROUTINE routine, WORK_QUEUE_TYPE,
                                              PVOID context, const char *f, int n, const char *fn) {
    queue("IoQueueWorkItem", item, WorkRoutine::Io, reinterpret_cast<void (*)()>(routine), context,
          NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID IoQueueWorkItem(PIO_WORKITEM item, PIO_WORKITEM_ROUTINE routine, WORK_QUEUE_TYPE, PVOID context) {
    queue("IoQueueWorkItem", item, WorkRoutine::Io, reinterpret_cast<void (*)()>(routine), context,
          NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_IoFreeWorkItem(PIO_WORKITEM item, const char *f, int n, const char *fn) {
    free_item("IoFreeWorkItem", item, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID IoFreeWorkItem(PIO_WORKITEM item) {
    free_item("IoFreeWorkItem", item, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API ULONG IoSizeofWorkItem(VOID) { return interrupt::work_item_caller_size(); }

NDISLOCK_API VOID ndislock_at_IoInitializeWorkItem(PVOID object, PIO_WORKITEM item, const char *f, int n,
                                                   const char *fn) {
    initialize(object, item, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID IoInitializeWorkItem(PVOID object, PIO_WORKITEM item) {
    initialize(object, item, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_IoUninitializeWorkItem(PIO_WORKITEM item, const char *f, int n, const char *fn) {
    uninitialize(item, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID IoUninitializeWorkItem(PIO_WORKITEM item) { uninitialize(item, NDISLOCK_SITE(nullptr, 0, nullptr)); }

NDISLOCK_API VOID ndislock_at_IoQueueWorkItemEx(PIO_WORKITEM item, PIO_WORKITEM_ROUTINE_EX routine, WORK_QUEUE_TYPE,
                                                PVOID context, const char *f, int n, const char *fn) {
    queue("IoQueueWorkItemEx", item, WorkRoutine::IoEx, reinterpret_cast<void (*)()>(routine), context,
          NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID IoQueueWorkItemEx(PIO_WORKITEM item, PIO_WORKITEM_ROUTINE_EX routine, WORK_QUEUE_TYPE,
                                    PVOID context) {
    queue("IoQueueWorkItemEx", item, WorkRoutine::IoEx, reinterpret_cast<void (*)()>(routine), context,
          NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_ExQueueWorkItem(PWORK_QUEUE_ITEM item, WORK_QUEUE_TYPE, const char *f, int n,
                                              const char *fn) {
    ex_queue(item, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID ExQueueWorkItem(PWORK_QUEUE_ITEM item, WORK_QUEUE_TYPE) {
    ex_queue(item, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API NDIS_HANDLE NdisAllocateIoWorkItem(NDIS_HANDLE object) {
    this_thread();
    if (object == nullptr) return nullptr;
    return interrupt::work_item_allocate(object);
}

NDISLOCK_API VOID ndislock_at_NdisQueueIoWorkItem(NDIS_HANDLE item, NDIS_IO_WORKITEM_ROUTINE routine, PVOID context,
                                                  const char *f, int n, const char *fn) {
    queue("NdisQueueIoWorkItem", static_cast<PIO_WORKITEM>(item), WorkRoutine::Ndis,
          reinterpret_cast<void (*)()>(routine), context, NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID NdisQueueIoWorkItem(NDIS_HANDLE item, NDIS_IO_WORKITEM_ROUTINE routine, PVOID context) {
    queue("NdisQueueIoWorkItem", static_cast<PIO_WORKITEM>(item), WorkRoutine::Ndis,
          reinterpret_cast<void (*)()>(routine), context, NDISLOCK_SITE(nullptr, 0, nullptr));
}

NDISLOCK_API VOID ndislock_at_NdisFreeIoWorkItem(NDIS_HANDLE item, const char *f, int n, const char *fn) {
    free_item("NdisFreeIoWorkItem", static_cast<PIO_WORKITEM>(item), NDISLOCK_SITE(f, n, fn));
}
NDISLOCK_API VOID NdisFreeIoWorkItem(NDIS_HANDLE item) {
    free_item("NdisFreeIoWorkItem", static_cast<PIO_WORKITEM>(item), NDISLOCK_SITE(nullptr, 0, nullptr));
}

} // extern "C"
