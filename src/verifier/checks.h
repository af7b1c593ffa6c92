// The verifier's observer (checks_*.cpp: its table in checks_observer.cpp) and its watchdog half
// (watchdog.cpp).
#pragma once

#include <string>

#include "model/thread_state.h"
#include "observe/hooks.h"

namespace ndislock::verifier {

extern const observe::Observer kVerifierObserver;

// Waits: an immediate check for a wait that can never end on Windows, and the watchdog that turns
// a wait past the limit into a Deadlock report.
void on_wait(model::ThreadState &t, observe::WaitPhase phase) noexcept;

// The holds now open on thread t are not timed: it waited, made a wake-up system call or wrote a
// report meanwhile, none of which is the driver's own time.
void untime_open_holds(model::ThreadState *t) noexcept;

// "MiniportInterrupt DemoIsr", "the DPC routine FlushDpc", ...: a callback kind and its routine,
// for messages.
std::string callback_description(observe::Callback kind, const void *routine);
// The innermost callback running on thread t as the verifier saw it enter (kind None if none).
struct RunningCallback {
    observe::Callback kind = observe::Callback::None;
    const void *routine = nullptr;
};
RunningCallback running_callback(model::ThreadState &t) noexcept;

// At process exit (return from main, exit()): the thread ending the process ends too, and no
// thread-exit destructor runs for it. Reports ThreadExitHoldingLock if it holds spin locks or is
// above PASSIVE_LEVEL (findings.cpp's exit handler calls it first).
void check_process_exit() noexcept;

} // namespace ndislock::verifier
