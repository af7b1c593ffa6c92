#include "observe/watchdog.h"

#include <pthread.h>

#include "lock/park.h"
#include "model/processors.h"
#include "model/thread_state.h"
#include "observe/hooks.h"
#include "observe/lock_names.h"
#include "platform/clock.h"
#include "platform/diagnostics.h"
#include "platform/format.h"

namespace ndislock::observe {

std::atomic<std::uint64_t> g_watchdog_limit_ns{kDefaultWatchdogLimitNs};
std::atomic<std::uint64_t> g_dpc_time_limit_ns{0};
std::atomic<std::uint64_t> g_dpc_watchdog_limit_ns{0};

std::uint64_t dpc_time_limit_ns() noexcept {
    const std::uint64_t set = g_dpc_time_limit_ns.load(std::memory_order_relaxed);
    return set != 0 ? set : g_watchdog_limit_ns.load(std::memory_order_relaxed);
}
std::uint64_t dpc_watchdog_limit_ns() noexcept {
    const std::uint64_t set = g_dpc_watchdog_limit_ns.load(std::memory_order_relaxed);
    return set != 0 ? set : 6 * dpc_time_limit_ns();
}

namespace {

std::atomic<CallbackHangReporter> g_hang_reporter{nullptr};
std::atomic<ExplorationProbe> g_exploration_probe{nullptr};

// The ids of the threads found in one look, a waiting one's with kSystemThread set for an
// interrupt or DPC thread. Only the watchdog thread uses them.
constexpr std::uint32_t kSystemThread = 0x80000000u;
static_assert(model::kMaxThreads < kSystemThread, "thread ids leave the top bit free");
std::uint32_t g_waiting[model::kMaxThreads];
std::uint32_t g_hung[model::kMaxThreads];

bool still_waiting(const lock::WaitRecord &w, std::uint64_t now) noexcept {
    if (w.kind.load(std::memory_order_acquire) == lock::WaitKind::None) return false;
    const std::uint64_t since = w.since_ns.load(std::memory_order_relaxed);
    return now > since && now - since >= kStillWaitingNs;
}

// How long t's ISR or DPC has run, or 0 if it runs none (or t is no interrupt or DPC thread).
std::uint64_t callback_ran_ns(const model::ThreadState &t, std::uint64_t now) noexcept {
    // The routine first, with acquire: its store follows the thread's registration, the plain
    // write of `system` that is read next.
    if (t.callback.kind.load(std::memory_order_acquire) == 0 || !t.system) return 0;
    const std::uint64_t since = t.callback.since_ns.load(std::memory_order_relaxed);
    return since != 0 && now > since ? now - since : 0;
}

// Whether a routine that has run for ran_ns is hung. Inside ndislock's own bookkeeping (an
// observer, a verifier report being written and symbolized: no_preempt is set) the routine is not
// the one that is slow, and writing a report's first lookups can take seconds on a loaded machine
// under a sanitizer: it gets kBookkeepingFactor times the limit, so a hang inside ndislock itself
// is still reported.
constexpr std::uint64_t kBookkeepingFactor = 10;
bool callback_hung(const model::ThreadState &t, std::uint64_t ran_ns, std::uint64_t limit_ns) noexcept {
    if (ran_ns <= limit_ns) return false;
    return t.preemption.no_preempt.load(std::memory_order_relaxed) == 0 || ran_ns > kBookkeepingFactor * limit_ns;
}

// A spin-lock wait (plain or queued, or a reader/writer lock's), with no timeout: the verifier's
// deadlock check judges it (verifier/watchdog.cpp).
bool waits_for_lock(const lock::WaitRecord &w) noexcept {
    const lock::WaitKind kind = w.kind.load(std::memory_order_acquire);
    return (kind == lock::WaitKind::SpinLock || kind == lock::WaitKind::QueuedSpinLock) &&
           w.until_ns.load(std::memory_order_relaxed) == 0;
}

// A wait with no timeout past the watchdog limit, with no verifier to judge it (verifier off: a
// free build, where it hangs): the plain Deadlock report, through the observer seam, then the end.
// It names the thread and what it waits for; the verifier, when on, writes its own report instead
// (verifier/watchdog.cpp), which adds who holds it, where it was taken and every waiting thread.
[[gnu::cold]] void report_endless_wait(model::ThreadState &t, std::uint64_t waited_ns) noexcept {
    const lock::WaitKind kind = t.wait.kind.load(std::memory_order_acquire);
    const void *object = t.wait.object.load(std::memory_order_relaxed);
    std::string what;
    if (kind == lock::WaitKind::Processor) {
        const auto index = static_cast<unsigned>(static_cast<const model::Processor *>(object) - model::g_processors);
        what = platform::format("virtual processor %u (to run at DISPATCH_LEVEL)", index);
    } else {
        const char *name = lock_name(object);
        what = platform::format("%s %p%s%s%s", lock::wait_kind_name(kind), object, name != nullptr ? " \"" : "",
                                name != nullptr ? name : "", name != nullptr ? "\"" : "");
    }
    const std::string text = platform::format(
        "thread %d on processor %u at IRQL %u has waited %llu ms (the watchdog limit is %llu ms) for %s, with no "
        "timeout: it will wait forever (NDISLOCK_VERIFIER=on names who holds it and where)",
        t.os_tid.load(std::memory_order_relaxed), t.processor().load(std::memory_order_relaxed),
        t.irql().load(std::memory_order_relaxed), static_cast<unsigned long long>(waited_ns / 1'000'000),
        static_cast<unsigned long long>(g_watchdog_limit_ns.load(std::memory_order_relaxed) / 1'000'000), what.c_str());
    // No caller's site: the waiting thread is blocked in the wait, not here.
    if (report_if_observed(Rule::Deadlock, Site{nullptr, 0, nullptr, nullptr}, text.c_str())) return;
    const RuleInfo &info = rule_info(Rule::Deadlock);
    platform::fatal("%s: %s\n  Windows: %s", info.id, text.c_str(), info.windows);
}

// With no verifier checking rules, a wait is the watchdog's to judge: one with no timeout that has
// lasted past the limit never ends. Not in an exploration (its threads read a virtual clock, and
// the explorer finds deadlocks itself), nor a wait of ndislock's own interrupt and DPC threads:
// theirs follow from what a driver thread or routine does, which is reported on its own (an ISR
// or DPC spinning in its routine by the callback-hang report, with the thread it interrupted; a
// driver thread's endless wait here).
// system: t is an interrupt or DPC thread, as read under the registry's mutex when the wait was
// collected (a state may be recycled by another thread meanwhile: its plain fields are not read
// here).
void judge_wait(model::ThreadState &t, bool system, std::uint64_t now, std::uint64_t limit) noexcept {
    if (system || rules_checked() || lock::g_park_control.load(std::memory_order_acquire) != nullptr) return;
    // The kind first: a wait's fields are stored before its kind (release), so those read after it
    // are that wait's, or a later one's (which only makes the wait look younger).
    if (t.wait.kind.load(std::memory_order_acquire) == lock::WaitKind::None) return;
    if (t.wait.until_ns.load(std::memory_order_relaxed) != 0) return;
    const std::uint64_t since = t.wait.since_ns.load(std::memory_order_relaxed);
    if (now > since && now - since >= limit) report_endless_wait(t, now - since);
}

struct Look {
    std::uint64_t now;
    std::uint64_t limit;
    bool observed; // an observer is registered: it is told of the waits that last
    unsigned waiting;
    unsigned hung;
};

void look() noexcept {
    // While an exploration runs, its threads' waits and routine runs are timed on its virtual
    // clock (docs/explore.md, "Virtual time"), which this thread's real one cannot be compared
    // with, and the exploration judges them itself: only its progress is looked at, in real time
    // (the explorer's probe, set_exploration_probe).
    if (platform::g_virtual_clock.load(std::memory_order_acquire) != nullptr) {
        if (const ExplorationProbe probe = g_exploration_probe.load(std::memory_order_acquire))
            probe(platform::monotonic_ns(), g_watchdog_limit_ns.load(std::memory_order_relaxed));
        return;
    }
    // Collected under the registry's lock, told outside it: a report lists every thread
    // (model::for_each_thread) itself. Waits are collected with or without an observer: with
    // none (or none checking rules), judge_wait reports the endless ones.
    Look l{platform::monotonic_ns(), g_watchdog_limit_ns.load(std::memory_order_relaxed), active(), 0, 0};
    model::for_each_thread(
        [](model::ThreadState &t, void *c) {
            auto &each = *static_cast<Look *>(c);
            if (still_waiting(t.wait, each.now)) g_waiting[each.waiting++] = t.id() | (t.system ? kSystemThread : 0);
            if (callback_hung(t, callback_ran_ns(t, each.now), each.limit)) g_hung[each.hung++] = t.id();
        },
        &l);
    for (unsigned i = 0; i < l.hung; ++i) {
        model::ThreadState *t = model::thread_by_id(g_hung[i]);
        const CallbackHangReporter reporter = g_hang_reporter.load(std::memory_order_acquire);
        if (t == nullptr || reporter == nullptr) continue;
        const std::uint64_t ran = callback_ran_ns(*t, platform::monotonic_ns());
        const std::uint64_t limit = g_watchdog_limit_ns.load(std::memory_order_relaxed);
        // With the verifier checking rules, a routine hung in a spin-lock wait is that wait's
        // deadlock, and the wait's own report (the holder, where it took the lock, the cycle, at
        // the routine's acquire) comes once the wait passes the limit: the routine began before
        // its wait, so it passes first. Its report, which knows only the routine, waits half a
        // limit more for that one.
        if (rules_checked() && waits_for_lock(t->wait) && ran < limit + limit / 2) continue;
        if (callback_hung(*t, ran, limit)) reporter(*t, ran);
    }
    for (unsigned i = 0; i < l.waiting; ++i) {
        model::ThreadState *t = model::thread_by_id(g_waiting[i] & ~kSystemThread);
        // It may have stopped waiting since (then it is not told), or begun another wait (told
        // only once that one is old enough too).
        if (t == nullptr || !still_waiting(t->wait, platform::monotonic_ns())) continue;
        if (l.observed) notify_wait(*t, WaitPhase::StillWaiting);
        judge_wait(*t, (g_waiting[i] & kSystemThread) != 0, platform::monotonic_ns(),
                   g_watchdog_limit_ns.load(std::memory_order_relaxed));
    }
}

void *watchdog_main(void *) {
    static const std::atomic<std::uint32_t> never{0}; // nobody unparks it: the park is the pause
    for (;;) {
        const bool callbacks = g_hang_reporter.load(std::memory_order_relaxed) != nullptr;
        lock::park(&never, 0, callbacks ? kWatchdogCallbackPollNs : kWatchdogPollNs);
        look();
    }
    return nullptr;
}

} // namespace

void set_exploration_probe(ExplorationProbe probe) noexcept {
    g_exploration_probe.store(probe, std::memory_order_release);
}

void set_callback_hang_reporter(CallbackHangReporter reporter) noexcept {
    g_hang_reporter.store(reporter, std::memory_order_release);
}

namespace {
std::atomic<bool> g_started{false};
// A forked child has no watchdog thread (fork copies only the calling thread): the next start
// there starts one.
void forget_watchdog_in_child() { g_started.store(false, std::memory_order_relaxed); }
} // namespace

void start_watchdog() noexcept {
    if (g_started.load(std::memory_order_relaxed) || g_started.exchange(true)) return;
    static const int registered = pthread_atfork(nullptr, nullptr, forget_watchdog_in_child);
    (void)registered;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (pthread_create(&thread, &attr, watchdog_main, nullptr) == 0) pthread_setname_np(thread, "ndis-watchdog");
    pthread_attr_destroy(&attr);
}

} // namespace ndislock::observe
