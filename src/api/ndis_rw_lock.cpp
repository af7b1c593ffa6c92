// The NDIS read/write locks (ndislock/rw_lock.h): NDIS_RW_LOCK_EX and NDIS 5's NDIS_RW_LOCK, each
// call in its two spellings, over lock/rw_lock.h.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/rw_lock.h"

#include <cstddef>
#include <cstring>
#include <new>

#include "api/rw_lock_ops.h"
#include "lock/parking.h"
#include "lock/rw_lock.h"
#include "model/processors.h"
#include "observe/lock_names.h"

using namespace ndislock;
using namespace ndislock::api;

// NDIS_RW_LOCK_EX, opaque to drivers: the writer's line pair, then one 128-byte line pair per
// possible virtual processor (lock/rw_lock.h says why pairs) with its reader count (NDISLOCK_MAX_PROCESSORS of them:
// the processor count may grow after the allocation, and two processors sharing a count would break the recursion rule
// of lock/rw_lock.h). Writers look at the counts of the processors that exist now only: the count cannot change while
// anyone is at DISPATCH_LEVEL, as every holder is.
struct alignas(128) _NDIS_RW_LOCK_EX {
    KSPIN_LOCK writer;
    std::uintptr_t depth;
    std::uint32_t slots;
    unsigned char *counts() noexcept { return reinterpret_cast<unsigned char *>(this + 1); }
};
static_assert(sizeof(_NDIS_RW_LOCK_EX) == lock::kRwCountStride, "the reader counts start on the next line pair");
// The inline read path (ndislock/fast_path_rw.h) reads the same layout.
static_assert(offsetof(_NDIS_RW_LOCK_EX, writer) == 0);

namespace {

// LockState values (LOCK_STATE_EX::LockState, LOCK_STATE::LockState): what the acquire took. A
// release sets it back to kStateNone, so a second release with the same state is seen as such.
constexpr UCHAR kStateNone = 0, kStateRead = NDISLOCK_FAST_RW_STATE_READ, kStateWrite = 2;
static_assert(kStateRead != kStateNone && kStateRead != kStateWrite);

std::uint32_t processors_now(std::uint32_t limit) noexcept {
    const std::uint32_t n = model::processor_count();
    return n < limit ? n : limit;
}

// slots: a writer scans the counts of the processors that exist now; a reader touches only its
// own (below the capacity), so it does not ask (one call less on the read path).
lock::RwView view_of(PNDIS_RW_LOCK_EX l, bool scanning) noexcept {
    return lock::RwView{l, &l->writer, &l->depth, l->counts(), scanning ? processors_now(l->slots) : l->slots, false};
}

lock::RwView view_of(PNDIS_RW_LOCK l, bool scanning) noexcept {
    return lock::RwView{l,
                        &l->SpinLock,
                        reinterpret_cast<std::uintptr_t *>(&l->Context),
                        reinterpret_cast<unsigned char *>(&l->RefCount[0]),
                        scanning ? processors_now(MAXIMUM_PROCESSORS) : MAXIMUM_PROCESSORS,
                        true};
}

// ---- NDIS_RW_LOCK_EX ------------------------------------------------------------------------

PNDIS_RW_LOCK_EX allocate(const Site &site) noexcept {
    ThreadState &t = this_thread(); // first: it may configure the processor count
    const std::uint32_t slots = NDISLOCK_MAX_PROCESSORS;
    void *memory = ::operator new (sizeof(_NDIS_RW_LOCK_EX) + std::size_t{slots} * lock::kRwCountStride,
                                   std::align_val_t{alignof(_NDIS_RW_LOCK_EX)}, std::nothrow);
    if (memory == nullptr) return nullptr;
    auto *l = new (memory) _NDIS_RW_LOCK_EX{0, 0, slots};
    std::memset(l->counts(), 0, std::size_t{slots} * lock::kRwCountStride);
    observe::lock_initializing(l); // memory a freed lock had: not that lock's name
    if (observe::active()) observe::notify_initialized(rw_event(t, l, Variant::RwExRead, nullptr, 0, site));
    return l;
}

void free_lock(PNDIS_RW_LOCK_EX l, const Site &site) noexcept {
    ThreadState &t = this_thread();
    if (l == nullptr) return;
    if (observe::active()) {
        LockEvent e = rw_event(t, l, Variant::RwExRead, nullptr, 0, site);
        e.busy = lock::rw_is_busy(view_of(l, true));
        observe::notify_freed(e);
    }
    observe::lock_freed(l);
    l->~_NDIS_RW_LOCK_EX();
    ::operator delete (l, std::align_val_t{alignof(_NDIS_RW_LOCK_EX)});
}

void rwex_acquire(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, UCHAR flags, bool write, const Site &site) noexcept {
    ThreadState &t = this_thread();
    const bool at_dispatch = (flags & NDIS_RWL_AT_DISPATCH_LEVEL) != 0;
    const Variant v = write ? (at_dispatch ? Variant::RwExWriteAtDispatch : Variant::RwExWrite)
                            : (at_dispatch ? Variant::RwExReadAtDispatch : Variant::RwExRead);
    const lock::RwView view = view_of(l, write);
    const KIRQL old = with_observation([&](auto observed) {
        return rw_acquire<decltype(observed)::value>(t, l, v, !at_dispatch, s, site, [&](std::uint32_t p) {
            return write ? lock::rw_write_acquire(view, p, t.id(), false) : lock::rw_read_acquire(view, p, t.id());
        });
    });
    s->OldIrql = old;
    s->LockState = write ? kStateWrite : kStateRead;
    s->Flags = flags;
}

[[gnu::cold]] void state_describes_nothing(const void *state, unsigned value, const char *call,
                                           const Site &site) noexcept {
    char detail[200];
    std::snprintf(detail, sizeof detail,
                  "%s with a lock state (%p, LockState %u) that no acquire filled, or that was released already: "
                  "nothing is released and the IRQL is left as it is",
                  call, state, value);
    observe::report_misuse(observe::Rule::RwLockStateMismatch, site, detail);
}

void rwex_release(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, const Site &site) noexcept {
    ThreadState &t = this_thread();
    const UCHAR mode = s->LockState;
    if (__builtin_expect(mode != kStateRead && mode != kStateWrite, 0))
        return state_describes_nothing(s, mode, "NdisReleaseRWLock", site);
    const lock::RwView view = view_of(l, false);
    const bool write = mode == kStateWrite;
    with_observation([&](auto observed) {
        rw_release<decltype(observed)::value>(
            t, l, write ? Variant::RwExWrite : Variant::RwExRead, s, true, s->OldIrql, "NdisReleaseRWLock", site,
            [&](std::uint32_t p) {
                return write
                           ? lock::rw_write_release(view, t.id())
                           : lock::rw_read_release(view, p, t.irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL);
            });
    });
    s->LockState = kStateNone;
}

// ---- NDIS_RW_LOCK (NDIS 5) --------------------------------------------------------------------

void ndis5_initialize(PNDIS_RW_LOCK l, const Site &site) noexcept {
    ThreadState &t = this_thread();
    observe::lock_initializing(l);
    if (observe::active()) observe::notify_initialized(rw_event(t, l, Variant::NdisRwRead, nullptr, 0, site));
    std::memset(static_cast<void *>(l), 0, sizeof *l);
}

void ndis5_acquire(PNDIS_RW_LOCK l, BOOLEAN write, PLOCK_STATE s, bool dpr, const Site &site) noexcept {
    ThreadState &t = this_thread();
    const Variant v = dpr ? (write ? Variant::NdisRwDprWrite : Variant::NdisRwDprRead)
                          : (write ? Variant::NdisRwWrite : Variant::NdisRwRead);
    const lock::RwView view = view_of(l, write);
    const KIRQL old = with_observation([&](auto observed) {
        return rw_acquire<decltype(observed)::value>(t, l, v, !dpr, s, site, [&](std::uint32_t p) {
            return write ? lock::rw_write_acquire(view, p, t.id(), true) : lock::rw_read_acquire(view, p, t.id());
        });
    });
    s->OldIrql = old;
    s->LockState = write ? kStateWrite : kStateRead;
}

void ndis5_release(PNDIS_RW_LOCK l, PLOCK_STATE s, bool dpr, const Site &site) noexcept {
    ThreadState &t = this_thread();
    const USHORT mode = s->LockState;
    const char *call = dpr ? "NdisDprReleaseReadWriteLock" : "NdisReleaseReadWriteLock";
    if (__builtin_expect(mode != kStateRead && mode != kStateWrite, 0))
        return state_describes_nothing(s, mode, call, site);
    const lock::RwView view = view_of(l, false);
    const bool write = mode == kStateWrite;
    const Variant v = dpr ? (write ? Variant::NdisRwDprWrite : Variant::NdisRwDprRead)
                          : (write ? Variant::NdisRwWrite : Variant::NdisRwRead);
    with_observation([&](auto observed) {
        rw_release<decltype(observed)::value>(t, l, v, s, !dpr, s->OldIrql, call, site, [&](std::uint32_t p) {
            return write ? lock::rw_write_release(view, t.id())
                         : lock::rw_read_release(view, p, t.irql().load(std::memory_order_relaxed) >= DISPATCH_LEVEL);
        });
    });
    s->LockState = kStateNone;
}

} // namespace

#define SITE NDISLOCK_SITE(f, n, fn)
#define NO_SITE NDISLOCK_SITE(nullptr, 0, nullptr)

extern "C" {

NDISLOCK_API PNDIS_RW_LOCK_EX ndislock_at_NdisAllocateRWLock(NDIS_HANDLE, const char *f, int n, const char *fn) {
    return allocate(SITE);
}
NDISLOCK_API PNDIS_RW_LOCK_EX NdisAllocateRWLock(NDIS_HANDLE) { return allocate(NO_SITE); }

// The inline read acquire (ndislock/fast_path_rw.h) found a writer in, with its count raised:
// step back and wait behind it, as lock::rw_read_acquire does from there.
NDISLOCK_API void ndislock_fast_rw_read_wait(PNDIS_RW_LOCK_EX l, ULONG processor) {
    (void)lock::rw_read_acquire_slow(view_of(l, false), processor, this_thread().id());
}
// The inline read release drained its processor's count while a writer waits for the drain.
NDISLOCK_API void ndislock_fast_rw_wake(PNDIS_RW_LOCK_EX l) { lock::parking::wake_if_sleepers(l); }

NDISLOCK_API void ndislock_at_NdisFreeRWLock(PNDIS_RW_LOCK_EX l, const char *f, int n, const char *fn) {
    free_lock(l, SITE);
}
NDISLOCK_API void NdisFreeRWLock(PNDIS_RW_LOCK_EX l) { free_lock(l, NO_SITE); }

NDISLOCK_API void ndislock_at_NdisAcquireRWLockRead(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, UCHAR flags, const char *f,
                                                    int n, const char *fn) {
    rwex_acquire(l, s, flags, false, SITE);
}
NDISLOCK_API void NdisAcquireRWLockRead(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, UCHAR flags) {
    rwex_acquire(l, s, flags, false, NO_SITE);
}

NDISLOCK_API void ndislock_at_NdisAcquireRWLockWrite(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, UCHAR flags, const char *f,
                                                     int n, const char *fn) {
    rwex_acquire(l, s, flags, true, SITE);
}
NDISLOCK_API void NdisAcquireRWLockWrite(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, UCHAR flags) {
    rwex_acquire(l, s, flags, true, NO_SITE);
}

NDISLOCK_API void ndislock_at_NdisReleaseRWLock(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s, const char *f, int n,
                                                const char *fn) {
    rwex_release(l, s, SITE);
}
NDISLOCK_API void NdisReleaseRWLock(PNDIS_RW_LOCK_EX l, PLOCK_STATE_EX s) { rwex_release(l, s, NO_SITE); }

NDISLOCK_API void ndislock_at_NdisInitializeReadWriteLock(PNDIS_RW_LOCK l, const char *f, int n, const char *fn) {
    ndis5_initialize(l, SITE);
}
NDISLOCK_API void NdisInitializeReadWriteLock(PNDIS_RW_LOCK l) { ndis5_initialize(l, NO_SITE); }

NDISLOCK_API void ndislock_at_NdisAcquireReadWriteLock(PNDIS_RW_LOCK l, BOOLEAN w, PLOCK_STATE s, const char *f, int n,
                                                       const char *fn) {
    ndis5_acquire(l, w, s, false, SITE);
}
NDISLOCK_API void NdisAcquireReadWriteLock(PNDIS_RW_LOCK l, BOOLEAN w, PLOCK_STATE s) {
    ndis5_acquire(l, w, s, false, NO_SITE);
}

NDISLOCK_API void ndislock_at_NdisReleaseReadWriteLock(PNDIS_RW_LOCK l, PLOCK_STATE s, const char *f, int n,
                                                       const char *fn) {
    ndis5_release(l, s, false, SITE);
}
NDISLOCK_API void NdisReleaseReadWriteLock(PNDIS_RW_LOCK l, PLOCK_STATE s) { ndis5_release(l, s, false, NO_SITE); }

NDISLOCK_API void ndislock_at_NdisDprAcquireReadWriteLock(PNDIS_RW_LOCK l, BOOLEAN w, PLOCK_STATE s, const char *f,
                                                          int n, const char *fn) {
    ndis5_acquire(l, w, s, true, SITE);
}
NDISLOCK_API void NdisDprAcquireReadWriteLock(PNDIS_RW_LOCK l, BOOLEAN w, PLOCK_STATE s) {
    ndis5_acquire(l, w, s, true, NO_SITE);
}

NDISLOCK_API void ndislock_at_NdisDprReleaseReadWriteLock(PNDIS_RW_LOCK l, PLOCK_STATE s, const char *f, int n,
                                                          const char *fn) {
    ndis5_release(l, s, true, SITE);
}
NDISLOCK_API void NdisDprReleaseReadWriteLock(PNDIS_RW_LOCK l, PLOCK_STATE s) { ndis5_release(l, s, true, NO_SITE); }

} // extern "C"
