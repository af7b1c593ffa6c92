// bench/s7_read_mostly.h: S7, the read-mostly scenario (bench/s7_read_mostly.cpp).
#pragma once

namespace ndislock_bench {

// Registers S7/t{2,4,8}/<contender>: every reader/writer lock, ndislock's and its peers'.
void register_s7();

} // namespace ndislock_bench
