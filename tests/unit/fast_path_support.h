// What the inline fast path's tests share (fast_path_test.cpp, fast_path_rw_test.cpp): the skip
// where processors are never biased, and making processor 0 biased to the calling thread.
#pragma once

#include "test_support.h"

#include "model/processors.h"
#include "platform/membarrier.h"

namespace ndislock_test {

// Without asymmetric fences (a ThreadSanitizer build, no membarrier) a processor is never biased
// and raising calls always go out of line: the tests that need the bias skip, the others check
// the same state through the exported calls.
#define NEEDS_BIAS()                                                                                                   \
    if (!ndislock::platform::asymmetric()) GTEST_SKIP() << "no asymmetric fences: processors are never biased here"

// Enough raises in a row on the thread's processor for it to stick to the thread (model::kBiasAfter).
inline void make_processor_biased() {
    NDIS_SPIN_LOCK warm;
    NdisAllocateSpinLock(&warm);
    for (std::uint32_t i = 0; i < 2 * ndislock::model::kBiasAfter; ++i) {
        NdisAcquireSpinLock(&warm);
        NdisReleaseSpinLock(&warm);
    }
    NdisFreeSpinLock(&warm);
}

} // namespace ndislock_test
