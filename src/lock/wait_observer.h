// The one thing the lock algorithms tell the world: that a thread is waiting, for what, and that
// it is still waiting. The execution model installs the observer (to record waits for reports and
// let a watchdog see waits that never end); the algorithms know nothing else about who listens.
// Called on slow paths only, never on an uncontended acquire or release.
#pragma once

#include <atomic>
#include <cstdint>

namespace ndislock::lock {

enum class WaitKind : std::uint8_t { None, SpinLock, QueuedSpinLock, QueueSuccessorLink, Processor };

struct WaitObserver {
    void (*begin)(WaitKind kind, const void *object) noexcept;
    void (*tick)() noexcept; // at least every kWaitTickNs while the wait lasts
    void (*end)() noexcept;
    // A system call on a slow path that is not a wait (waking a sleeper): like a wait, time the
    // kernel spends here is not the caller's own (a Windows release hands over without one).
    void (*slow_path)() noexcept;
};

// How often a long wait wakes to report that it is still waiting.
inline constexpr std::uint64_t kWaitTickNs = 50'000'000;

extern std::atomic<const WaitObserver *> g_wait_observer;

// Before a wake-up system call on a release path.
inline void note_slow_path() noexcept {
    if (const WaitObserver *o = g_wait_observer.load(std::memory_order_acquire)) o->slow_path();
}

// Brackets one wait: begin on construction, end on destruction, tick() in between.
class WaitScope {
public:
    WaitScope(WaitKind kind, const void *object) noexcept
        : observer_(g_wait_observer.load(std::memory_order_acquire)) {
        if (observer_ != nullptr) observer_->begin(kind, object);
    }
    ~WaitScope() {
        if (observer_ != nullptr) observer_->end();
    }
    WaitScope(const WaitScope &) = delete;
    WaitScope &operator=(const WaitScope &) = delete;
    void tick() const noexcept {
        if (observer_ != nullptr) observer_->tick();
    }

private:
    const WaitObserver *observer_;
};

} // namespace ndislock::lock
