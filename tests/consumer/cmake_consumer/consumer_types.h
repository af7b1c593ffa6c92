/* The consumer's own datapath type, given to <ndis.h> through NDISLOCK_WDK_USER_HEADER. */
#ifndef CONSUMER_TYPES_H
#define CONSUMER_TYPES_H
typedef struct _CONSUMER_PACKET {
    LIST_ENTRY Link;
    ULONG Length;
} CONSUMER_PACKET;
#endif
