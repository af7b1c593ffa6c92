#include "observe/watchdog.h"

#include <atomic>
#include <pthread.h>

#include "lock/park.h"
#include "model/thread_state.h"
#include "observe/hooks.h"
#include "platform/clock.h"

namespace ndislock::observe {

namespace {

// The ids of the threads found waiting in one look. Only the watchdog thread uses it.
std::uint32_t g_waiting[model::kMaxThreads];

bool still_waiting(const lock::WaitRecord &w, std::uint64_t now) noexcept {
    if (w.kind.load(std::memory_order_acquire) == lock::WaitKind::None) return false;
    const std::uint64_t since = w.since_ns.load(std::memory_order_relaxed);
    return now > since && now - since >= kStillWaitingNs;
}

struct Look {
    std::uint64_t now;
    unsigned count;
};

void look() noexcept {
    if (!active()) return;
    // Collected under the registry's lock, told outside it: an observer's report lists every
    // thread (model::for_each_thread) itself.
    Look l{platform::monotonic_ns(), 0};
    model::for_each_thread(
        [](model::ThreadState &t, void *c) {
            auto &each = *static_cast<Look *>(c);
            if (still_waiting(t.wait, each.now)) g_waiting[each.count++] = t.id;
        },
        &l);
    for (unsigned i = 0; i < l.count; ++i) {
        model::ThreadState *t = model::thread_by_id(g_waiting[i]);
        // It may have stopped waiting since (then it is not told), or begun another wait (told
        // only once that one is old enough too).
        if (t != nullptr && still_waiting(t->wait, platform::monotonic_ns())) notify_wait(*t, WaitPhase::StillWaiting);
    }
}

void *watchdog_main(void *) {
    static const std::atomic<std::uint32_t> never{0}; // nobody unparks it: the park is the pause
    for (;;) {
        lock::park(&never, 0, kWatchdogPollNs);
        look();
    }
    return nullptr;
}

} // namespace

void start_watchdog() noexcept {
    static std::atomic<bool> started{false};
    if (started.exchange(true)) return;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (pthread_create(&thread, &attr, watchdog_main, nullptr) == 0) pthread_setname_np(thread, "ndis-waitwatch");
    pthread_attr_destroy(&attr);
}

} // namespace ndislock::observe
