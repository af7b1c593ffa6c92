// The lists and counters guarded by the caller's spin lock (ndislock/wdk_interlocked.h). Each
// takes the lock through the exported site-taking spin-lock calls, the very path
// NdisAcquireSpinLock / KeAcquireSpinLock take from driver code, so IRQL rules, lock order, hold
// time and statistics see these acquisitions as the driver's own, at the driver's line.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include "api/spin_lock_ops.h"

using namespace ndislock;

namespace {

struct Where {
    const char *file;
    int line;
    const char *function;
};

// Holds an NDIS_SPIN_LOCK as NdisAcquireSpinLock / NdisReleaseSpinLock do.
template <class F> auto under_ndis_lock(PNDIS_SPIN_LOCK lock, const Where &w, F &&f) {
    ndislock_at_NdisAcquireSpinLock(lock, w.file, w.line, w.function);
    auto result = f();
    ndislock_at_NdisReleaseSpinLock(lock, w.file, w.line, w.function);
    return result;
}

// Holds a KSPIN_LOCK as KeAcquireSpinLock does, or AtDpcLevel above DISPATCH_LEVEL (Windows
// allows any IRQL here; the verifier reports the raised acquire: ndislock/wdk_interlocked.h).
template <class F> auto under_ke_lock(PKSPIN_LOCK lock, const Where &w, F &&f) {
    if (KeGetCurrentIrql() > DISPATCH_LEVEL) {
        ndislock_at_KeAcquireSpinLockAtDpcLevel(lock, w.file, w.line, w.function);
        auto result = f();
        ndislock_at_KeReleaseSpinLockFromDpcLevel(lock, w.file, w.line, w.function);
        return result;
    }
    const KIRQL old = ndislock_at_KeAcquireSpinLockRaiseToDpc(lock, w.file, w.line, w.function);
    auto result = f();
    ndislock_at_KeReleaseSpinLock(lock, old, w.file, w.line, w.function);
    return result;
}

// The list operations, returning what the interlocked forms return.
PLIST_ENTRY insert_head(PLIST_ENTRY head, PLIST_ENTRY entry, const Where &w) {
    PLIST_ENTRY first = ndislock_IsListEmpty(head) ? nullptr : head->Flink;
    ndislock_InsertHeadList(head, entry, w.file, w.line, w.function);
    return first;
}
PLIST_ENTRY insert_tail(PLIST_ENTRY head, PLIST_ENTRY entry, const Where &w) {
    PLIST_ENTRY last = ndislock_IsListEmpty(head) ? nullptr : head->Blink;
    ndislock_InsertTailList(head, entry, w.file, w.line, w.function);
    return last;
}
PLIST_ENTRY remove_head(PLIST_ENTRY head, const Where &w) {
    if (ndislock_IsListEmpty(head)) return nullptr;
    return ndislock_RemoveHeadList(head, w.file, w.line, w.function);
}
PSINGLE_LIST_ENTRY push(PSINGLE_LIST_ENTRY head, PSINGLE_LIST_ENTRY entry) {
    PSINGLE_LIST_ENTRY first = head->Next;
    ndislock_PushEntryList(head, entry);
    return first;
}

} // namespace

extern "C" {

NDISLOCK_API PLIST_ENTRY ndislock_at_NdisInterlockedInsertHeadList(PLIST_ENTRY h, PLIST_ENTRY e, PNDIS_SPIN_LOCK l,
                                                                   const char *f, int n, const char *fn) {
    const Where w{f, n, fn};
    return under_ndis_lock(l, w, [&] { return insert_head(h, e, w); });
}
NDISLOCK_API PLIST_ENTRY ndislock_at_NdisInterlockedInsertTailList(PLIST_ENTRY h, PLIST_ENTRY e, PNDIS_SPIN_LOCK l,
                                                                   const char *f, int n, const char *fn) {
    const Where w{f, n, fn};
    return under_ndis_lock(l, w, [&] { return insert_tail(h, e, w); });
}
NDISLOCK_API PLIST_ENTRY ndislock_at_NdisInterlockedRemoveHeadList(PLIST_ENTRY h, PNDIS_SPIN_LOCK l, const char *f,
                                                                   int n, const char *fn) {
    const Where w{f, n, fn};
    return under_ndis_lock(l, w, [&] { return remove_head(h, w); });
}
NDISLOCK_API PSINGLE_LIST_ENTRY ndislock_at_NdisInterlockedPushEntryList(PSINGLE_LIST_ENTRY h, PSINGLE_LIST_ENTRY e,
                                                                         PNDIS_SPIN_LOCK l, const char *f, int n,
                                                                         const char *fn) {
    return under_ndis_lock(l, Where{f, n, fn}, [&] { return push(h, e); });
}
NDISLOCK_API PSINGLE_LIST_ENTRY ndislock_at_NdisInterlockedPopEntryList(PSINGLE_LIST_ENTRY h, PNDIS_SPIN_LOCK l,
                                                                        const char *f, int n, const char *fn) {
    return under_ndis_lock(l, Where{f, n, fn}, [&] { return ndislock_PopEntryList(h); });
}
NDISLOCK_API VOID ndislock_at_NdisInterlockedAddUlong(PULONG a, ULONG i, PNDIS_SPIN_LOCK l, const char *f, int n,
                                                      const char *fn) {
    under_ndis_lock(l, Where{f, n, fn}, [&] { return *a += i; });
}

NDISLOCK_API PLIST_ENTRY ndislock_at_ExInterlockedInsertHeadList(PLIST_ENTRY h, PLIST_ENTRY e, PKSPIN_LOCK l,
                                                                 const char *f, int n, const char *fn) {
    const Where w{f, n, fn};
    return under_ke_lock(l, w, [&] { return insert_head(h, e, w); });
}
NDISLOCK_API PLIST_ENTRY ndislock_at_ExInterlockedInsertTailList(PLIST_ENTRY h, PLIST_ENTRY e, PKSPIN_LOCK l,
                                                                 const char *f, int n, const char *fn) {
    const Where w{f, n, fn};
    return under_ke_lock(l, w, [&] { return insert_tail(h, e, w); });
}
NDISLOCK_API PLIST_ENTRY ndislock_at_ExInterlockedRemoveHeadList(PLIST_ENTRY h, PKSPIN_LOCK l, const char *f, int n,
                                                                 const char *fn) {
    const Where w{f, n, fn};
    return under_ke_lock(l, w, [&] { return remove_head(h, w); });
}
NDISLOCK_API PSINGLE_LIST_ENTRY ndislock_at_ExInterlockedPushEntryList(PSINGLE_LIST_ENTRY h, PSINGLE_LIST_ENTRY e,
                                                                       PKSPIN_LOCK l, const char *f, int n,
                                                                       const char *fn) {
    return under_ke_lock(l, Where{f, n, fn}, [&] { return push(h, e); });
}
NDISLOCK_API PSINGLE_LIST_ENTRY ndislock_at_ExInterlockedPopEntryList(PSINGLE_LIST_ENTRY h, PKSPIN_LOCK l,
                                                                      const char *f, int n, const char *fn) {
    return under_ke_lock(l, Where{f, n, fn}, [&] { return ndislock_PopEntryList(h); });
}
NDISLOCK_API ULONG ndislock_at_ExInterlockedAddUlong(PULONG a, ULONG i, PKSPIN_LOCK l, const char *f, int n,
                                                     const char *fn) {
    return under_ke_lock(l, Where{f, n, fn}, [&] {
        const ULONG old = *a;
        *a = old + i;
        return old;
    });
}

// The plain function forms (address taken, or NDISLOCK_NO_SITE_MACROS).
NDISLOCK_API PLIST_ENTRY NdisInterlockedInsertHeadList(PLIST_ENTRY h, PLIST_ENTRY e, PNDIS_SPIN_LOCK l) {
    return ndislock_at_NdisInterlockedInsertHeadList(h, e, l, nullptr, 0, nullptr);
}
NDISLOCK_API PLIST_ENTRY NdisInterlockedInsertTailList(PLIST_ENTRY h, PLIST_ENTRY e, PNDIS_SPIN_LOCK l) {
    return ndislock_at_NdisInterlockedInsertTailList(h, e, l, nullptr, 0, nullptr);
}
NDISLOCK_API PLIST_ENTRY NdisInterlockedRemoveHeadList(PLIST_ENTRY h, PNDIS_SPIN_LOCK l) {
    return ndislock_at_NdisInterlockedRemoveHeadList(h, l, nullptr, 0, nullptr);
}
NDISLOCK_API PSINGLE_LIST_ENTRY NdisInterlockedPushEntryList(PSINGLE_LIST_ENTRY h, PSINGLE_LIST_ENTRY e,
                                                             PNDIS_SPIN_LOCK l) {
    return ndislock_at_NdisInterlockedPushEntryList(h, e, l, nullptr, 0, nullptr);
}
NDISLOCK_API PSINGLE_LIST_ENTRY NdisInterlockedPopEntryList(PSINGLE_LIST_ENTRY h, PNDIS_SPIN_LOCK l) {
    return ndislock_at_NdisInterlockedPopEntryList(h, l, nullptr, 0, nullptr);
}
NDISLOCK_API VOID NdisInterlockedAddUlong(PULONG a, ULONG i, PNDIS_SPIN_LOCK l) {
    ndislock_at_NdisInterlockedAddUlong(a, i, l, nullptr, 0, nullptr);
}
NDISLOCK_API PLIST_ENTRY ExInterlockedInsertHeadList(PLIST_ENTRY h, PLIST_ENTRY e, PKSPIN_LOCK l) {
    return ndislock_at_ExInterlockedInsertHeadList(h, e, l, nullptr, 0, nullptr);
}
NDISLOCK_API PLIST_ENTRY ExInterlockedInsertTailList(PLIST_ENTRY h, PLIST_ENTRY e, PKSPIN_LOCK l) {
    return ndislock_at_ExInterlockedInsertTailList(h, e, l, nullptr, 0, nullptr);
}
NDISLOCK_API PLIST_ENTRY ExInterlockedRemoveHeadList(PLIST_ENTRY h, PKSPIN_LOCK l) {
    return ndislock_at_ExInterlockedRemoveHeadList(h, l, nullptr, 0, nullptr);
}
NDISLOCK_API PSINGLE_LIST_ENTRY ExInterlockedPushEntryList(PSINGLE_LIST_ENTRY h, PSINGLE_LIST_ENTRY e, PKSPIN_LOCK l) {
    return ndislock_at_ExInterlockedPushEntryList(h, e, l, nullptr, 0, nullptr);
}
NDISLOCK_API PSINGLE_LIST_ENTRY ExInterlockedPopEntryList(PSINGLE_LIST_ENTRY h, PKSPIN_LOCK l) {
    return ndislock_at_ExInterlockedPopEntryList(h, l, nullptr, 0, nullptr);
}
NDISLOCK_API ULONG ExInterlockedAddUlong(PULONG a, ULONG i, PKSPIN_LOCK l) {
    return ndislock_at_ExInterlockedAddUlong(a, i, l, nullptr, 0, nullptr);
}

} // extern "C"
