// For tests of long holds and long routines (verifier/long_holds.h): telling a round where the
// host gave the verifier's sentinel no processor from one where the verifier missed a long hold.
#pragma once

#include <cstdint>

#include "verifier/long_holds.h"

namespace vt {

// Whether the sentinel (verifier/long_holds.h) had a processor while a long hold or routine ran:
// at least kFairLooks looks since `looks_before` (a sentinel_looks() reading taken before it
// began). A 2 ms hold normally sees about 20; a round with fewer is one where the host did not run
// the sentinel's virtual CPU, which no user-mode verifier can help, not a miss. Tests of "every
// long hold reported" run their rounds until kRounds fair ones, and fail on a fair one missed.
inline constexpr std::uint64_t kFairLooks = 10;
inline bool sentinel_had_a_processor(std::uint64_t looks_before) {
    return ndislock::verifier::sentinel_looks() - looks_before >= kFairLooks;
}

} // namespace vt
