/* Misuse scenarios for the golden report tests, written in C the way driver code is (the site
 * macros of ndislock/ndis.h give each call its file, line and function). Each breaks one rule;
 * the offending line carries a comment "at:<RuleId>" and the other party's line "other:<RuleId>",
 * which the tests find by reading this file (so the golden files need no line numbers). */
#ifndef NDISLOCK_VERIFIER_REPORTS_SCENARIOS_H
#define NDISLOCK_VERIFIER_REPORTS_SCENARIOS_H

#ifdef __cplusplus
extern "C" {
#endif

void ScenarioRecursiveAcquire(void);
void ScenarioReleaseVariantMismatch(void);
void ScenarioReleaseVariantEquivalent(void);
void ScenarioWrongOldIrql(void);
void ScenarioLockOrderInversion(void);
void ScenarioIrqlDroppedWhileHoldingLock(void);
void ScenarioReleaseByNonOwner(void);
void ScenarioLockNotInitialized(void);
void ScenarioAcquireAboveDispatch(void);
void ScenarioReleaseNotHeld(void);
void ScenarioLockUsedAfterFree(void);
void ScenarioLockReinitialized(void);
void ScenarioLockFreedWhileHeld(void);
void ScenarioDprAcquireBelowDispatch(void);
void ScenarioReleaseNotAtDispatch(void);
void ScenarioIrqlInvalidRaise(void);
void ScenarioIrqlInvalidLower(void);
void ScenarioQueuedAndPlainMixed(void);
void ScenarioQueueHandleReused(void);
void ScenarioThreadExitHoldingLock(void);
void ScenarioBlockingAtDispatch(void);
void ScenarioNdisCallWhileHoldingLock(void);
/* Returns the number of tries it took (holds the OS descheduled are not charged, so a try can be
 * lost); 0 if no LockHeldTooLong came in 50 tries. */
int ScenarioLockHeldTooLong(void);

/* Several findings at once, for the SARIF test: errors with and without an other party, and a
 * warning. */
void ScenarioSarifMix(void);

#ifdef __cplusplus
}
#endif

#endif
