// Every Interlocked form's return value and effect (ndislock/wdk_interlocked.h), per width and
// fence, the ordered reads and writes, and the NDIS counters.
#include "wdk_test_support.h"

#include <type_traits>

namespace {

static_assert(sizeof(LONG) == 4 && sizeof(SHORT) == 2 && sizeof(CHAR) == 1 && sizeof(LONG64) == 8, "WDK widths");
static_assert(std::is_same_v<decltype(InterlockedIncrement(static_cast<LONG volatile *>(nullptr))), LONG>, "LONG");
static_assert(std::is_same_v<decltype(InterlockedIncrement16(static_cast<SHORT volatile *>(nullptr))), SHORT>, "SHORT");
static_assert(std::is_same_v<decltype(InterlockedOr8(static_cast<CHAR volatile *>(nullptr), 0)), CHAR>, "CHAR");
static_assert(std::is_same_v<decltype(InterlockedIncrement64(static_cast<LONG64 volatile *>(nullptr))), LONG64>,
              "LONG64");

// One width x one fence: every operation's documented result. T is the operand type; the
// functions come in as a table so each of the 16 combinations runs the same checks.
template <class T> struct Ops {
    T (*inc)(T volatile *);
    T (*dec)(T volatile *);
    T (*add)(T volatile *, T);
    T (*xadd)(T volatile *, T);
    T (*xchg)(T volatile *, T);
    T (*cmpxchg)(T volatile *, T, T);
    T (*or_)(T volatile *, T);
    T (*and_)(T volatile *, T);
    T (*xor_)(T volatile *, T);
};

template <class T> void check(const Ops<T> &o, const char *name) {
    SCOPED_TRACE(name);
    T v = 5;
    EXPECT_EQ(o.inc(&v), 6);     // the new value
    EXPECT_EQ(o.dec(&v), 5);     // the new value
    EXPECT_EQ(o.add(&v, 3), 8);  // the new value
    EXPECT_EQ(o.xadd(&v, 2), 8); // the old value
    EXPECT_EQ(v, 10);
    EXPECT_EQ(o.xchg(&v, 7), 10); // the old value
    EXPECT_EQ(v, 7);
    EXPECT_EQ(o.cmpxchg(&v, 9, 6), 7); // no match: old value, unchanged
    EXPECT_EQ(v, 7);
    EXPECT_EQ(o.cmpxchg(&v, 9, 7), 7); // match: old value, exchanged
    EXPECT_EQ(v, 9);
    EXPECT_EQ(o.or_(&v, 6), 9); // the old value: 0b1001 | 0b0110
    EXPECT_EQ(v, 15);
    EXPECT_EQ(o.and_(&v, 5), 15); // 0b1111 & 0b0101
    EXPECT_EQ(v, 5);
    EXPECT_EQ(o.xor_(&v, 3), 5); // 0b0101 ^ 0b0011
    EXPECT_EQ(v, 6);
    if (!std::is_signed_v<T>) return; // CHAR is plain char: unsigned on some hosts
    T m = -1;                         // wraps as two's complement
    EXPECT_EQ(o.inc(&m), 0);
    EXPECT_EQ(o.dec(&m), -1);
}

#define OPS(W, F)                                                                                                      \
    Ops<decltype(InterlockedIncrement##W##F(nullptr))> {                                                               \
        InterlockedIncrement##W##F, InterlockedDecrement##W##F, InterlockedAdd##W##F, InterlockedExchangeAdd##W##F,    \
            InterlockedExchange##W##F, InterlockedCompareExchange##W##F, InterlockedOr##W##F, InterlockedAnd##W##F,    \
            InterlockedXor##W##F                                                                                       \
    }

TEST(WdkInterlocked, EveryWidthAndFenceReturnsWhatTheDocsSay) {
    check(OPS(, ), "LONG");
    check(OPS(, Acquire), "LONG Acquire");
    check(OPS(, Release), "LONG Release");
    check(OPS(, NoFence), "LONG NoFence");
    check(OPS(8, ), "CHAR");
    check(OPS(8, Acquire), "CHAR Acquire");
    check(OPS(8, Release), "CHAR Release");
    check(OPS(8, NoFence), "CHAR NoFence");
    check(OPS(16, ), "SHORT");
    check(OPS(16, Acquire), "SHORT Acquire");
    check(OPS(16, Release), "SHORT Release");
    check(OPS(16, NoFence), "SHORT NoFence");
    check(OPS(64, ), "LONG64");
    check(OPS(64, Acquire), "LONG64 Acquire");
    check(OPS(64, Release), "LONG64 Release");
    check(OPS(64, NoFence), "LONG64 NoFence");
}

TEST(WdkInterlocked, MicrosoftsSpellingsOfTheFencedWidths) {
    LONG64 v = 1;
    EXPECT_EQ(InterlockedIncrementAcquire64(&v), 2);
    EXPECT_EQ(InterlockedIncrementNoFence64(&v), 3);
    EXPECT_EQ(InterlockedDecrementRelease64(&v), 2);
    EXPECT_EQ(InterlockedCompareExchangeAcquire64(&v, 8, 2), 2);
    EXPECT_EQ(InterlockedExchangeNoFence64(&v, 1), 8);
    EXPECT_EQ(InterlockedOr64Acquire(&v, 2), 1);
    EXPECT_EQ(InterlockedOrNoFence64(&v, 4), 3);
    SHORT s = 0;
    EXPECT_EQ(InterlockedIncrement16NoFence(&s), 1);
    EXPECT_EQ(InterlockedIncrementNoFence16(&s), 2);
    CHAR c = 1;
    EXPECT_EQ(InterlockedOr8Release(&c, 2), 1);
    LONG l = 0;
    EXPECT_EQ(InterlockedIncrementAcquire(&l), 1);
    EXPECT_EQ(InterlockedExchangeNoFence(&l, 5), 1);
    EXPECT_EQ(InterlockedCompareExchangeRelease(&l, 6, 5), 5);
    EXPECT_EQ(l, 6);
}

TEST(WdkInterlocked, BitTestAndSetResetComplementReturnTheOldBit) {
    LONG bits[2] = {0, 0};
    EXPECT_FALSE(InterlockedBitTestAndSet(bits, 3));
    EXPECT_TRUE(InterlockedBitTestAndSet(bits, 3));
    EXPECT_EQ(bits[0], 8);
    EXPECT_FALSE(InterlockedBitTestAndSet(bits, 31));
    EXPECT_EQ(static_cast<ULONG>(bits[0]), 0x80000008u);
    EXPECT_FALSE(InterlockedBitTestAndSet(bits, 33)); // bit 1 of the next LONG
    EXPECT_EQ(bits[1], 2);
    EXPECT_TRUE(InterlockedBitTestAndReset(bits, 3));
    EXPECT_FALSE(InterlockedBitTestAndReset(bits, 3));
    EXPECT_EQ(static_cast<ULONG>(bits[0]), 0x80000000u);
    EXPECT_FALSE(InterlockedBitTestAndComplement(bits, 0));
    EXPECT_TRUE(InterlockedBitTestAndComplement(bits, 0));
    EXPECT_FALSE(InterlockedBitTestAndSetAcquire(bits, 4));
    EXPECT_TRUE(InterlockedBitTestAndResetRelease(bits, 4));
    LONG64 wide = 0;
    EXPECT_FALSE(InterlockedBitTestAndSet64(&wide, 63));
    EXPECT_TRUE(InterlockedBitTestAndSet64(&wide, 63));
    EXPECT_EQ(static_cast<ULONG64>(wide), 0x8000000000000000ull);
    EXPECT_TRUE(InterlockedBitTestAndReset64(&wide, 63));
    EXPECT_EQ(wide, 0);
}

TEST(WdkInterlocked, PointerForms) {
    int x = 0, y = 0;
    PVOID p = &x;
    EXPECT_EQ(InterlockedExchangePointer(&p, &y), &x);
    EXPECT_EQ(p, &y);
    EXPECT_EQ(InterlockedCompareExchangePointer(&p, &x, &x), &y); // no match
    EXPECT_EQ(p, &y);
    EXPECT_EQ(InterlockedCompareExchangePointer(&p, &x, &y), &y); // match
    EXPECT_EQ(p, &x);
    EXPECT_EQ(InterlockedExchangePointerAcquire(&p, nullptr), &x);
    EXPECT_EQ(InterlockedCompareExchangePointerRelease(&p, &y, nullptr), nullptr);
    EXPECT_EQ(InterlockedCompareExchangePointerNoFence(&p, nullptr, &y), &y);
    EXPECT_EQ(p, nullptr);
}

TEST(WdkInterlocked, OrderedReadsWritesAndBarriers) {
    LONG l = 0;
    WriteRelease(&l, 4);
    EXPECT_EQ(ReadAcquire(&l), 4);
    WriteNoFence(&l, 5);
    EXPECT_EQ(ReadNoFence(&l), 5);
    CHAR c = 0;
    WriteRelease8(&c, 3);
    EXPECT_EQ(ReadAcquire8(&c), 3);
    SHORT s = 0;
    WriteNoFence16(&s, 300);
    EXPECT_EQ(ReadNoFence16(&s), 300);
    LONG64 q = 0;
    WriteRelease64(&q, 1ll << 40);
    EXPECT_EQ(ReadAcquire64(&q), 1ll << 40);
    int target = 0;
    PVOID p = nullptr;
    WritePointerRelease(&p, &target);
    EXPECT_EQ(ReadPointerAcquire(&p), &target);
    WritePointerNoFence(&p, nullptr);
    EXPECT_EQ(ReadPointerNoFence(&p), nullptr);
    KeMemoryBarrier();
    KeMemoryBarrierWithoutFence();
    MemoryBarrier();
    _ReadWriteBarrier();
    YieldProcessor();
}

TEST(WdkInterlocked, NdisCounters) {
    LONG l = 1;
    EXPECT_EQ(NdisInterlockedIncrement(&l), 2);
    EXPECT_EQ(NdisInterlockedDecrement(&l), 1);
    EXPECT_EQ(NdisInterlockedExchange(&l, 9), 1);
    EXPECT_EQ(l, 9);
    LARGE_INTEGER big;
    big.QuadPart = 0xFFFFFFFFll;
    NdisInterlockedAddLargeStatistic(&big, 1);
    EXPECT_EQ(big.QuadPart, 0x100000000ll);
    EXPECT_EQ(big.u.HighPart, 1);
    EXPECT_EQ(big.u.LowPart, 0u);
}

// The counters from several threads: exact totals (bounded in iterations).
TEST(WdkInterlocked, ConcurrentTotalsAreExact) {
    constexpr int kThreads = 4, kIterations = 20000;
    LONG l = 0;
    SHORT s = 0;
    LONG64 q = 0;
    LARGE_INTEGER big{};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < kIterations; ++i) {
                InterlockedIncrement(&l);
                InterlockedIncrement16NoFence(&s);
                InterlockedExchangeAdd64(&q, 3);
                NdisInterlockedAddLargeStatistic(&big, 2);
            }
        });
    for (auto &t : threads)
        t.join();
    EXPECT_EQ(l, kThreads * kIterations);
    EXPECT_EQ(s, static_cast<SHORT>(kThreads * kIterations)); // 80000 wraps in 16 bits, as on Windows
    EXPECT_EQ(q, 3ll * kThreads * kIterations);
    EXPECT_EQ(big.QuadPart, 2ll * kThreads * kIterations);
}

} // namespace
