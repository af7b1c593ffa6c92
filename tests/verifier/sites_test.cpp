// Which line a report names when the code at an address was inlined: the symbolizer gives the
// address's inlined frames (innermost first) and the verifier names the first that is the
// driver's own, skipping ndislock's inline fast path and the toolchain's headers. The frame lists
// below are what the symbolizer gives (as addr2line -C -f -i prints them); the choice is a pure
// function of them, so it is tested on them directly (an optimizing compiler decides for itself
// which calls it inlines into a test).
#include <gtest/gtest.h>

#include "platform/symbolizer.h"

using ndislock::platform::pick_driver_frame;
using Frames = std::vector<ndislock::platform::SourceFrame>;

namespace {

// The frame picked from the frames is file:line in function.
void expect_picked(const Frames &frames, const char *file, int line, const char *function) {
    const auto f = pick_driver_frame(frames);
    EXPECT_EQ(f.file, file);
    EXPECT_EQ(f.line, line);
    EXPECT_EQ(f.function, function);
}

TEST(Sites, AnInlinedAtomicLoadIsReportedAtTheDriverLineAroundIt) {
    // An emulated interrupt stopped a lock holder inside an inlined std::atomic load.
    expect_picked(Frames{{"std::__atomic_base<int>::load(std::memory_order) const",
                          "/usr/include/c++/12/bits/atomic_base.h", 488},
                         {"(anonymous namespace)::HolderBody()", "/src/tests/interrupt/hazard_test.cpp", 120},
                         {"main", "/src/tests/interrupt/hazard_test.cpp", 300}},
                  "/src/tests/interrupt/hazard_test.cpp", 120, "(anonymous namespace)::HolderBody()");
}

TEST(Sites, TheInlineFastPathIsNotTheDriversLine) {
    expect_picked(Frames{{"ndislock_fast_acquire_raising", "/usr/local/include/ndislock/fast_path.h", 180},
                         {"ndislock_inline_NdisAcquireSpinLock", "/usr/local/include/ndislock/fast_path.h", 215},
                         {"SendPackets", "/src/driver/send.c", 42}},
                  "/src/driver/send.c", 42, "SendPackets");
}

TEST(Sites, CompilerAndLlvmHeadersAreSkippedToo) {
    const auto gcc =
        pick_driver_frame(Frames{{"_mm_pause", "/usr/lib/gcc/x86_64-linux-gnu/12/include/xmmintrin.h", 1322},
                                 {"Poll", "/src/driver/poll.c", 7}});
    EXPECT_EQ(gcc.file, "/src/driver/poll.c");
    const auto llvm =
        pick_driver_frame(Frames{{"_mm_pause", "/usr/lib/llvm-14/lib/clang/14.0.6/include/xmmintrin.h", 2158},
                                 {"Poll", "/src/driver/poll.c", 9}});
    EXPECT_EQ(llvm.line, 9);
}

// clang records libstdc++'s headers as the path from its own binary, unnormalized; a routine whose
// first instruction is such an inlined load was named after the load (found building with clang).
TEST(Sites, ClangsUnnormalizedHeaderPathsAreLibraryCodeToo) {
    expect_picked(
        Frames{{"std::__atomic_base<unsigned long>::load(std::memory_order) const",
                "/usr/bin/../lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/bits/atomic_base.h", 488},
               {"(anonymous namespace)::SlowSync(void*)", "/src/tests/verifier/interrupt_rules_test.cpp", 303}},
        "/src/tests/verifier/interrupt_rules_test.cpp", 303, "(anonymous namespace)::SlowSync(void*)");
    expect_picked(Frames{{"_mm_pause", "/usr/bin/../lib/llvm-14/lib/clang/14.0.6/include/xmmintrin.h", 2158},
                         {"Poll", "/src/driver/poll.c", 9}},
                  "/src/driver/poll.c", 9, "Poll");
}

// A routine is named by the function its address lies in, the outermost frame: clang attributes
// a function's first instruction to a load inlined there, on the function's own line, so the
// frame a site names would call the routine "load" (found building the suite with clang).
TEST(Sites, ARoutineIsNamedByTheFunctionItsAddressLiesIn) {
    const auto f = pick_driver_frame(
        Frames{{"std::__atomic_base<unsigned long>::load(std::memory_order) const",
                "/src/tests/verifier/interrupt_rules_test.cpp", 310},
               {"(anonymous namespace)::SlowSync(void*)", "/src/tests/verifier/interrupt_rules_test.cpp", 311}});
    EXPECT_EQ(f.line, 310);
    EXPECT_EQ(f.outermost_function, "(anonymous namespace)::SlowSync(void*)");
    EXPECT_EQ(pick_driver_frame(Frames{{"MiniportInterrupt", "/src/driver/isr.c", 55}}).outermost_function,
              "MiniportInterrupt");
}

TEST(Sites, WhenEveryFrameIsLibraryCodeTheOutermostIsNamed) {
    expect_picked(Frames{{"std::__atomic_base<int>::load(std::memory_order) const",
                          "/usr/include/c++/12/bits/atomic_base.h", 488},
                         {"std::atomic<int>::load(std::memory_order) const", "/usr/include/c++/12/atomic", 100}},
                  "/usr/include/c++/12/atomic", 100, "std::atomic<int>::load(std::memory_order) const");
}

TEST(Sites, ADriverFrameOutsideTheLibraryIsTakenAsItIs) {
    const auto f = pick_driver_frame(Frames{{"MiniportInterrupt", "/src/driver/isr.c", 55}});
    EXPECT_EQ(f.file, "/src/driver/isr.c");
    EXPECT_EQ(f.line, 55);
}

TEST(Sites, NoDebugInformationGivesNoFileAndNoFunction) {
    const auto f = pick_driver_frame(Frames{{"", "", 0}});
    EXPECT_TRUE(f.file.empty());
    EXPECT_EQ(f.line, 0);
    EXPECT_TRUE(f.function.empty());
    const auto unknown_line = pick_driver_frame(Frames{{"Send", "/src/driver/send.c", 0}});
    EXPECT_TRUE(unknown_line.file.empty()); // no line: not a location worth printing
    EXPECT_EQ(unknown_line.function, "Send");
}

// The symbolizer itself (platform/symbolizer.h), in this process: a function of this file, at its
// entry, is this file's line, named as addr2line names it (an anonymous namespace's function by
// its ELF symbol, since GCC gives it no linkage name).
const int kMarkerLine = __LINE__ + 1;
[[gnu::noinline]] int Marker(int x) { return x * 3 + 1; }

TEST(Symbolizer, FindsAFunctionOfThisFileAtItsLine) {
    ndislock::platform::Symbolized s;
    ASSERT_TRUE(ndislock::platform::symbolize(reinterpret_cast<const void *>(&Marker), &s));
    ASSERT_FALSE(s.frames.empty());
    EXPECT_TRUE(s.frames.back().file.ends_with("tests/verifier/sites_test.cpp")) << s.frames.back().file;
    EXPECT_EQ(s.frames.back().line, kMarkerLine);
    EXPECT_EQ(s.frames.back().function, "(anonymous namespace)::Marker(int)");
    EXPECT_FALSE(s.module.empty());
    EXPECT_NE(s.module_base, 0u);
}

TEST(Sites, NoFramesGiveNothing) {
    const auto f = pick_driver_frame(Frames{});
    EXPECT_TRUE(f.file.empty());
    EXPECT_TRUE(f.function.empty());
}

} // namespace
