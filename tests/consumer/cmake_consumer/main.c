/*
 * A program that uses the INSTALLED ndislock package, as a C driver port would: built once
 * through CMake's find_package(ndislock CONFIG) (shared and static), once through pkg-config
 * (dynamic and static); see ../run_consumers.sh. It runs the contract essentials from
 * tests/c11/contract_checks.c: IRQL and OldIrql around NdisAcquireSpinLock/NdisReleaseSpinLock,
 * KeTestSpinLock on a lock another thread holds, and 8 threads x every lock family with exact
 * totals.
 *
 * Usage: ndislock_consumer [ITERATIONS]   (increments per thread; 5000)
 * Ends with "N passed, M failed"; exit status 0 only if all pass.
 */
#include "contract_checks.h"

int main(int argc, char **argv) { return nlc_run_all(argc, argv, 5000); }
