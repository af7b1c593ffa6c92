// Which line a report names when the code at an address was inlined: the symbolizer reads
// addr2line's inlined frames (innermost first) and names the first that is the driver's own,
// skipping ndislock's inline fast path and the toolchain's headers. The frame lists below are
// what addr2line -C -f -i prints; the choice is a pure function of them, so it is tested on them
// directly (an optimizing compiler decides for itself which calls it inlines into a test).
#include <gtest/gtest.h>

#include "verifier/sites.h"

using ndislock::verifier::pick_driver_frame;

namespace {

// The frame picked from addr2line's output is file:line in function.
void expect_picked(const char *addr2line_output, const char *file, int line, const char *function) {
    SCOPED_TRACE(addr2line_output);
    const auto f = pick_driver_frame(addr2line_output);
    EXPECT_EQ(f.file, file);
    EXPECT_EQ(f.line, line);
    EXPECT_EQ(f.function, function);
}

TEST(Sites, AnInlinedAtomicLoadIsReportedAtTheDriverLineAroundIt) {
    // An emulated interrupt stopped a lock holder inside an inlined std::atomic load.
    expect_picked("std::__atomic_base<int>::load(std::memory_order) const\n"
                  "/usr/include/c++/12/bits/atomic_base.h:488\n"
                  "(anonymous namespace)::HolderBody()\n"
                  "/src/tests/interrupt/hazard_test.cpp:120\n"
                  "main\n"
                  "/src/tests/interrupt/hazard_test.cpp:300\n",
                  "/src/tests/interrupt/hazard_test.cpp", 120, "(anonymous namespace)::HolderBody()");
}

TEST(Sites, TheInlineFastPathIsNotTheDriversLine) {
    expect_picked("ndislock_fast_acquire_raising\n"
                  "/usr/local/include/ndislock/fast_path.h:180\n"
                  "ndislock_inline_NdisAcquireSpinLock\n"
                  "/usr/local/include/ndislock/fast_path.h:215\n"
                  "SendPackets\n"
                  "/src/driver/send.c:42\n",
                  "/src/driver/send.c", 42, "SendPackets");
}

TEST(Sites, CompilerAndLlvmHeadersAreSkippedToo) {
    const auto gcc = pick_driver_frame("_mm_pause\n/usr/lib/gcc/x86_64-linux-gnu/12/include/xmmintrin.h:1322\n"
                                       "Poll\n/src/driver/poll.c:7\n");
    EXPECT_EQ(gcc.file, "/src/driver/poll.c");
    const auto llvm = pick_driver_frame("_mm_pause\n/usr/lib/llvm-14/lib/clang/14.0.6/include/xmmintrin.h:2158\n"
                                        "Poll\n/src/driver/poll.c:9\n");
    EXPECT_EQ(llvm.line, 9);
}

// clang records libstdc++'s headers as the path from its own binary, unnormalized; a routine whose
// first instruction is such an inlined load was named after the load (found building with clang).
TEST(Sites, ClangsUnnormalizedHeaderPathsAreLibraryCodeToo) {
    expect_picked("std::__atomic_base<unsigned long>::load(std::memory_order) const\n"
                  "/usr/bin/../lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/bits/atomic_base.h:488\n"
                  "(anonymous namespace)::SlowSync(void*)\n"
                  "/src/tests/verifier/interrupt_rules_test.cpp:303\n",
                  "/src/tests/verifier/interrupt_rules_test.cpp", 303, "(anonymous namespace)::SlowSync(void*)");
    expect_picked("_mm_pause\n/usr/bin/../lib/llvm-14/lib/clang/14.0.6/include/xmmintrin.h:2158\n"
                  "Poll\n/src/driver/poll.c:9\n",
                  "/src/driver/poll.c", 9, "Poll");
}

// A routine is named by the function its address lies in, the outermost frame: clang attributes
// a function's first instruction to a load inlined there, on the function's own line, so the
// frame a site names would call the routine "load" (found building the suite with clang).
TEST(Sites, ARoutineIsNamedByTheFunctionItsAddressLiesIn) {
    const auto f = pick_driver_frame("std::__atomic_base<unsigned long>::load(std::memory_order) const\n"
                                     "/src/tests/verifier/interrupt_rules_test.cpp:310\n"
                                     "(anonymous namespace)::SlowSync(void*)\n"
                                     "/src/tests/verifier/interrupt_rules_test.cpp:311\n");
    EXPECT_EQ(f.line, 310);
    EXPECT_EQ(f.outermost_function, "(anonymous namespace)::SlowSync(void*)");
    EXPECT_EQ(pick_driver_frame("MiniportInterrupt\n/src/driver/isr.c:55\n").outermost_function, "MiniportInterrupt");
}

TEST(Sites, WhenEveryFrameIsLibraryCodeTheOutermostIsNamed) {
    expect_picked("std::__atomic_base<int>::load(std::memory_order) const\n"
                  "/usr/include/c++/12/bits/atomic_base.h:488\n"
                  "std::atomic<int>::load(std::memory_order) const\n"
                  "/usr/include/c++/12/atomic:100\n",
                  "/usr/include/c++/12/atomic", 100, "std::atomic<int>::load(std::memory_order) const");
}

TEST(Sites, ADriverFrameOutsideTheLibraryIsTakenAsItIs) {
    const auto f = pick_driver_frame("MiniportInterrupt\n/src/driver/isr.c:55\n");
    EXPECT_EQ(f.file, "/src/driver/isr.c");
    EXPECT_EQ(f.line, 55);
}

TEST(Sites, NoDebugInformationGivesNoFileAndNoFunction) {
    const auto f = pick_driver_frame("??\n??:0\n");
    EXPECT_TRUE(f.file.empty());
    EXPECT_EQ(f.line, 0);
    EXPECT_TRUE(f.function.empty());
    const auto unknown_line = pick_driver_frame("Send\n/src/driver/send.c:?\n");
    EXPECT_TRUE(unknown_line.file.empty()); // no line: not a location worth printing
    EXPECT_EQ(unknown_line.function, "Send");
}

TEST(Sites, EmptyOrTruncatedOutputGivesNothing) {
    EXPECT_TRUE(pick_driver_frame("").file.empty());
    const auto f = pick_driver_frame("OnlyAFunctionLine\n");
    EXPECT_TRUE(f.file.empty());
    EXPECT_TRUE(f.function.empty());
}

} // namespace
