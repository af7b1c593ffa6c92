#include "model/processors.h"

#include <cstdlib>
#include <mutex>
#include <sched.h>
#include <thread>

#include "lock/wait_observer.h"
#include "platform/diagnostics.h"
#include "platform/futex.h"

namespace ndislock::model {

Processor g_processors[NDISLOCK_MAX_PROCESSORS];

namespace {

std::atomic<std::uint32_t> g_count{0};
std::atomic<std::uint32_t> g_round_robin{0};

std::uint32_t initial_count() noexcept {
    if (const char *env = std::getenv("NDISLOCK_PROCESSORS"); env != nullptr && *env != '\0') {
        char *end = nullptr;
        const long n = std::strtol(env, &end, 10);
        if (*end == '\0' && n >= 1 && n <= NDISLOCK_MAX_PROCESSORS) return static_cast<std::uint32_t>(n);
        platform::diagnostic("NDISLOCK_PROCESSORS=\"%s\" is not a number from 1 to %d; using the hardware count",
                             env, NDISLOCK_MAX_PROCESSORS);
    }
    cpu_set_t set;
    unsigned n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = static_cast<unsigned>(CPU_COUNT(&set));
    if (n == 0) n = std::thread::hardware_concurrency();
    if (n == 0) n = 1;
    return n > NDISLOCK_MAX_PROCESSORS ? NDISLOCK_MAX_PROCESSORS : n;
}

// Spin before sleeping on a processor: an owner at DISPATCH_LEVEL should be brief.
constexpr int kSpinPauses = 256;

} // namespace

std::uint32_t processor_count() noexcept {
    std::uint32_t n = g_count.load(std::memory_order_acquire);
    if (__builtin_expect(n != 0, 1)) return n;
    std::uint32_t expected = 0;
    const std::uint32_t fresh = initial_count();
    g_count.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel);
    return g_count.load(std::memory_order_acquire);
}

std::uint32_t assign_processor() noexcept {
    return g_round_robin.fetch_add(1, std::memory_order_relaxed) % processor_count();
}

void enter_dispatch_slow(ThreadState &t, Processor &p) noexcept {
    lock::WaitScope wait(lock::WaitKind::Processor, &p);
    // Once this thread has slept, other sleepers may remain whose wake-up it consumed or raced
    // with: it then always takes the processor with kParked set, so that its leave wakes the next.
    std::uint32_t take_as = t.id;
    for (;;) {
        for (int i = 0; i < kSpinPauses; ++i) {
            std::uint32_t expected = 0;
            if (p.owner.load(std::memory_order_relaxed) == 0 &&
                p.owner.compare_exchange_strong(expected, take_as, std::memory_order_acquire, std::memory_order_relaxed))
                return;
            platform::cpu_relax();
        }
        std::uint32_t seen = p.owner.load(std::memory_order_relaxed);
        if (seen == 0) {
            if (p.owner.compare_exchange_strong(seen, t.id | kParked, std::memory_order_acquire,
                                                std::memory_order_relaxed))
                return;
            continue;
        }
        if ((seen & kParked) == 0 &&
            !p.owner.compare_exchange_strong(seen, seen | kParked, std::memory_order_relaxed, std::memory_order_relaxed))
            continue;
        platform::futex_wait(&p.owner, seen | kParked, lock::kWaitTickNs);
        take_as = t.id | kParked;
        wait.tick();
    }
}

void wake_processor_waiters(Processor &p) noexcept { platform::futex_wake(&p.owner, 1); }

NDISLOCK_STATUS set_processor_count(std::uint32_t count) noexcept {
    if (count < 1 || count > NDISLOCK_MAX_PROCESSORS) return NDISLOCK_INVALID_ARGUMENT;
    if (current_thread().irql.load(std::memory_order_relaxed) >= DISPATCH_LEVEL) return NDISLOCK_WRONG_IRQL;
    const std::uint32_t old = processor_count();
    for (std::uint32_t i = 0; i < old; ++i)
        if (processor_owner(i) != 0) return NDISLOCK_BUSY;
    g_count.store(count, std::memory_order_release);
    for_each_thread(
        [](ThreadState &t, void *n) {
            const std::uint32_t c = *static_cast<std::uint32_t *>(n);
            t.processor.store(t.processor.load(std::memory_order_relaxed) % c, std::memory_order_relaxed);
        },
        &count);
    return NDISLOCK_OK;
}

NDISLOCK_STATUS bind_current_thread(std::uint32_t index) noexcept {
    ThreadState &t = current_thread();
    if (index >= processor_count()) return NDISLOCK_INVALID_ARGUMENT;
    if (t.irql.load(std::memory_order_relaxed) >= DISPATCH_LEVEL) return NDISLOCK_WRONG_IRQL;
    t.processor.store(index, std::memory_order_relaxed);
    t.bound = true;
    return NDISLOCK_OK;
}

} // namespace ndislock::model
