/*
 * The datapath types and NDIS calls ndislock does not model, declared by the driver's test
 * harness as a real project would, and handed to the WDK face with
 * -DNDISLOCK_WDK_USER_HEADER='"miniport_types.h"': <ndis.h> includes this file at its end, so it
 * can use every WDK type above it. Reduced NET_BUFFER_LIST: only what this miniport touches.
 */
#ifndef MINIPORT_TYPES_H
#define MINIPORT_TYPES_H

typedef struct _NET_BUFFER_LIST {
    struct _NET_BUFFER_LIST *Next; /* the chain NDIS passes */
    ULONG DataLength;              /* stands in for the NET_BUFFERs' lengths */
    NDIS_STATUS Status;
    PVOID MiniportReserved[2]; /* the miniport's: a LIST_ENTRY while it owns the NBL */
    PVOID ProtocolReserved[2]; /* the harness's (NDIS's) while it owns the NBL */
} NET_BUFFER_LIST, *PNET_BUFFER_LIST;

#define NET_BUFFER_LIST_NEXT_NBL(Nbl) ((Nbl)->Next)
#define NET_BUFFER_LIST_STATUS(Nbl) ((Nbl)->Status)
#define NDIS_DEFAULT_PORT_NUMBER ((NDIS_PORT_NUMBER)0)
typedef ULONG NDIS_PORT_NUMBER, *PNDIS_PORT_NUMBER;

typedef VOID MINIPORT_SEND_NET_BUFFER_LISTS(NDIS_HANDLE MiniportAdapterContext, PNET_BUFFER_LIST NetBufferLists,
                                            NDIS_PORT_NUMBER PortNumber, ULONG SendFlags);
typedef VOID MINIPORT_RETURN_NET_BUFFER_LISTS(NDIS_HANDLE MiniportAdapterContext, PNET_BUFFER_LIST NetBufferLists,
                                              ULONG ReturnFlags);

#ifdef __cplusplus
extern "C" {
#endif
/* NDIS's side, which the harness implements. */
VOID NdisMSendNetBufferListsComplete(NDIS_HANDLE MiniportAdapterHandle, PNET_BUFFER_LIST NetBufferLists,
                                     ULONG SendCompleteFlags);
VOID NdisMIndicateReceiveNetBufferLists(NDIS_HANDLE MiniportAdapterHandle, PNET_BUFFER_LIST NetBufferLists,
                                        NDIS_PORT_NUMBER PortNumber, ULONG NumberOfNetBufferLists, ULONG ReceiveFlags);
#ifdef __cplusplus
}
#endif

#endif /* MINIPORT_TYPES_H */
