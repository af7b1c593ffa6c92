// The DISPATCH_LEVEL flags and their mismatch finding, PAGED_CODE(), the assertions (death tests,
// as a checked build ends), the processor helpers and the base macros of the WDK face.
#include "wdk_test_support.h"

namespace {

// ---- Memory and page macros ----------------------------------------------------------------------

TEST(WdkMemory, RtlAndNdisMemoryMacrosActAsDocumented) {
    UCHAR a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8];
    NdisZeroMemory(b, sizeof b);
    for (UCHAR x : b)
        EXPECT_EQ(x, 0);
    NdisMoveMemory(b, a, sizeof b);
    EXPECT_TRUE(NdisEqualMemory(a, b, sizeof a));
    NdisFillMemory(b, 2, 0xEE);
    EXPECT_EQ(b[0], 0xEE);
    EXPECT_EQ(b[1], 0xEE);
    EXPECT_EQ(b[2], 3);
    EXPECT_FALSE(RtlEqualMemory(a, b, sizeof a));
    RtlMoveMemory(a + 1, a, 4); // overlapping: RtlMoveMemory is memmove
    EXPECT_EQ(a[1], 1);
    EXPECT_EQ(a[4], 4);
    RtlSecureZeroMemory(a, sizeof a);
    EXPECT_EQ(a[7], 0);
    EXPECT_EQ(PAGE_SIZE, 4096);
    EXPECT_EQ(ROUND_TO_PAGES(1), 4096u);
    EXPECT_EQ(ROUND_TO_PAGES(4096), 4096u);
    EXPECT_EQ(BYTES_TO_PAGES(4097), 2u);
    EXPECT_EQ(BYTE_OFFSET(reinterpret_cast<PVOID>(0x1234)), 0x234u);
    EXPECT_EQ(Add2Ptr(a, 3), static_cast<PVOID>(a + 3));
    EXPECT_EQ(PtrOffset(a, a + 5), 5u);
}

// ---- Flags ---------------------------------------------------------------------------------------

TEST(WdkFlags, MicrosoftsValues) {
    EXPECT_EQ(NDIS_SEND_FLAGS_DISPATCH_LEVEL, 0x1);
    EXPECT_EQ(NDIS_SEND_FLAGS_CHECK_FOR_LOOPBACK, 0x2);
    EXPECT_EQ(NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL, 0x1);
    EXPECT_EQ(NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL, 0x1);
    EXPECT_EQ(NDIS_RECEIVE_FLAGS_RESOURCES, 0x2);
    EXPECT_EQ(NDIS_RECEIVE_FLAGS_SINGLE_ETHER_TYPE, 0x100);
    EXPECT_EQ(NDIS_RECEIVE_FLAGS_MORE_NBLS, 0x2000);
    EXPECT_EQ(NDIS_RETURN_FLAGS_DISPATCH_LEVEL, 0x1);
    EXPECT_EQ(NDIS_RETURN_FLAGS_SINGLE_QUEUE, 0x2);
}

TEST(WdkFlags, SetAndTestMacros) {
    ULONG send = 0, complete = 0, ret = 0, receive = 0;
    NDIS_SET_SEND_FLAG(send, NDIS_SEND_FLAGS_CHECK_FOR_LOOPBACK);
    EXPECT_TRUE(NDIS_TEST_SEND_FLAG(send, NDIS_SEND_FLAGS_CHECK_FOR_LOOPBACK));
    EXPECT_FALSE(NDIS_TEST_SEND_FLAG(send, NDIS_SEND_FLAGS_DISPATCH_LEVEL));
    NDIS_SET_SEND_COMPLETE_FLAG(complete, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
    EXPECT_EQ(complete, 1u);
    NDIS_SET_RETURN_FLAG(ret, NDIS_RETURN_FLAGS_SINGLE_QUEUE);
    EXPECT_TRUE(NDIS_TEST_RETURN_FLAG(ret, NDIS_RETURN_FLAGS_SINGLE_QUEUE));
    EXPECT_TRUE(NDIS_TEST_RECEIVE_CAN_PEND(receive));
    EXPECT_FALSE(NDIS_TEST_RECEIVE_CANNOT_PEND(receive));
    NDIS_SET_RECEIVE_FLAG(receive, NDIS_RECEIVE_FLAGS_RESOURCES);
    EXPECT_FALSE(NDIS_TEST_RECEIVE_CAN_PEND(receive));
    EXPECT_TRUE(NDIS_TEST_RECEIVE_CANNOT_PEND(receive));
}

TEST(WdkFlags, AtDispatchLevelTestsAgreeingWithTheIrqlReportNothing) {
    NdislockVerifierResetFindings();
    EXPECT_FALSE(NDIS_TEST_SEND_AT_DISPATCH_LEVEL(0));
    EXPECT_FALSE(NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(NDIS_RETURN_FLAGS_SINGLE_QUEUE));
    KIRQL old;
    NDIS_RAISE_IRQL_TO_DISPATCH(&old);
    EXPECT_EQ(NDIS_CURRENT_IRQL(), DISPATCH_LEVEL);
    EXPECT_TRUE(NDIS_TEST_SEND_AT_DISPATCH_LEVEL(NDIS_SEND_FLAGS_DISPATCH_LEVEL));
    EXPECT_TRUE(NDIS_TEST_SEND_COMPLETE_AT_DISPATCH_LEVEL(NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL));
    EXPECT_TRUE(NDIS_TEST_RECEIVE_AT_DISPATCH_LEVEL(NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL | NDIS_RECEIVE_FLAGS_RESOURCES));
    EXPECT_TRUE(NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(NDIS_RETURN_FLAGS_DISPATCH_LEVEL));
    NDIS_LOWER_IRQL(old, DISPATCH_LEVEL);
    EXPECT_EQ(NDIS_CURRENT_IRQL(), PASSIVE_LEVEL);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << vt::dump(vt::take());
}

TEST(WdkFlags, AFlagSetBelowDispatchIsDispatchFlagMismatchAtItsLine) {
    NdislockVerifierResetFindings();
    const int line = __LINE__ + 1;
    const BOOLEAN set = NDIS_TEST_RECEIVE_AT_DISPATCH_LEVEL(NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL);
    EXPECT_TRUE(set); // still the flag's value
    vt::expect_exactly(vt::take(), "DispatchFlagMismatch", __FILE__, line);
    EXPECT_NE(vt::take()[0].message.find("NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL"), std::string::npos);
    NdislockVerifierResetFindings();
}

TEST(WdkFlags, AFlagClearAtDispatchIsDispatchFlagMismatchToo) {
    NdislockVerifierResetFindings();
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    const int line = __LINE__ + 1;
    const BOOLEAN set = NDIS_TEST_SEND_COMPLETE_AT_DISPATCH_LEVEL(0);
    KeLowerIrql(old);
    EXPECT_FALSE(set);
    vt::expect_exactly(vt::take(), "DispatchFlagMismatch", __FILE__, line);
    NdislockVerifierResetFindings();
}

TEST(WdkFlags, WithTheVerifierOffNothingIsChecked) {
    NdislockVerifierResetFindings();
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    EXPECT_TRUE(NDIS_TEST_SEND_AT_DISPATCH_LEVEL(NDIS_SEND_FLAGS_DISPATCH_LEVEL));
    PAGED_CODE();
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_ON);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u);
}

// ---- PAGED_CODE ----------------------------------------------------------------------------------

TEST(WdkPagedCode, AtOrBelowApcLevelIsFine) {
    NdislockVerifierResetFindings();
    PAGED_CODE();
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    PAGED_CODE();
    KeLowerIrql(old);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << vt::dump(vt::take());
}

TEST(WdkPagedCode, AtDispatchLevelIsPagedCodeAtRaisedIrql) {
    NdislockVerifierResetFindings();
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    const int line = __LINE__ + 1;
    PAGED_CODE();
    KeLowerIrql(old);
    vt::expect_exactly(vt::take(), "PagedCodeAtRaisedIrql", __FILE__, line);
    NdislockVerifierResetFindings();
}

// ---- Assertions ----------------------------------------------------------------------------------

TEST(WdkAssert, TrueAssertionsDoNothingAndNtVerifyEvaluatesOnce) {
    int evaluated = 0;
    ASSERT(1 + 1 == 2);
    NT_ASSERT(true);
    NT_ASSERTMSG("never shown", true);
    ASSERTMSG("never shown", true);
    EXPECT_TRUE(NT_VERIFY(++evaluated == 1));
    EXPECT_EQ(evaluated, 1);
    EXPECT_TRUE(NT_VERIFYMSG("once", ++evaluated == 2));
    EXPECT_EQ(evaluated, 2);
}

TEST(WdkAssertDeathTest, AFalseAssertionPrintsFileLineAndExpressionAndEnds) {
    EXPECT_DEATH(ASSERT(2 + 2 == 5), "AssertionFailed.*2 \\+ 2 == 5(.|\n)*checks_test.cpp:[0-9]+");
    EXPECT_DEATH(NT_ASSERT(sizeof(LONG) == 8), "AssertionFailed.*sizeof\\(LONG\\) == 8");
    EXPECT_DEATH(NT_ASSERTMSG("the queue must be empty", false), "AssertionFailed.*the queue must be empty");
    EXPECT_DEATH((void)NT_VERIFY(false), "AssertionFailed.*false");
    EXPECT_DEATH((void)NT_VERIFYMSG("verify message", 0), "AssertionFailed.*verify message");
}

TEST(WdkAssertDeathTest, WithTheVerifierOffAFalseAssertionStillEnds) {
    EXPECT_DEATH(([] {
                     NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
                     NT_ASSERT(0 > 1);
                 }()),
                 "AssertionFailed.*0 > 1(.|\n)*checks_test.cpp");
}

// ---- Processors and IRQL ---------------------------------------------------------------------------

TEST(WdkProcessors, OneGroupOfTheVirtualProcessors) {
    const ULONG n = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
    EXPECT_EQ(n, 4u); // the test main makes four
    EXPECT_EQ(KeQueryMaximumProcessorCount(), n);
    EXPECT_EQ(KeQueryMaximumProcessorCountEx(0), n);
    EXPECT_EQ(KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS), n);
    EXPECT_EQ(KeQueryMaximumProcessorCountEx(1), 0u);
    EXPECT_EQ(KeQueryActiveGroupCount(), 1);
    EXPECT_EQ(static_cast<ULONG>(NdisSystemProcessorCount()), n);
    EXPECT_EQ(NdisGroupActiveProcessorCount(0), n);
    EXPECT_EQ(NdisGroupMaxProcessorCount(ALL_PROCESSOR_GROUPS), n);
    EXPECT_EQ(NdisGroupActiveProcessorMask(0), static_cast<KAFFINITY>(0xF));
    for (ULONG i = 0; i < n; ++i) {
        PROCESSOR_NUMBER pn{};
        ASSERT_EQ(KeGetProcessorNumberFromIndex(i, &pn), STATUS_SUCCESS);
        EXPECT_EQ(pn.Group, 0);
        EXPECT_EQ(pn.Number, i);
        EXPECT_EQ(KeGetProcessorIndexFromNumber(&pn), i);
        EXPECT_EQ(NdisProcessorNumberToIndex(pn), i);
    }
    PROCESSOR_NUMBER bad{0, 9, 0};
    EXPECT_EQ(KeGetProcessorNumberFromIndex(n, &bad), STATUS_INVALID_PARAMETER);
    bad.Number = static_cast<UCHAR>(n);
    EXPECT_EQ(KeGetProcessorIndexFromNumber(&bad), INVALID_PROCESSOR_INDEX);
    bad.Group = 1;
    bad.Number = 0;
    EXPECT_EQ(KeGetProcessorIndexFromNumber(&bad), INVALID_PROCESSOR_INDEX);
    EXPECT_EQ(NdisCurrentProcessorIndex(), 0u); // the test main binds this thread to processor 0
    EXPECT_EQ(NdisCurrentGroupAndProcessor().Number, 0);
}

TEST(WdkProcessors, RaiseToSynchLevelAndBack) {
    NdislockVerifierResetFindings();
    EXPECT_EQ(SYNCH_LEVEL, 12);
    const KIRQL old = KeRaiseIrqlToSynchLevel();
    EXPECT_EQ(old, PASSIVE_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), SYNCH_LEVEL);
    KeLowerIrql(old);
    KIRQL dispatch_old;
    NDIS_RAISE_IRQL_TO_DISPATCH(&dispatch_old);
    NDIS_LOWER_IRQL(DISPATCH_LEVEL, DISPATCH_LEVEL); // same level: nothing to lower
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    NDIS_LOWER_IRQL(dispatch_old, DISPATCH_LEVEL);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(NdislockVerifierFindingCount(), 0u) << vt::dump(vt::take());
}

// ---- Base types and macros -------------------------------------------------------------------------

struct Outer {
    ULONG a;
    LIST_ENTRY link;
    USHORT tail[7];
};
C_ASSERT(sizeof(ULONG) == 4);
C_ASSERT(FIELD_OFFSET(Outer, link) == 8);

TEST(WdkBase, TypesAndMacros) {
    static_assert(sizeof(WCHAR) == 2 && sizeof(LONG) == 4 && sizeof(LONG64) == 8 && sizeof(HANDLE) == sizeof(void *));
    static_assert(sizeof(LARGE_INTEGER) == 8 && sizeof(ULARGE_INTEGER) == 8);
    Outer o{};
    EXPECT_EQ(CONTAINING_RECORD(&o.link, Outer, link), &o);
    EXPECT_EQ(RTL_NUMBER_OF(o.tail), 7u);
    EXPECT_EQ(ARRAYSIZE(o.tail), 7u);
    EXPECT_EQ(RTL_FIELD_SIZE(Outer, tail), 14u);
    EXPECT_TRUE(NT_SUCCESS(STATUS_SUCCESS));
    EXPECT_TRUE(NT_SUCCESS(STATUS_PENDING));
    EXPECT_FALSE(NT_SUCCESS(STATUS_INSUFFICIENT_RESOURCES));
    EXPECT_FALSE(NT_SUCCESS(NDIS_STATUS_FAILURE));
    EXPECT_EQ(STATUS_INSUFFICIENT_RESOURCES, NDIS_STATUS_RESOURCES);
    EXPECT_EQ(STATUS_PENDING, NDIS_STATUS_PENDING);
    LARGE_INTEGER li;
    li.QuadPart = 0x0000000500000007ll;
    EXPECT_EQ(li.u.LowPart, 7u);
    EXPECT_EQ(li.u.HighPart, 5);
    DECLSPEC_CACHEALIGN LONG aligned = 0;
    EXPECT_EQ(reinterpret_cast<ULONG_PTR>(&aligned) % 64, 0u);
    UNREFERENCED_PARAMETER(aligned);
}

} // namespace
