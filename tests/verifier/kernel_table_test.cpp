// A kernel-style table test, in the manner of other kernels' spin-lock suites: every
// acquire/release/try variant x every starting IRQL it is documented for, checking after every
// step the lock word, the queue handle, the IRQL and KeTestSpinLock; run in both personalities
// (verifier off: a free build; on: Driver Verifier, where a correct table reports nothing). The
// threaded-DPC (ForDpc) and RaiseToSynch forms of issue #25 are rows like the others: the
// RaiseToSynch ones hold their lock at SYNCH_LEVEL and release it there. The AtDpcLevel forms are
// rows above DISPATCH_LEVEL too (documented for any IRQL >= DISPATCH_LEVEL, on a lock used only
// there), the NDIS calls are rows on an NDIS_SPIN_LOCK, and a try of the caller's own lock is a
// row: FALSE in both personalities, with the verifier on a RecursiveAcquire that is not terminal.
// Last, the APC state while a KMUTEX is held.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "ndislock/wdk.h" // KMUTEX, KeAreApcsDisabled
#include "ndislock/verifier.h"
#include "verifier_support.h"

using namespace vt;
using ndislock_test::Watchdog;

namespace {

enum class Form {
    KeAcquire,
    KeRaiseToDpc,
    AtDpcLevel,
    TryFree,
    TryHeld,
    Queued,
    QueuedAtDpcLevel,
    ForDpc,
    QueuedForDpc,
    RaiseToSynch,
    QueuedRaiseToSynch,
    TryOwn,      // KeTryToAcquireSpinLockAtDpcLevel of a lock the caller holds (KeAcquireSpinLock)
    NdisAcquire, // NdisAcquireSpinLock / NdisReleaseSpinLock
    NdisDpr      // NdisDprAcquireSpinLock / NdisDprReleaseSpinLock
};

bool raises_to_synch(Form f) { return f == Form::RaiseToSynch || f == Form::QueuedRaiseToSynch; }
bool saves_irql_in_handle(Form f) {
    return f == Form::Queued || f == Form::QueuedForDpc || f == Form::QueuedRaiseToSynch;
}

struct Row {
    const char *name;
    Form form;
    KIRQL start;
    // With the verifier on, the one finding the row makes (not terminal), or none.
    const char *verifier_rule = nullptr;
};

bool ndis_form(Form f) { return f == Form::NdisAcquire || f == Form::NdisDpr; }

// Only the starting IRQLs each call documents (the misuse has its own tests in rules_test).
const Row kRows[] = {
    {"KeAcquireSpinLock at PASSIVE", Form::KeAcquire, PASSIVE_LEVEL},
    {"KeAcquireSpinLock at APC", Form::KeAcquire, APC_LEVEL},
    {"KeAcquireSpinLock at DISPATCH", Form::KeAcquire, DISPATCH_LEVEL},
    {"KeAcquireSpinLockRaiseToDpc at PASSIVE", Form::KeRaiseToDpc, PASSIVE_LEVEL},
    {"KeAcquireSpinLockRaiseToDpc at APC", Form::KeRaiseToDpc, APC_LEVEL},
    {"KeAcquireSpinLockRaiseToDpc at DISPATCH", Form::KeRaiseToDpc, DISPATCH_LEVEL},
    {"KeAcquireSpinLockAtDpcLevel at DISPATCH", Form::AtDpcLevel, DISPATCH_LEVEL},
    {"KeTryToAcquireSpinLockAtDpcLevel, free, at DISPATCH", Form::TryFree, DISPATCH_LEVEL},
    {"KeTryToAcquireSpinLockAtDpcLevel, held elsewhere, at DISPATCH", Form::TryHeld, DISPATCH_LEVEL},
    {"KeAcquireInStackQueuedSpinLock at PASSIVE", Form::Queued, PASSIVE_LEVEL},
    {"KeAcquireInStackQueuedSpinLock at APC", Form::Queued, APC_LEVEL},
    {"KeAcquireInStackQueuedSpinLock at DISPATCH", Form::Queued, DISPATCH_LEVEL},
    {"KeAcquireInStackQueuedSpinLockAtDpcLevel at DISPATCH", Form::QueuedAtDpcLevel, DISPATCH_LEVEL},
    {"KeAcquireSpinLockForDpc at PASSIVE", Form::ForDpc, PASSIVE_LEVEL},
    {"KeAcquireSpinLockForDpc at APC", Form::ForDpc, APC_LEVEL},
    {"KeAcquireSpinLockForDpc at DISPATCH", Form::ForDpc, DISPATCH_LEVEL},
    {"KeAcquireInStackQueuedSpinLockForDpc at PASSIVE", Form::QueuedForDpc, PASSIVE_LEVEL},
    {"KeAcquireInStackQueuedSpinLockForDpc at DISPATCH", Form::QueuedForDpc, DISPATCH_LEVEL},
    {"KeAcquireSpinLockRaiseToSynch at PASSIVE", Form::RaiseToSynch, PASSIVE_LEVEL},
    {"KeAcquireSpinLockRaiseToSynch at DISPATCH", Form::RaiseToSynch, DISPATCH_LEVEL},
    {"KeAcquireSpinLockRaiseToSynch at SYNCH", Form::RaiseToSynch, SYNCH_LEVEL},
    {"KeAcquireInStackQueuedSpinLockRaiseToSynch at PASSIVE", Form::QueuedRaiseToSynch, PASSIVE_LEVEL},
    {"KeAcquireInStackQueuedSpinLockRaiseToSynch at DISPATCH", Form::QueuedRaiseToSynch, DISPATCH_LEVEL},
    {"KeAcquireInStackQueuedSpinLockForDpc at APC", Form::QueuedForDpc, APC_LEVEL},
    {"KeAcquireInStackQueuedSpinLockRaiseToSynch at SYNCH", Form::QueuedRaiseToSynch, SYNCH_LEVEL},
    // The AtDpcLevel forms above DISPATCH_LEVEL: legal on a lock used only there.
    {"KeAcquireSpinLockAtDpcLevel at a DIRQL", Form::AtDpcLevel, DISPATCH_LEVEL + 3},
    {"KeAcquireSpinLockAtDpcLevel at HIGH", Form::AtDpcLevel, HIGH_LEVEL},
    {"KeTryToAcquireSpinLockAtDpcLevel, free, at HIGH", Form::TryFree, HIGH_LEVEL},
    {"KeAcquireInStackQueuedSpinLockAtDpcLevel at a DIRQL", Form::QueuedAtDpcLevel, DISPATCH_LEVEL + 3},
    {"KeAcquireInStackQueuedSpinLockAtDpcLevel at HIGH", Form::QueuedAtDpcLevel, HIGH_LEVEL},
    // A try of the caller's own lock never waits: FALSE, the lock still the caller's.
    {"KeTryToAcquireSpinLockAtDpcLevel of the caller's own lock, from PASSIVE", Form::TryOwn, PASSIVE_LEVEL,
     "RecursiveAcquire"},
    {"KeTryToAcquireSpinLockAtDpcLevel of the caller's own lock, from DISPATCH", Form::TryOwn, DISPATCH_LEVEL,
     "RecursiveAcquire"},
    // The NDIS calls, on an NDIS_SPIN_LOCK (its word first, its OldIrql after).
    {"NdisAcquireSpinLock at PASSIVE", Form::NdisAcquire, PASSIVE_LEVEL},
    {"NdisAcquireSpinLock at APC", Form::NdisAcquire, APC_LEVEL},
    {"NdisAcquireSpinLock at DISPATCH", Form::NdisAcquire, DISPATCH_LEVEL},
    {"NdisDprAcquireSpinLock at DISPATCH", Form::NdisDpr, DISPATCH_LEVEL},
};

// The lock as the table sees it after a step: its word, KeTestSpinLock (documented for any IRQL)
// and the IRQL, which KeTestSpinLock leaves as it was.
void expect_state(const Row &r, const char *step, PKSPIN_LOCK lock, bool held, KIRQL irql) {
    SCOPED_TRACE(std::string(r.name) + ", after " + step);
    EXPECT_EQ(*lock != 0, held) << "lock word " << *lock;
    EXPECT_EQ(KeTestSpinLock(lock) == FALSE, held);
    EXPECT_EQ(KeGetCurrentIrql(), irql);
}

void expect_handle(const Row &r, const KLOCK_QUEUE_HANDLE &h, PKSPIN_LOCK lock, KIRQL saved) {
    SCOPED_TRACE(std::string(r.name) + ", the queue handle");
    // The handle names its lock (low bits are the queue's own flags) and, raising, the old IRQL.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(h.LockQueue.Lock) & ~std::uintptr_t{7},
              reinterpret_cast<std::uintptr_t>(lock));
    EXPECT_NE(reinterpret_cast<std::uintptr_t>(h.LockQueue.Lock) & LOCK_QUEUE_OWNER, 0u) << "the owner's mark";
    if (saves_irql_in_handle(r.form)) {
        EXPECT_EQ(h.OldIrql, saved);
    }
}

// After the release: the handle no longer owns (no queue flag left), so a second release of it is
// seen as such; it still names the lock, and a raising form's OldIrql is what it saved.
void expect_handle_released(const Row &r, const KLOCK_QUEUE_HANDLE &h, PKSPIN_LOCK lock, KIRQL saved) {
    SCOPED_TRACE(std::string(r.name) + ", the queue handle after the release");
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(h.LockQueue.Lock), reinterpret_cast<std::uintptr_t>(lock));
    EXPECT_EQ(h.LockQueue.Next, nullptr) << "no successor was ever linked";
    if (saves_irql_in_handle(r.form)) {
        EXPECT_EQ(h.OldIrql, saved);
    }
}

// The rows above DISPATCH_LEVEL initialize their locks on a line of their own for each level: a
// lock's class is where it was initialized, and a class held at two levels of which one is above
// DISPATCH_LEVEL is LockClassIrqlInconsistent (the rows at or below DISPATCH_LEVEL share the last
// line's class).
void initialize(const Row &r, NDIS_SPIN_LOCK *storage) {
    if (ndis_form(r.form))
        NdisAllocateSpinLock(storage);
    else if (r.start == HIGH_LEVEL)
        KeInitializeSpinLock(&storage->SpinLock); // only ever held at HIGH_LEVEL
    else if (r.start > DISPATCH_LEVEL)
        KeInitializeSpinLock(&storage->SpinLock); // held at the rows' DIRQL (RaiseToSynch teaches no level)
    else
        KeInitializeSpinLock(&storage->SpinLock);
}

void run_row(const Row &r, bool verifier) {
    auto *storage = static_cast<NDIS_SPIN_LOCK *>(fresh_storage());
    PKSPIN_LOCK lock = &storage->SpinLock;
    initialize(r, storage);
    expect_state(r, "the initialization", lock, false, PASSIVE_LEVEL);
    KIRQL entry = PASSIVE_LEVEL;
    if (r.start != PASSIVE_LEVEL) KeRaiseIrql(r.start, &entry);
    const KIRQL level = raises_to_synch(r.form) ? SYNCH_LEVEL : DISPATCH_LEVEL;
    const KIRQL held_at = r.start < level ? level : r.start;
    KLOCK_QUEUE_HANDLE h{};
    switch (r.form) {
    case Form::KeAcquire: {
        KIRQL old = 0xFF;
        KeAcquireSpinLock(lock, &old);
        EXPECT_EQ(old, r.start);
        expect_state(r, "KeAcquireSpinLock", lock, true, held_at);
        KeReleaseSpinLock(lock, old);
        break;
    }
    case Form::KeRaiseToDpc: {
        const KIRQL old = KeAcquireSpinLockRaiseToDpc(lock);
        EXPECT_EQ(old, r.start);
        expect_state(r, "KeAcquireSpinLockRaiseToDpc", lock, true, held_at);
        KeReleaseSpinLock(lock, old);
        break;
    }
    case Form::AtDpcLevel:
        KeAcquireSpinLockAtDpcLevel(lock);
        expect_state(r, "KeAcquireSpinLockAtDpcLevel", lock, true, held_at);
        KeReleaseSpinLockFromDpcLevel(lock);
        break;
    case Form::TryFree:
        EXPECT_TRUE(KeTryToAcquireSpinLockAtDpcLevel(lock));
        expect_state(r, "a try of a free lock", lock, true, held_at);
        KeReleaseSpinLockFromDpcLevel(lock);
        break;
    case Form::TryHeld: {
        // Held by another thread (another processor): the try fails at once and changes nothing.
        std::atomic<int> phase{0};
        std::thread holder([&] {
            NdislockBindCurrentThread(1);
            KIRQL old = 0;
            KeAcquireSpinLock(lock, &old);
            phase.store(1);
            // Blocks until told, neither spinning nor polling: a holder that spins while the other
            // thread runs the row is a long hold of its own running time, which the verifier
            // rightly reports, and one that wakes every 50 us to look spent 135 us of its own in
            // one run on a loaded machine.
            phase.wait(1);
            KeReleaseSpinLock(lock, old);
        });
        while (phase.load() != 1)
            std::this_thread::yield();
        EXPECT_FALSE(KeTryToAcquireSpinLockAtDpcLevel(lock));
        expect_state(r, "a try of a held lock", lock, true, held_at);
        phase.store(2);
        phase.notify_one();
        holder.join();
        break;
    }
    case Form::Queued:
        KeAcquireInStackQueuedSpinLock(lock, &h);
        expect_state(r, "KeAcquireInStackQueuedSpinLock", lock, true, held_at);
        expect_handle(r, h, lock, r.start);
        KeReleaseInStackQueuedSpinLock(&h);
        expect_handle_released(r, h, lock, r.start);
        break;
    case Form::QueuedAtDpcLevel:
        KeAcquireInStackQueuedSpinLockAtDpcLevel(lock, &h);
        expect_state(r, "KeAcquireInStackQueuedSpinLockAtDpcLevel", lock, true, held_at);
        expect_handle(r, h, lock, r.start);
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&h);
        expect_handle_released(r, h, lock, r.start);
        break;
    case Form::ForDpc: {
        const KIRQL old = KeAcquireSpinLockForDpc(lock);
        EXPECT_EQ(old, r.start);
        expect_state(r, "KeAcquireSpinLockForDpc", lock, true, held_at);
        KeReleaseSpinLockForDpc(lock, old);
        break;
    }
    case Form::QueuedForDpc:
        KeAcquireInStackQueuedSpinLockForDpc(lock, &h);
        expect_state(r, "KeAcquireInStackQueuedSpinLockForDpc", lock, true, held_at);
        expect_handle(r, h, lock, r.start);
        KeReleaseInStackQueuedSpinLockForDpc(&h);
        expect_handle_released(r, h, lock, r.start);
        break;
    case Form::RaiseToSynch: {
        const KIRQL old = KeAcquireSpinLockRaiseToSynch(lock);
        EXPECT_EQ(old, r.start);
        expect_state(r, "KeAcquireSpinLockRaiseToSynch", lock, true, held_at);
        KeReleaseSpinLock(lock, old);
        break;
    }
    case Form::QueuedRaiseToSynch:
        KeAcquireInStackQueuedSpinLockRaiseToSynch(lock, &h);
        expect_state(r, "KeAcquireInStackQueuedSpinLockRaiseToSynch", lock, true, held_at);
        expect_handle(r, h, lock, r.start);
        KeReleaseInStackQueuedSpinLock(&h);
        expect_handle_released(r, h, lock, r.start);
        break;
    case Form::TryOwn: {
        KIRQL old = 0xFF;
        KeAcquireSpinLock(lock, &old);
        const KSPIN_LOCK word = *lock;
        EXPECT_FALSE(KeTryToAcquireSpinLockAtDpcLevel(lock)) << r.name;
        EXPECT_EQ(*lock, word) << r.name << ": the failed try leaves the word as it was";
        expect_state(r, "a try of the caller's own lock", lock, true, held_at);
        KeReleaseSpinLock(lock, old);
        break;
    }
    case Form::NdisAcquire:
        NdisAcquireSpinLock(storage);
        EXPECT_EQ(storage->OldIrql, r.start) << r.name;
        expect_state(r, "NdisAcquireSpinLock", lock, true, held_at);
        NdisReleaseSpinLock(storage);
        break;
    case Form::NdisDpr:
        NdisDprAcquireSpinLock(storage);
        expect_state(r, "NdisDprAcquireSpinLock", lock, true, held_at);
        NdisDprReleaseSpinLock(storage);
        break;
    }
    expect_state(r, "the release", lock, false, r.start);
    if (r.start != PASSIVE_LEVEL) KeLowerIrql(entry);
    expect_state(r, "the lower", lock, false, PASSIVE_LEVEL);
    if (ndis_form(r.form)) NdisFreeSpinLock(storage);
    // What the row reported: nothing with the verifier off; with it on, its rule or nothing.
    const std::vector<Got> got = take();
    if (verifier && r.verifier_rule != nullptr) {
        ASSERT_EQ(got.size(), 1u) << r.name << "\n" << dump(got);
        EXPECT_EQ(got[0].rule, r.verifier_rule) << r.name;
        EXPECT_FALSE(got[0].terminal) << r.name;
    } else {
        EXPECT_TRUE(got.empty()) << r.name << "\n" << dump(got);
    }
    NdislockVerifierResetFindings();
}

// The DPC half of the table: insert, insert again, remove, remove again, insert and drop, flush,
// checking the KDPC's fields and the run count after every step, from each IRQL an insert is
// made at (the insert at DISPATCH_LEVEL runs at the drop, the one below it before it returns).
struct DpcCount {
    std::atomic<int> runs{0};
    std::atomic<void *> arg1{nullptr}, arg2{nullptr};
    std::atomic<int> irql{-1};
};

VOID CountingDpc(PKDPC, PVOID context, PVOID a1, PVOID a2) {
    auto &c = *static_cast<DpcCount *>(context);
    c.arg1 = a1;
    c.arg2 = a2;
    c.irql = KeGetCurrentIrql();
    c.runs.fetch_add(1);
}

void run_dpc_table() {
    // Medium (the default), medium-high and high importance: each runs before an insert toward
    // this processor from below DISPATCH_LEVEL returns (low importance keeps its latitude).
    for (const KDPC_IMPORTANCE importance : {MediumImportance, MediumHighImportance, HighImportance})
        for (const KIRQL start : {KIRQL{PASSIVE_LEVEL}, KIRQL{APC_LEVEL}, KIRQL{DISPATCH_LEVEL}}) {
            SCOPED_TRACE("DPC steps from IRQL " + std::to_string(start) + ", importance " + std::to_string(importance));
            DpcCount count;
            KDPC dpc;
            KeInitializeDpc(&dpc, CountingDpc, &count);
            EXPECT_EQ(dpc.Type, DpcObject);
            EXPECT_EQ(dpc.Importance, MediumImportance);
            EXPECT_EQ(dpc.DpcData, nullptr);
            KeSetImportanceDpc(&dpc, importance);
            EXPECT_EQ(dpc.Importance, importance);
            int a = 0, b = 0;
            // Insert and remove while the processor is held at DISPATCH_LEVEL: nothing can run.
            KIRQL old = 0;
            KeRaiseIrql(DISPATCH_LEVEL, &old);
            EXPECT_EQ(KeInsertQueueDpc(&dpc, &a, &b), TRUE);
            EXPECT_NE(dpc.DpcData, nullptr);
            EXPECT_EQ(dpc.SystemArgument1, &a);
            EXPECT_EQ(dpc.SystemArgument2, &b);
            EXPECT_EQ(KeInsertQueueDpc(&dpc, nullptr, nullptr), FALSE);
            EXPECT_EQ(dpc.SystemArgument1, &a) << "a failed insert changes nothing";
            EXPECT_EQ(KeRemoveQueueDpc(&dpc), TRUE);
            EXPECT_EQ(dpc.DpcData, nullptr);
            EXPECT_EQ(KeRemoveQueueDpc(&dpc), FALSE);
            KeLowerIrql(old);
            EXPECT_EQ(count.runs.load(), 0) << "a removed DPC ran";
            // Insert from the row's IRQL: it has run when the insert (below DISPATCH_LEVEL) or the
            // drop (from DISPATCH_LEVEL) returns.
            if (start != PASSIVE_LEVEL) KeRaiseIrql(start, &old);
            EXPECT_EQ(KeInsertQueueDpc(&dpc, &b, &a), TRUE);
            if (start < DISPATCH_LEVEL) {
                EXPECT_EQ(count.runs.load(), 1) << "an insert toward this processor from below DISPATCH_LEVEL runs it";
            }
            if (start == DISPATCH_LEVEL) {
                EXPECT_EQ(count.runs.load(), 0);
                EXPECT_NE(dpc.DpcData, nullptr);
            }
            if (start != PASSIVE_LEVEL) KeLowerIrql(old);
            EXPECT_EQ(count.runs.load(), 1);
            EXPECT_EQ(count.arg1.load(), &b);
            EXPECT_EQ(count.arg2.load(), &a);
            EXPECT_EQ(count.irql.load(), DISPATCH_LEVEL);
            EXPECT_EQ(dpc.DpcData, nullptr);
            KeFlushQueuedDpcs();
            EXPECT_EQ(count.runs.load(), 1) << "a flush runs nothing twice";
            EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
        }
}

TEST_F(VerifierTest, KernelTable_Dpcs_VerifierOff) {
    Watchdog dog("kernel table DPCs, verifier off", std::chrono::seconds(60));
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    run_dpc_table();
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

TEST_F(VerifierTest, KernelTable_Dpcs_VerifierOn) {
    Watchdog dog("kernel table DPCs, verifier on", std::chrono::seconds(60));
    run_dpc_table();
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

TEST_F(VerifierTest, KernelTable_VerifierOff) {
    Watchdog dog("kernel table, verifier off", std::chrono::seconds(60));
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    for (const Row &r : kRows)
        run_row(r, false);
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

TEST_F(VerifierTest, KernelTable_VerifierOn) {
    Watchdog dog("kernel table, verifier on", std::chrono::seconds(60));
    for (const Row &r : kRows)
        run_row(r, true);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

// ---- The APC state while a KMUTEX is held ------------------------------------------------------

// Taking a KMUTEX enters a critical region (normal kernel APCs off) until its last release, as on
// Windows; special kernel APCs stay on, so KeAreAllApcsDisabled stays FALSE at PASSIVE_LEVEL.
void apcs_while_a_mutex_is_held() {
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    EXPECT_EQ(KeAreApcsDisabled(), FALSE);
    EXPECT_EQ(KeAreAllApcsDisabled(), FALSE);
    ASSERT_EQ(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeAreApcsDisabled(), TRUE) << "held once";
    EXPECT_EQ(KeAreAllApcsDisabled(), FALSE) << "a mutex leaves special kernel APCs on";
    ASSERT_EQ(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS); // recursive
    EXPECT_EQ(KeAreApcsDisabled(), TRUE) << "held twice";
    KeReleaseMutex(&m, FALSE);
    EXPECT_EQ(KeAreApcsDisabled(), TRUE) << "still held once";
    KeReleaseMutex(&m, FALSE);
    EXPECT_EQ(KeAreApcsDisabled(), FALSE) << "released";
    EXPECT_EQ(KeAreAllApcsDisabled(), FALSE);
    // The region is the holder's: another thread sees its own state.
    ASSERT_EQ(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    BOOLEAN other_sees = TRUE;
    std::thread([&] { other_sees = KeAreApcsDisabled(); }).join();
    EXPECT_EQ(other_sees, FALSE);
    KeReleaseMutex(&m, FALSE);
}

TEST_F(VerifierTest, KernelTable_ApcsWhileAMutexIsHeld_VerifierOff) {
    Watchdog dog("APC state under a mutex, verifier off", std::chrono::seconds(60));
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    apcs_while_a_mutex_is_held();
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

TEST_F(VerifierTest, KernelTable_ApcsWhileAMutexIsHeld_VerifierOn) {
    Watchdog dog("APC state under a mutex, verifier on", std::chrono::seconds(60));
    apcs_while_a_mutex_is_held();
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << dump(take());
}

} // namespace
