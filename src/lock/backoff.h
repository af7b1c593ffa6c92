// How a waiter of the ordinary spin lock paces its looks at the lock word before it parks.
//
// The pauses between two looks double from 1 to kMaxBackoffPauses, then stay there, until the
// budget (in pauses) is spent. Why not look after every pause: each look that finds the word free
// and takes it moves the lock's cache line to the waiter's CPU, and the holder's next acquire must
// move it back. With a short critical section the holder re-takes the lock within tens of ns, so
// a waiter that looks less often leaves it there and the pair finishes more work; with a long one
// the release is seen up to kMaxBackoffPauses pauses late. Measured both ways in
// docs/performance.md ("Contended"): with a cap of 16, a 25 ns section gains about a seventh
// (more when moving a line is slow) and a 250 ns one loses about a tenth. The time spent before
// parking does not change: only how often the word is read within it.
#pragma once

#include "platform/cpu.h"

namespace ndislock::lock {

inline constexpr unsigned kMaxBackoffPauses = 16;

class Backoff {
public:
    explicit constexpr Backoff(unsigned budget_pauses) noexcept : left_(budget_pauses) {}

    // The pauses to wait before the next look (consumed from the budget); 0 once the budget is
    // spent: time to park.
    constexpr unsigned next() noexcept {
        const unsigned n = delay_ < left_ ? delay_ : left_;
        left_ -= n;
        if (delay_ < kMaxBackoffPauses) delay_ *= 2;
        return n;
    }

    // Waits the pauses next() gives; false (no wait) once the budget is spent: time to park.
    bool pause() noexcept {
        const unsigned n = next();
        for (unsigned i = 0; i < n; ++i)
            platform::cpu_relax();
        return n != 0;
    }

private:
    unsigned left_;
    unsigned delay_ = 1;
};

} // namespace ndislock::lock
