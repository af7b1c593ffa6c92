// A fixture for unit tests of misuse: the unit tests run with the verifier off, so these turn it on
// for the test and forget its findings after. Their suites stay out of the clean-corpus
// registration (tests/unit/CMakeLists.txt), which fails a test on any finding.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ndislock/verifier.h"
#include "test_support.h"

namespace ndislock_test {

struct Finding {
    std::string rule, file, message;
    int line = 0;
};

class VerifierOnTest : public ModelTest {
protected:
    void SetUp() override {
        ModelTest::SetUp();
        mode_ = NdislockVerifierGetMode();
        NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
        NdislockVerifierResetFindings();
    }
    void TearDown() override {
        NdislockVerifierResetFindings();
        NdislockVerifierSetMode(mode_);
        ModelTest::TearDown();
    }
    // The findings so far, forgotten.
    static std::vector<Finding> take() {
        NDISLOCK_FINDING f[16];
        const ULONG n = NdislockVerifierGetFindings(f, 16);
        std::vector<Finding> out;
        for (ULONG i = 0; i < n && i < 16; ++i)
            out.push_back({f[i].RuleId, f[i].File != nullptr ? f[i].File : "", f[i].Message, f[i].Line});
        NdislockVerifierResetFindings();
        return out;
    }
    static std::string dump(const std::vector<Finding> &got) {
        std::string s = std::to_string(got.size()) + " finding(s):\n";
        for (const Finding &g : got)
            s += "  " + g.rule + " at " + g.file + ":" + std::to_string(g.line) + "\n" + g.message + "\n";
        return s;
    }

private:
    NDISLOCK_VERIFIER_MODE mode_ = NDISLOCK_VERIFIER_OFF;
};

} // namespace ndislock_test
