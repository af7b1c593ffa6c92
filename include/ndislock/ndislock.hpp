// ndislock/ndislock.hpp: C++ types over the NDIS and Ke spin-lock calls of ndislock/ndis.h.
//
// Each type owns one WDK lock struct and satisfies the standard Lockable requirements
// (lock/unlock/try_lock), so std::lock_guard, std::unique_lock and std::scoped_lock work on it.
// Each entry point follows the IRQL rule of the C call it wraps (written beside it), passes its
// caller's file and line down for diagnostics, and carries clang's thread-safety attributes, so
// -Wthread-safety checks that guarded data is touched under its lock (the attributes are no-ops
// on other compilers).
//
// Misuse (a missing or mismatched release, the wrong IRQL) is reported by the verifier exactly
// as for the C calls: the C++ layer adds no state of its own.
#ifndef NDISLOCK_NDISLOCK_HPP
#define NDISLOCK_NDISLOCK_HPP

#include "ndislock/ndis.h"

#if defined(__clang__)
#define NDISLOCK_TSA(x) __attribute__((x))
#else
#define NDISLOCK_TSA(x)
#endif
#define NDISLOCK_CAPABILITY(x) NDISLOCK_TSA(capability(x))
#define NDISLOCK_SCOPED_CAPABILITY NDISLOCK_TSA(scoped_lockable)
#define NDISLOCK_GUARDED_BY(x) NDISLOCK_TSA(guarded_by(x))
#define NDISLOCK_PT_GUARDED_BY(x) NDISLOCK_TSA(pt_guarded_by(x))
#define NDISLOCK_ACQUIRE(...) NDISLOCK_TSA(acquire_capability(__VA_ARGS__))
#define NDISLOCK_ACQUIRE_SHARED(...) NDISLOCK_TSA(acquire_shared_capability(__VA_ARGS__))
#define NDISLOCK_REQUIRES_SHARED(...) NDISLOCK_TSA(requires_shared_capability(__VA_ARGS__))
#define NDISLOCK_RELEASE(...) NDISLOCK_TSA(release_capability(__VA_ARGS__))
#define NDISLOCK_TRY_ACQUIRE(...) NDISLOCK_TSA(try_acquire_capability(__VA_ARGS__))
#define NDISLOCK_REQUIRES(...) NDISLOCK_TSA(requires_capability(__VA_ARGS__))
#define NDISLOCK_EXCLUDES(...) NDISLOCK_TSA(locks_excluded(__VA_ARGS__))
#define NDISLOCK_RETURN_CAPABILITY(x) NDISLOCK_TSA(lock_returned(x))

// The caller's location as default arguments (std::source_location needs a newer clang).
#define NDISLOCK_CALLER_SITE                                                                                           \
    const char *file_ = __builtin_FILE(), int line_ = __builtin_LINE(), const char *func_ = __builtin_FUNCTION()

namespace ndislock {

namespace detail {
// The IRQL side of the Lockable types. The NDIS rule "each release restores the IRQL its own
// acquire saved" breaks under std::scoped_lock and std::lock, which release in acquisition order
// (the documented Acquire A, Acquire B, Release A, Release B trap: the thread would end at
// DISPATCH_LEVEL). So these types raise once, for the thread's outermost lock, and restore that
// IRQL when the thread's last such lock is released, in whatever order.
struct DispatchHolds {
    unsigned count = 0;
    KIRQL base = PASSIVE_LEVEL;
};
inline DispatchHolds &dispatch_holds() noexcept {
    static thread_local DispatchHolds holds;
    return holds;
}
inline void enter_dispatch(const char *file, int line, const char *func) noexcept {
    DispatchHolds &h = dispatch_holds();
    if (h.count++ != 0) return;
    h.base = KeGetCurrentIrql();
    // Above DISPATCH_LEVEL (a misuse the acquire itself reports as AcquireAboveDispatch) the IRQL
    // stays where it is, as with NdisAcquireSpinLock.
    if (h.base < DISPATCH_LEVEL) NDISLOCK_LOCK_CALL(KeRaiseIrql)(DISPATCH_LEVEL, file, line, func);
}
inline void leave_dispatch(const char *file, int line, const char *func) noexcept {
    DispatchHolds &h = dispatch_holds();
    if (--h.count == 0 && h.base < DISPATCH_LEVEL) NDISLOCK_LOCK_CALL(KeLowerIrql)(h.base, file, line, func);
}

// Where a guard was constructed: its release at scope exit is reported there, not in this header.
struct Site {
    const char *file;
    int line;
    const char *func;
};
} // namespace detail

// An NDIS_SPIN_LOCK: NdisAllocateSpinLock on construction, NdisFreeSpinLock on destruction.
// lock()/unlock()/try_lock(): IRQL <= DISPATCH_LEVEL on entry, DISPATCH_LEVEL while held; the
// thread's IRQL from before its first held lock comes back when its last one is released, in any
// release order (see detail::DispatchHolds); the lock word is taken and freed as by
// NdisDprAcquireSpinLock/NdisDprReleaseSpinLock, so OldIrql is not used. lock_at_dpc()/
// unlock_at_dpc() are those Dpr calls themselves (IRQL == DISPATCH_LEVEL throughout). Not copyable
// or movable: its address is its identity, as for the C struct.
class NDISLOCK_CAPABILITY("mutex") NdisSpinLock {
public:
    explicit NdisSpinLock(const char *name = nullptr, NDISLOCK_CALLER_SITE) {
        ndislock_at_NdisAllocateSpinLock(&lock_, file_, line_, func_);
        if (name != nullptr) NdislockSetLockName(&lock_, name);
    }
    ~NdisSpinLock() { ndislock_at_NdisFreeSpinLock(&lock_, __FILE__, __LINE__, __func__); }
    NdisSpinLock(const NdisSpinLock &) = delete;
    NdisSpinLock &operator=(const NdisSpinLock &) = delete;

    void lock(NDISLOCK_CALLER_SITE) NDISLOCK_ACQUIRE() {
        detail::enter_dispatch(file_, line_, func_);
        NDISLOCK_LOCK_CALL(NdisDprAcquireSpinLock)(&lock_, file_, line_, func_);
    }
    void unlock(NDISLOCK_CALLER_SITE) NDISLOCK_RELEASE() {
        NDISLOCK_LOCK_CALL(NdisDprReleaseSpinLock)(&lock_, file_, line_, func_);
        detail::leave_dispatch(file_, line_, func_);
    }
    // Takes the lock if it is free (KeTryToAcquireSpinLockAtDpcLevel); on failure the IRQL is as
    // before. Released with unlock().
    bool try_lock(NDISLOCK_CALLER_SITE) NDISLOCK_TRY_ACQUIRE(true) {
        detail::enter_dispatch(file_, line_, func_);
        if (ndislock_at_KeTryToAcquireSpinLockAtDpcLevel(&lock_.SpinLock, file_, line_, func_)) return true;
        detail::leave_dispatch(file_, line_, func_);
        return false;
    }

    void lock_at_dpc(NDISLOCK_CALLER_SITE) NDISLOCK_ACQUIRE() {
        NDISLOCK_LOCK_CALL(NdisDprAcquireSpinLock)(&lock_, file_, line_, func_);
    }
    void unlock_at_dpc(NDISLOCK_CALLER_SITE) NDISLOCK_RELEASE() {
        NDISLOCK_LOCK_CALL(NdisDprReleaseSpinLock)(&lock_, file_, line_, func_);
    }

    PNDIS_SPIN_LOCK native() noexcept { return &lock_; }

private:
    NDIS_SPIN_LOCK lock_;
};

// A KSPIN_LOCK: KeInitializeSpinLock on construction; destruction drops its name (NdislockSetLockName).
// lock()/unlock()/try_lock() follow the same IRQL rule as NdisSpinLock's and take the word with the
// AtDpcLevel calls;
// lock_at_dpc()/unlock_from_dpc()/try_lock_at_dpc() are KeAcquireSpinLockAtDpcLevel,
// KeReleaseSpinLockFromDpcLevel and KeTryToAcquireSpinLockAtDpcLevel (IRQL == DISPATCH_LEVEL).
// Queued acquisitions go through InStackQueuedGuard; never mix them with these on one lock.
class NDISLOCK_CAPABILITY("mutex") KSpinLock {
public:
    explicit KSpinLock(const char *name = nullptr, NDISLOCK_CALLER_SITE) {
        ndislock_at_KeInitializeSpinLock(&lock_, file_, line_, func_);
        if (name != nullptr) NdislockSetLockName(&lock_, name);
    }
    // A KSPIN_LOCK has no free call; its name must not pass to the next lock at this address.
    ~KSpinLock() { NdislockSetLockName(&lock_, nullptr); }
    KSpinLock(const KSpinLock &) = delete;
    KSpinLock &operator=(const KSpinLock &) = delete;

    void lock(NDISLOCK_CALLER_SITE) NDISLOCK_ACQUIRE() {
        detail::enter_dispatch(file_, line_, func_);
        NDISLOCK_LOCK_CALL(KeAcquireSpinLockAtDpcLevel)(&lock_, file_, line_, func_);
    }
    void unlock(NDISLOCK_CALLER_SITE) NDISLOCK_RELEASE() {
        NDISLOCK_LOCK_CALL(KeReleaseSpinLockFromDpcLevel)(&lock_, file_, line_, func_);
        detail::leave_dispatch(file_, line_, func_);
    }
    bool try_lock(NDISLOCK_CALLER_SITE) NDISLOCK_TRY_ACQUIRE(true) {
        detail::enter_dispatch(file_, line_, func_);
        if (ndislock_at_KeTryToAcquireSpinLockAtDpcLevel(&lock_, file_, line_, func_)) return true;
        detail::leave_dispatch(file_, line_, func_);
        return false;
    }

    void lock_at_dpc(NDISLOCK_CALLER_SITE) NDISLOCK_ACQUIRE() {
        NDISLOCK_LOCK_CALL(KeAcquireSpinLockAtDpcLevel)(&lock_, file_, line_, func_);
    }
    void unlock_from_dpc(NDISLOCK_CALLER_SITE) NDISLOCK_RELEASE() {
        NDISLOCK_LOCK_CALL(KeReleaseSpinLockFromDpcLevel)(&lock_, file_, line_, func_);
    }
    bool try_lock_at_dpc(NDISLOCK_CALLER_SITE) NDISLOCK_TRY_ACQUIRE(true) {
        return ndislock_at_KeTryToAcquireSpinLockAtDpcLevel(&lock_, file_, line_, func_) != FALSE;
    }

    // KeTestSpinLock: true if the lock is free at this instant. Never takes it.
    bool is_free() noexcept { return KeTestSpinLock(&lock_) != FALSE; }

    PKSPIN_LOCK native() noexcept { return &lock_; }

private:
    KSPIN_LOCK lock_;
};

// Tag: the guard's caller is already at DISPATCH_LEVEL (the Dpr / AtDpcLevel forms).
struct AtDpcLevel {
    explicit AtDpcLevel() = default;
};
inline constexpr AtDpcLevel at_dpc_level{};

// NdisDprAcquireSpinLock for a scope: IRQL == DISPATCH_LEVEL on entry (a DPC, or under
// RaisedIrql); released with NdisDprReleaseSpinLock at scope exit.
class NDISLOCK_SCOPED_CAPABILITY DprLockGuard {
public:
    explicit DprLockGuard(NdisSpinLock &lock, NDISLOCK_CALLER_SITE) NDISLOCK_ACQUIRE(lock)
        : lock_(lock), site_{file_, line_, func_} {
        lock_.lock_at_dpc(file_, line_, func_);
    }
    ~DprLockGuard() NDISLOCK_RELEASE() { lock_.unlock_at_dpc(site_.file, site_.line, site_.func); }
    DprLockGuard(const DprLockGuard &) = delete;
    DprLockGuard &operator=(const DprLockGuard &) = delete;

private:
    NdisSpinLock &lock_;
    detail::Site site_;
};

// An in-stack queued acquisition for a scope: the KLOCK_QUEUE_HANDLE lives in the guard, so one
// handle per acquisition holds by construction. KeAcquireInStackQueuedSpinLock (IRQL <=
// DISPATCH_LEVEL, raised to DISPATCH_LEVEL while held) or, with at_dpc_level, the AtDpcLevel form
// (IRQL == DISPATCH_LEVEL). FIFO among waiters.
class NDISLOCK_SCOPED_CAPABILITY InStackQueuedGuard {
public:
    explicit InStackQueuedGuard(KSpinLock &lock, NDISLOCK_CALLER_SITE) NDISLOCK_ACQUIRE(lock)
        : at_dpc_(false), site_{file_, line_, func_} {
        ndislock_at_KeAcquireInStackQueuedSpinLock(lock.native(), &handle_, file_, line_, func_);
    }
    InStackQueuedGuard(KSpinLock &lock, AtDpcLevel, NDISLOCK_CALLER_SITE) NDISLOCK_ACQUIRE(lock)
        : at_dpc_(true), site_{file_, line_, func_} {
        ndislock_at_KeAcquireInStackQueuedSpinLockAtDpcLevel(lock.native(), &handle_, file_, line_, func_);
    }
    ~InStackQueuedGuard() NDISLOCK_RELEASE() {
        if (at_dpc_)
            ndislock_at_KeReleaseInStackQueuedSpinLockFromDpcLevel(&handle_, site_.file, site_.line, site_.func);
        else
            ndislock_at_KeReleaseInStackQueuedSpinLock(&handle_, site_.file, site_.line, site_.func);
    }
    InStackQueuedGuard(const InStackQueuedGuard &) = delete;
    InStackQueuedGuard &operator=(const InStackQueuedGuard &) = delete;

    const KLOCK_QUEUE_HANDLE &handle() const noexcept { return handle_; }

private:
    KLOCK_QUEUE_HANDLE handle_;
    bool at_dpc_;
    detail::Site site_;
};

// "This code runs at a raised IRQL", as a capability -Wthread-safety can track: RaisedIrql holds
// it (shared, so raises nest); functions that must run raised can say NDISLOCK_REQUIRES_SHARED(
// ndislock::raised_irql).
class NDISLOCK_CAPABILITY("IRQL") IrqlCapability {};
inline IrqlCapability raised_irql;

// KeRaiseIrql for a scope, KeLowerIrql to the saved IRQL at scope exit. NewIrql must not be below
// the current IRQL (IrqlInvalidRaise). Typical use: RaisedIrql dpc(DISPATCH_LEVEL) before the Dpr
// calls outside a DPC.
class NDISLOCK_SCOPED_CAPABILITY RaisedIrql {
public:
    explicit RaisedIrql(KIRQL new_irql, NDISLOCK_CALLER_SITE) NDISLOCK_ACQUIRE_SHARED(raised_irql)
        : old_(NDISLOCK_LOCK_CALL(KeRaiseIrql)(new_irql, file_, line_, func_)), site_{file_, line_, func_} {}
    ~RaisedIrql() NDISLOCK_RELEASE() { NDISLOCK_LOCK_CALL(KeLowerIrql)(old_, site_.file, site_.line, site_.func); }
    RaisedIrql(const RaisedIrql &) = delete;
    RaisedIrql &operator=(const RaisedIrql &) = delete;

    KIRQL old_irql() const noexcept { return old_; }

private:
    KIRQL old_;
    detail::Site site_;
};

// std::lock_guard for the lock types above, visible to -Wthread-safety (libstdc++'s own guards
// carry no annotations, so the analysis cannot see through them).
template <class Lockable> class NDISLOCK_SCOPED_CAPABILITY LockGuard {
public:
    explicit LockGuard(Lockable &lock, NDISLOCK_CALLER_SITE) NDISLOCK_ACQUIRE(lock)
        : lock_(lock), site_{file_, line_, func_} {
        lock_.lock(file_, line_, func_);
    }
    ~LockGuard() NDISLOCK_RELEASE() { lock_.unlock(site_.file, site_.line, site_.func); }
    LockGuard(const LockGuard &) = delete;
    LockGuard &operator=(const LockGuard &) = delete;

private:
    Lockable &lock_;
    detail::Site site_;
};

// The current IRQL and processor, for readability in C++ code.
inline KIRQL current_irql() noexcept { return KeGetCurrentIrql(); }
inline ULONG current_processor() noexcept { return KeGetCurrentProcessorNumberEx(nullptr); }
inline ULONG processor_count() noexcept { return KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS); }

} // namespace ndislock

#endif // NDISLOCK_NDISLOCK_HPP
