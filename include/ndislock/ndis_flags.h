/*
 * ndislock/ndis_flags.h: the flags NDIS passes to a miniport's datapath handlers (send, send
 * complete, receive indication, return), with Microsoft's values, and the NDIS_TEST_* /
 * NDIS_SET_* macros over them. Clean C11 and C++. Included by ndislock/wdk.h.
 *
 * The *_DISPATCH_LEVEL flag says the caller runs at DISPATCH_LEVEL, so the callee may take its
 * spin locks with the Dpr forms. The NDIS_TEST_*_AT_DISPATCH_LEVEL macros therefore also check
 * the flag against the current IRQL: with the verifier on, a flag set below DISPATCH_LEVEL (the
 * callee would run NdisDprAcquireSpinLock at PASSIVE_LEVEL) or clear at DISPATCH_LEVEL is
 * DispatchFlagMismatch at the macro's line; the macro still yields the flag's value (TRUE/FALSE).
 * Any IRQL <= DISPATCH_LEVEL. Pages: ndis/nc-ndis-miniport_send_net_buffer_lists,
 * ndis/nf-ndis-ndismsendnetbufferlistscomplete, ndis/nf-ndis-ndismindicatereceivenetbufferlists,
 * ndis/nc-ndis-miniport_return_net_buffer_lists, network/send-and-receive-operations.
 */
#ifndef NDISLOCK_NDIS_FLAGS_H
#define NDISLOCK_NDIS_FLAGS_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SendFlags of MiniportSendNetBufferLists / NdisSendNetBufferLists. */
#define NDIS_SEND_FLAGS_DISPATCH_LEVEL 0x00000001
#define NDIS_SEND_FLAGS_CHECK_FOR_LOOPBACK 0x00000002
#define NDIS_SEND_FLAGS_SINGLE_QUEUE 0x00000004
#define NDIS_SEND_FLAGS_SWITCH_DESTINATION_GROUP 0x00000010
#define NDIS_SEND_FLAGS_SWITCH_SINGLE_SOURCE 0x00000020

/* SendCompleteFlags of NdisMSendNetBufferListsComplete. */
#define NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL 0x00000001
#define NDIS_SEND_COMPLETE_FLAGS_SINGLE_QUEUE 0x00000002
#define NDIS_SEND_COMPLETE_FLAGS_SWITCH_SINGLE_SOURCE 0x00000004

/* ReceiveFlags of NdisMIndicateReceiveNetBufferLists. RESOURCES: the miniport takes its
 * NET_BUFFER_LISTs back as soon as the call returns (the receiver cannot pend them). */
#define NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL 0x00000001
#define NDIS_RECEIVE_FLAGS_RESOURCES 0x00000002
#define NDIS_RECEIVE_FLAGS_SINGLE_ETHER_TYPE 0x00000100
#define NDIS_RECEIVE_FLAGS_SINGLE_VLAN 0x00000200
#define NDIS_RECEIVE_FLAGS_PERFECT_FILTERED 0x00000400
#define NDIS_RECEIVE_FLAGS_SINGLE_QUEUE 0x00000800
#define NDIS_RECEIVE_FLAGS_SHARED_MEMORY_INFO_VALID 0x00001000
#define NDIS_RECEIVE_FLAGS_MORE_NBLS 0x00002000
#define NDIS_RECEIVE_FLAGS_SWITCH_SINGLE_SOURCE 0x00004000
#define NDIS_RECEIVE_FLAGS_SWITCH_DESTINATION_GROUP 0x00008000

/* ReturnFlags of MiniportReturnNetBufferLists / NdisReturnNetBufferLists. */
#define NDIS_RETURN_FLAGS_DISPATCH_LEVEL 0x00000001
#define NDIS_RETURN_FLAGS_SINGLE_QUEUE 0x00000002
#define NDIS_RETURN_FLAGS_SWITCH_SINGLE_SOURCE 0x00000004

/* NDIS_TEST_FLAG, NDIS_SET_FLAG, NDIS_CLEAR_FLAG and the per-handler NDIS_TEST_*_FLAG /
 * NDIS_SET_*_FLAG: any IRQL (bit arithmetic on the caller's variable, no call). TEST yields TRUE if
 * every bit of Fl is in Flags, SET does Flags |= Fl, CLEAR Flags &= ~Fl. Nothing checked: the
 * *_AT_DISPATCH_LEVEL tests below are the ones that compare a flag with the IRQL. Pages: the
 * handlers whose flags they are, ndis/nc-ndis-miniport_send_net_buffer_lists,
 * ndis/nf-ndis-ndismsendnetbufferlistscomplete, ndis/nf-ndis-ndismindicatereceivenetbufferlists,
 * ndis/nc-ndis-miniport_return_net_buffer_lists. */
/*@{*/
#define NDIS_TEST_FLAG(Flags, Fl) ((BOOLEAN)(((Flags) & (Fl)) == (Fl)))
#define NDIS_SET_FLAG(Flags, Fl) ((Flags) |= (Fl))
#define NDIS_CLEAR_FLAG(Flags, Fl) ((Flags) &= ~(Fl))
#define NDIS_TEST_SEND_FLAG(Flags, Fl) NDIS_TEST_FLAG(Flags, Fl)
#define NDIS_SET_SEND_FLAG(Flags, Fl) NDIS_SET_FLAG(Flags, Fl)
#define NDIS_TEST_SEND_COMPLETE_FLAG(Flags, Fl) NDIS_TEST_FLAG(Flags, Fl)
#define NDIS_SET_SEND_COMPLETE_FLAG(Flags, Fl) NDIS_SET_FLAG(Flags, Fl)
#define NDIS_TEST_RECEIVE_FLAG(Flags, Fl) NDIS_TEST_FLAG(Flags, Fl)
#define NDIS_SET_RECEIVE_FLAG(Flags, Fl) NDIS_SET_FLAG(Flags, Fl)
#define NDIS_TEST_RETURN_FLAG(Flags, Fl) NDIS_TEST_FLAG(Flags, Fl)
#define NDIS_SET_RETURN_FLAG(Flags, Fl) NDIS_SET_FLAG(Flags, Fl)
/*@}*/

/* NDIS_TEST_RECEIVE_CANNOT_PEND / NDIS_TEST_RECEIVE_CAN_PEND: any IRQL (bit arithmetic, no call).
 * Whether the receiver of an indication may keep (pend) the NET_BUFFER_LISTs: it may not when
 * NDIS_RECEIVE_FLAGS_RESOURCES is set, and must then copy what it needs before it returns. Page:
 * ndis/nf-ndis-ndismindicatereceivenetbufferlists. */
/*@{*/
#define NDIS_TEST_RECEIVE_CANNOT_PEND(Flags) ((BOOLEAN)(((Flags)&NDIS_RECEIVE_FLAGS_RESOURCES) != 0))
#define NDIS_TEST_RECEIVE_CAN_PEND(Flags) ((BOOLEAN)(((Flags)&NDIS_RECEIVE_FLAGS_RESOURCES) == 0))
/*@}*/

/* TRUE if Flag is in Flags; with the verifier on, DispatchFlagMismatch at File:Line if that
 * disagrees with the current IRQL (FlagName names Flag in the report). */
NDISLOCK_API BOOLEAN ndislock_at_TestDispatchFlag(ULONG Flags, ULONG Flag, const char *FlagName, const char *File,
                                                  int Line, const char *Function);

#define NDISLOCK_TEST_DISPATCH_FLAG(Flags, Flag)                                                                       \
    ndislock_at_TestDispatchFlag((ULONG)(Flags), (Flag), #Flag, __FILE__, __LINE__, __func__)
/* NDIS_TEST_SEND_AT_DISPATCH_LEVEL, NDIS_TEST_SEND_COMPLETE_AT_DISPATCH_LEVEL,
 * NDIS_TEST_RECEIVE_AT_DISPATCH_LEVEL, NDIS_TEST_RETURN_AT_DISPATCH_LEVEL: IRQL <= DISPATCH_LEVEL
 * (in the datapath handler that received Flags). TRUE if the handler's *_DISPATCH_LEVEL flag is
 * set: its caller runs at DISPATCH_LEVEL, so the handler may take its spin locks with the Dpr
 * forms. With the verifier on, a flag that disagrees with the current IRQL (set below
 * DISPATCH_LEVEL, or clear at DISPATCH_LEVEL) is DispatchFlagMismatch at the macro's line; the
 * flag's value is still what it yields. Pages: network/dispatch-irql-tracking,
 * ndis/nc-ndis-miniport_send_net_buffer_lists, ndis/nf-ndis-ndismsendnetbufferlistscomplete,
 * ndis/nf-ndis-ndismindicatereceivenetbufferlists, ndis/nc-ndis-miniport_return_net_buffer_lists. */
/*@{*/
#define NDIS_TEST_SEND_AT_DISPATCH_LEVEL(Flags) NDISLOCK_TEST_DISPATCH_FLAG(Flags, NDIS_SEND_FLAGS_DISPATCH_LEVEL)
#define NDIS_TEST_SEND_COMPLETE_AT_DISPATCH_LEVEL(Flags)                                                               \
    NDISLOCK_TEST_DISPATCH_FLAG(Flags, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL)
#define NDIS_TEST_RECEIVE_AT_DISPATCH_LEVEL(Flags) NDISLOCK_TEST_DISPATCH_FLAG(Flags, NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL)
#define NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(Flags) NDISLOCK_TEST_DISPATCH_FLAG(Flags, NDIS_RETURN_FLAGS_DISPATCH_LEVEL)
/*@}*/

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_NDIS_FLAGS_H */
