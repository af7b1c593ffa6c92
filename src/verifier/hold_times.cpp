#include "verifier/hold_times.h"

#include <atomic>
#include <mutex>
#include <string>

#include "platform/histogram.h"
#include "platform/own_time.h"
#include "verifier/lock_classes.h"

namespace ndislock::verifier {

namespace {
struct ClassHolds {
    // 32-bit counts: 4096 classes of them, whose pages are touched only for classes in use.
    platform::Histogram<std::uint32_t> holds;
    std::atomic<std::uint64_t> descheduled{0};
    std::atomic<std::uint8_t> overrun_streak{0};
};
ClassHolds g_holds[kMaxClasses];
} // namespace

bool record_hold(std::uint32_t lock_class, std::uint64_t ns, std::uint64_t budget_ns) noexcept {
    if (lock_class >= kMaxClasses) return false;
    ClassHolds &c = g_holds[lock_class];
    if (ns == platform::kDescheduled) {
        c.descheduled.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    // By the holder, not with atomic adds: a release records while its lock is still held, so the
    // samples of one lock never race; two locks of one class released at the same instant may
    // lose one sample. That costs a histogram a rare count, and the release path an RMW less.
    c.holds.record_by_holder(ns);
    // The overrun streak (hold_times.h).
    const std::uint8_t streak = c.overrun_streak.load(std::memory_order_relaxed);
    if (ns <= budget_ns) {
        if (streak != 0) c.overrun_streak.store(0, std::memory_order_relaxed); // the common case: no store
        return false;
    }
    const std::uint8_t now = streak < kOverrunsToReport ? static_cast<std::uint8_t>(streak + 1) : streak;
    c.overrun_streak.store(now, std::memory_order_relaxed);
    return now >= kOverrunsToReport;
}

// Class descriptions handed out by copy_class_hold_times: stable for the life of the process.
const char *stable_description(std::uint32_t id) {
    static std::mutex m;
    static auto *descriptions = new std::string[kMaxClasses];
    std::lock_guard<std::mutex> guard(m);
    if (descriptions[id].empty()) {
        char buffer[512];
        descriptions[id] = describe_class(id, buffer, sizeof buffer);
    }
    return descriptions[id].c_str();
}

namespace {
// Streaks of callback overruns, by routine: an open-addressing table of routine addresses
// (a driver has a handful of routines; past kRoutineSlots they share the last slot's streak).
constexpr unsigned kRoutineSlots = 1024;
struct RoutineStreak {
    std::atomic<const void *> routine{nullptr};
    std::atomic<std::uint8_t> streak{0};
};
RoutineStreak g_routines[kRoutineSlots];

RoutineStreak &routine_streak(const void *routine) noexcept {
    const auto key = reinterpret_cast<std::uintptr_t>(routine);
    unsigned i = static_cast<unsigned>((key >> 4) ^ (key >> 14)) % kRoutineSlots;
    for (unsigned probes = 0; probes < kRoutineSlots; ++probes, i = (i + 1) % kRoutineSlots) {
        const void *seen = g_routines[i].routine.load(std::memory_order_acquire);
        if (seen == routine) return g_routines[i];
        if (seen == nullptr) {
            if (g_routines[i].routine.compare_exchange_strong(seen, routine, std::memory_order_acq_rel) ||
                seen == routine)
                return g_routines[i];
        }
    }
    return g_routines[kRoutineSlots - 1];
}
} // namespace

bool confirm_callback_overrun(const void *routine, std::uint64_t ns, std::uint64_t budget_ns) noexcept {
    if (ns == platform::kDescheduled) return false;
    RoutineStreak &r = routine_streak(routine);
    const std::uint8_t streak = r.streak.load(std::memory_order_relaxed);
    if (ns <= budget_ns) {
        if (streak != 0) r.streak.store(0, std::memory_order_relaxed);
        return false;
    }
    // Runs of one routine on several processors may race here (an in-budget run on another
    // processor can go unnoticed); a report still needs kOverrunsToReport overruns.
    const std::uint8_t now = streak < kOverrunsToReport ? static_cast<std::uint8_t>(streak + 1) : streak;
    r.streak.store(now, std::memory_order_relaxed);
    return now >= kOverrunsToReport;
}

unsigned copy_class_hold_times(NDISLOCK_CLASS_HOLD_TIMES *out, unsigned max) noexcept {
    unsigned n = 0;
    for (std::uint32_t id = 0; id < kMaxClasses; ++id) {
        const ClassHolds &c = g_holds[id];
        NDISLOCK_CLASS_HOLD_TIMES row{};
        row.Descheduled = c.descheduled.load(std::memory_order_relaxed);
        if (c.holds.count() == 0 && row.Descheduled == 0) continue;
        std::uint64_t powers[NDISLOCK_HOLD_BUCKETS];
        c.holds.copy_powers(powers, NDISLOCK_HOLD_BUCKETS);
        for (unsigned b = 0; b < NDISLOCK_HOLD_BUCKETS; ++b) {
            row.Buckets[b] = powers[b];
            row.Holds += powers[b];
        }
        row.MaxNs = c.holds.max_ns();
        if (out != nullptr && n < max) {
            row.Class = stable_description(id);
            out[n] = row;
        }
        ++n;
    }
    return n;
}

} // namespace ndislock::verifier
