// The observation seam: how the verifier and the lock statistics see every lock and IRQL call
// without the lock algorithms or the execution model knowing about them.
//
// An Observer is a table of optional callbacks; up to kMaxObservers are registered at once, each
// with its own slot (its index into ThreadState::observer_data). The API layer checks active()
// once per call: with no observer registered, that one predictable branch is the whole cost.
// Observers run on the calling thread, before or after the lock operation as named, inside the
// no-preempt guard, and must not allocate or block on the acquire/release path in the steady
// state: only a report, and the first sight of a call site (the verifier symbolizes a return
// address once: verifier/sites.h), may.
//
// Misuse the core itself must act on (an invalid IRQL raise or lower, a queued acquisition that
// finds an ordinary holder, releasing a queue handle that does not own its lock) goes through
// report_misuse: an observer may report it and let the program continue; with none, ndislock
// ends the process with a diagnostic, as Windows would bug-check.
#pragma once

#include <atomic>
#include <cstdint>

#include "model/preemption.h"
#include "model/thread_state.h"
#include "ndislock/wdk_types.h"
#include "observe/rules.h"

extern "C" NDISLOCK_API unsigned ndislock_interlocked_observers;

namespace ndislock::observe {

// Where a call came from: file/line/function from the site macros, or the return address of a
// caller of the plain function form (file == nullptr then).
struct Site {
    const char *file;
    int line;
    const char *function;
    const void *return_address;
};

// Which API family and form performed a lock operation.
enum class Variant : std::uint8_t {
    NdisAcquire,      // NdisAcquireSpinLock / NdisReleaseSpinLock
    NdisDpr,          // NdisDprAcquireSpinLock / NdisDprReleaseSpinLock
    KeAcquire,        // KeAcquireSpinLock[RaiseToDpc] / KeReleaseSpinLock
    KeAtDpcLevel,     // KeAcquireSpinLockAtDpcLevel / KeReleaseSpinLockFromDpcLevel
    KeTryAtDpcLevel,  // KeTryToAcquireSpinLockAtDpcLevel (released FromDpcLevel)
    Queued,           // KeAcquireInStackQueuedSpinLock / KeReleaseInStackQueuedSpinLock
    QueuedAtDpcLevel, // the AtDpcLevel / FromDpcLevel queued forms
    // The threaded-DPC forms: raise to DISPATCH_LEVEL only from below it, as the raising forms do.
    KeForDpc,     // KeAcquireSpinLockForDpc / KeReleaseSpinLockForDpc
    QueuedForDpc, // KeAcquireInStackQueuedSpinLockForDpc / KeReleaseInStackQueuedSpinLockForDpc
    // Raise to SYNCH_LEVEL, held there; released by the ordinary raising release.
    KeRaiseToSynch,     // KeAcquireSpinLockRaiseToSynch / KeReleaseSpinLock
    QueuedRaiseToSynch, // KeAcquireInStackQueuedSpinLockRaiseToSynch / KeReleaseInStackQueuedSpinLock
    // Reader/writer locks (ndislock/rw_lock.h). The NDIS ones are released by one call whose mode
    // comes from the caller's lock state: the release event carries the mode the state says.
    RwExRead,            // NdisAcquireRWLockRead (Flags 0) / NdisReleaseRWLock
    RwExWrite,           // NdisAcquireRWLockWrite (Flags 0) / NdisReleaseRWLock
    RwExReadAtDispatch,  // NdisAcquireRWLockRead with NDIS_RWL_AT_DISPATCH_LEVEL
    RwExWriteAtDispatch, // NdisAcquireRWLockWrite with NDIS_RWL_AT_DISPATCH_LEVEL
    NdisRwRead,          // NdisAcquireReadWriteLock(fWrite FALSE) / NdisReleaseReadWriteLock
    NdisRwWrite,         // NdisAcquireReadWriteLock(fWrite TRUE)
    NdisRwDprRead,       // NdisDprAcquireReadWriteLock / NdisDprReleaseReadWriteLock
    NdisRwDprWrite,
    ExShared,      // ExAcquireSpinLockShared / ExReleaseSpinLockShared
    ExExclusive,   // ExAcquireSpinLockExclusive / ExReleaseSpinLockExclusive
    ExSharedAtDpc, // the AtDpcLevel / FromDpcLevel forms
    ExExclusiveAtDpc,
    ExTrySharedAtDpc, // ExTryAcquireSpinLock*AtDpcLevel (released FromDpcLevel)
    ExTryExclusiveAtDpc,
    Count_
};

// Reader/writer classification of a variant.
enum class RwMode : std::uint8_t { None, Shared, Exclusive };
constexpr RwMode rw_mode(Variant v) noexcept {
    switch (v) {
    case Variant::RwExRead:
    case Variant::RwExReadAtDispatch:
    case Variant::NdisRwRead:
    case Variant::NdisRwDprRead:
    case Variant::ExShared:
    case Variant::ExSharedAtDpc:
    case Variant::ExTrySharedAtDpc:
        return RwMode::Shared;
    case Variant::RwExWrite:
    case Variant::RwExWriteAtDispatch:
    case Variant::NdisRwWrite:
    case Variant::NdisRwDprWrite:
    case Variant::ExExclusive:
    case Variant::ExExclusiveAtDpc:
    case Variant::ExTryExclusiveAtDpc:
        return RwMode::Exclusive;
    default:
        return RwMode::None;
    }
}
constexpr bool is_rw(Variant v) noexcept { return rw_mode(v) != RwMode::None; }
// Which reader/writer lock type a variant belongs to.
enum class RwKind : std::uint8_t { None, NdisEx, Ndis5, Ex };
constexpr RwKind rw_kind(Variant v) noexcept {
    return v >= Variant::RwExRead && v <= Variant::RwExWriteAtDispatch   ? RwKind::NdisEx
           : v >= Variant::NdisRwRead && v <= Variant::NdisRwDprWrite    ? RwKind::Ndis5
           : v >= Variant::ExShared && v <= Variant::ExTryExclusiveAtDpc ? RwKind::Ex
                                                                         : RwKind::None;
}
// A variant's family as two bits (1: its acquire raises the IRQL, 2: queued), read from one
// constant: these run on every verified acquire and release, where a chain of comparisons per
// question was a measurable share.
constexpr unsigned family_bits(Variant v) noexcept {
    constexpr std::uint64_t kRaising = 1, kQueued = 2;
    constexpr std::uint64_t kTable =
        kRaising << 2 * unsigned(Variant::NdisAcquire) | kRaising << 2 * unsigned(Variant::KeAcquire) |
        (kRaising | kQueued) << 2 * unsigned(Variant::Queued) | kQueued << 2 * unsigned(Variant::QueuedAtDpcLevel) |
        kRaising << 2 * unsigned(Variant::KeForDpc) | (kRaising | kQueued) << 2 * unsigned(Variant::QueuedForDpc) |
        kRaising << 2 * unsigned(Variant::KeRaiseToSynch) |
        (kRaising | kQueued) << 2 * unsigned(Variant::QueuedRaiseToSynch) |
        // reader/writer acquires that raise (their releases lower)
        kRaising << 2 * unsigned(Variant::RwExRead) | kRaising << 2 * unsigned(Variant::RwExWrite) |
        kRaising << 2 * unsigned(Variant::NdisRwRead) | kRaising << 2 * unsigned(Variant::NdisRwWrite) |
        kRaising << 2 * unsigned(Variant::ExShared) | kRaising << 2 * unsigned(Variant::ExExclusive);
    static_assert(unsigned(Variant::Count_) <= 32, "the table holds 32 variants");
    return static_cast<unsigned>(kTable >> 2 * unsigned(v) & 3);
}
constexpr bool raising(Variant v) noexcept { return (family_bits(v) & 1) != 0; }
constexpr bool queued(Variant v) noexcept { return (family_bits(v) & 2) != 0; }
// The IRQL a variant's acquire holds its lock at: SYNCH_LEVEL for the RaiseToSynch forms, else
// DISPATCH_LEVEL (where every other spin-lock acquire holds and releases).
constexpr KIRQL held_irql(Variant v) noexcept {
    return v == Variant::KeRaiseToSynch || v == Variant::QueuedRaiseToSynch ? KIRQL{SYNCH_LEVEL}
                                                                            : KIRQL{DISPATCH_LEVEL};
}
static_assert(raising(Variant::NdisAcquire) && raising(Variant::KeAcquire) && raising(Variant::Queued) &&
              !raising(Variant::NdisDpr) && !raising(Variant::KeAtDpcLevel) && !raising(Variant::KeTryAtDpcLevel) &&
              !raising(Variant::QueuedAtDpcLevel));
static_assert(queued(Variant::Queued) && queued(Variant::QueuedAtDpcLevel) && !queued(Variant::NdisAcquire) &&
              !queued(Variant::NdisDpr) && !queued(Variant::KeAcquire) && !queued(Variant::KeAtDpcLevel) &&
              !queued(Variant::KeTryAtDpcLevel));

// The variant's acquire call and the call that releases what it acquired (observe/hooks.cpp holds
// the one table of both).
const char *variant_name(Variant v) noexcept;
const char *release_name(Variant v) noexcept;

struct LockEvent {
    const void *lock;           // the KSPIN_LOCK word (an NDIS_SPIN_LOCK starts with it)
    PKLOCK_QUEUE_HANDLE handle; // queued forms, else nullptr
    Variant variant;
    bool ndis;      // through an Ndis* call (NDIS_SPIN_LOCK)
    KIRQL irql;     // the IRQL at the call
    KIRQL new_irql; // releases: the IRQL the release lowers to (or irql)
    // The caller's, alive for the event's life (events are passed down, never kept). Not a copy:
    // the caller has just written it, and copying it back with wider loads than its stores
    // stalls on store forwarding (a measurable share of an observed acquire).
    const Site &site;
    model::ThreadState *thread;
    // Reader/writer locks: the caller's LOCK_STATE_EX / LOCK_STATE (nullptr for EX_SPIN_LOCK), and
    // for a free, whether the lock's own state says it is held (readers have no single holder).
    const void *state = nullptr;
    bool busy = false;
};

struct IrqlEvent {
    KIRQL from;
    KIRQL to;
    Site site;
    model::ThreadState *thread;
};

// A driver routine ndislock calls (docs/interrupts.md).
enum class Callback : std::uint8_t {
    None,
    Isr,                // MiniportInterrupt, at the interrupt's DIRQL
    InterruptDpc,       // MiniportInterruptDPC, at DISPATCH_LEVEL
    KernelDpc,          // a KDPC's DeferredRoutine, at DISPATCH_LEVEL
    Synchronize,        // a NdisMSynchronizeWithInterruptEx function, at DIRQL
    EnableInterrupt,    // MiniportEnableInterruptEx, at DIRQL
    DisableInterrupt,   // MiniportDisableInterruptEx, at DIRQL
    MiniportInitialize, // MiniportInitializeEx, at PASSIVE_LEVEL
    MiniportHalt,       // MiniportHaltEx, at PASSIVE_LEVEL
    WorkItem            // a work item's routine, at PASSIVE_LEVEL on a worker thread
};
// The kind's name as a subject ("MiniportInterrupt", "a DPC routine"), and as a role its routine's
// name follows ("MiniportInterrupt", "the DPC routine").
const char *callback_name(Callback c) noexcept;
const char *callback_role(Callback c) noexcept;

struct CallbackEvent {
    Callback kind;
    const void *routine; // the driver's function
    const void *object;  // the interrupt handle, the KDPC, or the adapter handle
    KIRQL irql;          // the IRQL it is entered at, and must return at
    Site site;           // where it was called from: the routine's own address (file == nullptr)
                         // or, for Synchronize, the NdisMSynchronizeWithInterruptEx call
    model::ThreadState *thread;
};

// A wait's start, its periodic "still waiting", its end; and a wake-up system call on a release
// path (SlowPath), which is no wait but no driver time either.
enum class WaitPhase : std::uint8_t { Begin, StillWaiting, End, SlowPath };

// Mutexes, fast mutexes and executive resources (ndislock/wdk_dispatcher.h): the locks a thread
// takes by sleeping, which the verifier puts in its lock-order graph beside the spin locks. A
// KeWaitFor* wait for anything else (an event, a timer) is told as Object, so that the wait's call
// site is known to reports while it waits; it is no lock.
enum class WaitLockKind : std::uint8_t { Mutex, FastMutex, ResourceExclusive, ResourceShared, Object };
enum class WaitLockPhase : std::uint8_t {
    Initialized, // KeInitializeMutex, ExInitializeFastMutex, ExInitializeResourceLite: site is its class
    Acquiring,   // before the wait (once per object of a KeWaitForMultipleObjects)
    Acquired,    // the lock is the thread's now (again, for its owner's recursion)
    WaitEnded,   // the call returns (satisfied or not): the thread no longer waits
    Releasing    // one release of one acquisition (KeReleaseMutex, ExRelease*)
};
// "mutex", "fast mutex", "executive resource" ... for reports.
const char *wait_lock_name(WaitLockKind kind) noexcept;

struct WaitLockEvent {
    const void *object; // the KMUTEX, FAST_MUTEX, ERESOURCE or DISPATCHER_HEADER
    WaitLockKind kind;
    WaitLockPhase phase;
    bool may_block;   // Acquiring: the call can sleep (not a poll, not Wait FALSE)
    const char *call; // the WDK call, as spelled
    const Site &site;
    model::ThreadState *thread;
};

struct Observer {
    void (*lock_initialized)(const LockEvent &) noexcept = nullptr; // before the word is set to 0
    void (*lock_freed)(const LockEvent &) noexcept = nullptr;
    void (*acquiring)(const LockEvent &) noexcept = nullptr; // before a wait for the lock or its processor
    void (*acquired)(const LockEvent &, bool contended) noexcept = nullptr;
    // An ordinary acquire whose first attempt took the lock (no wait), called once the lock (and,
    // for a raising acquire, the processor) is taken: acquiring and acquired in one call. An
    // observer without it gets acquiring, then acquired(e, false), in its place.
    void (*acquired_at_once)(const LockEvent &) noexcept = nullptr;
    void (*try_failed)(const LockEvent &) noexcept = nullptr;
    void (*releasing)(const LockEvent &) noexcept = nullptr;    // before the word is freed
    void (*irql_changed)(const IrqlEvent &) noexcept = nullptr; // KeRaiseIrql / KeLowerIrql
    void (*wait)(model::ThreadState &, WaitPhase) noexcept = nullptr;
    void (*thread_exiting)(model::ThreadState &) noexcept = nullptr;
    void (*lock_named)(const void *lock, const char *name) noexcept = nullptr; // NdislockSetLockName
    // A call other than the spin-lock ones (name as the WDK spells it), before it runs; blocking
    // if it may put the thread to sleep; ndis if it is an NDIS call.
    void (*other_call)(const char *name, bool blocking, bool ndis, const Site &site) noexcept = nullptr;
    // Around a driver routine ndislock runs: before it is called, and after it returned with
    // own_ns its duration in the running thread's own time (platform::kDescheduled if the OS
    // descheduled the thread meanwhile: not timed).
    void (*callback_entered)(const CallbackEvent &) noexcept = nullptr;
    void (*callback_returned)(const CallbackEvent &, std::uint64_t own_ns) noexcept = nullptr;
    // Returns true if it reported the misuse and the program may go on.
    bool (*misuse)(Rule, const Site &, const char *detail) noexcept = nullptr;
    // ExTryConvertSharedSpinLockExclusive succeeded: the shared hold in e is exclusive now (e's
    // variant is the exclusive form of the same family).
    void (*rw_converted)(const LockEvent &) noexcept = nullptr;
    // After an in-stack queued release: the handle (on the releasing thread's stack) is its own
    // again, though the next waiter wrote into it while it queued (its link).
    void (*queue_handle_released)(PKLOCK_QUEUE_HANDLE) noexcept = nullptr;
    // A mutex, fast mutex or executive resource initialized, acquired or released; a KeWaitFor*
    // wait's start and end (WaitLockEvent). Off the spin-lock paths: these calls may sleep.
    void (*wait_lock)(const WaitLockEvent &) noexcept = nullptr;
    // Before an ordinary acquire's first attempt, where acquiring is not called before it (the
    // common case: acquiring comes only once the attempt failed). With acquiring, every lock
    // attempt is seen before it changes anything: an exploration's scheduling point (src/explore).
    void (*attempting)(const LockEvent &) noexcept = nullptr;
    // Before an interlocked operation, an ordered read or write or a memory barrier of the WDK
    // face (ndislock/wdk_interlocked.h) on address (nullptr for a barrier), called from the
    // driver's code at return_address: an exploration's scheduling point. The inline operations
    // call out only while an observer with it is registered (ndislock_interlocked_observers).
    void (*interlocked)(const volatile void *address, const void *return_address) noexcept = nullptr;
    // A synchronization that is no lock, on the calling thread: release true on the signalling side
    // (before the signal is visible: KeSetEvent, NdisSetEvent), false on the side that saw it (a
    // satisfied wait), with the object that links the two. Happens-before in an exploration
    // (explore/race.h); a DPC's queueing and its run are told the same way.
    void (*synchronizes)(const void *object, bool release) noexcept = nullptr;
    // A finding of a rule-checking observer (the verifier) about a call of the calling thread,
    // before it is kept, counted or printed: the rule's ID and the report's text. An observer
    // that takes it returns true, and the finding is not the process's: an exploration makes it
    // the failing schedule's finding, and the scenario thread goes back to its worker at its next
    // scheduling point, wait or return (the call finishes first: its destructors run).
    bool (*finding)(const char *rule_id, const char *text) noexcept = nullptr;
    // An exploration's schedule begins (true) or has ended (false). What an observer learns inside
    // one schedule must not reach the next, so that a schedule's outcome depends on its choices
    // alone and a token replays it (the verifier forgets the held locks of the scenario's
    // threads, abandoned or not, the lock order and the frees it saw in the schedule).
    void (*schedule_boundary)(bool begins) noexcept = nullptr;
    // A scenario thread's routine returned (abandoned false), on that thread (an exploration): the
    // thread lives on for the next schedule, but what it holds now nobody will release, as at a
    // thread's end. Abandoned true: its failed schedule longjmp'd out of it, past the observers'
    // own scopes, which they may put back.
    void (*scenario_returned)(model::ThreadState &, bool abandoned) noexcept = nullptr;
};

inline constexpr unsigned kMaxObservers = 4;

// Exported as ndislock_active_observers: the inline fast path (ndislock/fast_path.h) runs only
// while it is 0.
extern std::atomic<unsigned> g_active_observers __asm__("ndislock_active_observers") NDISLOCK_API;
extern std::atomic<const Observer *> g_observers[kMaxObservers];

inline bool active() noexcept { return g_active_observers.load(std::memory_order_relaxed) != 0; }

// The one registered observer while exactly one is (the verifier alone, or the statistics alone),
// else nullptr. The two calls every observed lock pair makes go straight to it, with no walk over
// the slots and no call into this file's .cpp: about 60 instructions a pair (callgrind, 2026-12-06,
// of a verified pair's 745 then; 642 since, docs/performance.md).
// Observers are static tables, so a pointer read just before a concurrent remove stays valid.
extern std::atomic<const Observer *> g_sole_observer;

// Registers an observer; returns its slot, or -1 when all slots are taken. Idempotent.
int add_observer(const Observer *observer) noexcept;
void remove_observer(const Observer *observer) noexcept;

void notify_initialized(const LockEvent &e) noexcept;
void notify_freed(const LockEvent &e) noexcept;
void notify_acquiring(const LockEvent &e) noexcept;
void notify_acquired(const LockEvent &e, bool contended) noexcept;
void notify_try_failed(const LockEvent &e) noexcept;
void notify_rw_converted(const LockEvent &e) noexcept;
// Only the Valgrind tools' observer listens (tool_annotations.cpp): one load on the verified
// queued release otherwise, kept by add_observer and remove_observer.
extern std::atomic<unsigned> g_handle_listeners;
void notify_queue_handle_released_each(PKLOCK_QUEUE_HANDLE h) noexcept;
inline void notify_queue_handle_released(PKLOCK_QUEUE_HANDLE h) noexcept {
    if (__builtin_expect(g_handle_listeners.load(std::memory_order_relaxed) != 0, 0))
        notify_queue_handle_released_each(h);
}

// Every observer in turn (the forms below call them when there is not exactly one).
// Only an exploration listens (src/explore): one load on the verified acquire otherwise, kept by
// add_observer and remove_observer.
extern std::atomic<unsigned> g_attempt_listeners;
void notify_attempting_each(const LockEvent &e) noexcept;
inline void notify_attempting(const LockEvent &e) noexcept {
    if (__builtin_expect(g_attempt_listeners.load(std::memory_order_relaxed) != 0, 0)) notify_attempting_each(e);
}

// The observers with an interlocked member: the inline interlocked operations
// (ndislock/wdk_interlocked.h, which declares it the same way) call ndislock_interlocked_point
// only while it is not 0 (only an exploration listens). Kept by add_observer and remove_observer
// with __atomic read-modify-writes: a plain C object, so the public header's declaration is this
// one.
void notify_interlocked(const volatile void *address, const void *return_address) noexcept;

void notify_acquired_at_once_each(const LockEvent &e) noexcept;
void notify_releasing_each(const LockEvent &e) noexcept;

inline void notify_acquired_at_once(const LockEvent &e) noexcept {
    const Observer *o = g_sole_observer.load(std::memory_order_acquire);
    if (__builtin_expect(o != nullptr && o->acquired_at_once != nullptr, 1)) {
        model::NoPreempt observers_may_hold_locks;
        o->acquired_at_once(e);
        return;
    }
    notify_acquired_at_once_each(e);
}

// Called under the release's own NoPreempt (api/spin_lock_ops.h: a release is one step for
// interrupts), so the sole observer is called without a second guard.
inline void notify_releasing(const LockEvent &e) noexcept {
    const Observer *o = g_sole_observer.load(std::memory_order_acquire);
    if (__builtin_expect(o != nullptr && o->releasing != nullptr, 1)) return o->releasing(e);
    notify_releasing_each(e);
}
void notify_irql_changed(const IrqlEvent &e) noexcept;
void notify_wait(model::ThreadState &t, WaitPhase phase) noexcept;
void notify_thread_exit(model::ThreadState &t) noexcept;

// Makes the observers hear what the layers below report: the lock algorithms' waits
// (lock::g_wait_observer) and threads ending (model::set_thread_exit_hook). Called by the
// composition root before any thread registers; idempotent.
void connect_to_lower_layers() noexcept;
void notify_lock_named(const void *lock, const char *name) noexcept;
void notify_other_call(const char *name, bool blocking, bool ndis, const Site &site) noexcept;
void notify_wait_lock(const WaitLockEvent &e) noexcept;
void notify_synchronizes(const void *object, bool release) noexcept;
// Offers a finding to the observers with a finding member (an exploration): true if one took it
// (the caller then neither keeps nor prints it). One load while none listens.
extern std::atomic<unsigned> g_finding_takers;
bool offer_finding(const char *rule_id, const char *text) noexcept;
inline bool finding_takers() noexcept { return g_finding_takers.load(std::memory_order_relaxed) != 0; }
void notify_schedule_boundary(bool begins) noexcept;
void notify_scenario_returned(model::ThreadState &t, bool abandoned) noexcept;
void notify_callback_entered(const CallbackEvent &e) noexcept;
void notify_callback_returned(const CallbackEvent &e, std::uint64_t own_ns) noexcept;

// Whether a registered observer checks rules (has a misuse callback: the verifier). Observers
// that only look (statistics, timelines, the sanitizer annotations) leave the free-build
// personality as it is (docs/verifier.md, "Two personalities"). One load: the count is kept by
// add_observer and remove_observer.
extern std::atomic<unsigned> g_rule_checkers;
inline bool rules_checked() noexcept { return g_rule_checkers.load(std::memory_order_relaxed) != 0; }

// Reports a misuse the core detected. Returns if an observer reported it and the program may go
// on; otherwise prints the rule, the call site and detail, and ends the process.
void report_misuse(Rule rule, const Site &site, const char *detail) noexcept;
// The same, for misuse the core can go on from: false if no observer took it (nothing is said).
bool report_if_observed(Rule rule, const Site &site, const char *detail) noexcept;
// report_misuse about another thread than the caller's: the one whose state the report describes
// (the watchdog reporting a routine hung on its processor). misuse_thread() is that thread while
// the observers run, nullptr otherwise (then the report is the calling thread's).
void report_misuse_for(model::ThreadState &about, Rule rule, const Site &site, const char *detail) noexcept;
model::ThreadState *misuse_thread() noexcept;
// Both with the detail printf-formatted (platform::format: the whole text, however long).
void report_misusef(Rule rule, const Site &site, const char *fmt, ...) noexcept __attribute__((format(printf, 3, 4)));
bool report_if_observedf(Rule rule, const Site &site, const char *fmt, ...) noexcept
    __attribute__((format(printf, 3, 4)));

} // namespace ndislock::observe
