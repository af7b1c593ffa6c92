#include "observe/watchdog.h"

#include <pthread.h>

#include "lock/park.h"
#include "model/thread_state.h"
#include "observe/hooks.h"
#include "platform/clock.h"

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

// The ids of the threads found in one look. Only the watchdog thread uses them.
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

struct Look {
    std::uint64_t now;
    std::uint64_t limit;
    bool waits; // an observer is registered: its waits are worth a look
    unsigned waiting;
    unsigned hung;
};

void look() noexcept {
    // While an exploration runs, its threads' waits and routine runs are timed on its virtual
    // clock (docs/explore.md, "Virtual time"), which this thread's real one cannot be compared
    // with, and the exploration witnesses its own deadlocks: nothing to look at.
    if (platform::g_virtual_clock.load(std::memory_order_acquire) != nullptr) return;
    // Collected under the registry's lock, told outside it: a report lists every thread
    // (model::for_each_thread) itself.
    Look l{platform::monotonic_ns(), g_watchdog_limit_ns.load(std::memory_order_relaxed), active(), 0, 0};
    model::for_each_thread(
        [](model::ThreadState &t, void *c) {
            auto &each = *static_cast<Look *>(c);
            if (each.waits && still_waiting(t.wait, each.now)) g_waiting[each.waiting++] = t.id();
            if (callback_hung(t, callback_ran_ns(t, each.now), each.limit)) g_hung[each.hung++] = t.id();
        },
        &l);
    for (unsigned i = 0; i < l.hung; ++i) {
        model::ThreadState *t = model::thread_by_id(g_hung[i]);
        const CallbackHangReporter reporter = g_hang_reporter.load(std::memory_order_acquire);
        if (t == nullptr || reporter == nullptr) continue;
        const std::uint64_t ran = callback_ran_ns(*t, platform::monotonic_ns());
        if (callback_hung(*t, ran, g_watchdog_limit_ns.load(std::memory_order_relaxed))) reporter(*t, ran);
    }
    for (unsigned i = 0; i < l.waiting; ++i) {
        model::ThreadState *t = model::thread_by_id(g_waiting[i]);
        // It may have stopped waiting since (then it is not told), or begun another wait (told
        // only once that one is old enough too).
        if (t != nullptr && still_waiting(t->wait, platform::monotonic_ns())) notify_wait(*t, WaitPhase::StillWaiting);
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

void set_callback_hang_reporter(CallbackHangReporter reporter) noexcept {
    g_hang_reporter.store(reporter, std::memory_order_release);
}

void start_watchdog() noexcept {
    static std::atomic<bool> started{false};
    if (started.exchange(true)) return;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (pthread_create(&thread, &attr, watchdog_main, nullptr) == 0) pthread_setname_np(thread, "ndis-watchdog");
    pthread_attr_destroy(&attr);
}

} // namespace ndislock::observe
