// A replay token: the text a finding prints and NDISLOCK_EXPLORE_REPLAY takes back, naming one
// schedule exactly (docs/explore.md, "Replay"). Versioned, so a token from another format is
// refused rather than misread:
//   x1.random.<seed, 16 hex digits>
//   x1.pct<depth>.<horizon>.<seed, 16 hex digits>
//   x1.choices.<the ranks that are not 0>, each as <how many 0s before it, decimal><its rank as a
//   letter: a for 1 ... g for 7>; "-" for none (every choice the default). "x1.choices.3a" takes
//   the default at the first three points, the next thread in the order at the fourth, and the
//   default from then on (explore/choices.h).
#pragma once

#include <cstddef>

#include "explore/strategy.h"

namespace ndislock::explore {

// Writes key's token into out (NUL-terminated; size >= 48 is always enough but for a choice list).
// False if it did not fit (out then holds "", never a truncated token).
bool format_token(const ScheduleKey &key, char *out, std::size_t size) noexcept;
// Parses a token; false (key unchanged) if it is not one.
bool parse_token(const char *text, ScheduleKey &key) noexcept;

} // namespace ndislock::explore
