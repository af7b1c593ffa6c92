// A replay token: the text a finding prints and NDISLOCK_EXPLORE_REPLAY takes back, naming one
// schedule exactly (docs/explore.md, "Replay"). Versioned, so a token from another format is
// refused rather than misread:
//   x1.random.<seed, 16 hex digits>
//   x1.pct<depth>.<horizon>.<seed, 16 hex digits>
#pragma once

#include <cstddef>

#include "explore/strategy.h"

namespace ndislock::explore {

// Writes key's token into out (NUL-terminated; size >= 48 is always enough).
void format_token(const ScheduleKey &key, char *out, std::size_t size) noexcept;
// Parses a token; false (key unchanged) if it is not one.
bool parse_token(const char *text, ScheduleKey &key) noexcept;

} // namespace ndislock::explore
