// Shared helpers for the verifier's self-tests: reading findings, fresh lock storage, and the API
// families as a table (so one scenario runs through every family it applies to).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ndislock/ndis.h"
#include "ndislock/verifier.h"
#include "../unit/test_support.h"

namespace vt {

// A finding, copied out of ndislock's storage (its strings die at the next reset).
struct Got {
    std::string rule, file, function, other_file, message, lock_class;
    int line = 0, other_line = 0;
    const void *return_address = nullptr;
    const void *lock = nullptr;
    unsigned long long count = 0;
    bool terminal = false;
    NDISLOCK_SEVERITY severity = NDISLOCK_SEVERITY_ERROR;
};

inline std::vector<Got> take() {
    NDISLOCK_FINDING f[64];
    const ULONG n = NdislockVerifierGetFindings(f, 64);
    std::vector<Got> out;
    for (ULONG i = 0; i < n && i < 64; ++i) {
        Got g;
        g.rule = f[i].RuleId != nullptr ? f[i].RuleId : "";
        g.file = f[i].File != nullptr ? f[i].File : "";
        g.function = f[i].Function != nullptr ? f[i].Function : "";
        g.other_file = f[i].OtherFile != nullptr ? f[i].OtherFile : "";
        g.message = f[i].Message != nullptr ? f[i].Message : "";
        g.lock_class = f[i].LockClass != nullptr ? f[i].LockClass : "";
        g.line = f[i].Line;
        g.other_line = f[i].OtherLine;
        g.return_address = f[i].ReturnAddress;
        g.lock = f[i].Lock;
        g.count = f[i].Count;
        g.terminal = f[i].Terminal != FALSE;
        g.severity = f[i].Severity;
        out.push_back(std::move(g));
    }
    return out;
}

inline std::string dump(const std::vector<Got> &got) {
    std::ostringstream s;
    s << got.size() << " finding(s):\n";
    for (const Got &g : got)
        s << "  " << g.rule << " at " << g.file << ":" << g.line << " (x" << g.count << ")\n" << g.message;
    return s.str();
}

inline bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline std::string basename_of(const char *path) {
    const char *slash = std::strrchr(path, '/');
    return slash != nullptr ? slash + 1 : path;
}

// Exactly one finding, of this rule, at file:line. With exact_line false (function forms, whose
// location comes from symbolizing a return address) the file must end with the test file's name
// and a return address must be there.
inline void expect_exactly(const std::vector<Got> &got, const char *rule, const char *file, int line,
                           bool exact_site = true) {
    ASSERT_EQ(got.size(), 1u) << "expected exactly one " << rule << "; " << dump(got);
    const Got &g = got[0];
    EXPECT_EQ(g.rule, rule) << dump(got);
    if (exact_site) {
        EXPECT_EQ(g.file, file) << dump(got);
        EXPECT_EQ(g.line, line) << dump(got);
    } else {
        EXPECT_NE(g.return_address, nullptr) << dump(got);
        EXPECT_TRUE(ends_with(g.file, basename_of(file)))
            << "File '" << g.file << "' should end with " << basename_of(file) << "\n"
            << dump(got);
        EXPECT_GT(g.line, 0) << dump(got);
    }
    EXPECT_NE(g.message.find(rule), std::string::npos) << g.message;
}

// Lock storage at addresses never used before in this process: a lock the verifier saw at an
// address (a KSPIN_LOCK is never freed; a freed NDIS lock is remembered) would otherwise turn a
// "never initialized" lock into an adopted or "used after free" one, and a lock left held by one
// scenario would poison the next at the same address.
inline void *fresh_storage() {
    constexpr std::size_t kStride = 64, kSlots = 1 << 14;
    alignas(64) static unsigned char arena[kStride * kSlots];
    static std::atomic<std::size_t> next{0};
    const std::size_t i = next.fetch_add(1);
    if (i >= kSlots) {
        std::fprintf(stderr, "fresh_storage exhausted\n");
        std::abort();
    }
    void *p = arena + i * kStride;
    std::memset(p, 0, kStride);
    return p;
}

// A lock as the scenarios use it: NDIS storage (so every family, and NdisFreeSpinLock, applies),
// the queue handle of its queued acquisition, and the OldIrql of its Ke acquisition.
struct Slot {
    NDIS_SPIN_LOCK *l = static_cast<NDIS_SPIN_LOCK *>(fresh_storage());
    KLOCK_QUEUE_HANDLE h{};
    KIRQL old = PASSIVE_LEVEL;
    PKSPIN_LOCK word() const { return &l->SpinLock; }
};

// Strings that outlive the locks they name.
inline const char *keep(const std::string &s) {
    static std::deque<std::string> *kept = new std::deque<std::string>;
    static std::mutex m;
    std::lock_guard<std::mutex> guard(m);
    return kept->emplace_back(s).c_str();
}

// `AT(call)` runs call and yields the line it is on (what the site macros capture).
#define AT(...) ((void)(__VA_ARGS__), __LINE__)

// One API family: how it takes and frees a lock. acquire/release return the line of the call.
struct Family {
    const char *name;
    bool raising;       // raises to DISPATCH_LEVEL itself (else the caller must be there)
    bool queued;        // in-stack queued
    bool is_try;        // KeTryToAcquireSpinLockAtDpcLevel
    bool function_form; // the plain functions: the site is a return address
    bool ndis;          // NDIS calls (NdisAllocateSpinLock initializes), else KeInitializeSpinLock
    int (*acquire)(Slot &);
    int (*release)(Slot &);
};

inline void init_lock(const Family &f, Slot &s, const char *name = nullptr) {
    if (name != nullptr) NdislockSetLockName(s.l, name);
    if (f.ndis)
        NdisAllocateSpinLock(s.l);
    else
        KeInitializeSpinLock(s.word());
}

// The families, defined by VT_DEFINE_FAMILIES() in each test file: the table's calls are then
// that file's calls (a macro expansion is on its invocation line), so a finding's File is the test
// file, also for the function forms, whose site is a symbolized return address. Every acquire and
// release in the table reports the line of the VT_DEFINE_FAMILIES() invocation.
#define VT_FAMILY_ROWS                                                                                                 \
    {"Ndis",                                                                                                           \
     true,                                                                                                             \
     false,                                                                                                            \
     false,                                                                                                            \
     false,                                                                                                            \
     true,                                                                                                             \
     [](vt::Slot &s) { return AT(NdisAcquireSpinLock(s.l)); },                                                         \
     [](vt::Slot &s) { return AT(NdisReleaseSpinLock(s.l)); }},                                                        \
        {"NdisDpr",                                                                                                    \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         true,                                                                                                         \
         [](vt::Slot &s) { return AT(NdisDprAcquireSpinLock(s.l)); },                                                  \
         [](vt::Slot &s) { return AT(NdisDprReleaseSpinLock(s.l)); }},                                                 \
        {"Ke",                                                                                                         \
         true,                                                                                                         \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT(KeAcquireSpinLock(s.word(), &s.old)); },                                          \
         [](vt::Slot &s) { return AT(KeReleaseSpinLock(s.word(), s.old)); }},                                          \
        {"KeRaiseToDpc",                                                                                               \
         true,                                                                                                         \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT(s.old = KeAcquireSpinLockRaiseToDpc(s.word())); },                                \
         [](vt::Slot &s) { return AT(KeReleaseSpinLock(s.word(), s.old)); }},                                          \
        {"KeAtDpcLevel",                                                                                               \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT(KeAcquireSpinLockAtDpcLevel(s.word())); },                                        \
         [](vt::Slot &s) { return AT(KeReleaseSpinLockFromDpcLevel(s.word())); }},                                     \
        {"KeTryAtDpcLevel",                                                                                            \
         false,                                                                                                        \
         false,                                                                                                        \
         true,                                                                                                         \
         false,                                                                                                        \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT(KeTryToAcquireSpinLockAtDpcLevel(s.word())); },                                   \
         [](vt::Slot &s) { return AT(KeReleaseSpinLockFromDpcLevel(s.word())); }},                                     \
        {"InStackQueued",                                                                                              \
         true,                                                                                                         \
         true,                                                                                                         \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT(KeAcquireInStackQueuedSpinLock(s.word(), &s.h)); },                               \
         [](vt::Slot &s) { return AT(KeReleaseInStackQueuedSpinLock(&s.h)); }},                                        \
        {"InStackQueuedAtDpcLevel",                                                                                    \
         false,                                                                                                        \
         true,                                                                                                         \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT(KeAcquireInStackQueuedSpinLockAtDpcLevel(s.word(), &s.h)); },                     \
         [](vt::Slot &s) { return AT(KeReleaseInStackQueuedSpinLockFromDpcLevel(&s.h)); }},                            \
        {"NdisFn",                                                                                                     \
         true,                                                                                                         \
         false,                                                                                                        \
         false,                                                                                                        \
         true,                                                                                                         \
         true,                                                                                                         \
         [](vt::Slot &s) { return AT((NdisAcquireSpinLock)(s.l)); },                                                   \
         [](vt::Slot &s) { return AT((NdisReleaseSpinLock)(s.l)); }},                                                  \
        {"NdisDprFn",                                                                                                  \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         true,                                                                                                         \
         true,                                                                                                         \
         [](vt::Slot &s) { return AT((NdisDprAcquireSpinLock)(s.l)); },                                                \
         [](vt::Slot &s) { return AT((NdisDprReleaseSpinLock)(s.l)); }},                                               \
        {"KeFn",                                                                                                       \
         true,                                                                                                         \
         false,                                                                                                        \
         false,                                                                                                        \
         true,                                                                                                         \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT((KeAcquireSpinLock)(s.word(), &s.old)); },                                        \
         [](vt::Slot &s) { return AT((KeReleaseSpinLock)(s.word(), s.old)); }},                                        \
        {"KeAtDpcLevelFn",                                                                                             \
         false,                                                                                                        \
         false,                                                                                                        \
         false,                                                                                                        \
         true,                                                                                                         \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT((KeAcquireSpinLockAtDpcLevel)(s.word())); },                                      \
         [](vt::Slot &s) { return AT((KeReleaseSpinLockFromDpcLevel)(s.word())); }},                                   \
        {"KeTryAtDpcLevelFn",                                                                                          \
         false,                                                                                                        \
         false,                                                                                                        \
         true,                                                                                                         \
         true,                                                                                                         \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT((KeTryToAcquireSpinLockAtDpcLevel)(s.word())); },                                 \
         [](vt::Slot &s) { return AT((KeReleaseSpinLockFromDpcLevel)(s.word())); }},                                   \
        {"InStackQueuedFn",                                                                                            \
         true,                                                                                                         \
         true,                                                                                                         \
         false,                                                                                                        \
         true,                                                                                                         \
         false,                                                                                                        \
         [](vt::Slot &s) { return AT((KeAcquireInStackQueuedSpinLock)(s.word(), &s.h)); },                             \
         [](vt::Slot &s) { return AT((KeReleaseInStackQueuedSpinLock)(&s.h)); }},                                      \
    {                                                                                                                  \
        "InStackQueuedAtDpcLevelFn", false, true, false, true, false,                                                  \
            [](vt::Slot &s) { return AT((KeAcquireInStackQueuedSpinLockAtDpcLevel)(s.word(), &s.h)); },                \
            [](vt::Slot &s) { return AT((KeReleaseInStackQueuedSpinLockFromDpcLevel)(&s.h)); }                         \
    }

#define VT_DEFINE_FAMILIES()                                                                                           \
    namespace {                                                                                                        \
    const std::vector<vt::Family> &families() {                                                                        \
        static const std::vector<vt::Family> all = {VT_FAMILY_ROWS};                                                   \
        return all;                                                                                                    \
    }                                                                                                                  \
    [[maybe_unused]] const vt::Family &family(const char *name) {                                                      \
        for (const vt::Family &f : families())                                                                         \
            if (std::strcmp(f.name, name) == 0) return f;                                                              \
        std::abort();                                                                                                  \
    }                                                                                                                  \
    [[maybe_unused]] std::vector<vt::Family> families_where(bool (*pred)(const vt::Family &)) {                        \
        std::vector<vt::Family> out;                                                                                   \
        for (const vt::Family &f : families())                                                                         \
            if (pred(f)) out.push_back(f);                                                                             \
        return out;                                                                                                    \
    }                                                                                                                  \
    }

inline void PrintTo(const Family &f, std::ostream *os) { *os << f.name; }

inline std::string family_name(const ::testing::TestParamInfo<Family> &info) { return info.param.name; }

// Puts the caller at the IRQL the family's acquire needs (DISPATCH_LEVEL for the Dpr and AtDpcLevel
// forms), and back at the end of the scope.
class Enter {
public:
    explicit Enter(const Family &f) : raised_(!f.raising) {
        if (raised_) KeRaiseIrql(DISPATCH_LEVEL, &old_);
    }
    ~Enter() { leave(); }
    void leave() {
        if (raised_) KeLowerIrql(old_);
        raised_ = false;
    }

private:
    bool raised_;
    KIRQL old_ = PASSIVE_LEVEL;
};

// Back to PASSIVE_LEVEL, whatever a misuse left behind (cleanup only).
inline void to_passive() {
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) KeLowerIrql(PASSIVE_LEVEL);
}

// Spins for ns nanoseconds of wall time.
inline void busy_wait_ns(std::uint64_t ns) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
    while (std::chrono::steady_clock::now() < end) {
    }
}

// Spins until this thread has executed ns of its own: the driver's busy work, whatever the OS or
// the host does. The thread CPU clock, read in small steps: a step longer than 20 us is not the
// thread's work but a virtual CPU the host took away (that clock counts it: the guest does not
// know), and is not counted, so the loop really runs ns of instructions. (A descheduled thread's
// clock stands still, and costs nothing here.) Returns the wall time the loop took beyond ns: the
// time the OS or the host did not run it (0 when it ran throughout).
inline std::uint64_t busy_own_ns(std::uint64_t ns) {
    auto read = [](clockid_t clock) {
        timespec ts{};
        clock_gettime(clock, &ts);
        return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
    };
    const std::uint64_t wall_start = read(CLOCK_MONOTONIC);
    std::uint64_t ran = 0, last = read(CLOCK_THREAD_CPUTIME_ID);
    while (ran < ns) {
        const std::uint64_t now = read(CLOCK_THREAD_CPUTIME_ID);
        if (now - last <= 20'000) ran += now - last;
        last = now;
    }
    const std::uint64_t wall = read(CLOCK_MONOTONIC) - wall_start;
    return wall > ran ? wall - ran : 0;
}

// Sanitized code runs 5-15x slower, hooks included: an empty hold can take 25 us under
// ThreadSanitizer. The fixture's hold budget is then 1 ms; tests of hold times set their own.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
inline constexpr std::uint64_t kFixtureHoldBudgetNs = 1'000'000;
#else
inline constexpr bool kSanitized = false;
inline constexpr std::uint64_t kFixtureHoldBudgetNs = 0; // the default, 25 us
#endif

// Verifier on, findings clean, PASSIVE_LEVEL before and after; findings forgotten afterwards so
// the process exit status is not turned into the verifier's error code.
class VerifierTest : public ::testing::Test {
protected:
    void SetUp() override {
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
        NdislockVerifierSetHoldSampling(1); // the rules' tests count holds: every one is timed
        NdislockVerifierSetHoldBudget(kFixtureHoldBudgetNs);
        NdislockVerifierResetFindings();
        ASSERT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    }
    void TearDown() override {
        EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL) << "the test left the IRQL raised";
        to_passive();
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
        NdislockVerifierSetHoldBudget(kFixtureHoldBudgetNs);
        NdislockVerifierSetHoldSampling(0);
        NdislockVerifierResetFindings();
    }
};

template <class P> class VerifierParamTest : public VerifierTest, public ::testing::WithParamInterface<P> {};

} // namespace vt
