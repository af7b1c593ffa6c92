#include "observe/tool_annotations.h"

#include "observe/hooks.h"

// ThreadSanitizer: only in a TSan build of the library (the __tsan_* functions live in the TSan
// runtime; elsewhere they do not exist).
#include "platform/sanitizer.h"
#include "platform/context_local.h"
#if NDISLOCK_TSAN
#include <sanitizer/tsan_interface.h>
#endif

// Valgrind: the client requests are a few no-op instructions natively, and ndislock builds without
// the headers too (then nothing is announced to Valgrind). Helgrind's ANNOTATE_RWLOCK_* requests
// use the codes DRD also implements (drd.h defines its ANNOTATE_RWLOCK_* with the same numbers),
// so one set of requests serves both tools. A spin lock is announced as a reader/writer lock held
// for writing: the tools then treat it as the exclusive lock it is.
#if __has_include(<valgrind/helgrind.h>) && __has_include(<valgrind/valgrind.h>)
#define NDISLOCK_VALGRIND 1
#include <valgrind/helgrind.h>
#include <valgrind/valgrind.h>
#else
#define NDISLOCK_VALGRIND 0
#endif

namespace ndislock::observe {

const char g_dpcs_flushed = 0;

namespace {

// Every call here may run in an emulated interrupt (an ISR takes its interrupt lock), so each is
// async-signal-safe: no allocation, no lock, no errno. The TSan runtime defers a signal's handler
// to a point where its own state is consistent; a client request is a register-only instruction
// sequence that Valgrind intercepts.

void *address(const LockEvent &e) noexcept { return const_cast<void *>(e.lock); }
bool is_read(const LockEvent &e) noexcept { return rw_mode(e.variant) == RwMode::Shared; }
bool is_try(const LockEvent &e) noexcept {
    return e.variant == Variant::KeTryAtDpcLevel || e.variant == Variant::ExTrySharedAtDpc ||
           e.variant == Variant::ExTryExclusiveAtDpc;
}

// The tools' calls, one lock operation each.
void announce_acquire(void *lock, bool read, bool attempt) noexcept {
#if NDISLOCK_TSAN
    // Both halves of TSan's acquire at once, with the lock taken (TSan checks the lock order in the
    // first). Not pre_lock before the wait: TSan ignores the thread's synchronization between the
    // two, and a waiter is handed the lock by atomics written after the holder's release was
    // announced (the queued lock's hand-over), so its accesses would look unordered with the
    // holder's. TSan therefore does not report a deadlock before it hangs; the verifier's watchdog
    // does.
    const unsigned flags = (read ? __tsan_mutex_read_lock : 0u) | (attempt ? __tsan_mutex_try_lock : 0u);
    __tsan_mutex_pre_lock(lock, flags);
    __tsan_mutex_post_lock(lock, flags, 0);
#endif
#if NDISLOCK_VALGRIND
    ANNOTATE_RWLOCK_ACQUIRED(lock, read ? 0 : 1);
#endif
    (void)lock, (void)read, (void)attempt;
}

// Before the lock word is freed: the release the next holder synchronizes with.
void announce_release(void *lock, bool read) noexcept {
#if NDISLOCK_TSAN
    const unsigned flags = read ? __tsan_mutex_read_lock : 0u;
    __tsan_mutex_pre_unlock(lock, flags);
    __tsan_mutex_post_unlock(lock, flags);
#endif
#if NDISLOCK_VALGRIND
    ANNOTATE_RWLOCK_RELEASED(lock, read ? 0 : 1);
#endif
    (void)lock, (void)read;
}

// The reader/writer locks allow a thread to nest acquires of one lock (NDIS_RW_LOCK_EX: read in
// read, write in write, read in write; NDIS_RW_LOCK: also write in its own reads), which the tools
// would report as double locks. So only a thread's outermost hold of a reader/writer lock is
// announced, in the mode it was taken, and released by the thread's last release of the lock.
// Spin locks are announced as they come: nesting one is a bug for the tools to report too.
// The table is the thread's own, in static TLS (no allocation, async-signal-safe); observers run
// with the thread's emulated interrupts held off, so no ISR on this thread interleaves.
struct RwHold {
    const void *lock;
    unsigned depth;
    bool read;
};
constexpr unsigned kRwHolds = 16; // more distinct nested locks at once: announced as they come
[[gnu::tls_model("initial-exec")]] thread_local RwHold t_rw_holds[kRwHolds];
NDISLOCK_CONTEXT_LOCAL(t_rw_holds); // follows the context (platform/context_local.h)

RwHold *rw_hold(const void *lock) noexcept {
    for (RwHold &h : t_rw_holds)
        if (h.depth != 0 && h.lock == lock) return &h;
    return nullptr;
}

// KeInitializeSpinLock, NdisAllocateSpinLock, the reader/writer initializations. A lock never
// initialized (a zeroed KSPIN_LOCK or EX_SPIN_LOCK is valid) is created by the tools at its first
// acquire.
void on_initialized(const LockEvent &e) noexcept {
#if NDISLOCK_TSAN
    __tsan_mutex_create(address(e), 0);
#endif
#if NDISLOCK_VALGRIND
    ANNOTATE_RWLOCK_CREATE(address(e));
#endif
    (void)e;
}

void on_freed(const LockEvent &e) noexcept {
#if NDISLOCK_TSAN
    __tsan_mutex_destroy(address(e), 0);
#endif
#if NDISLOCK_VALGRIND
    ANNOTATE_RWLOCK_DESTROY(address(e));
#endif
    (void)e;
}

void on_acquired(const LockEvent &e, bool) noexcept {
    if (is_rw(e.variant)) {
        if (RwHold *h = rw_hold(e.lock)) {
            ++h->depth; // nested: the outer hold stands for it
            return;
        }
        for (RwHold &h : t_rw_holds)
            if (h.depth == 0) {
                h = RwHold{e.lock, 1, is_read(e)};
                break;
            }
    }
    announce_acquire(address(e), is_read(e), is_try(e));
}

void on_acquired_at_once(const LockEvent &e) noexcept { on_acquired(e, false); }

void on_releasing(const LockEvent &e) noexcept {
    if (is_rw(e.variant)) {
        if (RwHold *h = rw_hold(e.lock)) {
            if (--h->depth != 0) return;
            return announce_release(address(e), h->read); // the mode the outermost acquire announced
        }
    }
    announce_release(address(e), is_read(e));
}

// ExTryConvertSharedSpinLockExclusive succeeded: the shared hold is now exclusive, with no
// moment unlocked (a try for the tools: converting cannot wait, so it cannot be part of a
// deadlock).
void on_converted(const LockEvent &e) noexcept {
    RwHold *h = rw_hold(e.lock);
    if (h != nullptr && !h->read) return; // already announced exclusive
    if (h != nullptr) h->read = false;
    announce_release(address(e), true);
    announce_acquire(address(e), false, true);
}

// The queued lock's successor links itself by writing into its predecessor's handle, on the
// predecessor's stack, with atomics the Valgrind tools do not see; the stack is then reused by
// the predecessor's later calls (or, once its thread ends, by a new thread's: glibc caches
// stacks). Forgetting the handle's history once it is released keeps those plain stack writes
// from reading as races with the successor's link. (TSan sees the atomics: nothing to do.)
void on_queue_handle_released(PKLOCK_QUEUE_HANDLE h) noexcept {
#if NDISLOCK_VALGRIND
    VALGRIND_HG_CLEAN_MEMORY(h, sizeof *h);
#endif
    (void)h;
}

#if NDISLOCK_VALGRIND && !NDISLOCK_TSAN // TSan sees these atomics itself (and Valgrind cannot run it)
// Synchronization that is no lock, told by the layers below through observe::notify_synchronizes:
// a DPC's insert before its run, the interrupt's own spin lock around the ISR and the synchronize,
// enable and disable routines (a word of the lock layer, not an announced lock), an event's set
// before the waits it satisfies, and NdisMDeregisterInterruptEx's return after the interrupt's
// routines (api/interrupt_api.cpp). Each is made of atomics, which TSan sees and the Valgrind
// tools do not: for them, a happens-before edge on the object that links the two sides.
void on_synchronizes(const void *object, bool release) noexcept {
    if (release)
        ANNOTATE_HAPPENS_BEFORE(const_cast<void *>(object));
    else
        ANNOTATE_HAPPENS_AFTER(const_cast<void *>(object));
}

// The interrupt's routines end: what each did is before NdisMDeregisterInterruptEx returns, which
// waits for the running ones with atomics (the deregistration's side is on_synchronizes, on the
// same handle: the ISR's, DPC's or synchronize function's interrupt, each message its own).
void on_callback_returned(const CallbackEvent &e, std::uint64_t) noexcept {
    switch (e.kind) {
    case Callback::Isr:
    case Callback::InterruptDpc:
    case Callback::Synchronize:
    case Callback::EnableInterrupt:
    case Callback::DisableInterrupt:
        ANNOTATE_HAPPENS_BEFORE(const_cast<void *>(e.object));
        break;
    default:
        break;
    }
    // Any DPC routine's return is before the KeFlushQueuedDpcs calls that return after it.
    if (e.kind == Callback::InterruptDpc || e.kind == Callback::KernelDpc)
        ANNOTATE_HAPPENS_BEFORE(const_cast<char *>(&g_dpcs_flushed));
}
#endif

constexpr Observer kToolObserver = [] {
    Observer o;
    o.lock_initialized = on_initialized;
    o.lock_freed = on_freed;
    o.acquired = on_acquired;
    o.acquired_at_once = on_acquired_at_once;
    o.releasing = on_releasing;
    o.rw_converted = on_converted;
    o.queue_handle_released = on_queue_handle_released;
#if NDISLOCK_VALGRIND && !NDISLOCK_TSAN
    o.synchronizes = on_synchronizes;
    o.callback_returned = on_callback_returned;
#endif
    return o;
}();

bool tool_listening() noexcept {
#if NDISLOCK_TSAN
    return true;
#elif NDISLOCK_VALGRIND
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

} // namespace

void announce_locks_to_tools() noexcept {
    if (tool_listening()) add_observer(&kToolObserver);
}

} // namespace ndislock::observe
