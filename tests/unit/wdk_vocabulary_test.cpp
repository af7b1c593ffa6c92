// The WDK vocabulary a survey of public NDIS drivers found missing, against its documented
// semantics: the debugger output (DbgPrint and the DPFLTR filter, its Microsoft-rules formatter,
// DbgBreakPoint), the typed and Raw ordered accesses and the #ifndef-visible Interlocked/Read/Write
// names, the NDIS_SUPPORT_NDISxxx derivation, pool memory (alignment, zeroing, IRQL rules, NULL
// from an ISR, BAD_POOL_CALLER for a double free, a wrong tag, a foreign address), the counted
// strings, and the scheduling words (boosts, priorities, processor index, KeShouldYieldProcessor).
// Threads and waits are bounded (Watchdog, eventually); no test asserts a duration.

// This unit names NDIS 6.20 as a miniport would: NDIS_SUPPORT_NDIS620 1, NDIS_SUPPORT_NDIS630 0.
#define NDIS620_MINIPORT 1

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "../interrupt/interrupt_support.h" // TestDevice: an adapter whose ISR runs a test body
#include "api/debug_output.h"
#include "ndislock/verifier.h"
#include "ndislock/wdk.h"
#include "test_support.h"
#include "verifier_on_test.h"

using ndislock_test::eventually;
using ndislock_test::ModelTest;
using ndislock_test::Watchdog;

// ---- Every inline Interlocked / Read / Write operation is visible to #ifndef ---------------------

// A driver supplies its own InterlockedExchangePointerRelease (say) only #ifndef: with the name an
// inline function and no macro, its #define would redefine ndislock's function. Each name below is
// an inline function of ndislock/wdk_interlocked.h, and must be a macro too.
#if !defined(InterlockedIncrement8) || !defined(InterlockedDecrement8) || !defined(InterlockedAdd8) ||                 \
    !defined(InterlockedExchangeAdd8) || !defined(InterlockedExchange8) || !defined(InterlockedCompareExchange8) ||    \
    !defined(InterlockedOr8) || !defined(InterlockedAnd8) || !defined(InterlockedXor8) ||                              \
    !defined(InterlockedIncrement8Acquire) || !defined(InterlockedDecrement8Acquire) ||                                \
    !defined(InterlockedAdd8Acquire) || !defined(InterlockedExchangeAdd8Acquire) ||                                    \
    !defined(InterlockedExchange8Acquire) || !defined(InterlockedCompareExchange8Acquire) ||                           \
    !defined(InterlockedOr8Acquire) || !defined(InterlockedAnd8Acquire) || !defined(InterlockedXor8Acquire) ||         \
    !defined(InterlockedIncrement8Release) || !defined(InterlockedDecrement8Release) ||                                \
    !defined(InterlockedAdd8Release) || !defined(InterlockedExchangeAdd8Release) ||                                    \
    !defined(InterlockedExchange8Release) || !defined(InterlockedCompareExchange8Release) ||                           \
    !defined(InterlockedOr8Release) || !defined(InterlockedAnd8Release) || !defined(InterlockedXor8Release) ||         \
    !defined(InterlockedIncrement8NoFence) || !defined(InterlockedDecrement8NoFence) ||                                \
    !defined(InterlockedAdd8NoFence) || !defined(InterlockedExchangeAdd8NoFence) ||                                    \
    !defined(InterlockedExchange8NoFence) || !defined(InterlockedCompareExchange8NoFence) ||                           \
    !defined(InterlockedOr8NoFence) || !defined(InterlockedAnd8NoFence) || !defined(InterlockedXor8NoFence) ||         \
    !defined(InterlockedIncrement16) || !defined(InterlockedDecrement16) || !defined(InterlockedAdd16) ||              \
    !defined(InterlockedExchangeAdd16) || !defined(InterlockedExchange16) || !defined(InterlockedCompareExchange16) || \
    !defined(InterlockedOr16) || !defined(InterlockedAnd16) || !defined(InterlockedXor16) ||                           \
    !defined(InterlockedIncrement16Acquire) || !defined(InterlockedDecrement16Acquire) ||                              \
    !defined(InterlockedAdd16Acquire) || !defined(InterlockedExchangeAdd16Acquire) ||                                  \
    !defined(InterlockedExchange16Acquire) || !defined(InterlockedCompareExchange16Acquire) ||                         \
    !defined(InterlockedOr16Acquire) || !defined(InterlockedAnd16Acquire) || !defined(InterlockedXor16Acquire) ||      \
    !defined(InterlockedIncrement16Release) || !defined(InterlockedDecrement16Release) ||                              \
    !defined(InterlockedAdd16Release) || !defined(InterlockedExchangeAdd16Release) ||                                  \
    !defined(InterlockedExchange16Release) || !defined(InterlockedCompareExchange16Release) ||                         \
    !defined(InterlockedOr16Release) || !defined(InterlockedAnd16Release) || !defined(InterlockedXor16Release) ||      \
    !defined(InterlockedIncrement16NoFence) || !defined(InterlockedDecrement16NoFence) ||                              \
    !defined(InterlockedAdd16NoFence) || !defined(InterlockedExchangeAdd16NoFence) ||                                  \
    !defined(InterlockedExchange16NoFence) || !defined(InterlockedCompareExchange16NoFence) ||                         \
    !defined(InterlockedOr16NoFence) || !defined(InterlockedAnd16NoFence) || !defined(InterlockedXor16NoFence) ||      \
    !defined(InterlockedIncrement) || !defined(InterlockedDecrement) || !defined(InterlockedAdd) ||                    \
    !defined(InterlockedExchangeAdd) || !defined(InterlockedExchange) || !defined(InterlockedCompareExchange) ||       \
    !defined(InterlockedOr) || !defined(InterlockedAnd) || !defined(InterlockedXor) ||                                 \
    !defined(InterlockedIncrementAcquire) || !defined(InterlockedDecrementAcquire) ||                                  \
    !defined(InterlockedAddAcquire) || !defined(InterlockedExchangeAddAcquire) ||                                      \
    !defined(InterlockedExchangeAcquire) || !defined(InterlockedCompareExchangeAcquire) ||                             \
    !defined(InterlockedOrAcquire) || !defined(InterlockedAndAcquire) || !defined(InterlockedXorAcquire) ||            \
    !defined(InterlockedIncrementRelease) || !defined(InterlockedDecrementRelease) ||                                  \
    !defined(InterlockedAddRelease) || !defined(InterlockedExchangeAddRelease) ||                                      \
    !defined(InterlockedExchangeRelease) || !defined(InterlockedCompareExchangeRelease) ||                             \
    !defined(InterlockedOrRelease) || !defined(InterlockedAndRelease) || !defined(InterlockedXorRelease) ||            \
    !defined(InterlockedIncrementNoFence) || !defined(InterlockedDecrementNoFence) ||                                  \
    !defined(InterlockedAddNoFence) || !defined(InterlockedExchangeAddNoFence) ||                                      \
    !defined(InterlockedExchangeNoFence) || !defined(InterlockedCompareExchangeNoFence) ||                             \
    !defined(InterlockedOrNoFence) || !defined(InterlockedAndNoFence) || !defined(InterlockedXorNoFence) ||            \
    !defined(InterlockedIncrement64) || !defined(InterlockedDecrement64) || !defined(InterlockedAdd64) ||              \
    !defined(InterlockedExchangeAdd64) || !defined(InterlockedExchange64) || !defined(InterlockedCompareExchange64) || \
    !defined(InterlockedOr64) || !defined(InterlockedAnd64) || !defined(InterlockedXor64) ||                           \
    !defined(InterlockedIncrement64Acquire) || !defined(InterlockedDecrement64Acquire) ||                              \
    !defined(InterlockedAdd64Acquire) || !defined(InterlockedExchangeAdd64Acquire) ||                                  \
    !defined(InterlockedExchange64Acquire) || !defined(InterlockedCompareExchange64Acquire) ||                         \
    !defined(InterlockedOr64Acquire) || !defined(InterlockedAnd64Acquire) || !defined(InterlockedXor64Acquire) ||      \
    !defined(InterlockedIncrement64Release) || !defined(InterlockedDecrement64Release) ||                              \
    !defined(InterlockedAdd64Release) || !defined(InterlockedExchangeAdd64Release) ||                                  \
    !defined(InterlockedExchange64Release) || !defined(InterlockedCompareExchange64Release) ||                         \
    !defined(InterlockedOr64Release) || !defined(InterlockedAnd64Release) || !defined(InterlockedXor64Release) ||      \
    !defined(InterlockedIncrement64NoFence) || !defined(InterlockedDecrement64NoFence) ||                              \
    !defined(InterlockedAdd64NoFence) || !defined(InterlockedExchangeAdd64NoFence) ||                                  \
    !defined(InterlockedExchange64NoFence) || !defined(InterlockedCompareExchange64NoFence) ||                         \
    !defined(InterlockedOr64NoFence) || !defined(InterlockedAnd64NoFence) || !defined(InterlockedXor64NoFence) ||      \
    !defined(InterlockedBitTestAndSet) || !defined(InterlockedBitTestAndReset) ||                                      \
    !defined(InterlockedBitTestAndComplement) || !defined(InterlockedBitTestAndSetAcquire) ||                          \
    !defined(InterlockedBitTestAndResetAcquire) || !defined(InterlockedBitTestAndComplementAcquire) ||                 \
    !defined(InterlockedBitTestAndSetRelease) || !defined(InterlockedBitTestAndResetRelease) ||                        \
    !defined(InterlockedBitTestAndComplementRelease) || !defined(InterlockedBitTestAndSetNoFence) ||                   \
    !defined(InterlockedBitTestAndResetNoFence) || !defined(InterlockedBitTestAndComplementNoFence) ||                 \
    !defined(InterlockedBitTestAndSet64) || !defined(InterlockedBitTestAndReset64) ||                                  \
    !defined(InterlockedBitTestAndComplement64) || !defined(InterlockedBitTestAndSet64Acquire) ||                      \
    !defined(InterlockedBitTestAndReset64Acquire) || !defined(InterlockedBitTestAndComplement64Acquire) ||             \
    !defined(InterlockedBitTestAndSet64Release) || !defined(InterlockedBitTestAndReset64Release) ||                    \
    !defined(InterlockedBitTestAndComplement64Release) || !defined(InterlockedBitTestAndSet64NoFence) ||               \
    !defined(InterlockedBitTestAndReset64NoFence) || !defined(InterlockedBitTestAndComplement64NoFence) ||             \
    !defined(InterlockedExchangePointer) || !defined(InterlockedCompareExchangePointer) ||                             \
    !defined(InterlockedExchangePointerAcquire) || !defined(InterlockedCompareExchangePointerAcquire) ||               \
    !defined(InterlockedExchangePointerRelease) || !defined(InterlockedCompareExchangePointerRelease) ||               \
    !defined(InterlockedExchangePointerNoFence) || !defined(InterlockedCompareExchangePointerNoFence) ||               \
    !defined(ReadAcquire8) || !defined(ReadNoFence8) || !defined(WriteRelease8) || !defined(WriteNoFence8) ||          \
    !defined(ReadAcquire16) || !defined(ReadNoFence16) || !defined(WriteRelease16) || !defined(WriteNoFence16) ||      \
    !defined(ReadAcquire) || !defined(ReadNoFence) || !defined(WriteRelease) || !defined(WriteNoFence) ||              \
    !defined(ReadAcquire64) || !defined(ReadNoFence64) || !defined(WriteRelease64) || !defined(WriteNoFence64) ||      \
    !defined(ReadPointerAcquire) || !defined(ReadPointerNoFence) || !defined(WritePointerRelease) ||                   \
    !defined(WritePointerNoFence) || !defined(ReadRaw8) || !defined(ReadRaw16) || !defined(ReadRaw) ||                 \
    !defined(ReadRaw64) || !defined(ReadPointerRaw) || !defined(WriteRaw8) || !defined(WriteRaw16) ||                  \
    !defined(WriteRaw) || !defined(WriteRaw64) || !defined(WritePointerRaw) || !defined(ReadUCharAcquire) ||           \
    !defined(ReadUCharNoFence) || !defined(ReadUCharRaw) || !defined(WriteUCharRelease) ||                             \
    !defined(WriteUCharNoFence) || !defined(WriteUCharRaw) || !defined(ReadBooleanAcquire) ||                          \
    !defined(ReadBooleanNoFence) || !defined(ReadBooleanRaw) || !defined(WriteBooleanRelease) ||                       \
    !defined(WriteBooleanNoFence) || !defined(ReadUShortAcquire) || !defined(ReadUShortNoFence) ||                     \
    !defined(ReadUShortRaw) || !defined(WriteUShortRelease) || !defined(WriteUShortNoFence) ||                         \
    !defined(WriteUShortRaw) || !defined(ReadULongAcquire) || !defined(ReadULongNoFence) || !defined(ReadULongRaw) ||  \
    !defined(WriteULongRelease) || !defined(WriteULongNoFence) || !defined(WriteULongRaw) ||                           \
    !defined(ReadInt32Acquire) || !defined(ReadInt32NoFence) || !defined(ReadInt32Raw) ||                              \
    !defined(WriteInt32Release) || !defined(WriteInt32NoFence) || !defined(WriteInt32Raw) ||                           \
    !defined(ReadUInt32Acquire) || !defined(ReadUInt32NoFence) || !defined(ReadUInt32Raw) ||                           \
    !defined(WriteUInt32Release) || !defined(WriteUInt32NoFence) || !defined(WriteUInt32Raw) ||                        \
    !defined(ReadULong64Acquire) || !defined(ReadULong64NoFence) || !defined(ReadULong64Raw) ||                        \
    !defined(WriteULong64Release) || !defined(WriteULong64NoFence) || !defined(WriteULong64Raw)
#error "an inline Interlocked/Read/Write operation of ndislock/wdk_interlocked.h is not a macro of its own name"
#endif

// The driver-side pattern compiles and keeps ndislock's operation.
#ifndef InterlockedExchangePointerRelease
#define InterlockedExchangePointerRelease(Target, Value) DriversOwnExchange(Target, Value)
#endif
#ifndef ReadULongAcquire
#define ReadULongAcquire(Source) DriversOwnRead(Source)
#endif

namespace {

// ---- Capturing stderr around a call (the debugger output's destination) -------------------------

std::string capture_stderr(const std::function<void()> &body) {
    std::fflush(stderr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return "<pipe failed>";
    const int saved = dup(2);
    dup2(fds[1], 2);
    close(fds[1]);
    body();
    dup2(saved, 2);
    close(saved);
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;)
        out.append(buffer, static_cast<std::size_t>(n));
    close(fds[0]);
    return out;
}

// NDISLOCK_DBGPRINT for the test, read again by the next message; unset again after.
class DbgOutput : public ModelTest {
protected:
    void TearDown() override {
        unsetenv("NDISLOCK_DBGPRINT");
        unsetenv("NDISLOCK_DBGBREAK");
        ndislock::api::reset_debug_output();
        ModelTest::TearDown();
    }
    static void filter(const char *value) {
        if (value != nullptr)
            setenv("NDISLOCK_DBGPRINT", value, 1);
        else
            unsetenv("NDISLOCK_DBGPRINT");
        ndislock::api::reset_debug_output();
    }
};

// DbgPrint's formatter, with Microsoft's rules, into a string.
std::string fmt(bool *unicode, const char *format, ...) {
    va_list args;
    va_start(args, format);
    char buffer[700];
    ndislock::api::format_debug_message(buffer, sizeof buffer, format, args, unicode);
    va_end(args);
    return buffer;
}
std::string fmt_va(const char *format, va_list args) {
    char buffer[700];
    bool unicode = false;
    ndislock::api::format_debug_message(buffer, sizeof buffer, format, args, &unicode);
    return buffer;
}
std::string fmt(const char *format, ...) {
    va_list args;
    va_start(args, format);
    std::string s = fmt_va(format, args);
    va_end(args);
    return s;
}

// The verifier on for one test, its findings taken and forgotten after.
using Verified = ndislock_test::VerifierOnTest;
using ndislock_test::Finding;

// Raises to IRQL for the scope (HIGH_LEVEL: where an ISR's code runs, above DISPATCH_LEVEL).
struct Raised {
    KIRQL old;
    explicit Raised(KIRQL irql) { KeRaiseIrql(irql, &old); }
    ~Raised() { KeLowerIrql(old); }
};

const WCHAR kHiE[] = {'h', 'i', 0x00E9, 0};         // "hié"
const WCHAR kGrinning[] = {0xD83D, 0xDE00, 'x', 0}; // U+1F600 as a surrogate pair, then 'x'

// ---- The formatter: Microsoft's rules ------------------------------------------------------------

TEST(DbgFormat, LongIs32BitsAndI64Is64) {
    EXPECT_EQ(fmt("%lu %ld %lx %lX", static_cast<ULONG>(4000000000u), static_cast<LONG>(-5), static_cast<ULONG>(0xBEEF),
                  static_cast<ULONG>(0xBEEF)),
              "4000000000 -5 beef BEEF");
    EXPECT_EQ(fmt("%I64u %I64x %llx %I32u", static_cast<ULONG64>(1) << 40, static_cast<ULONG64>(0xABCDEF0123ULL),
                  static_cast<ULONG64>(0x1122334455667788ULL), static_cast<ULONG>(7)),
              "1099511627776 abcdef0123 1122334455667788 7");
    EXPECT_EQ(fmt("%Iu %zu %Id", static_cast<SIZE_T>(1) << 33, static_cast<size_t>(12), static_cast<LONG_PTR>(-3)),
              "8589934592 12 -3");
    EXPECT_EQ(fmt("%hhd %hu %hd", 300, 70000, 40000), "44 4464 -25536");
}

TEST(DbgFormat, FlagsWidthAndPrecision) {
    EXPECT_EQ(fmt("[%5d][%-5d][%05d][%+d][% d]", 42, 42, 42, 42, 42), "[   42][42   ][00042][+42][ 42]");
    EXPECT_EQ(fmt("%#x %#X %#o %x %o", 255, 255, 8, 0, 8), "0xff 0XFF 010 0 10");
    EXPECT_EQ(fmt("%.3d|%.0d|%8.3x|%-6.2u|", 7, 0, 0xA, 5), "007||     00a|05    |");
    EXPECT_EQ(fmt("%*d|%-*d|%.*s|", 4, 1, 3, 2, 2, "abc"), "   1|2  |ab|");
    EXPECT_EQ(fmt("%d %i", INT32_MIN, INT32_MAX), "-2147483648 2147483647");
}

TEST(DbgFormat, PointerIsEveryHexDigit) {
    EXPECT_EQ(fmt("%p", reinterpret_cast<void *>(0x1234)), std::string(2 * sizeof(void *) - 4, '0') + "1234");
    EXPECT_EQ(fmt("%p", reinterpret_cast<void *>(0xABCDEFULL)), std::string(2 * sizeof(void *) - 6, '0') + "ABCDEF");
}

TEST(DbgFormat, NarrowStringsAndCharacters) {
    EXPECT_EQ(fmt("%s|%.2s|%5s|%-5s|%hs", "abc", "abc", "ab", "ab", "n"), "abc|ab|   ab|ab   |n");
    EXPECT_EQ(fmt("%s", static_cast<const char *>(nullptr)), "(null)");
    EXPECT_EQ(fmt("%c%c%hc", 'o', 'k', '!'), "ok!");
    ANSI_STRING a{3, 4, const_cast<PCHAR>("abcdef")};
    EXPECT_EQ(fmt("[%Z][%Z]", &a, static_cast<ANSI_STRING *>(nullptr)), "[abc][(null)]");
}

TEST(DbgFormat, WideStringsAreUtf16WrittenAsUtf8) {
    bool unicode = false;
    EXPECT_EQ(fmt(&unicode, "%ws|%S|%ls|%.2ws", kHiE, kHiE, kHiE, kHiE), "hi\xC3\xA9|hi\xC3\xA9|hi\xC3\xA9|hi");
    EXPECT_TRUE(unicode);
    EXPECT_EQ(fmt("%ws", kGrinning), "\xF0\x9F\x98\x80x");
    EXPECT_EQ(fmt("%ws", static_cast<const WCHAR *>(nullptr)), "(null)");
    UNICODE_STRING u{4, 6, const_cast<PWCH>(kHiE)}; // 2 characters
    EXPECT_EQ(fmt(&unicode, "[%wZ]", &u), "[hi]");
    EXPECT_EQ(fmt("%C%wc%lc", static_cast<int>(0x20AC), static_cast<int>('a'), static_cast<int>(0x00E9)), "\xE2\x82\xAC"
                                                                                                          "a\xC3\xA9");
    EXPECT_EQ(fmt(&unicode, "%s %hS %c", "plain", "narrow", 'c'), "plain narrow c");
    EXPECT_FALSE(unicode) << "no Unicode conversion in that format";
}

TEST(DbgFormat, UnsupportedAndOddConversions) {
    int untouched = 1234;
    EXPECT_EQ(fmt("%f|%d|%Lg|%d", 1.5, 7, static_cast<long double>(2.5), 8), "%f|7|%Lg|8")
        << "floating point is not supported: the conversion is shown, its argument consumed";
    EXPECT_EQ(fmt("a%nb", &untouched), "ab");
    EXPECT_EQ(untouched, 1234) << "%n writes nothing";
    EXPECT_EQ(fmt("100%% %y %"), "100% %y %");
}

// ---- DbgPrint and its filter ----------------------------------------------------------------------

TEST_F(DbgOutput, ByDefaultOnlyErrorLevelIsWrittenAndDbgPrintSaysOnceItWasFiltered) {
    filter(nullptr);
    std::string first, second, error;
    first = capture_stderr([] { EXPECT_EQ(DbgPrint("info %d\n", 1), static_cast<ULONG>(STATUS_SUCCESS)); });
    second = capture_stderr([] { DbgPrint("info %d\n", 2); });
    error = capture_stderr([] {
        EXPECT_EQ(DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "adapter %lu failed\n", static_cast<ULONG>(3)),
                  static_cast<ULONG>(STATUS_SUCCESS));
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_WARNING_LEVEL, "warning\n");
        DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_TRACE_LEVEL, "trace\n");
    });
    EXPECT_EQ(first.find("info"), std::string::npos) << first;
    EXPECT_NE(first.find("NDISLOCK_DBGPRINT=all"), std::string::npos) << first;
    EXPECT_EQ(second, "") << "the note is said once";
    EXPECT_EQ(error, "adapter 3 failed\n");
}

TEST_F(DbgOutput, AllWritesEveryMessageAsFormattedInOneWrite) {
    filter("all");
    const std::string out = capture_stderr([] {
        DbgPrint("a=%lu ", static_cast<ULONG>(1));
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_INFO_LEVEL, "b=%ws ", kHiE);
        DbgPrintEx(DPFLTR_DEFAULT_ID, 31, "c ");
        DbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_MASK | 0x100, "d\n");
    });
    EXPECT_EQ(out, "a=1 b=hi\xC3\xA9 c d\n");
}

TEST_F(DbgOutput, OffWritesNothingNotEvenErrors) {
    filter("off");
    EXPECT_EQ(capture_stderr([] {
                  DbgPrint("x\n");
                  DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "y\n");
              }),
              "");
}

TEST_F(DbgOutput, AMaskAppliesToEveryComponentAndALevelAbove31IsAMask) {
    filter("0x3"); // ERROR and WARNING
    const std::string out = capture_stderr([] {
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_WARNING_LEVEL, "w ");
        DbgPrintEx(DPFLTR_IHVBUS_ID, DPFLTR_TRACE_LEVEL, "t ");
        DbgPrint("i ");
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_MASK | 0x2, "m ");  // bit 1: through
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_MASK | 0x10, "n "); // bit 4: not
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "e\n");
    });
    EXPECT_EQ(out, "w m e\n");
    filter("15"); // decimal: ERROR to INFO, so DbgPrint too
    EXPECT_EQ(capture_stderr([] { DbgPrint("info\n"); }), "info\n");
}

TEST_F(DbgOutput, AValueNotUnderstoodIsSaidAndTheDefaultUsed) {
    filter("loud");
    const std::string out = capture_stderr([] {
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "e\n");
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_INFO_LEVEL, "i\n");
    });
    EXPECT_NE(out.find("NDISLOCK_DBGPRINT=loud"), std::string::npos) << out;
    EXPECT_NE(out.find("e\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("i\n"), std::string::npos) << out;
}

void PrintWithPrefix(ULONG level, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vDbgPrintExWithPrefix("[mp] ", DPFLTR_IHVNETWORK_ID, level, format, args);
    va_end(args);
}
void PrintV(ULONG level, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vDbgPrintEx(DPFLTR_IHVNETWORK_ID, level, format, args);
    va_end(args);
}

TEST_F(DbgOutput, TheVaListFormsAndThePrefix) {
    filter("all");
    EXPECT_EQ(capture_stderr([] {
                  PrintWithPrefix(DPFLTR_ERROR_LEVEL, "%s %I64u\n", "sent", static_cast<ULONG64>(1) << 35);
                  PrintV(DPFLTR_ERROR_LEVEL, "%lx\n", static_cast<ULONG>(0xC0DE));
              }),
              "[mp] sent 34359738368\nc0de\n");
    filter("off");
    EXPECT_EQ(capture_stderr([] { PrintWithPrefix(DPFLTR_ERROR_LEVEL, "x\n"); }), "");
}

TEST_F(DbgOutput, AMessageIsCutAt512Bytes) {
    filter("all");
    const std::string long_text(700, 'z');
    const std::string out = capture_stderr([&] { DbgPrint("%s\n", long_text.c_str()); });
    EXPECT_EQ(out, std::string(512, 'z'));
}

TEST_F(DbgOutput, KdPrintIsNothingWithoutDbg) {
    filter("all");
    int evaluated = 0;
    const std::string out = capture_stderr([&] {
        KdPrint(("kd %d\n", ++evaluated));
        KdPrintEx((DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "kdex %d\n", ++evaluated));
        KdBreakPoint();
    });
    EXPECT_EQ(out, "") << "this unit does not define DBG: a free build";
    EXPECT_EQ(evaluated, 0) << "the arguments are not evaluated";
}

TEST_F(DbgOutput, ErrorLevelAtHighLevelIsWrittenAndReportsNothing) {
    filter(nullptr);
    const std::string out = capture_stderr([] {
        Raised high(HIGH_LEVEL);
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "from %s\n", "high");
    });
    EXPECT_EQ(out, "from high\n");
}

TEST_F(DbgOutput, FromAnIsrWhileTheInterruptedThreadHoldsAPoolBlock) {
    filter(nullptr);
    ndislock_test::TestDevice device;
    std::atomic<PVOID> isr_block{reinterpret_cast<PVOID>(1)};
    std::atomic<KIRQL> isr_irql{0};
    device.isr = [&](ndislock_test::TestDevice &, PBOOLEAN queue_dpc, PULONG) {
        isr_irql.store(KeGetCurrentIrql());
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "isr at %u\n", static_cast<unsigned>(KeGetCurrentIrql()));
        isr_block.store(ExAllocatePoolWithTag(NonPagedPoolNx, 64, 0x72736921)); // '!isr'
        *queue_dpc = FALSE;
        return TRUE;
    };
    device.start();
    ASSERT_NE(device.interrupt, nullptr);
    Watchdog dog("DbgPrint and a pool allocation from an ISR");
    PVOID held = ExAllocatePoolWithTag(NonPagedPoolNx, 128, 0x646C6F68); // 'hold'
    ASSERT_NE(held, nullptr);
    const std::string out = capture_stderr([&] {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old); // the ISR preempts this thread where it stands
        ASSERT_EQ(NdislockAssertInterrupt(device.interrupt, KeGetCurrentProcessorNumberEx(nullptr)), NDISLOCK_OK);
        KeLowerIrql(old);
        ASSERT_TRUE(eventually([&] { return device.isr_runs.load() == 1; }));
    });
    EXPECT_EQ(out, "isr at " + std::to_string(NDISLOCK_DEVICE_IRQL) + "\n");
    EXPECT_EQ(isr_irql.load(), NDISLOCK_DEVICE_IRQL);
    EXPECT_EQ(isr_block.load(), nullptr) << "no heap above DISPATCH_LEVEL: NULL";
    ExFreePoolWithTag(held, 0x646C6F68);
    device.halt();
}

TEST_F(DbgOutput, BreakPointWithoutADebuggerGoesOnAndSaysSoOnce) {
    setenv("NDISLOCK_DBGBREAK", "auto", 1);
    ndislock::api::reset_debug_output();
    std::string first = capture_stderr([] { DbgBreakPoint(); });
    std::string second = capture_stderr([] { DbgBreakPointWithStatus(5); });
    EXPECT_NE(first.find("DbgBreakPoint called from"), std::string::npos) << first;
    EXPECT_NE(first.find("no debugger"), std::string::npos) << first;
    EXPECT_EQ(second, "");
    setenv("NDISLOCK_DBGBREAK", "off", 1);
    ndislock::api::reset_debug_output();
    EXPECT_EQ(capture_stderr([] { DbgBreakPoint(); }), "");
}

TEST(DbgOutputDeathTest, BreakPointTrapRaisesSigtrap) {
    EXPECT_EXIT(
        {
            setenv("NDISLOCK_DBGBREAK", "1", 1);
            DbgBreakPoint();
        },
        ::testing::KilledBySignal(SIGTRAP), "");
}

class DbgUnicode : public Verified {
protected:
    void TearDown() override {
        unsetenv("NDISLOCK_DBGPRINT");
        ndislock::api::reset_debug_output();
        Verified::TearDown();
    }
};

TEST_F(DbgUnicode, AUnicodeConversionAbovePassiveLevelIsIrqlTooHighForCall) {
    setenv("NDISLOCK_DBGPRINT", "all", 1);
    ndislock::api::reset_debug_output();
    std::string out = capture_stderr([] { DbgPrint("%ws\n", kHiE); });
    EXPECT_EQ(out, "hi\xC3\xA9\n");
    EXPECT_TRUE(take().empty()) << "PASSIVE_LEVEL: allowed";
    out = capture_stderr([] {
        Raised dispatch(DISPATCH_LEVEL);
        DbgPrint("%s\n", "narrow");
    });
    EXPECT_EQ(out, "narrow\n");
    EXPECT_TRUE(take().empty()) << "no Unicode conversion";
    out = capture_stderr([] {
        Raised dispatch(DISPATCH_LEVEL);
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "%wZ\n", nullptr);
    });
    EXPECT_NE(out.find("(null)\n"), std::string::npos) << "still printed: " << out;
    const std::vector<Finding> got = take();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "IrqlTooHighForCall") << dump(got);
    EXPECT_NE(got[0].message.find("DbgPrintEx with a Unicode conversion"), std::string::npos) << dump(got);
    EXPECT_NE(got[0].message.find("PASSIVE_LEVEL"), std::string::npos) << dump(got);
}

// ---- Ordered accesses ----------------------------------------------------------------------------

TEST(OrderedAccess, TypedFormsReadAndWriteTheirType) {
    volatile UCHAR uc = 0;
    volatile BOOLEAN b = FALSE;
    volatile USHORT us = 0;
    volatile ULONG ul = 0;
    volatile INT32 i32 = 0;
    volatile UINT32 u32 = 0;
    volatile ULONG64 u64 = 0;
    WriteUCharRelease(&uc, 0xFE);
    EXPECT_EQ(ReadUCharAcquire(&uc), 0xFE);
    WriteUCharNoFence(&uc, 0x7F);
    EXPECT_EQ(ReadUCharNoFence(&uc), 0x7F);
    WriteUCharRaw(&uc, 3);
    EXPECT_EQ(ReadUCharRaw(&uc), 3);
    WriteBooleanRelease(&b, TRUE);
    EXPECT_EQ(ReadBooleanAcquire(&b), TRUE);
    WriteBooleanNoFence(&b, FALSE);
    EXPECT_EQ(ReadBooleanNoFence(&b), FALSE);
    EXPECT_EQ(ReadBooleanRaw(&b), FALSE);
    WriteUShortRelease(&us, 0xFFFF);
    EXPECT_EQ(ReadUShortAcquire(&us), 0xFFFF);
    WriteUShortNoFence(&us, 2);
    EXPECT_EQ(ReadUShortNoFence(&us), 2);
    WriteUShortRaw(&us, 4);
    EXPECT_EQ(ReadUShortRaw(&us), 4);
    WriteULongRelease(&ul, 0xFFFFFFFFu);
    EXPECT_EQ(ReadULongAcquire(&ul), 0xFFFFFFFFu);
    WriteULongNoFence(&ul, 5);
    EXPECT_EQ(ReadULongNoFence(&ul), 5u);
    WriteULongRaw(&ul, 6);
    EXPECT_EQ(ReadULongRaw(&ul), 6u);
    WriteInt32Release(&i32, -7);
    EXPECT_EQ(ReadInt32Acquire(&i32), -7);
    WriteInt32NoFence(&i32, -8);
    EXPECT_EQ(ReadInt32NoFence(&i32), -8);
    WriteInt32Raw(&i32, -9);
    EXPECT_EQ(ReadInt32Raw(&i32), -9);
    WriteUInt32Release(&u32, 10);
    EXPECT_EQ(ReadUInt32Acquire(&u32), 10u);
    WriteUInt32NoFence(&u32, 11);
    EXPECT_EQ(ReadUInt32NoFence(&u32), 11u);
    WriteUInt32Raw(&u32, 12);
    EXPECT_EQ(ReadUInt32Raw(&u32), 12u);
    WriteULong64Release(&u64, 1ULL << 63);
    EXPECT_EQ(ReadULong64Acquire(&u64), 1ULL << 63);
    WriteULong64NoFence(&u64, 13);
    EXPECT_EQ(ReadULong64NoFence(&u64), 13u);
    WriteULong64Raw(&u64, 14);
    EXPECT_EQ(ReadULong64Raw(&u64), 14u);
}

TEST(OrderedAccess, RawAndPointerSizedForms) {
    volatile CHAR c = 0;
    volatile SHORT s = 0;
    volatile LONG l = 0;
    volatile LONG64 q = 0;
    PVOID volatile p = nullptr;
    WriteRaw8(&c, -1);
    EXPECT_EQ(ReadRaw8(&c), -1);
    WriteRaw16(&s, -2);
    EXPECT_EQ(ReadRaw16(&s), -2);
    WriteRaw(&l, -3);
    EXPECT_EQ(ReadRaw(&l), -3);
    WriteRaw64(&q, -4);
    EXPECT_EQ(ReadRaw64(&q), -4);
    int target = 0;
    WritePointerRaw(&p, &target);
    EXPECT_EQ(ReadPointerRaw(&p), &target);
    volatile LONG_PTR lp = 0;
    volatile ULONG_PTR up = 0;
    volatile SIZE_T sz = 0;
    WriteLongPtrRelease(&lp, -5);
    EXPECT_EQ(ReadLongPtrAcquire(&lp), -5);
    WriteULongPtrNoFence(&up, ~static_cast<ULONG_PTR>(0));
    EXPECT_EQ(ReadULongPtrNoFence(&up), ~static_cast<ULONG_PTR>(0));
    WriteSizeTRaw(&sz, 17);
    EXPECT_EQ(ReadSizeTRaw(&sz), 17u);
    WriteSizeTRelease(&sz, 18);
    EXPECT_EQ(ReadSizeTAcquire(&sz), 18u);
}

TEST(OrderedAccess, TheSelfNamedMacrosLeaveCallsAndAddressesAsTheyWere) {
    // The driver-side #ifndef pattern above kept ndislock's operations: these resolve to them.
    PVOID volatile slot = nullptr;
    int a = 0;
    EXPECT_EQ(InterlockedExchangePointerRelease(&slot, &a), nullptr);
    EXPECT_EQ(slot, &a);
    volatile ULONG v = 9;
    EXPECT_EQ(ReadULongAcquire(&v), 9u);
    // The address of each is the function's.
    ULONG (*read)(ULONG const volatile *) = &ReadULongAcquire;
    LONG (*increment)(LONG volatile *) = &InterlockedIncrement;
    volatile LONG n = 1;
    EXPECT_EQ(read(&v), 9u);
    EXPECT_EQ(increment(&n), 2);
}

TEST(OrderedAccess, ReleaseAndAcquirePublishData) {
    struct Box {
        ULONG payload[64];
        volatile ULONG ready;
    } box{};
    Watchdog dog("ReleaseAndAcquirePublishData");
    std::thread writer([&] {
        for (ULONG i = 0; i < 64; ++i)
            box.payload[i] = i * 3 + 1;
        WriteULongRelease(&box.ready, 1);
    });
    while (ReadULongAcquire(&box.ready) == 0)
        YieldProcessor();
    for (ULONG i = 0; i < 64; ++i)
        EXPECT_EQ(box.payload[i], i * 3 + 1);
    writer.join();
}

// ---- Base names ----------------------------------------------------------------------------------

TEST(WdkVocabulary, LimitsAndMultiplies) {
    EXPECT_EQ(MAXUINT32, 0xFFFFFFFFu);
    EXPECT_EQ(MAXINT32, 0x7FFFFFFF);
    EXPECT_EQ(MININT32, INT32_MIN);
    EXPECT_EQ(MAXUINT64, ~0ULL);
    EXPECT_EQ(MAXINT64, INT64_MAX);
    EXPECT_EQ(MININT64, INT64_MIN);
    EXPECT_EQ(MAXUINT16, 0xFFFF);
    EXPECT_EQ(MININT16, -32768);
    EXPECT_EQ(MAXUINT8, 0xFF);
    EXPECT_EQ(MININT8, -128);
    EXPECT_EQ(MAXSIZE_T, SIZE_MAX);
    EXPECT_EQ(MAXLONGLONG, INT64_MAX);
    EXPECT_EQ(MAXULONG, 0xFFFFFFFFu);
    EXPECT_EQ(Int32x32To64(-3, 0x7FFFFFFF), -3LL * 0x7FFFFFFF);
    EXPECT_EQ(Int32x32To64(0x10000, 0x10000), 0x100000000LL) << "no 32-bit overflow";
    EXPECT_EQ(UInt32x32To64(0xFFFFFFFFu, 0xFFFFFFFFu), 0xFFFFFFFE00000001ULL);
    EXPECT_EQ(UInt32x32To64(0x1FFFFFFFFULL, 2), 0x1FFFFFFFEULL) << "each operand cut to 32 bits";
}

TEST(WdkVocabulary, NdisStatusCodes) {
    EXPECT_EQ(static_cast<ULONG>(NDIS_STATUS_MEDIA_DISCONNECTED), 0xC023001Fu);
    EXPECT_EQ(static_cast<ULONG>(NDIS_STATUS_MEDIA_CONNECT), 0x4001000Bu);
    EXPECT_EQ(static_cast<ULONG>(NDIS_STATUS_MEDIA_DISCONNECT), 0x4001000Cu);
    EXPECT_EQ(static_cast<ULONG>(NDIS_STATUS_LINK_STATE), 0x40010017u);
    EXPECT_EQ(NDIS_STATUS_INVALID_STATE, STATUS_INVALID_DEVICE_STATE);
    EXPECT_FALSE(NT_SUCCESS(NDIS_STATUS_MEDIA_DISCONNECTED));
}

// NDIS620_MINIPORT, defined at the top of this unit: 6.0 to 6.20, nothing later.
static_assert(NDISLOCK_NDIS_VERSION == 620);
static_assert(NDIS_SUPPORT_NDIS6 == 1 && NDIS_SUPPORT_NDIS61 == 1 && NDIS_SUPPORT_NDIS620 == 1);
static_assert(NDIS_SUPPORT_NDIS630 == 0 && NDIS_SUPPORT_NDIS640 == 0 && NDIS_SUPPORT_NDIS650 == 0 &&
              NDIS_SUPPORT_NDIS651 == 0 && NDIS_SUPPORT_NDIS660 == 0 && NDIS_SUPPORT_NDIS670 == 0 &&
              NDIS_SUPPORT_NDIS680 == 0 && NDIS_SUPPORT_NDIS681 == 0 && NDIS_SUPPORT_NDIS682 == 0 &&
              NDIS_SUPPORT_NDIS683 == 0 && NDIS_SUPPORT_NDIS684 == 0 && NDIS_SUPPORT_NDIS685 == 0 &&
              NDIS_SUPPORT_NDIS686 == 0 && NDIS_SUPPORT_NDIS687 == 0 && NDIS_SUPPORT_NDIS688 == 0 &&
              NDIS_SUPPORT_NDIS689 == 0);
#if !NDIS_SUPPORT_NDIS620 || NDIS_SUPPORT_NDIS630
#error "NDIS_SUPPORT_NDISxxx must be usable in #if"
#endif

TEST(WdkVocabulary, NdisVersionFollowsTheMiniportsDefine) { EXPECT_EQ(NDISLOCK_NDIS_VERSION, 620); }

// ---- Scheduling words ----------------------------------------------------------------------------

class Scheduling : public ModelTest {};

TEST_F(Scheduling, BoostsPrioritiesAndTheProcessorIndex) {
    EXPECT_EQ(IO_NETWORK_INCREMENT, 2);
    EXPECT_EQ(IO_NO_INCREMENT, 0);
    EXPECT_EQ(LOW_PRIORITY, 0);
    EXPECT_EQ(LOW_REALTIME_PRIORITY, 16);
    EXPECT_EQ(HIGH_PRIORITY, 31);
    const KPRIORITY boost = IO_NETWORK_INCREMENT;
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    EXPECT_EQ(KeSetEvent(&e, boost, FALSE), 0);
    Raised dispatch(DISPATCH_LEVEL); // the processor stays this thread's
    EXPECT_EQ(KeGetCurrentProcessorIndex(), KeGetCurrentProcessorNumberEx(nullptr));
    EXPECT_EQ(NDIS_CURRENT_PROCESSOR_NUMBER, KeGetCurrentProcessorNumber());
}

struct YieldProbe {
    LOGICAL fresh = 99, late = 99;
    bool wait_for_half = false;
    bool ran = false;
    static VOID Routine(PKDPC, PVOID context, PVOID, PVOID) {
        auto *probe = static_cast<YieldProbe *>(context);
        probe->fresh = KeShouldYieldProcessor();
        if (probe->wait_for_half) { // until the modelled single-DPC limit is more than half used
            KDPC_WATCHDOG_INFORMATION info{};
            for (int i = 0; i < 100000000; ++i) {
                if (KeQueryDpcWatchdogInformation(&info) != STATUS_SUCCESS) break;
                if (info.DpcTimeCount < info.DpcTimeLimit / 2) break;
                YieldProcessor();
            }
            probe->late = KeShouldYieldProcessor();
        }
        probe->ran = true;
    }
};

TEST_F(Scheduling, KeShouldYieldProcessorFollowsTheModelledDpcWatchdog) {
    EXPECT_EQ(KeShouldYieldProcessor(), FALSE) << "outside a DPC";
    Watchdog dog("KeShouldYieldProcessor");
    YieldProbe probe;
    KDPC dpc;
    NdislockSetDpcWatchdogLimits(60'000'000'000ULL, 360'000'000'000ULL); // a minute: far from half used
    KeInitializeDpc(&dpc, YieldProbe::Routine, &probe);
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    KeFlushQueuedDpcs();
    ASSERT_TRUE(probe.ran);
    EXPECT_EQ(probe.fresh, FALSE);
    YieldProbe late;
    late.wait_for_half = true;
    NdislockSetDpcWatchdogLimits(2'000'000ULL, 12'000'000ULL); // 2 ms: the routine waits out half of it
    KeInitializeDpc(&dpc, YieldProbe::Routine, &late);
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    KeFlushQueuedDpcs();
    NdislockSetDpcWatchdogLimits(0, 0);
    ASSERT_TRUE(late.ran);
    EXPECT_EQ(late.late, TRUE);
}

// ---- Counted strings -----------------------------------------------------------------------------

TEST(Strings, RtlInitCountsInBytes) {
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, kHiE);
    EXPECT_EQ(u.Length, 6);
    EXPECT_EQ(u.MaximumLength, 8);
    EXPECT_EQ(u.Buffer, kHiE);
    RtlInitUnicodeString(&u, nullptr);
    EXPECT_EQ(u.Length, 0);
    EXPECT_EQ(u.MaximumLength, 0);
    EXPECT_EQ(u.Buffer, nullptr);
    NDIS_STRING n;
    NdisInitUnicodeString(&n, kHiE);
    EXPECT_EQ(n.Length, 6);
    ANSI_STRING a;
    RtlInitAnsiString(&a, "abcd");
    EXPECT_EQ(a.Length, 4);
    EXPECT_EQ(a.MaximumLength, 5);
    STRING s;
    RtlInitString(&s, "");
    EXPECT_EQ(s.Length, 0);
    EXPECT_EQ(s.MaximumLength, 1);
    std::vector<WCHAR> huge(70000, 'w');
    huge.back() = 0;
    RtlInitUnicodeString(&u, huge.data());
    EXPECT_EQ(u.Length, 65532) << "capped: the USHORT counts do not wrap";
    EXPECT_EQ(u.MaximumLength, 65534);
}

const UNICODE_STRING kGlobalName = RTL_CONSTANT_STRING(u"\\Device\\Mp");

TEST(Strings, ConstantStringsCountTheirLiteral) {
    EXPECT_EQ(kGlobalName.Length, 20);
    EXPECT_EQ(kGlobalName.MaximumLength, 22);
    EXPECT_EQ(kGlobalName.Buffer[1], 'D');
    STRING narrow = RTL_CONSTANT_STRING("abc");
    EXPECT_EQ(narrow.Length, 3);
    EXPECT_EQ(narrow.MaximumLength, 4);
    EXPECT_EQ(std::string(narrow.Buffer, narrow.Length), "abc");
    DECLARE_CONST_UNICODE_STRING(name, u"eth0");
    EXPECT_EQ(name.Length, 8);
    EXPECT_EQ(name.MaximumLength, 10);
    EXPECT_EQ(name.Buffer[3], '0');
    bool unicode = false;
    EXPECT_EQ(fmt(&unicode, "%wZ", &name), "eth0");
}

TEST(Strings, RtlCompareMemoryCountsTheEqualPrefix) {
    const UCHAR a[] = {1, 2, 3, 4, 5};
    const UCHAR b[] = {1, 2, 3, 9, 5};
    EXPECT_EQ(RtlCompareMemory(a, b, 5), 3u);
    EXPECT_EQ(RtlCompareMemory(a, a, 5), 5u);
    EXPECT_EQ(RtlCompareMemory(a, b, 2), 2u);
    EXPECT_EQ(RtlCompareMemory(a, b, 0), 0u);
}

// ---- Pool memory ---------------------------------------------------------------------------------

constexpr ULONG kTag = 0x3170704D; // 'Mpp1' as a pool dump shows it: "Mpp1" reversed in the literal

bool all_zero(const void *p, size_t n) {
    const auto *b = static_cast<const UCHAR *>(p);
    for (size_t i = 0; i < n; ++i)
        if (b[i] != 0) return false;
    return true;
}

class Pool : public ModelTest {};

TEST_F(Pool, BlocksAreAlignedUsableAndFreedWithTheirTag) {
    for (SIZE_T size : {SIZE_T{0}, SIZE_T{1}, SIZE_T{100}, SIZE_T{4095}, SIZE_T{4096}, SIZE_T{10000}}) {
        auto *p = static_cast<UCHAR *>(ExAllocatePoolWithTag(NonPagedPoolNx, size, kTag));
        ASSERT_NE(p, nullptr) << size;
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size >= PAGE_SIZE ? PAGE_SIZE : 64), 0u) << size;
        std::memset(p, 0xA5, size);
        ExFreePoolWithTag(p, kTag);
    }
    PVOID untagged = ExAllocatePool(PagedPool, 16);
    ASSERT_NE(untagged, nullptr);
    ExFreePoolWithTag(untagged, 0x656E6F4E); // 'enoN', the WDK's tag for untagged pool
    PVOID any = ExAllocatePoolWithTag(NonPagedPool, 8, kTag);
    ExFreePool(any); // no tag: not compared
    PVOID zero_tag = ExAllocatePoolWithTag(NonPagedPool, 8, kTag);
    ExFreePoolWithTag(zero_tag, 0); // tag 0: not compared
}

TEST_F(Pool, ExAllocatePool2ZeroesUnlessUninitializedAndRefusesBadFlags) {
    for (int round = 0; round < 4; ++round) { // dirty memory the heap is likely to hand back
        auto *dirty = static_cast<UCHAR *>(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 256, kTag));
        ASSERT_NE(dirty, nullptr);
        std::memset(dirty, 0xCC, 256);
        ExFreePoolWithTag(dirty, kTag);
        void *clean = ExAllocatePool2(POOL_FLAG_NON_PAGED, 256, kTag);
        ASSERT_NE(clean, nullptr);
        EXPECT_TRUE(all_zero(clean, 256));
        ExFreePoolWithTag(clean, kTag);
        void *zeroed = ExAllocatePoolZero(NonPagedPoolNx, 256, kTag);
        ASSERT_NE(zeroed, nullptr);
        EXPECT_TRUE(all_zero(zeroed, 256));
        ExFreePool(zeroed);
        void *with_flag =
            ExAllocatePoolWithTag(static_cast<POOL_TYPE>(NonPagedPoolNx | POOL_ZERO_ALLOCATION), 256, kTag);
        ASSERT_NE(with_flag, nullptr);
        EXPECT_TRUE(all_zero(with_flag, 256));
        ExFreePool(with_flag);
    }
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0), nullptr) << "tag 0";
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_UNINITIALIZED, 16, kTag), nullptr) << "no pool";
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 16, kTag), nullptr) << "two pools";
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_NON_PAGED | 0x00100000ULL, 16, kTag), nullptr) << "unknown required flag";
    void *optional = ExAllocatePool2(POOL_FLAG_PAGED | 0x0000100000000000ULL, 16, kTag);
    EXPECT_NE(optional, nullptr) << "an unknown optional flag is ignored";
    ExFreePool(optional);
    void *uninit = ExAllocatePoolUninitialized(PagedPool, 16, kTag);
    ASSERT_NE(uninit, nullptr);
    ExFreePoolWithTag(uninit, kTag);
}

TEST_F(Pool, NdisForms) {
    PVOID p = NdisAllocateMemoryWithTagPriority(reinterpret_cast<NDIS_HANDLE>(0x10), 300, kTag, NormalPoolPriority);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    NdisFreeMemoryWithTagPriority(reinterpret_cast<NDIS_HANDLE>(0x10), p, kTag);
    PVOID q = nullptr;
    EXPECT_EQ(NdisAllocateMemoryWithTag(&q, 40, kTag), NDIS_STATUS_SUCCESS);
    ASSERT_NE(q, nullptr);
    NdisFreeMemory(q, 40, 0);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PVOID at_dispatch = NdisAllocateMemoryWithTagPriority(nullptr, 8, kTag, LowPoolPriority);
    EXPECT_NE(at_dispatch, nullptr) << "nonpaged pool at DISPATCH_LEVEL";
    NdisFreeMemory(at_dispatch, 8, 0);
    KeLowerIrql(old);
}

TEST_F(Pool, AboveDispatchLevelNoHeapIsTouchedWithTheVerifierOff) {
    ASSERT_EQ(NdislockVerifierGetMode(), NDISLOCK_VERIFIER_OFF) << "registered with the verifier off";
    PVOID p = ExAllocatePoolWithTag(NonPagedPoolNx, 64, kTag);
    {
        Raised high(HIGH_LEVEL);
        EXPECT_EQ(ExAllocatePoolWithTag(NonPagedPoolNx, 64, kTag), nullptr);
        EXPECT_EQ(ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, kTag), nullptr);
        EXPECT_EQ(NdisAllocateMemoryWithTagPriority(nullptr, 64, kTag, HighPoolPriority), nullptr);
        PVOID q = reinterpret_cast<PVOID>(1);
        EXPECT_EQ(NdisAllocateMemoryWithTag(&q, 64, kTag), NDIS_STATUS_FAILURE);
        EXPECT_EQ(q, nullptr);
        ExFreePoolWithTag(p, kTag); // marked freed, its memory left for the next call below
    }
    // The next pool call at PASSIVE_LEVEL gives the block freed above back to the heap (a leak
    // checker, LeakSanitizer in the ASan build, sees it freed).
    PVOID next = ExAllocatePoolWithTag(NonPagedPoolNx, 64, kTag);
    ASSERT_NE(next, nullptr);
    ExFreePoolWithTag(next, kTag);
}

class PoolVerified : public Verified {};

TEST_F(PoolVerified, AboveItsIrqlIsIrqlTooHighForCall) {
    PVOID nonpaged = nullptr, paged = nullptr;
    {
        Raised dispatch(DISPATCH_LEVEL);
        nonpaged = ExAllocatePoolWithTag(NonPagedPoolNx, 32, kTag);
        EXPECT_TRUE(take().empty()) << "nonpaged pool at DISPATCH_LEVEL is allowed";
        paged = ExAllocatePoolWithTag(PagedPool, 32, kTag);
        std::vector<Finding> got = take();
        ASSERT_EQ(got.size(), 1u) << dump(got);
        EXPECT_EQ(got[0].rule, "IrqlTooHighForCall");
        EXPECT_NE(got[0].message.find("ExAllocatePoolWithTag"), std::string::npos) << dump(got);
        EXPECT_NE(got[0].message.find("APC_LEVEL"), std::string::npos) << dump(got);
        ExFreePoolWithTag(paged, kTag); // a paged block freed at DISPATCH_LEVEL
        got = take();
        ASSERT_EQ(got.size(), 1u) << dump(got);
        EXPECT_EQ(got[0].rule, "IrqlTooHighForCall");
        ExFreePoolWithTag(nonpaged, kTag);
        EXPECT_TRUE(take().empty());
    }
    EXPECT_NE(paged, nullptr) << "below DISPATCH_LEVEL's limit the allocation is still made";
    {
        Raised high(HIGH_LEVEL);
        EXPECT_EQ(ExAllocatePool2(POOL_FLAG_NON_PAGED, 32, kTag), nullptr);
    }
    const std::vector<Finding> got = take();
    ASSERT_EQ(got.size(), 1u) << dump(got);
    EXPECT_EQ(got[0].rule, "IrqlTooHighForCall");
    EXPECT_NE(got[0].message.find("ExAllocatePool2"), std::string::npos) << dump(got);
}

using PoolDeathTest = Pool;

// The second free reads the block's header, which the first gave back to the heap: a sanitizer
// reports that read (heap-use-after-free, the double free it is) before ndislock can.
TEST_F(PoolDeathTest, ASecondFreeIsBadPoolCaller7) {
#ifdef NDISLOCK_TESTS_UNDER_SANITIZER
    GTEST_SKIP() << "under a sanitizer the double free is the sanitizer's report";
#endif
    EXPECT_DEATH(
        {
            PVOID p = ExAllocatePoolWithTag(NonPagedPoolNx, 48, kTag);
            ExFreePoolWithTag(p, kTag);
            ExFreePoolWithTag(p, kTag);
        },
        "BugCheck(.|\n)*already freed(.|\n)*BAD_POOL_CALLER \\(0x7, 0x0, 0x3170704d, 0x");
}

TEST_F(PoolDeathTest, AWrongTagIsBadPoolCallerA) {
    EXPECT_DEATH(
        {
            PVOID p = NdisAllocateMemoryWithTagPriority(nullptr, 48, kTag, NormalPoolPriority);
            NdisFreeMemoryWithTagPriority(nullptr, p, 0x32707049);
        },
        "BugCheck(.|\n)*with tag 'Ipp2' \\(0x32707049\\): it was allocated with tag 'Mpp1' "
        "\\(0x3170704D\\)(.|\n)*BAD_POOL_CALLER \\(0xa, 0x[0-9a-f]+, 0x3170704d, 0x32707049\\)");
}

TEST_F(PoolDeathTest, AnAddressNoPoolCallReturnedOrNullIsBadPoolCaller42) {
    EXPECT_DEATH(
        {
            static UCHAR not_pool[256] = {};
            ExFreePool(not_pool + 128);
        },
        "BugCheck(.|\n)*which no pool allocation returned(.|\n)*BAD_POOL_CALLER \\(0x42, ");
    EXPECT_DEATH(ExFreePoolWithTag(nullptr, kTag), "BugCheck(.|\n)*of NULL(.|\n)*BAD_POOL_CALLER \\(0x42, 0x0, ");
}

TEST_F(PoolDeathTest, ABlockFreedAboveDispatchLevelIsStillFreedOnce) {
    EXPECT_DEATH(
        {
            PVOID p = ExAllocatePoolWithTag(NonPagedPoolNx, 48, kTag);
            {
                Raised high(HIGH_LEVEL);
                ExFreePoolWithTag(p, kTag);
            }
            ExFreePoolWithTag(p, kTag);
        },
        "BugCheck(.|\n)*already freed(.|\n)*BAD_POOL_CALLER \\(0x7,");
}

} // namespace
