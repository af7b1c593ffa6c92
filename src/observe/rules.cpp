#include "observe/rules.h"

namespace ndislock::observe {

namespace {
constexpr RuleInfo kRules[] = {
    {"LockNotInitialized", Severity::Error, false, "Driver Verifier 0xC4/0x1002"},
    {"LockReinitialized", Severity::Error, false, "Driver Verifier 0xC4/0x1005"},
    {"LockFreedWhileHeld", Severity::Error, false, "Driver Verifier 0xC4/0x100B"},
    {"LockUsedAfterFree", Severity::Error, false, "NdisFreeSpinLock docs: must be allocated again"},
    {"AcquireAboveDispatch", Severity::Error, false, "Driver Verifier 0xC4/0x42"},
    {"DprAcquireBelowDispatch", Severity::Error, false, "Driver Verifier 0xC4/0x40, SDV IrqlDispatch"},
    {"ReleaseNotAtDispatch", Severity::Error, false, "Driver Verifier 0xC4/0x32, 0xC4/0x41"},
    {"IrqlInvalidRaise", Severity::Error, false, "Driver Verifier 0xC4/0x30"},
    {"IrqlInvalidLower", Severity::Error, false, "Driver Verifier 0xC4/0x31"},
    {"RecursiveAcquire", Severity::Error, true, "bug check 0xF SPIN_LOCK_ALREADY_OWNED"},
    {"ReleaseNotHeld", Severity::Error, false, "bug check 0x10, SDV SpinLockRelease"},
    {"ReleaseByNonOwner", Severity::Error, false, "Driver Verifier 0xC4/0x1004"},
    {"ReleaseVariantMismatch", Severity::Error, false, "Driver Verifier 0xC4/0x1009"},
    {"QueuedAndPlainMixed", Severity::Error, false, "Driver Verifier 0xC4/0x1008"},
    {"QueueHandleReused", Severity::Error, false, "KeAcquireInStackQueuedSpinLock docs: one handle per acquisition"},
    {"WrongOldIrql", Severity::Error, false, "KeReleaseSpinLock docs"},
    {"IrqlDroppedWhileHoldingLock", Severity::Error, false, "bug check 0xF cause, 0xC8"},
    {"LockHeldAtCallbackReturn", Severity::Error, false, "SDV SpinLock, IrqlReturn"},
    {"ThreadExitHoldingLock", Severity::Error, false, "Driver Verifier 0xC4/0x100A"},
    {"LockOrderInversion", Severity::Error, false, "Driver Verifier 0xC4/0x1001"},
    {"Deadlock", Severity::Error, true, "hang; at DISPATCH_LEVEL or above, bug check 0x133 DPC_WATCHDOG_VIOLATION"},
    {"BlockingAtDispatch", Severity::Error, false, "Driver Verifier 0xC4/0x3B, 0x7C/0x14, 0xB8"},
    {"NdisCallWhileHoldingLock", Severity::Warning, false, "NDIS synchronization guidance"},
    {"LockHeldTooLong", Severity::Warning, false, "NDIS guidance: hold a spin lock under 25 us"},
    {"IsrTooLong", Severity::Warning, false, "bug check 0x133 DPC_WATCHDOG_VIOLATION; guidance: an ISR under 25 us"},
    {"DpcTooLong", Severity::Warning, false, "bug check 0x133 DPC_WATCHDOG_VIOLATION; guidance: a DPC under 100 us"},
    {"SyncInterruptMisuse", Severity::Error, false, "SDV NdisMDeregisterInterruptEx"},
    {"InterruptRegistrationMisuse", Severity::Error, false, "SDV Init_RegisterInterrupt, bug check 0x7C/0x08"},
    {"ReleaseVariantEquivalent", Severity::Note, false,
     "none: Windows behaves as the matching release here (the WDK documents the pairing)"},
    {"NullLockPointer", Severity::Error, true,
     "bug check 0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL / 0x50 (a NULL dereference)"},
    {"LockMisaligned", Severity::Error, false,
     "KSPIN_LOCK must be pointer-aligned: a split-lock atomic, #AC with split-lock detection, a fault on ARM64"},
    {"AssertionFailed", Severity::Error, true,
     "checked build: STATUS_ASSERTION_FAILURE (0xC0000420), then a bug check"},
    {"ListCorrupted", Severity::Error, true,
     "bug check 0x139 KERNEL_SECURITY_CHECK_FAILURE, type 3 (corrupt LIST_ENTRY)"},
    {"PagedCodeAtRaisedIrql", Severity::Error, false, "PAGED_CODE assertion; bug check 0xA / 0x50 on a page fault"},
    {"DispatchFlagMismatch", Severity::Error, false,
     "NDIS docs: the DISPATCH_LEVEL flag states the IRQL; 0xC4/0x40 if Dpr calls follow"},
    {"RwLockWriteWhileRead", Severity::Error, true,
     "hang: NdisAcquireRWLockWrite docs (no promotion from read to write), ExAcquireSpinLock* docs"},
    {"RwLockRecursion", Severity::Error, true, "hang: ExAcquireSpinLockShared/Exclusive docs (recursion deadlocks)"},
    {"RwLockStateMismatch", Severity::Error, false, "NdisReleaseRWLock docs: the LOCK_STATE_EX its acquire filled"},
    {"RwLockStateReused", Severity::Error, false,
     "NdisAcquireRWLockRead/Write docs: a different LOCK_STATE_EX for each acquisition"},
    {"RwLockDispatchFlagWrongIrql", Severity::Error, false,
     "NDIS_RWL_AT_DISPATCH_LEVEL docs (Dispatch IRQL Tracking), Driver Verifier 0xC4/0x40"},
    {"BugCheck", Severity::Error, true, "bug check (the code and parameters are in the report)"},
    {"LockClassIrqlInconsistent", Severity::Error, false,
     "hang: an ISR spinning on a lock its interrupted processor holds (lockdep: inconsistent lock state)"},
    {"TimerFreedWhileActive", Severity::Error, false,
     "NdisCancelTimerObject / NdisFreeTimerObject docs; a routine run on freed pool: bug check 0x50 / 0xC5"},
    {"PeriodicTimerNotCancelled", Severity::Error, false,
     "SDV PeriodicTimer (NDIS); KeSetTimerEx docs: cancel active timers before unload"},
    {"TimerUsedAfterFree", Severity::Error, false,
     "NdisFreeTimerObject docs: the handle is gone; freed pool used: bug check 0xC5"},
    {"MutexNotOwned", Severity::Error, false,
     "KeReleaseMutex docs: raises STATUS_MUTEX_NOT_OWNED (unhandled in a driver: bug check 0x1E); a fast or guarded "
     "mutex: unchecked, the owner's exclusion is lost"},
    {"ResourceOutsideCriticalRegion", Severity::Error, false,
     "SDV WithinCriticalRegion; ExAcquireResource*Lite docs: normal kernel APCs disabled first"},
    {"FastMutexRecursion", Severity::Error, true, "hang: ExAcquireFastMutex docs (a fast mutex is not recursive)"},
    {"WorkItemMisuse", Severity::Error, false,
     "bug check 0xE4 WORKER_INVALID; IoQueueWorkItem(Ex) / IoFreeWorkItem / IoUninitializeWorkItem / ExQueueWorkItem "
     "docs"},
    {"SemaphoreMisuse", Severity::Error, false,
     "KeReleaseSemaphore docs: raises STATUS_SEMAPHORE_LIMIT_EXCEEDED (unhandled in a driver: bug check 0x1E); "
     "KeInitializeSemaphore docs: Count and Limit positive"},
    {"IrqlTooHighForCall", Severity::Error, false,
     "Driver Verifier 0xC4/0x20016 (IrqlKeSetEvent) and the DDI compliance IRQL rules; bug check 0xA"},
    {"Livelock", Severity::Error, true,
     "hang without a wait: bug check 0x133 DPC_WATCHDOG_VIOLATION at DISPATCH_LEVEL"},
    {"ExploreUncontrolled", Severity::Error, true, "none: a limit of the exploration, not a Windows fault"},
    {"DataRace", Severity::Error, true,
     "none: a lost update or torn state now and then (no Windows check orders plain accesses)"},
};
static_assert(sizeof kRules / sizeof kRules[0] == static_cast<unsigned>(Rule::Count_), "one entry per rule");
} // namespace

const RuleInfo &rule_info(Rule rule) noexcept { return kRules[static_cast<unsigned>(rule)]; }

const char *severity_name(Severity severity) noexcept {
    switch (severity) {
    case Severity::Error:
        return "error";
    case Severity::Warning:
        return "warning";
    case Severity::Note:
        return "note";
    }
    return "error";
}

} // namespace ndislock::observe
