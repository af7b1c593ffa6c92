// For the deadlock tests of spin locks and waits: the step "both threads now wait".
#pragma once

#include <atomic>
#include <thread>

#include "model/thread_state.h"

namespace vt {

// Waits (bounded by the caller's watchdog) until the thread state published in t is inside an
// ndislock wait.
inline void wait_until_waiting(std::atomic<ndislock::model::ThreadState *> &t) {
    while (t.load() == nullptr || t.load()->wait.kind.load() == ndislock::model::WaitKind::None)
        std::this_thread::yield();
}

} // namespace vt
