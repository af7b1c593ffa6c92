// The verifier's rule catalog (docs/verifier.md, "The catalog"): stable IDs, severity, whether
// the state is terminal, and the Windows signal a driver author knows. The IDs are what reports
// print and tests assert on: never rename one.
#pragma once

#include <cstdint>

namespace ndislock::observe {

enum class Rule : std::uint8_t {
    LockNotInitialized,
    LockReinitialized,
    LockFreedWhileHeld,
    LockUsedAfterFree,
    AcquireAboveDispatch,
    DprAcquireBelowDispatch,
    ReleaseNotAtDispatch,
    IrqlInvalidRaise,
    IrqlInvalidLower,
    RecursiveAcquire,
    ReleaseNotHeld,
    ReleaseByNonOwner,
    ReleaseVariantMismatch,
    QueuedAndPlainMixed,
    QueueHandleReused,
    WrongOldIrql,
    IrqlDroppedWhileHoldingLock,
    LockHeldAtCallbackReturn,
    ThreadExitHoldingLock,
    LockOrderInversion,
    Deadlock,
    BlockingAtDispatch,
    NdisCallWhileHoldingLock,
    LockHeldTooLong,
    IsrTooLong,
    DpcTooLong,
    SyncInterruptMisuse,
    InterruptRegistrationMisuse,
    ReleaseVariantEquivalent,
    NullLockPointer,
    LockMisaligned,
    AssertionFailed,       // ASSERT / NT_ASSERT / NT_VERIFY false (ndislock/wdk_base.h)
    ListCorrupted,         // a LIST_ENTRY whose links disagree (ndislock/wdk_list.h)
    PagedCodeAtRaisedIrql, // PAGED_CODE() above APC_LEVEL
    DispatchFlagMismatch,  // NDIS_TEST_*_AT_DISPATCH_LEVEL disagrees with the IRQL (ndislock/ndis_flags.h)
    // Reader/writer locks (ndislock/rw_lock.h).
    RwLockWriteWhileRead,
    RwLockRecursion,
    RwLockStateMismatch,
    RwLockStateReused,
    RwLockDispatchFlagWrongIrql,
    // A bug check: a fault Windows stops the machine on (a DPC run with a NULL routine).
    BugCheck,
    // A lock class taken above DISPATCH_LEVEL (Ke AtDpcLevel forms) and held at or below it.
    LockClassIrqlInconsistent,
    // Timers (ndislock/wdk_timers.h).
    TimerFreedWhileActive,     // NdisFreeTimerObject of a set one-shot timer, or with its routine queued or running
    PeriodicTimerNotCancelled, // a periodic timer still set at NdisFreeTimerObject, adapter halt or process exit
    TimerUsedAfterFree,        // an NDIS timer call on a freed or unknown timer handle
    // Dispatcher objects, executive locks and work items (ndislock/wdk_dispatcher.h, wdk_work_items.h).
    MutexNotOwned,                 // a KMUTEX, fast or guarded mutex released by a thread that does not own it
    ResourceOutsideCriticalRegion, // ExAcquireResource*Lite outside a critical region, below APC_LEVEL
    FastMutexRecursion,            // ExAcquireFastMutex by the fast mutex's owner
    WorkItemMisuse,                // a work item queued while queued, freed while queued or running
    SemaphoreMisuse,               // a semaphore released past its limit, or made with a count outside 0..Limit
    // A call documented for IRQL <= some level made above it (KeSetEvent from an ISR).
    IrqlTooHighForCall,
    // Exploration (ndislock/explore.h, docs/explore.md).
    Livelock,            // a schedule passed its step bound without every thread returning
    ExploreUncontrolled, // a thread the exploration does not schedule called in, or made work, in a schedule
    DataRace,            // two annotated accesses, one a write, not ordered by happens-before
    Count_
};

// Error: breaks on Windows, or Driver Verifier reports it. Warning: guidance broken (a budget).
// Note: breaks the documented pairing but behaves exactly the same on Windows; it never changes
// the exit status.
enum class Severity : std::uint8_t { Error, Warning, Note };

// "error", "warning" or "note": the word reports and SARIF use.
const char *severity_name(Severity severity) noexcept;

struct RuleInfo {
    const char *id;
    Severity severity;
    bool terminal;
    const char *windows; // the nearest Windows signal
};

const RuleInfo &rule_info(Rule rule) noexcept;

} // namespace ndislock::observe
