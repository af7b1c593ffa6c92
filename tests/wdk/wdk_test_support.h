// Shared by the WDK-face tests: the standard and gtest headers first (the WDK face defines IN,
// OUT, ASSERT and friends, as the WDK does), then the face itself, then the verifier helpers.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../verifier/verifier_support.h"
#include "ndislock/wdk.h"

namespace wdk_test {

// The findings of one rule, and whether one is at file (suffix) : line.
inline std::vector<vt::Got> of_rule(const std::vector<vt::Got> &got, const std::string &rule) {
    std::vector<vt::Got> out;
    for (const vt::Got &g : got)
        if (g.rule == rule) out.push_back(g);
    return out;
}

} // namespace wdk_test
