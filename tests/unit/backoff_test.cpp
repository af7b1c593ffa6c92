// The pacing of a spin-lock waiter's looks at the word before it parks (src/lock/backoff.h).
#include <gtest/gtest.h>

#include <vector>

#include "lock/backoff.h"

using ndislock::lock::Backoff;
using ndislock::lock::kMaxBackoffPauses;

namespace {
std::vector<unsigned> schedule(unsigned budget) {
    Backoff b(budget);
    std::vector<unsigned> out;
    for (unsigned n = b.next(); n != 0; n = b.next())
        out.push_back(n);
    return out;
}
} // namespace

TEST(Backoff, IntervalsDoubleFromOnePauseToTheCapThenStay) {
    const std::vector<unsigned> s = schedule(1000);
    ASSERT_GE(s.size(), 8u);
    EXPECT_EQ((std::vector<unsigned>(s.begin(), s.begin() + 6)), (std::vector<unsigned>{1, 2, 4, 8, 16, 16}));
    for (unsigned n : s)
        EXPECT_LE(n, kMaxBackoffPauses);
}

TEST(Backoff, SpendsExactlyTheBudgetThenSaysPark) {
    for (unsigned budget : {0u, 1u, 2u, 3u, 31u, 32u, 256u, 1000u}) {
        unsigned total = 0;
        for (unsigned n : schedule(budget))
            total += n;
        EXPECT_EQ(total, budget) << "budget " << budget;
    }
    Backoff b(3);
    EXPECT_EQ(b.next(), 1u);
    EXPECT_EQ(b.next(), 2u);
    EXPECT_EQ(b.next(), 0u);
    EXPECT_EQ(b.next(), 0u) << "stays spent";
}
