// NDISLOCK_EXPLORE_SHARDED_TEST (ndislock/explore_gtest.h): one search of 400 schedules spread
// over 4 tests. gtest_shards_check.py runs this binary as two GoogleTest shards
// (GTEST_TOTAL_SHARDS=2, GTEST_SHARD_INDEX=0 and 1) and checks that the shards ran every share
// once, disjoint, and 400 schedules between them.
#include <gtest/gtest.h>

#include <memory>

#include "ndislock/explore_gtest.h"
#include "ndislock/ndis.h"

namespace {

struct Counter {
    NDIS_SPIN_LOCK lock;
    int value = 0;
};

ndislock::explore::Options whole_search() {
    ndislock::explore::Options o;
    o.strategy = NDISLOCK_EXPLORE_PORTFOLIO;
    o.seed = 11;
    o.schedules = 400;
    return o;
}

void locked_counter(ndislock::explore::Run &run) {
    auto c = std::make_shared<Counter>();
    NdisAllocateSpinLock(&c->lock);
    for (int i = 0; i < 2; ++i)
        run.spawn([c] {
            NdisAcquireSpinLock(&c->lock);
            c->value = NDISLOCK_SHARED_ACCESS(c->value) + 1;
            NdisReleaseSpinLock(&c->lock);
        });
    run.check([c] { return c->value == 2; });
}

NDISLOCK_EXPLORE_SHARDED_TEST(Shards, LockedCounter, 4, whole_search, locked_counter);

} // namespace
