// The verifier's rule catalog (../shared/spec/verifier-rules.md): stable IDs, severity, whether
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
    // Reader/writer locks (ndislock/rw_lock.h).
    RwLockWriteWhileRead,
    RwLockRecursion,
    RwLockStateMismatch,
    RwLockStateReused,
    RwLockDispatchFlagWrongIrql,
    Count_
};

enum class Severity : std::uint8_t { Error, Warning };

struct RuleInfo {
    const char *id;
    Severity severity;
    bool terminal;
    const char *windows; // the nearest Windows signal
};

const RuleInfo &rule_info(Rule rule) noexcept;

} // namespace ndislock::observe
