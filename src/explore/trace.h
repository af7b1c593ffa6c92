// The two-column trace of a schedule (docs/explore.md, "Shrinking"): one column per thread, one
// row per scheduling point in the order they ran, each row the call the thread that went on made
// there, with its file:line when a site macro gave it or the debug information of its caller's
// return address tells it; and where a thread was preempted, blocked, resumed or returned.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "explore/choices.h"

namespace ndislock::explore {

// The trace of a recorded schedule, at most max_chars long (the rows past it are counted in a
// last line instead). Symbolizes addresses (after the schedule: never on its way).
std::string format_trace(const std::vector<ChoiceRecord> &choices, std::size_t max_chars);

} // namespace ndislock::explore
