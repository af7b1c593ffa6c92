// The verifier's observer (checks.cpp) and its watchdog half (watchdog.cpp).
#pragma once

#include "model/thread_state.h"
#include "observe/hooks.h"

namespace ndislock::verifier {

extern const observe::Observer kVerifierObserver;

// Waits: an immediate check for a wait that can never end on Windows, and the watchdog that turns
// a wait past the limit into a Deadlock report.
void on_wait(model::ThreadState &t, observe::WaitPhase phase) noexcept;

} // namespace ndislock::verifier
