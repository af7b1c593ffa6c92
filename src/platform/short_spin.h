// A test-and-set word held for a few instructions by a thread that no emulated interrupt stops
// meanwhile (the holder has model::NoPreempt, or runs where no interrupt is delivered): spinning
// is right, since the holder is always about to let go. Async-signal-safe.
#pragma once

#include <atomic>

#include "platform/cpu.h"

namespace ndislock::platform {

class ShortSpinGuard {
public:
    explicit ShortSpinGuard(std::atomic<bool> &word) noexcept : word_(word) {
        while (word_.exchange(true, std::memory_order_acquire))
            cpu_relax();
    }
    ~ShortSpinGuard() { word_.store(false, std::memory_order_release); }
    ShortSpinGuard(const ShortSpinGuard &) = delete;
    ShortSpinGuard &operator=(const ShortSpinGuard &) = delete;

private:
    std::atomic<bool> &word_;
};

} // namespace ndislock::platform
