// What the exploration tests share: a search's options, the replay check, and the AB/BA
// scenario they all find.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ndislock/explore.h"
#include "ndislock/ndis.h"

namespace explore_support {

namespace ex = ndislock::explore;

inline ex::Options options(NDISLOCK_EXPLORE_STRATEGY strategy, unsigned depth, unsigned long long seed,
                           unsigned schedules = 1000) {
    ex::Options o;
    o.strategy = strategy;
    o.depth = depth;
    o.seed = seed;
    o.schedules = schedules;
    return o;
}

// The finding without its replay line (which names the token that was replayed).
inline std::string finding_of(const std::string &message) { return message.substr(0, message.find("\n  replay:")); }

// Replays token 100 times: each run is one schedule, not shrunk, with found's rule and finding.
inline void expect_replays(const std::function<void(ex::Run &)> &scenario, const std::string &token,
                           const ex::Result &found) {
    for (int i = 0; i < 100; ++i) {
        ex::Options o;
        o.replay = token;
        const ex::Result again = ex::explore(o, scenario);
        ASSERT_EQ(again.status, NDISLOCK_OK);
        ASSERT_TRUE(again.found) << "replay " << i << " of " << token << " found nothing";
        ASSERT_EQ(again.rule, found.rule) << "replay " << i;
        ASSERT_EQ(finding_of(again.message), finding_of(found.message)) << "replay " << i;
        ASSERT_EQ(again.schedules, 1u);
        ASSERT_EQ(again.shrink_replays, 0u); // a replay is never shrunk
    }
}
inline void expect_replays(const std::function<void(ex::Run &)> &scenario, const ex::Result &found) {
    expect_replays(scenario, found.token, found);
}

// Two threads take A and B in opposite orders. Static locks: the same addresses in every
// schedule, so a replayed finding is the same text.
inline NDIS_SPIN_LOCK g_a, g_b;

inline void ab_ba(ex::Run &run) {
    NdisAllocateSpinLock(&g_a);
    NdisAllocateSpinLock(&g_b);
    run.spawn([] {
        NdisAcquireSpinLock(&g_a);
        NdisAcquireSpinLock(&g_b);
        NdisReleaseSpinLock(&g_b);
        NdisReleaseSpinLock(&g_a);
    });
    run.spawn([] {
        NdisAcquireSpinLock(&g_b);
        NdisAcquireSpinLock(&g_a);
        NdisReleaseSpinLock(&g_a);
        NdisReleaseSpinLock(&g_b);
    });
}

} // namespace explore_support
