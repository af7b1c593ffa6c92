/*
 * c11.contract: the NDIS spin-lock contract checked from plain C11, built only from the public C
 * header <ndislock/ndis.h> (through contract_checks.c) and linked against ndislock::ndislock.
 *
 * Usage: c11_contract_test [ITERATIONS]   (increments per thread in the 8-thread runs; 20000)
 * Prints one line per check and ends with "N passed, M failed"; exit status 0 only if all pass,
 * 124 if the watchdog found a section hung.
 */
#include "contract_checks.h"

int main(int argc, char **argv) { return nlc_run_all(argc, argv, 20000); }
