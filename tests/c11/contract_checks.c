/*
 * The contract checks: see contract_checks.h. C11 + POSIX; includes only <ndislock/ndis.h> from
 * ndislock. Compiled with -std=c11 -Wall -Wextra -Wpedantic -Werror.
 *
 * Threads here never read a lock word another thread may be writing except through
 * __atomic_load_n, and flags between threads are C11 atomics, so ThreadSanitizer sees only what
 * ndislock itself does. The counters the locks protect are deliberately plain (volatile, to keep
 * the read-modify-write window open): a lock that does not exclude loses increments, and under
 * ThreadSanitizer a lock that does not synchronize is reported as a race.
 */
#define _POSIX_C_SOURCE 200809L

#include "contract_checks.h"

#include <ndislock/ndis.h>

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- Reporting and the watchdog ------------------------------------------------------- */

static atomic_uint g_passed;
static atomic_uint g_failed;
static _Atomic(const char *) g_section;
static atomic_llong g_deadline_ns; /* 0: no section running */
static atomic_int g_watchdog_stop;
static long long g_watchdog_limit_ns = 60LL * 1000000000LL;
static pthread_t g_watchdog;
static int g_watchdog_running;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void write_all(int fd, const char *text, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, text, length);
        if (n <= 0) return;
        text += n;
        length -= (size_t)n;
    }
}

/* Ends the process when a section overruns its limit: a hang must fail the test, not ctest's
 * timeout, and must say where it was. write(2) and _exit(2) only, so a wedged stdio cannot block
 * it. */
static void *watchdog_main(void *unused) {
    (void)unused;
    while (!atomic_load(&g_watchdog_stop)) {
        long long deadline = atomic_load(&g_deadline_ns);
        if (deadline != 0 && now_ns() > deadline) {
            const char *name = atomic_load(&g_section);
            char text[512];
            int n = snprintf(text, sizeof text,
                             "\nWATCHDOG: section '%s' did not finish within %lld s (a wait that never ends: "
                             "lock, IRQL or thread join); %u passed, %u failed before it\n",
                             name != NULL ? name : "?", g_watchdog_limit_ns / 1000000000LL, atomic_load(&g_passed),
                             atomic_load(&g_failed));
            if (n > 0) {
                size_t length = (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
                write_all(STDOUT_FILENO, text, length);
                write_all(STDERR_FILENO, text, length);
            }
            _exit(124);
        }
        sleep_ms(50);
    }
    return NULL;
}

static void section(const char *name) {
    atomic_store(&g_section, name);
    atomic_store(&g_deadline_ns, now_ns() + g_watchdog_limit_ns);
    printf("\n== %s\n", name);
}

static int record(int ok, const char *file, int line, const char *format, ...) __attribute__((format(printf, 4, 5)));
static int record(int ok, const char *file, int line, const char *format, ...) {
    va_list args;
    fputs(ok ? "PASS: " : "FAIL: ", stdout);
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    if (!ok) printf("  (%s:%d)", file, line);
    putchar('\n');
    atomic_fetch_add(ok ? &g_passed : &g_failed, 1u);
    return ok;
}

static void print_value(unsigned long long value) {
    if (value >= (1ull << 32)) /* addresses */
        printf("%#llx", value);
    else
        printf("%llu", value);
}

static int check_eq(unsigned long long actual, unsigned long long expected, const char *actual_text,
                    const char *expected_text, const char *what, const char *file, int line) {
    int ok = actual == expected;
    fputs(ok ? "PASS: " : "FAIL: ", stdout);
    printf("%s  [%s == %s", what, actual_text, expected_text);
    if (ok) {
        fputs(" == ", stdout);
        print_value(actual);
        fputs("]\n", stdout);
    } else {
        fputs("; got ", stdout);
        print_value(actual);
        fputs(", expected ", stdout);
        print_value(expected);
        printf("]  (%s:%d)\n", file, line);
    }
    atomic_fetch_add(ok ? &g_passed : &g_failed, 1u);
    return ok;
}

/* CHECK(condition, printf-format, ...) and CHECK_EQ(actual, expected, description). */
#define CHECK(cond, ...) record((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ(actual, expected, what)                                                                               \
    check_eq((unsigned long long)(actual), (unsigned long long)(expected), #actual, #expected, what, __FILE__, __LINE__)

void nlc_begin(unsigned WatchdogSeconds) {
    const char *env = getenv("NDISLOCK_TEST_WATCHDOG_SECONDS");
    unsigned long seconds = WatchdogSeconds;
    if (env != NULL && *env != '\0') seconds = strtoul(env, NULL, 10);
    if (seconds == 0) seconds = 60;
    g_watchdog_limit_ns = (long long)seconds * 1000000000LL;
    setvbuf(stdout, NULL, _IOLBF, 0); /* a watchdog exit must not lose buffered lines */
    if (pthread_create(&g_watchdog, NULL, watchdog_main, NULL) == 0)
        g_watchdog_running = 1;
    else
        fprintf(stderr, "warning: no watchdog thread; a hang will not be diagnosed\n");
    printf("ndislock contract checks (watchdog: %lu s per section)\n", seconds);
}

int nlc_end(void) {
    unsigned passed, failed;
    atomic_store(&g_deadline_ns, 0);
    atomic_store(&g_watchdog_stop, 1);
    if (g_watchdog_running) pthread_join(g_watchdog, NULL);
    g_watchdog_running = 0;
    passed = atomic_load(&g_passed);
    failed = atomic_load(&g_failed);
    printf("\n%u passed, %u failed\n", passed, failed);
    fflush(stdout);
    return (failed == 0 && passed > 0) ? 0 : 1;
}

/* ---- Small helpers -------------------------------------------------------------------- */

static KIRQL irql(void) { return KeGetCurrentIrql(); }

/* The lock word as another processor would read it. */
static KSPIN_LOCK word(PKSPIN_LOCK lock) { return __atomic_load_n(lock, __ATOMIC_ACQUIRE); }

static ULONG_PTR entry_lock_field(KSPIN_LOCK_QUEUE *entry) {
    return (ULONG_PTR)__atomic_load_n(&entry->Lock, __ATOMIC_ACQUIRE);
}

static KSPIN_LOCK_QUEUE *entry_next_field(KSPIN_LOCK_QUEUE *entry) {
    return __atomic_load_n(&entry->Next, __ATOMIC_ACQUIRE);
}

/* Waits until *flag == value, at most `seconds`; 1 if it got there. */
static int wait_flag(atomic_int *flag, int value, double seconds) {
    long long deadline = now_ns() + (long long)(seconds * 1e9);
    while (atomic_load(flag) != value) {
        if (now_ns() > deadline) return 0;
        sched_yield();
    }
    return 1;
}

/* A few hundred cycles inside a critical section, so a lock that fails to exclude is caught. */
static void spin_briefly(void) {
    for (volatile int i = 0; i < 16; ++i) {
    }
}

static int start_thread(pthread_t *thread, void *(*body)(void *), void *arg) {
    int rc = pthread_create(thread, NULL, body, arg);
    if (rc != 0) CHECK(0, "pthread_create: %s", strerror(rc));
    return rc == 0;
}

/* ---- Layout and constants (contract section 1) ---------------------------------------- */

void nlc_check_layout(void) {
    section("layout of the WDK types (contract section 1)");
#if defined(__x86_64__) || defined(__aarch64__)
    CHECK_EQ(sizeof(NDIS_SPIN_LOCK), 16, "sizeof(NDIS_SPIN_LOCK) is 16 on 64-bit");
    CHECK_EQ(offsetof(NDIS_SPIN_LOCK, OldIrql), 8, "NDIS_SPIN_LOCK.OldIrql at offset 8");
    CHECK_EQ(sizeof(KLOCK_QUEUE_HANDLE), 24, "sizeof(KLOCK_QUEUE_HANDLE) is 24");
    CHECK_EQ(offsetof(KLOCK_QUEUE_HANDLE, OldIrql), 16, "KLOCK_QUEUE_HANDLE.OldIrql at offset 16");
    CHECK_EQ(sizeof(KSPIN_LOCK_QUEUE), 16, "sizeof(KSPIN_LOCK_QUEUE) is 16");
    CHECK_EQ(sizeof(KSPIN_LOCK), 8, "sizeof(KSPIN_LOCK) is 8");
#else
    CHECK_EQ(sizeof(NDIS_SPIN_LOCK), 2 * sizeof(void *), "sizeof(NDIS_SPIN_LOCK) is two pointers");
    CHECK_EQ(offsetof(NDIS_SPIN_LOCK, OldIrql), sizeof(void *), "NDIS_SPIN_LOCK.OldIrql after the word");
    CHECK_EQ(sizeof(KLOCK_QUEUE_HANDLE), 3 * sizeof(void *), "sizeof(KLOCK_QUEUE_HANDLE) is three pointers");
    CHECK_EQ(sizeof(KSPIN_LOCK), sizeof(void *), "sizeof(KSPIN_LOCK) is a pointer");
#endif
    CHECK_EQ(offsetof(NDIS_SPIN_LOCK, SpinLock), 0, "NDIS_SPIN_LOCK.SpinLock first");
    CHECK_EQ(offsetof(KLOCK_QUEUE_HANDLE, LockQueue), 0, "KLOCK_QUEUE_HANDLE.LockQueue first");
    CHECK_EQ(offsetof(KSPIN_LOCK_QUEUE, Lock), sizeof(void *), "KSPIN_LOCK_QUEUE.Lock after Next");
    CHECK_EQ(sizeof(KIRQL), 1, "sizeof(KIRQL) is 1");
    CHECK_EQ(sizeof(ULONG), 4, "ULONG is 32 bits (LLP64)");
    CHECK_EQ(sizeof(PROCESSOR_NUMBER), 4, "sizeof(PROCESSOR_NUMBER) is 4");
    CHECK_EQ(PASSIVE_LEVEL, 0, "PASSIVE_LEVEL");
    CHECK_EQ(APC_LEVEL, 1, "APC_LEVEL");
    CHECK_EQ(DISPATCH_LEVEL, 2, "DISPATCH_LEVEL");
#if defined(__x86_64__) || defined(__aarch64__)
    CHECK_EQ(CLOCK_LEVEL, 13, "CLOCK_LEVEL on amd64/arm64");
    CHECK_EQ(IPI_LEVEL, 14, "IPI_LEVEL on amd64/arm64");
    CHECK_EQ(POWER_LEVEL, 14, "POWER_LEVEL on amd64/arm64");
    CHECK_EQ(PROFILE_LEVEL, 15, "PROFILE_LEVEL on amd64/arm64");
    CHECK_EQ(HIGH_LEVEL, 15, "HIGH_LEVEL on amd64/arm64");
#endif
    CHECK_EQ(LOCK_QUEUE_WAIT, 1, "LOCK_QUEUE_WAIT");
    CHECK_EQ(LOCK_QUEUE_OWNER, 2, "LOCK_QUEUE_OWNER");
}

/* ---- IRQL and processors -------------------------------------------------------------- */

void nlc_check_irql_at_start(void) {
    section("IRQL at start");
    CHECK_EQ(irql(), PASSIVE_LEVEL, "KeGetCurrentIrql() is PASSIVE_LEVEL before any lock call");
}

void nlc_check_processors(void) {
    KAFFINITY affinity = 0;
    PROCESSOR_NUMBER number;
    KIRQL old;
    section("processors: 2 virtual processors, binding, processor numbers");
    CHECK_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK, "NdislockSetProcessorCount(2)");
    CHECK_EQ(NdislockSetProcessorCount(0), NDISLOCK_INVALID_ARGUMENT, "NdislockSetProcessorCount(0) is refused");
    CHECK_EQ(NdislockSetProcessorCount(NDISLOCK_MAX_PROCESSORS + 1), NDISLOCK_INVALID_ARGUMENT,
             "NdislockSetProcessorCount(NDISLOCK_MAX_PROCESSORS + 1) is refused");
    CHECK_EQ(KeQueryActiveProcessorCountEx(0), 2, "KeQueryActiveProcessorCountEx(0) after the refused calls");
    CHECK_EQ(KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS), 2,
             "KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS)");
    CHECK_EQ(KeQueryActiveProcessorCountEx(1), 0, "group 1 has no processors");
    CHECK_EQ(KeQueryActiveProcessorCount(&affinity), 2, "KeQueryActiveProcessorCount(&Affinity)");
    CHECK_EQ(affinity, 3, "the affinity mask of 2 processors");
    CHECK_EQ(KeQueryActiveProcessorCount(NULL), 2, "KeQueryActiveProcessorCount(NULL)");

    CHECK_EQ(NdislockBindCurrentThread(2), NDISLOCK_INVALID_ARGUMENT, "binding to processor 2 of 2 is refused");
    CHECK_EQ(NdislockBindCurrentThread(1), NDISLOCK_OK, "NdislockBindCurrentThread(1)");
    CHECK_EQ(KeGetCurrentProcessorNumber(), 1, "KeGetCurrentProcessorNumber() after binding to 1");
    CHECK_EQ(NdislockBindCurrentThread(0), NDISLOCK_OK, "NdislockBindCurrentThread(0)");
    memset(&number, 0xff, sizeof number);
    CHECK_EQ(KeGetCurrentProcessorNumberEx(&number), 0, "KeGetCurrentProcessorNumberEx(&n) after binding to 0");
    CHECK_EQ(number.Group, 0, "PROCESSOR_NUMBER.Group");
    CHECK_EQ(number.Number, 0, "PROCESSOR_NUMBER.Number");
    CHECK_EQ(KeGetCurrentProcessorNumberEx(NULL), 0, "KeGetCurrentProcessorNumberEx(NULL)");

    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK_EQ(NdislockBindCurrentThread(1), NDISLOCK_WRONG_IRQL, "binding at DISPATCH_LEVEL is refused");
    CHECK_EQ(KeGetCurrentProcessorNumber(), 0, "the refused binding left the thread on processor 0");
    KeLowerIrql(old);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "back at PASSIVE_LEVEL");
}

/* ---- One thread: the NDIS calls (contract section 2) ---------------------------------- */

void nlc_check_ndis_single(void) {
    NDIS_SPIN_LOCK lock;
    KIRQL old = 0;
    section("NdisAcquireSpinLock / NdisReleaseSpinLock / Dpr forms, one thread");
    memset(&lock, 0xa5, sizeof lock);
    NdisAllocateSpinLock(&lock);
    CHECK_EQ(word(&lock.SpinLock), 0, "NdisAllocateSpinLock leaves the word 0 (free)");
    CHECK_EQ(KeTestSpinLock(&lock.SpinLock), TRUE, "KeTestSpinLock on a free lock is TRUE");

    lock.OldIrql = 0x5a; /* a sentinel: the acquire must store the previous IRQL over it */
    NdisAcquireSpinLock(&lock);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "NdisAcquireSpinLock from PASSIVE_LEVEL raises to DISPATCH_LEVEL");
    CHECK_EQ(lock.OldIrql, PASSIVE_LEVEL, "NdisAcquireSpinLock saves PASSIVE_LEVEL in lock.OldIrql");
    CHECK_EQ(word(&lock.SpinLock), 1, "the word is 1 while held");
    CHECK_EQ(KeTestSpinLock(&lock.SpinLock), FALSE, "KeTestSpinLock on the held lock is FALSE");
    NdisReleaseSpinLock(&lock);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "NdisReleaseSpinLock lowers back to PASSIVE_LEVEL");
    CHECK_EQ(word(&lock.SpinLock), 0, "the word is 0 after release");
    CHECK_EQ(KeTestSpinLock(&lock.SpinLock), TRUE, "KeTestSpinLock after release is TRUE");

    KeRaiseIrql(APC_LEVEL, &old);
    CHECK_EQ(old, PASSIVE_LEVEL, "KeRaiseIrql(APC_LEVEL) returns PASSIVE_LEVEL");
    CHECK_EQ(irql(), APC_LEVEL, "IRQL is APC_LEVEL after KeRaiseIrql(APC_LEVEL)");
    NdisAcquireSpinLock(&lock);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "NdisAcquireSpinLock from APC_LEVEL raises to DISPATCH_LEVEL");
    CHECK_EQ(lock.OldIrql, APC_LEVEL, "NdisAcquireSpinLock from APC_LEVEL saves APC_LEVEL");
    NdisReleaseSpinLock(&lock);
    CHECK_EQ(irql(), APC_LEVEL, "NdisReleaseSpinLock restores APC_LEVEL");
    KeLowerIrql(old);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "KeLowerIrql(PASSIVE_LEVEL)");

    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK_EQ(old, PASSIVE_LEVEL, "KeRaiseIrql(DISPATCH_LEVEL) returns PASSIVE_LEVEL");
    CHECK_EQ(irql(), DISPATCH_LEVEL, "IRQL is DISPATCH_LEVEL after KeRaiseIrql(DISPATCH_LEVEL)");
    NdisAcquireSpinLock(&lock);
    CHECK_EQ(lock.OldIrql, DISPATCH_LEVEL, "NdisAcquireSpinLock at DISPATCH_LEVEL saves DISPATCH_LEVEL");
    NdisReleaseSpinLock(&lock);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "NdisReleaseSpinLock restores DISPATCH_LEVEL");

    lock.OldIrql = 0x5a;
    NdisDprAcquireSpinLock(&lock);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "NdisDprAcquireSpinLock leaves the IRQL at DISPATCH_LEVEL");
    CHECK_EQ(word(&lock.SpinLock), 1, "the word is 1 while held by the Dpr form");
    CHECK_EQ(lock.OldIrql, 0x5a, "NdisDprAcquireSpinLock does not touch OldIrql (current WDK headers)");
    CHECK_EQ(KeTestSpinLock(&lock.SpinLock), FALSE, "KeTestSpinLock on the Dpr-held lock is FALSE");
    NdisDprReleaseSpinLock(&lock);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "NdisDprReleaseSpinLock leaves the IRQL at DISPATCH_LEVEL");
    CHECK_EQ(word(&lock.SpinLock), 0, "the word is 0 after NdisDprReleaseSpinLock");
    KeLowerIrql(old);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "KeLowerIrql(old) after the Dpr pair: PASSIVE_LEVEL");
    NdisFreeSpinLock(&lock);

    NdisAllocateSpinLock(&lock); /* freed, allocated again, usable again */
    NdisAcquireSpinLock(&lock);
    CHECK_EQ(word(&lock.SpinLock), 1, "a lock allocated again after NdisFreeSpinLock works");
    NdisReleaseSpinLock(&lock);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "and releases to PASSIVE_LEVEL");
    NdisFreeSpinLock(&lock);
}

/* ---- One thread: the Ke calls (contract section 3) ------------------------------------ */

void nlc_check_ke_single(void) {
    KSPIN_LOCK lock = (KSPIN_LOCK)0xdeadbeefu;
    KIRQL old = 0x5a, inner = 0x5a, dirql = 0x5a, high = 0x5a;
    section("KeAcquireSpinLock / AtDpcLevel / KeTryToAcquire / KeRaiseIrql, one thread");
    KeInitializeSpinLock(&lock);
    CHECK_EQ(word(&lock), 0, "KeInitializeSpinLock sets the word to 0");

    KeAcquireSpinLock(&lock, &old);
    CHECK_EQ(old, PASSIVE_LEVEL, "KeAcquireSpinLock from PASSIVE_LEVEL returns PASSIVE_LEVEL");
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeAcquireSpinLock raises to DISPATCH_LEVEL");
    CHECK_EQ(word(&lock), 1, "the word is 1 while held");
    CHECK_EQ(KeTestSpinLock(&lock), FALSE, "KeTestSpinLock on the held lock is FALSE");
    KeReleaseSpinLock(&lock, old);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "KeReleaseSpinLock(old) lowers to PASSIVE_LEVEL");
    CHECK_EQ(word(&lock), 0, "the word is 0 after KeReleaseSpinLock");

    old = KeAcquireSpinLockRaiseToDpc(&lock);
    CHECK_EQ(old, PASSIVE_LEVEL, "KeAcquireSpinLockRaiseToDpc returns PASSIVE_LEVEL");
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeAcquireSpinLockRaiseToDpc raises to DISPATCH_LEVEL");
    CHECK_EQ(word(&lock), 1, "the word is 1 while held");
    KeReleaseSpinLock(&lock, old);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "and KeReleaseSpinLock lowers to PASSIVE_LEVEL");

    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireSpinLock(&lock, &inner);
    CHECK_EQ(inner, DISPATCH_LEVEL, "KeAcquireSpinLock at DISPATCH_LEVEL returns DISPATCH_LEVEL");
    KeReleaseSpinLock(&lock, inner);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeReleaseSpinLock(DISPATCH_LEVEL) stays at DISPATCH_LEVEL");

    KeAcquireSpinLockAtDpcLevel(&lock);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeAcquireSpinLockAtDpcLevel: IRQL unchanged");
    CHECK_EQ(word(&lock), 1, "the word is 1 while held AtDpcLevel");
    KeReleaseSpinLockFromDpcLevel(&lock);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeReleaseSpinLockFromDpcLevel: IRQL unchanged");
    CHECK_EQ(word(&lock), 0, "the word is 0 after KeReleaseSpinLockFromDpcLevel");

    CHECK_EQ(KeTryToAcquireSpinLockAtDpcLevel(&lock), TRUE, "KeTryToAcquireSpinLockAtDpcLevel on a free lock");
    CHECK_EQ(word(&lock), 1, "the word is 1 after a successful try");
    CHECK_EQ(irql(), DISPATCH_LEVEL, "try-acquire: IRQL unchanged");
    KeReleaseSpinLockFromDpcLevel(&lock);
    CHECK_EQ(word(&lock), 0, "the word is 0 after releasing the tried lock");
    KeLowerIrql(old);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "KeLowerIrql(old): PASSIVE_LEVEL");

    old = KeRaiseIrqlToDpcLevel();
    CHECK_EQ(old, PASSIVE_LEVEL, "KeRaiseIrqlToDpcLevel returns PASSIVE_LEVEL");
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeRaiseIrqlToDpcLevel raises to DISPATCH_LEVEL");
    KeRaiseIrql(DISPATCH_LEVEL + 3, &dirql);
    CHECK_EQ(dirql, DISPATCH_LEVEL, "KeRaiseIrql to a DIRQL returns DISPATCH_LEVEL");
    CHECK_EQ(irql(), DISPATCH_LEVEL + 3, "IRQL is the DIRQL");
    KeRaiseIrql(HIGH_LEVEL, &high);
    CHECK_EQ(high, DISPATCH_LEVEL + 3, "KeRaiseIrql(HIGH_LEVEL) returns the DIRQL");
    CHECK_EQ(irql(), HIGH_LEVEL, "IRQL is HIGH_LEVEL");
    KeLowerIrql(high);
    CHECK_EQ(irql(), DISPATCH_LEVEL + 3, "KeLowerIrql back to the DIRQL");
    KeLowerIrql(dirql);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeLowerIrql back to DISPATCH_LEVEL");
    KeLowerIrql(old);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "KeLowerIrql back to PASSIVE_LEVEL");
}

/* ---- One thread: in-stack queued locks (contract section 3, lock-word encoding) ----------- */

void nlc_check_queued_single(void) {
    KSPIN_LOCK lock;
    KLOCK_QUEUE_HANDLE handle;
    KIRQL old;
    section("KeAcquireInStackQueuedSpinLock and the AtDpcLevel form, one thread");
    KeInitializeSpinLock(&lock);
    memset(&handle, 0xa5, sizeof handle);
    KeAcquireInStackQueuedSpinLock(&lock, &handle);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeAcquireInStackQueuedSpinLock raises to DISPATCH_LEVEL");
    CHECK_EQ(handle.OldIrql, PASSIVE_LEVEL, "the handle keeps the old IRQL, PASSIVE_LEVEL");
    CHECK_EQ(word(&lock), (KSPIN_LOCK)&handle.LockQueue, "the word is the owner's queue entry (the tail)");
    CHECK_EQ(entry_lock_field(&handle.LockQueue), (ULONG_PTR)&lock | LOCK_QUEUE_OWNER,
             "h.LockQueue.Lock is the lock address | LOCK_QUEUE_OWNER");
    CHECK_EQ((ULONG_PTR)entry_next_field(&handle.LockQueue), 0, "h.LockQueue.Next is NULL with no waiter");
    CHECK_EQ(KeTestSpinLock(&lock), FALSE, "KeTestSpinLock on the queued-held lock is FALSE");
    KeReleaseInStackQueuedSpinLock(&handle);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "KeReleaseInStackQueuedSpinLock lowers to PASSIVE_LEVEL");
    CHECK_EQ(word(&lock), 0, "the word is 0 after the queued release");
    CHECK_EQ(KeTestSpinLock(&lock), TRUE, "KeTestSpinLock after the queued release is TRUE");

    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&lock, &handle);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeAcquireInStackQueuedSpinLockAtDpcLevel: IRQL unchanged");
    CHECK_EQ(word(&lock), (KSPIN_LOCK)&handle.LockQueue, "AtDpcLevel: the word is the owner's queue entry");
    CHECK_EQ(entry_lock_field(&handle.LockQueue), (ULONG_PTR)&lock | LOCK_QUEUE_OWNER,
             "AtDpcLevel: h.LockQueue.Lock is the lock address | LOCK_QUEUE_OWNER");
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&handle);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "KeReleaseInStackQueuedSpinLockFromDpcLevel: IRQL unchanged");
    CHECK_EQ(word(&lock), 0, "the word is 0 after the FromDpcLevel release");
    KeLowerIrql(old);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "KeLowerIrql(old): PASSIVE_LEVEL");

    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireInStackQueuedSpinLock(&lock, &handle);
    CHECK_EQ(handle.OldIrql, DISPATCH_LEVEL, "queued acquire at DISPATCH_LEVEL keeps DISPATCH_LEVEL in the handle");
    KeReleaseInStackQueuedSpinLock(&handle);
    CHECK_EQ(irql(), DISPATCH_LEVEL, "and its release stays at DISPATCH_LEVEL");
    KeLowerIrql(old);
}

/* ---- Two threads: a lock held by another thread ---------------------------------------- */

typedef struct holder {
    NDIS_SPIN_LOCK *lock;
    atomic_int state; /* 0 started, 1 holds the lock, 2 asked to release, 3 released */
    NDISLOCK_STATUS bind_status;
    KIRQL irql_at_start, irql_while_held, irql_after;
    int release_order_timed_out;
} holder;

static void *holder_main(void *arg) {
    holder *h = arg;
    h->bind_status = NdislockBindCurrentThread(1);
    h->irql_at_start = KeGetCurrentIrql();
    NdisAcquireSpinLock(h->lock);
    h->irql_while_held = KeGetCurrentIrql();
    atomic_store(&h->state, 1);
    /* Holds at DISPATCH_LEVEL until told (bounded: a lost main thread must not hang us). */
    if (!wait_flag(&h->state, 2, 20.0)) h->release_order_timed_out = 1;
    NdisReleaseSpinLock(h->lock);
    h->irql_after = KeGetCurrentIrql();
    atomic_store(&h->state, 3);
    return NULL;
}

void nlc_check_held_by_other(void) {
    NDIS_SPIN_LOCK lock;
    holder h;
    pthread_t thread;
    KIRQL old;
    long long started;
    BOOLEAN tried;
    section("a lock held by another thread (processor 1), seen from processor 0");
    memset(&h, 0, sizeof h);
    NdisAllocateSpinLock(&lock);
    h.lock = &lock;
    atomic_init(&h.state, 0);
    if (!start_thread(&thread, holder_main, &h)) return;
    if (CHECK(wait_flag(&h.state, 1, 10.0), "the other thread took the lock within 10 s")) {
        CHECK_EQ(KeTestSpinLock(&lock.SpinLock), FALSE,
                 "KeTestSpinLock from the main thread sees the lock held by another thread");
        CHECK_EQ(word(&lock.SpinLock), 1, "the word is 1 while another thread holds it");
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        started = now_ns();
        tried = KeTryToAcquireSpinLockAtDpcLevel(&lock.SpinLock);
        CHECK_EQ(tried, FALSE, "KeTryToAcquireSpinLockAtDpcLevel on a lock held by another thread is FALSE");
        CHECK(now_ns() - started < 1000000000LL, "and it returned at once (%lld us), it did not wait",
              (now_ns() - started) / 1000);
        if (tried) KeReleaseSpinLockFromDpcLevel(&lock.SpinLock); /* keep the state sane after a failure */
        KeLowerIrql(old);
    }
    atomic_store(&h.state, 2);
    CHECK(wait_flag(&h.state, 3, 10.0), "the other thread released within 10 s of being told");
    pthread_join(thread, NULL);
    CHECK_EQ(h.bind_status, NDISLOCK_OK, "the other thread bound itself to processor 1");
    CHECK_EQ(h.irql_at_start, PASSIVE_LEVEL, "a new thread starts at PASSIVE_LEVEL");
    CHECK_EQ(h.irql_while_held, DISPATCH_LEVEL, "the other thread ran at DISPATCH_LEVEL while holding");
    CHECK_EQ(h.irql_after, PASSIVE_LEVEL, "and at PASSIVE_LEVEL after its release");
    CHECK_EQ(h.release_order_timed_out, 0, "the other thread was told to release in time");
    CHECK_EQ(KeTestSpinLock(&lock.SpinLock), TRUE, "KeTestSpinLock after the other thread released is TRUE");
    CHECK_EQ(irql(), PASSIVE_LEVEL, "the main thread's processor is still at PASSIVE_LEVEL");
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    tried = KeTryToAcquireSpinLockAtDpcLevel(&lock.SpinLock);
    CHECK_EQ(tried, TRUE, "KeTryToAcquireSpinLockAtDpcLevel once the other thread released");
    if (tried) KeReleaseSpinLockFromDpcLevel(&lock.SpinLock);
    KeLowerIrql(old);
    NdisFreeSpinLock(&lock);
}

/* ---- Queued waiters: the tail in the word, FIFO hand-over --------------------------------- */

#define FIFO_WAITERS 3

typedef struct fifo_shared {
    KSPIN_LOCK lock;
    atomic_int next_turn;
} fifo_shared;

typedef struct fifo_waiter {
    fifo_shared *shared;
    ULONG processor;
    NDISLOCK_STATUS bind_status;
    _Atomic(KLOCK_QUEUE_HANDLE *) handle;
    atomic_int state; /* 0 started, 1 go, 2 acquiring, 3 done */
    int turn;
    KIRQL irql_while_held, irql_after;
    ULONG_PTR lock_field_while_held;
} fifo_waiter;

static void *fifo_waiter_main(void *arg) {
    fifo_waiter *w = arg;
    KLOCK_QUEUE_HANDLE handle;
    w->bind_status = NdislockBindCurrentThread(w->processor);
    if (!wait_flag(&w->state, 1, 30.0)) {
        atomic_store(&w->state, 3);
        return NULL;
    }
    atomic_store(&w->handle, &handle);
    atomic_store(&w->state, 2);
    KeAcquireInStackQueuedSpinLock(&w->shared->lock, &handle);
    w->turn = atomic_fetch_add(&w->shared->next_turn, 1);
    w->irql_while_held = KeGetCurrentIrql();
    w->lock_field_while_held = entry_lock_field(&handle.LockQueue);
    KeReleaseInStackQueuedSpinLock(&handle);
    w->irql_after = KeGetCurrentIrql();
    atomic_store(&w->handle, NULL);
    atomic_store(&w->state, 3);
    return NULL;
}

void nlc_check_queued_fifo(void) {
    static fifo_shared shared;
    static fifo_waiter waiters[FIFO_WAITERS];
    pthread_t threads[FIFO_WAITERS];
    int started[FIFO_WAITERS] = {0};
    KLOCK_QUEUE_HANDLE handle;
    KSPIN_LOCK_QUEUE *previous = &handle.LockQueue;
    int i;
    section("in-stack queued: waiters join at the tail and are served in FIFO order");
    if (!CHECK_EQ(NdislockSetProcessorCount(FIFO_WAITERS + 1), NDISLOCK_OK,
                  "NdislockSetProcessorCount(4): a processor per waiter"))
        return;
    KeInitializeSpinLock(&shared.lock);
    atomic_init(&shared.next_turn, 0);
    for (i = 0; i < FIFO_WAITERS; ++i) {
        memset(&waiters[i], 0, sizeof waiters[i]);
        waiters[i].shared = &shared;
        waiters[i].processor = (ULONG)i + 1;
        atomic_init(&waiters[i].handle, NULL);
        atomic_init(&waiters[i].state, 0);
        started[i] = start_thread(&threads[i], fifo_waiter_main, &waiters[i]);
    }

    KeAcquireInStackQueuedSpinLock(&shared.lock, &handle);
    for (i = 0; i < FIFO_WAITERS; ++i) {
        fifo_waiter *w = &waiters[i];
        KLOCK_QUEUE_HANDLE *theirs;
        KSPIN_LOCK_QUEUE *entry;
        long long deadline = now_ns() + 10LL * 1000000000LL;
        int linked = 0;
        if (!started[i]) continue;
        atomic_store(&w->state, 1);
        if (!CHECK(wait_flag(&w->state, 2, 10.0), "waiter %d is about to acquire within 10 s", i)) break;
        theirs = atomic_load(&w->handle);
        entry = &theirs->LockQueue;
        /* It is queued once the word names its entry, the previous entry links to it and its own
         * Lock field says it waits; give it up to 10 s to get there. */
        while (now_ns() < deadline) {
            linked = word(&shared.lock) == (KSPIN_LOCK)entry && entry_next_field(previous) == entry &&
                     (entry_lock_field(entry) & LOCK_QUEUE_WAIT) != 0;
            if (linked) break;
            sched_yield();
        }
        CHECK_EQ(word(&shared.lock), (KSPIN_LOCK)entry, "the word is the newest waiter's entry (the tail)");
        CHECK_EQ((ULONG_PTR)entry_next_field(previous), (ULONG_PTR)entry,
                 "the previous entry's Next links to the new waiter");
        /* Bits 0 and 1 are the WDK's; ndislock may keep a flag of its own in bit 2 of a waiting
         * entry (the lock is 8-byte aligned), so only those two and the address are checked. */
        CHECK_EQ(entry_lock_field(entry) & (ULONG_PTR)(LOCK_QUEUE_WAIT | LOCK_QUEUE_OWNER), LOCK_QUEUE_WAIT,
                 "the waiting entry's Lock has LOCK_QUEUE_WAIT set, LOCK_QUEUE_OWNER clear");
        CHECK_EQ(entry_lock_field(entry) & ~(ULONG_PTR)7, (ULONG_PTR)&shared.lock,
                 "the waiting entry's Lock names the lock's address");
        CHECK_EQ(atomic_load(&w->state), 2, "the waiter is still waiting (the owner holds the lock)");
        previous = entry;
    }
    CHECK_EQ(entry_lock_field(&handle.LockQueue), (ULONG_PTR)&shared.lock | LOCK_QUEUE_OWNER,
             "the owner's entry still says LOCK_QUEUE_OWNER with waiters queued");
    CHECK_EQ(KeTestSpinLock(&shared.lock), FALSE, "KeTestSpinLock with an owner and waiters is FALSE");
    KeReleaseInStackQueuedSpinLock(&handle);
    CHECK_EQ(irql(), PASSIVE_LEVEL, "the owner's release lowers to PASSIVE_LEVEL");

    for (i = 0; i < FIFO_WAITERS; ++i) {
        if (!started[i]) continue;
        int not_told = 0; /* a waiter the loop above never reached: let it run now */
        atomic_compare_exchange_strong(&waiters[i].state, &not_told, 1);
        CHECK(wait_flag(&waiters[i].state, 3, 10.0), "waiter %d got and released the lock within 10 s", i);
    }
    for (i = 0; i < FIFO_WAITERS; ++i) {
        if (!started[i]) continue;
        pthread_join(threads[i], NULL);
        CHECK_EQ(waiters[i].bind_status, NDISLOCK_OK, "the waiter bound itself to its own processor");
        CHECK_EQ(waiters[i].turn, i, "the waiter queued i-th got the lock i-th (FIFO)");
        CHECK_EQ(waiters[i].irql_while_held, DISPATCH_LEVEL, "the waiter held the lock at DISPATCH_LEVEL");
        CHECK_EQ(waiters[i].lock_field_while_held, (ULONG_PTR)&shared.lock | LOCK_QUEUE_OWNER,
                 "the waiter's entry said LOCK_QUEUE_OWNER once it owned the lock");
        CHECK_EQ(waiters[i].irql_after, PASSIVE_LEVEL, "the waiter's release lowered to PASSIVE_LEVEL");
    }
    CHECK_EQ(word(&shared.lock), 0, "the word is 0 once every waiter released");
    CHECK_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK, "back to 2 virtual processors");
}

/* ---- Many threads, one lock: every family, exact totals ------------------------------ */

typedef struct counter_run {
    NDIS_SPIN_LOCK ndis;
    KSPIN_LOCK ke;
    PKSPIN_LOCK word; /* what the Ke families lock: &ke, or &ndis.SpinLock in the mixed runs */
    volatile unsigned long counter;
    const void *last_owner;       /* protected by the lock, like counter */
    unsigned long owner_switches; /* how often the lock went to another thread */
    atomic_int inside;
    atomic_uint overlaps;
    atomic_uint wrong_irql_inside;
    atomic_uint wrong_irql_at_exit;
    atomic_uint try_failures;
    atomic_int go;
} counter_run;

typedef void (*family_fn)(counter_run *, unsigned);

/* The protected work: one plain increment with a window in it, plus the checks that no one else
 * is inside (relaxed atomics: they must not add synchronization the lock did not provide). self
 * is any address unique to the calling thread (its loop variable's), to count hand-overs. */
static void inside(counter_run *r, const void *self) {
    unsigned long value;
    if (atomic_fetch_add_explicit(&r->inside, 1, memory_order_relaxed) != 0)
        atomic_fetch_add_explicit(&r->overlaps, 1u, memory_order_relaxed);
    if (KeGetCurrentIrql() != DISPATCH_LEVEL)
        atomic_fetch_add_explicit(&r->wrong_irql_inside, 1u, memory_order_relaxed);
    value = r->counter;
    spin_briefly();
    r->counter = value + 1;
    if (r->last_owner != self) {
        r->last_owner = self;
        r->owner_switches++;
    }
    atomic_fetch_sub_explicit(&r->inside, 1, memory_order_relaxed);
}

/* Every 64 rounds a thread gives its core away at PASSIVE_LEVEL, so the 8 threads interleave on
 * the 2 processors instead of each finishing its loop in one time slice. */
static void let_others_run(unsigned i) {
    if ((i & 63u) == 63u) sched_yield();
}

static void family_ndis(counter_run *r, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        NdisAcquireSpinLock(&r->ndis);
        inside(r, &i);
        NdisReleaseSpinLock(&r->ndis);
        let_others_run(i);
    }
}

static void family_ndis_dpr(counter_run *r, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        NdisDprAcquireSpinLock(&r->ndis);
        inside(r, &i);
        NdisDprReleaseSpinLock(&r->ndis);
        KeLowerIrql(old);
        let_others_run(i);
    }
}

static void family_ke(counter_run *r, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        KIRQL old;
        KeAcquireSpinLock(r->word, &old);
        inside(r, &i);
        KeReleaseSpinLock(r->word, old);
        let_others_run(i);
    }
}

static void family_ke_raise_to_dpc(counter_run *r, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        KIRQL old = KeAcquireSpinLockRaiseToDpc(r->word);
        inside(r, &i);
        KeReleaseSpinLock(r->word, old);
        let_others_run(i);
    }
}

static void family_ke_at_dpc(counter_run *r, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeAcquireSpinLockAtDpcLevel(r->word);
        inside(r, &i);
        KeReleaseSpinLockFromDpcLevel(r->word);
        KeLowerIrql(old);
        let_others_run(i);
    }
}

/* The documented pattern: spin on KeTestSpinLock (no bus-locked writes), then try. */
static void family_ke_try(counter_run *r, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        while (!KeTryToAcquireSpinLockAtDpcLevel(r->word)) {
            unsigned spins = 0;
            atomic_fetch_add_explicit(&r->try_failures, 1u, memory_order_relaxed);
            while (!KeTestSpinLock(r->word)) {
                if (++spins % 64 == 0) sched_yield(); /* the holder may be descheduled by the OS */
            }
        }
        inside(r, &i);
        KeReleaseSpinLockFromDpcLevel(r->word);
        KeLowerIrql(old);
        let_others_run(i);
    }
}

static void family_queued(counter_run *r, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        KLOCK_QUEUE_HANDLE handle;
        KeAcquireInStackQueuedSpinLock(r->word, &handle);
        inside(r, &i);
        KeReleaseInStackQueuedSpinLock(&handle);
        let_others_run(i);
    }
}

static void family_queued_at_dpc(counter_run *r, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        KLOCK_QUEUE_HANDLE handle;
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeAcquireInStackQueuedSpinLockAtDpcLevel(r->word, &handle);
        inside(r, &i);
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&handle);
        KeLowerIrql(old);
        let_others_run(i);
    }
}

typedef struct counter_worker {
    counter_run *run;
    family_fn family;
    unsigned iterations;
} counter_worker;

static void *counter_worker_main(void *arg) {
    counter_worker *w = arg;
    if (!wait_flag(&w->run->go, 1, 30.0)) return NULL;
    w->family(w->run, w->iterations);
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) atomic_fetch_add(&w->run->wrong_irql_at_exit, 1u);
    return NULL;
}

/* Threads threads, thread i running families[i % count], all on one lock; the Ke families lock
 * the NDIS lock's own word when on_ndis_word (NDIS and Ke calls on one word are legal). */
static void run_family(const char *name, const family_fn *families, unsigned count, int on_ndis_word, unsigned threads,
                       unsigned iterations) {
    counter_run *r = calloc(1, sizeof *r);
    counter_worker *workers = calloc(threads, sizeof *workers);
    pthread_t *ids = calloc(threads, sizeof *ids);
    int *started = calloc(threads, sizeof *started);
    unsigned i, running = 0;
    long long begin;
    section(name);
    if (r == NULL || workers == NULL || ids == NULL || started == NULL) {
        CHECK(0, "out of memory");
        goto out;
    }
    NdisAllocateSpinLock(&r->ndis);
    KeInitializeSpinLock(&r->ke);
    r->word = on_ndis_word ? &r->ndis.SpinLock : &r->ke;
    atomic_init(&r->go, 0);
    for (i = 0; i < threads; ++i) {
        workers[i].run = r;
        workers[i].family = families[i % count];
        workers[i].iterations = iterations;
        started[i] = start_thread(&ids[i], counter_worker_main, &workers[i]);
        running += started[i] ? 1u : 0u;
    }
    begin = now_ns();
    atomic_store(&r->go, 1);
    for (i = 0; i < threads; ++i)
        if (started[i]) pthread_join(ids[i], NULL);
    CHECK_EQ(r->counter, (unsigned long)threads * iterations, "every increment counted, none lost");
    CHECK_EQ(running, threads, "all threads ran");
    CHECK_EQ(atomic_load(&r->overlaps), 0, "never two threads inside the lock at once");
    CHECK_EQ(atomic_load(&r->wrong_irql_inside), 0, "IRQL was DISPATCH_LEVEL inside the lock every time");
    CHECK_EQ(atomic_load(&r->wrong_irql_at_exit), 0, "every thread ended at PASSIVE_LEVEL");
    CHECK_EQ(word(r->word), 0, "the lock word is 0 (free) at the end");
    printf("     %u threads x %u iterations in %lld ms, the lock changed hands %lu times", threads, iterations,
           (now_ns() - begin) / 1000000, r->owner_switches);
    if (atomic_load(&r->try_failures) != 0) printf(", %u failed tries", atomic_load(&r->try_failures));
    putchar('\n');
    NdisFreeSpinLock(&r->ndis);
out:
    free(started);
    free(ids);
    free(workers);
    free(r);
}

void nlc_check_counters(unsigned Threads, unsigned Iterations) {
    static const family_fn ndis[] = {family_ndis};
    static const family_fn ndis_dpr[] = {family_ndis_dpr};
    static const family_fn ke[] = {family_ke};
    static const family_fn ke_raise_to_dpc[] = {family_ke_raise_to_dpc};
    static const family_fn ke_at_dpc[] = {family_ke_at_dpc};
    static const family_fn ke_try[] = {family_ke_try};
    static const family_fn queued[] = {family_queued};
    static const family_fn queued_at_dpc[] = {family_queued_at_dpc};
    /* One NDIS lock taken through every plain call at once (queued calls never mix with these). */
    static const family_fn mixed[] = {family_ndis,      family_ndis_dpr, family_ke,
                                      family_ke_at_dpc, family_ke_try,   family_ke_raise_to_dpc};
    static const family_fn mixed_queued[] = {family_queued, family_queued_at_dpc};
    if (KeQueryActiveProcessorCountEx(0) != 2)
        CHECK_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK, "NdislockSetProcessorCount(2) for the counter runs");
    run_family("counters: NdisAcquireSpinLock / NdisReleaseSpinLock", ndis, 1, 0, Threads, Iterations);
    run_family("counters: KeRaiseIrql + NdisDprAcquireSpinLock / NdisDprReleaseSpinLock + KeLowerIrql", ndis_dpr, 1, 0,
               Threads, Iterations);
    run_family("counters: KeAcquireSpinLock / KeReleaseSpinLock", ke, 1, 0, Threads, Iterations);
    run_family("counters: KeAcquireSpinLockRaiseToDpc / KeReleaseSpinLock", ke_raise_to_dpc, 1, 0, Threads, Iterations);
    run_family("counters: KeAcquireSpinLockAtDpcLevel / KeReleaseSpinLockFromDpcLevel", ke_at_dpc, 1, 0, Threads,
               Iterations);
    run_family("counters: KeTryToAcquireSpinLockAtDpcLevel retry loop", ke_try, 1, 0, Threads, Iterations);
    run_family("counters: KeAcquireInStackQueuedSpinLock / KeReleaseInStackQueuedSpinLock", queued, 1, 0, Threads,
               Iterations);
    run_family("counters: KeAcquireInStackQueuedSpinLockAtDpcLevel / ...FromDpcLevel", queued_at_dpc, 1, 0, Threads,
               Iterations);
    run_family("counters: mixed Ndis + NdisDpr + Ke + KeAtDpcLevel + KeTry + KeRaiseToDpc on one NDIS lock", mixed,
               sizeof mixed / sizeof mixed[0], 1, Threads, Iterations);
    run_family("counters: mixed queued + queued AtDpcLevel on one lock", mixed_queued, 2, 0, Threads, Iterations);
}

/* ---- Per-processor data at DISPATCH_LEVEL, no lock (contract section 4) ------------------ */

typedef struct percpu_run {
    struct {
        volatile unsigned long count;
        atomic_int inside;
        char pad[64 - sizeof(unsigned long) - sizeof(atomic_int)]; /* one cache line each */
    } cpu[NDISLOCK_MAX_PROCESSORS];
    ULONG processors;
    atomic_uint overlaps;
    atomic_uint bad_number;
    atomic_uint moved;
    atomic_uint wrong_irql_at_exit;
    atomic_int go;
} percpu_run;

typedef struct percpu_worker {
    percpu_run *run;
    unsigned iterations;
} percpu_worker;

static void *percpu_worker_main(void *arg) {
    percpu_worker *w = arg;
    percpu_run *r = w->run;
    if (!wait_flag(&r->go, 1, 30.0)) return NULL;
    for (unsigned i = 0; i < w->iterations; ++i) {
        KIRQL old;
        PROCESSOR_NUMBER number;
        ULONG p;
        unsigned long value;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        p = KeGetCurrentProcessorNumberEx(&number);
        if (p >= r->processors || number.Group != 0 || number.Number != p) {
            atomic_fetch_add(&r->bad_number, 1u);
            KeLowerIrql(old);
            continue;
        }
        if (atomic_fetch_add_explicit(&r->cpu[p].inside, 1, memory_order_relaxed) != 0)
            atomic_fetch_add_explicit(&r->overlaps, 1u, memory_order_relaxed);
        value = r->cpu[p].count;
        spin_briefly();
        r->cpu[p].count = value + 1;
        atomic_fetch_sub_explicit(&r->cpu[p].inside, 1, memory_order_relaxed);
        if (KeGetCurrentProcessorNumberEx(NULL) != p) atomic_fetch_add(&r->moved, 1u);
        KeLowerIrql(old);
        let_others_run(i);
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) atomic_fetch_add(&r->wrong_irql_at_exit, 1u);
    return NULL;
}

void nlc_check_per_processor(unsigned Threads, unsigned Iterations) {
    percpu_run *r = calloc(1, sizeof *r);
    percpu_worker *workers = calloc(Threads, sizeof *workers);
    pthread_t *ids = calloc(Threads, sizeof *ids);
    int *started = calloc(Threads, sizeof *started);
    unsigned long total = 0;
    unsigned i, running = 0, used = 0;
    long long begin;
    section("per-processor counters at DISPATCH_LEVEL without a lock");
    if (r == NULL || workers == NULL || ids == NULL || started == NULL) {
        CHECK(0, "out of memory");
        goto out;
    }
    if (KeQueryActiveProcessorCountEx(0) != 2)
        CHECK_EQ(NdislockSetProcessorCount(2), NDISLOCK_OK, "NdislockSetProcessorCount(2)");
    r->processors = KeQueryActiveProcessorCountEx(0);
    CHECK_EQ(r->processors, 2, "2 virtual processors");
    atomic_init(&r->go, 0);
    for (i = 0; i < Threads; ++i) {
        workers[i].run = r;
        workers[i].iterations = Iterations;
        started[i] = start_thread(&ids[i], percpu_worker_main, &workers[i]);
        running += started[i] ? 1u : 0u;
    }
    begin = now_ns();
    atomic_store(&r->go, 1);
    for (i = 0; i < Threads; ++i)
        if (started[i]) pthread_join(ids[i], NULL);
    for (i = 0; i < NDISLOCK_MAX_PROCESSORS; ++i) {
        total += r->cpu[i].count;
        used += r->cpu[i].count != 0 ? 1u : 0u;
    }
    CHECK_EQ(running, Threads, "all threads ran");
    CHECK_EQ(total, (unsigned long)Threads * Iterations,
             "sum of the per-processor counters is exact: one thread at a time at DISPATCH_LEVEL per processor");
    CHECK_EQ(atomic_load(&r->overlaps), 0, "never two threads of one processor at DISPATCH_LEVEL at once");
    CHECK_EQ(atomic_load(&r->bad_number), 0, "KeGetCurrentProcessorNumberEx was in range, group 0, Number == index");
    CHECK_EQ(atomic_load(&r->moved), 0, "no thread changed processor while at DISPATCH_LEVEL");
    CHECK_EQ(used, 2, "both virtual processors ran threads (round-robin placement)");
    CHECK_EQ(atomic_load(&r->wrong_irql_at_exit), 0, "every thread ended at PASSIVE_LEVEL");
    printf("     %u threads x %u iterations in %lld ms (processor 0: %lu, processor 1: %lu)\n", Threads, Iterations,
           (now_ns() - begin) / 1000000, r->cpu[0].count, r->cpu[1].count);
out:
    free(started);
    free(ids);
    free(workers);
    free(r);
}

/* ---- Everything, in order -------------------------------------------------------------- */

int nlc_run_all(int argc, char **argv, unsigned DefaultIterations) {
    unsigned iterations = DefaultIterations;
    if (argc > 1) {
        unsigned long parsed = strtoul(argv[1], NULL, 10);
        if (parsed > 0 && parsed < 100000000ul) iterations = (unsigned)parsed;
    }
    nlc_begin(60);
    nlc_check_irql_at_start();
    nlc_check_layout();
    nlc_check_processors();
    nlc_check_ndis_single();
    nlc_check_ke_single();
    nlc_check_queued_single();
    nlc_check_held_by_other();
    nlc_check_queued_fifo();
    nlc_check_counters(8, iterations);
    nlc_check_per_processor(8, iterations);
    return nlc_end();
}
