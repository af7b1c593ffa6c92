/*
 * ndislock/wdk_types.h: the WDK base types, IRQL constants, SAL annotations and spin-lock structs
 * that NDIS driver code names, with the WDK's layout.
 *
 * Contract: this header; Microsoft's "Windows Data Types"
 * (https://learn.microsoft.com/windows/win32/winprog/windows-data-types) and the
 * ntdef.h/wdm.h/ndis.h definitions. Every struct here is read and written directly by driver code
 * (zeroed, embedded in adapter contexts, copied), so its layout is part of the contract and is
 * checked with static_assert below.
 *
 * Define NDISLOCK_HAVE_WINDOWS_TYPES before including if another header (for example Wine's or
 * MinGW's) already provides UCHAR, ULONG, BOOLEAN and friends; the spin-lock structs and the
 * IRQL constants are then still declared here.
 */
#ifndef NDISLOCK_WDK_TYPES_H
#define NDISLOCK_WDK_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* the Rtl*Memory macros of wdk_base.h */

#ifndef NDISLOCK_HAVE_WINDOWS_TYPES
/* ULONG is 32 bits on Windows (LLP64) whatever `unsigned long` is on this platform. */
typedef void VOID;
typedef void *PVOID;
typedef char CHAR;
typedef char CCHAR;
typedef unsigned char UCHAR;
typedef UCHAR *PUCHAR;
typedef unsigned short USHORT;
typedef USHORT *PUSHORT;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef ULONG *PULONG;
typedef int64_t LONG64;
typedef uint64_t ULONG64;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef uintptr_t ULONG_PTR;
typedef intptr_t LONG_PTR;
typedef ULONG_PTR SIZE_T;
typedef UCHAR BOOLEAN;
typedef BOOLEAN *PBOOLEAN;
typedef ULONG LOGICAL;
typedef LONG NTSTATUS;
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#endif /* NDISLOCK_HAVE_WINDOWS_TYPES */

/* Calling-convention and linkage words driver code spells out; they mean nothing on Linux. */
#ifndef NTAPI
#define NTAPI
#endif
#ifndef FASTCALL
#define FASTCALL
#endif
#ifndef NTKERNELAPI
#define NTKERNELAPI
#endif
#ifndef NTHALAPI
#define NTHALAPI
#endif
#ifndef EXPORT
#define EXPORT
#endif

#include "ndislock/sal.h"

/* ---- IRQL ------------------------------------------------------------------------------ */

typedef UCHAR KIRQL;
typedef KIRQL *PKIRQL;

#define PASSIVE_LEVEL 0
#define LOW_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2
#if defined(__i386__)
#define CMCI_LEVEL 5
#define PROFILE_LEVEL 27
#define CLOCK1_LEVEL 28
#define CLOCK2_LEVEL 28
#define CLOCK_LEVEL 28
#define IPI_LEVEL 29
#define POWER_LEVEL 30
#define HIGH_LEVEL 31
#else /* amd64, arm64 */
#define CMCI_LEVEL 5
#define CLOCK_LEVEL 13
#define IPI_LEVEL 14
#define DRS_LEVEL 14
#define POWER_LEVEL 14
#define PROFILE_LEVEL 15
#define HIGH_LEVEL 15
#endif
#define SYNCH_LEVEL (IPI_LEVEL - 2)

/* ---- Processors ------------------------------------------------------------------------ */

typedef ULONG_PTR KAFFINITY;
typedef KAFFINITY *PKAFFINITY;

typedef struct _PROCESSOR_NUMBER {
    USHORT Group;
    UCHAR Number;
    UCHAR Reserved;
} PROCESSOR_NUMBER, *PPROCESSOR_NUMBER;

#define ALL_PROCESSOR_GROUPS 0xffff

/* ---- Spin locks ------------------------------------------------------------------------ */

/*
 * KSPIN_LOCK: one pointer-sized word. Ordinary lock: 0 free, 1 held. In-stack queued lock: 0
 * free, otherwise the address of the last KSPIN_LOCK_QUEUE in the wait queue. ndislock keeps
 * every other piece of state (waiters, verifier data) outside the word, so code that reads it
 * sees what it would see on Windows.
 */
typedef ULONG_PTR KSPIN_LOCK;
typedef KSPIN_LOCK *PKSPIN_LOCK;

/* The queue entry of an in-stack queued acquisition. Lock is the lock's address with bit 0 set
 * while the entry waits and bit 1 set once it owns the lock. */
typedef struct _KSPIN_LOCK_QUEUE {
    struct _KSPIN_LOCK_QUEUE *volatile Next;
    PKSPIN_LOCK volatile Lock;
} KSPIN_LOCK_QUEUE, *PKSPIN_LOCK_QUEUE;

#define LOCK_QUEUE_WAIT 1
#define LOCK_QUEUE_OWNER 2

/* One per in-stack queued acquisition, normally a local variable of the acquiring function. */
typedef struct _KLOCK_QUEUE_HANDLE {
    KSPIN_LOCK_QUEUE LockQueue;
    KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

/* NDIS's spin lock: the kernel lock word plus the IRQL its NdisAcquireSpinLock saved. */
typedef struct _NDIS_SPIN_LOCK {
    KSPIN_LOCK SpinLock;
    KIRQL OldIrql;
} NDIS_SPIN_LOCK, *PNDIS_SPIN_LOCK;

/* ---- DPCs (wdm.h) ----------------------------------------------------------------------- */

struct _KDPC;
typedef VOID KDEFERRED_ROUTINE(struct _KDPC *Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

/* The DPC object: opaque to drivers (they allocate it and pass it to Ke* calls), laid out as the
 * WDK's. DpcData is non-NULL while the DPC sits in a processor's queue (the "queued" flag). Number
 * is 0 for "the processor that queues it", or MAXIMUM_PROCESSORS + n after
 * KeSetTargetProcessorDpc(Dpc, n), as in the kernel. */
typedef struct _KDPC {
    UCHAR Type;
    UCHAR Importance;
    volatile USHORT Number;
    SINGLE_LIST_ENTRY DpcListEntry;
    KAFFINITY ProcessorHistory;
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    volatile PVOID DpcData;
} KDPC, *PKDPC, *PRKDPC;

#define MAXIMUM_PROCESSORS 64
#define DpcObject 19
#define ThreadedDpcObject 24

/* Where KeInsertQueueDpc puts a DPC (KeSetImportanceDpc, ndislock/ndis_interrupt.h): the WDK's
 * values, kept in KDPC.Importance. */
typedef enum _KDPC_IMPORTANCE { LowImportance, MediumImportance, HighImportance, MediumHighImportance } KDPC_IMPORTANCE;

/* KeQueryDpcWatchdogInformation's answer (wdm.h). The WDK calls the figures dimensionless;
 * ndislock's are microseconds (docs/interrupts.md, "The DPC watchdog"). */
typedef struct _KDPC_WATCHDOG_INFORMATION {
    ULONG DpcTimeLimit;
    ULONG DpcTimeCount;
    ULONG DpcWatchdogLimit;
    ULONG DpcWatchdogCount;
    ULONG Reserved;
} KDPC_WATCHDOG_INFORMATION, *PKDPC_WATCHDOG_INFORMATION;

/* ---- Events (ndis.h) -------------------------------------------------------------------- */

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

/* The header every dispatcher object (event, timer, mutex) starts with, reduced to the fields
 * ndislock uses: Type says which object, SignalState is non-zero while it is signalled. Same size
 * and field offsets as the WDK's DISPATCHER_HEADER (24 bytes on 64-bit). */
typedef struct _DISPATCHER_HEADER {
    UCHAR Type;
    UCHAR Signalling;
    UCHAR Size;
    UCHAR Reserved1;
    volatile LONG SignalState;
    LIST_ENTRY WaitListHead;
} DISPATCHER_HEADER, *PDISPATCHER_HEADER;

/* The kernel event: a dispatcher header and nothing else, as in the WDK (24 bytes on 64-bit). */
typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;

typedef struct _NDIS_EVENT {
    KEVENT Event;
} NDIS_EVENT, *PNDIS_EVENT;

typedef unsigned int UINT;

/* ---- NDIS handles, status, object header ------------------------------------------------ */

typedef PVOID NDIS_HANDLE;
typedef NDIS_HANDLE *PNDIS_HANDLE;
typedef int NDIS_STATUS; /* an NTSTATUS value */
typedef NDIS_STATUS *PNDIS_STATUS;

#define NDIS_STATUS_SUCCESS ((NDIS_STATUS)0x00000000L)
#define NDIS_STATUS_PENDING ((NDIS_STATUS)0x00000103L)
#define NDIS_STATUS_FAILURE ((NDIS_STATUS)0xC0000001L)
#define NDIS_STATUS_RESOURCES ((NDIS_STATUS)0xC000009AL)
#define NDIS_STATUS_INVALID_PARAMETER ((NDIS_STATUS)0xC000000DL)
#define NDIS_STATUS_NOT_SUPPORTED ((NDIS_STATUS)0xC00000BBL)

typedef struct _NDIS_OBJECT_HEADER {
    UCHAR Type;
    UCHAR Revision;
    USHORT Size;
} NDIS_OBJECT_HEADER, *PNDIS_OBJECT_HEADER;

typedef struct _GROUP_AFFINITY {
    KAFFINITY Mask;
    USHORT Group;
    USHORT Reserved[3];
} GROUP_AFFINITY, *PGROUP_AFFINITY;

/* ---- The NDIS 6 interrupt side (ndis.h) -------------------------------------------------- */

typedef BOOLEAN MINIPORT_ISR(NDIS_HANDLE MiniportInterruptContext, PBOOLEAN QueueDefaultInterruptDpc,
                             PULONG TargetProcessors);
typedef MINIPORT_ISR *MINIPORT_ISR_HANDLER;
typedef VOID MINIPORT_INTERRUPT_DPC(NDIS_HANDLE MiniportInterruptContext, PVOID MiniportDpcContext,
                                    PVOID ReceiveThrottleParameters, PVOID NdisReserved2);
typedef MINIPORT_INTERRUPT_DPC *MINIPORT_INTERRUPT_DPC_HANDLER;
typedef VOID MINIPORT_DISABLE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext);
typedef MINIPORT_DISABLE_INTERRUPT *MINIPORT_DISABLE_INTERRUPT_HANDLER;
typedef VOID MINIPORT_ENABLE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext);
typedef MINIPORT_ENABLE_INTERRUPT *MINIPORT_ENABLE_INTERRUPT_HANDLER;
/* Message-signalled handlers (MSI/MSI-X: ndislock/ndis_interrupt.h, NdisMRegisterInterruptEx with
 * MsiSupported): each gets the MessageId of the message that fired. The WDK names both the
 * MINIPORT_MESSAGE_* role types and the MINIPORT_MSI_* handler types. */
typedef BOOLEAN MINIPORT_MSI_ISR(NDIS_HANDLE MiniportInterruptContext, ULONG MessageId,
                                 PBOOLEAN QueueDefaultInterruptDpc, PULONG TargetProcessors);
typedef MINIPORT_MSI_ISR *MINIPORT_MSI_ISR_HANDLER;
typedef VOID MINIPORT_MSI_INTERRUPT_DPC(NDIS_HANDLE MiniportInterruptContext, ULONG MessageId, PVOID MiniportDpcContext,
                                        PVOID ReceiveThrottleParameters, PVOID NdisReserved2);
typedef MINIPORT_MSI_INTERRUPT_DPC *MINIPORT_MSI_INTERRUPT_DPC_HANDLER;
typedef VOID MINIPORT_DISABLE_MSI_INTERRUPT(NDIS_HANDLE MiniportInterruptContext, ULONG MessageId);
typedef MINIPORT_DISABLE_MSI_INTERRUPT *MINIPORT_DISABLE_MSI_INTERRUPT_HANDLER;
typedef VOID MINIPORT_ENABLE_MSI_INTERRUPT(NDIS_HANDLE MiniportInterruptContext, ULONG MessageId);
typedef MINIPORT_ENABLE_MSI_INTERRUPT *MINIPORT_ENABLE_MSI_INTERRUPT_HANDLER;
typedef MINIPORT_MSI_ISR MINIPORT_MESSAGE_INTERRUPT;
typedef MINIPORT_MSI_INTERRUPT_DPC MINIPORT_MESSAGE_INTERRUPT_DPC;
typedef MINIPORT_DISABLE_MSI_INTERRUPT MINIPORT_DISABLE_MESSAGE_INTERRUPT;
typedef MINIPORT_ENABLE_MSI_INTERRUPT MINIPORT_ENABLE_MESSAGE_INTERRUPT;
typedef BOOLEAN MINIPORT_SYNCHRONIZE_INTERRUPT(NDIS_HANDLE SynchronizeContext);
typedef MINIPORT_SYNCHRONIZE_INTERRUPT *MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER;

typedef enum _NDIS_INTERRUPT_TYPE {
    NDIS_CONNECT_LINE_BASED = 1,
    NDIS_CONNECT_MESSAGE_BASED
} NDIS_INTERRUPT_TYPE,
    *PNDIS_INTERRUPT_TYPE;

/* The message table NdisMRegisterInterruptEx fills for a message-signalled registration (wdm.h):
 * one entry per message, MessageInfo[MessageId]. */
struct _KINTERRUPT; /* opaque: ndislock gives no interrupt objects (InterruptObject is NULL) */
typedef struct _KINTERRUPT *PKINTERRUPT;
typedef enum _KINTERRUPT_MODE { LevelSensitive, Latched } KINTERRUPT_MODE;
typedef enum _KINTERRUPT_POLARITY {
    InterruptPolarityUnknown,
    InterruptActiveHigh,
    InterruptRisingEdge = InterruptActiveHigh,
    InterruptActiveLow,
    InterruptFallingEdge = InterruptActiveLow,
    InterruptActiveBoth,
    InterruptActiveBothTriggerLow = InterruptActiveBoth,
    InterruptActiveBothTriggerHigh
} KINTERRUPT_POLARITY;

typedef struct _IO_INTERRUPT_MESSAGE_INFO_ENTRY {
    union {
        struct {
            ULONG LowPart;
            LONG HighPart;
        } u;
        LONG64 QuadPart;
    } MessageAddress; /* a PHYSICAL_ADDRESS (LARGE_INTEGER) */
    KAFFINITY TargetProcessorSet;
    PKINTERRUPT InterruptObject;
    ULONG MessageData;
    ULONG Vector;
    KIRQL Irql;
    KINTERRUPT_MODE Mode;
    KINTERRUPT_POLARITY Polarity;
} IO_INTERRUPT_MESSAGE_INFO_ENTRY, *PIO_INTERRUPT_MESSAGE_INFO_ENTRY;

typedef struct _IO_INTERRUPT_MESSAGE_INFO {
    KIRQL UnifiedIrql;
    ULONG MessageCount;
    IO_INTERRUPT_MESSAGE_INFO_ENTRY MessageInfo[1];
} IO_INTERRUPT_MESSAGE_INFO, *PIO_INTERRUPT_MESSAGE_INFO;

#define NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT 0x84
#define NDIS_MINIPORT_INTERRUPT_REVISION_1 1

typedef struct _NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;
    MINIPORT_ISR_HANDLER InterruptHandler;
    MINIPORT_INTERRUPT_DPC_HANDLER InterruptDpcHandler;
    MINIPORT_DISABLE_INTERRUPT_HANDLER DisableInterruptHandler;
    MINIPORT_ENABLE_INTERRUPT_HANDLER EnableInterruptHandler;
    BOOLEAN MsiSupported;
    BOOLEAN MsiSyncWithAllMessages;
    MINIPORT_MSI_ISR_HANDLER MessageInterruptHandler;
    MINIPORT_MSI_INTERRUPT_DPC_HANDLER MessageInterruptDpcHandler;
    MINIPORT_DISABLE_MSI_INTERRUPT_HANDLER DisableMessageInterruptHandler;
    MINIPORT_ENABLE_MSI_INTERRUPT_HANDLER EnableMessageInterruptHandler;
    NDIS_INTERRUPT_TYPE InterruptType;
    struct _IO_INTERRUPT_MESSAGE_INFO *MessageInfoTable;
} NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, *PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS;

#define NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1                                                      \
    ((USHORT)(offsetof(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, MessageInfoTable) + sizeof(void *)))

/* MiniportInitializeEx / MiniportHaltEx, for ndislock's stand-in for NDIS (ndislock/device.h). */
struct _NDIS_MINIPORT_INIT_PARAMETERS; /* opaque here: ndislock passes NULL */
typedef struct _NDIS_MINIPORT_INIT_PARAMETERS *PNDIS_MINIPORT_INIT_PARAMETERS;
typedef NDIS_STATUS MINIPORT_INITIALIZE(NDIS_HANDLE NdisMiniportHandle, NDIS_HANDLE MiniportDriverContext,
                                        PNDIS_MINIPORT_INIT_PARAMETERS MiniportInitParameters);
typedef MINIPORT_INITIALIZE *MINIPORT_INITIALIZE_HANDLER;
typedef enum _NDIS_HALT_ACTION {
    NdisHaltDeviceDisabled,
    NdisHaltDeviceInstanceDeInstalled,
    NdisHaltDevicePoweredDown,
    NdisHaltDeviceSurpriseRemoved,
    NdisHaltDeviceFailed,
    NdisHaltDeviceInitializationFailed,
    NdisHaltDeviceStopped
} NDIS_HALT_ACTION,
    *PNDIS_HALT_ACTION;
typedef VOID MINIPORT_HALT(NDIS_HANDLE MiniportAdapterContext, NDIS_HALT_ACTION HaltAction);
typedef MINIPORT_HALT *MINIPORT_HALT_HANDLER;

/* ---- Layout checks: driver code depends on these exact sizes and offsets ------------------ */

#ifdef __cplusplus
#define NDISLOCK_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define NDISLOCK_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

NDISLOCK_STATIC_ASSERT(sizeof(KIRQL) == 1, "KIRQL is a UCHAR");
NDISLOCK_STATIC_ASSERT(sizeof(KSPIN_LOCK) == sizeof(void *), "KSPIN_LOCK is pointer sized");
NDISLOCK_STATIC_ASSERT(sizeof(NDIS_SPIN_LOCK) == 2 * sizeof(void *), "NDIS_SPIN_LOCK layout");
NDISLOCK_STATIC_ASSERT(offsetof(NDIS_SPIN_LOCK, SpinLock) == 0,
                       "NDIS_SPIN_LOCK.SpinLock offset (fast_path.h: ndislock_word_of)");
NDISLOCK_STATIC_ASSERT(offsetof(NDIS_SPIN_LOCK, OldIrql) == sizeof(void *), "NDIS_SPIN_LOCK.OldIrql offset");
NDISLOCK_STATIC_ASSERT(sizeof(KSPIN_LOCK_QUEUE) == 2 * sizeof(void *), "KSPIN_LOCK_QUEUE layout");
NDISLOCK_STATIC_ASSERT(offsetof(KLOCK_QUEUE_HANDLE, OldIrql) == 2 * sizeof(void *),
                       "KLOCK_QUEUE_HANDLE.OldIrql offset");
NDISLOCK_STATIC_ASSERT(sizeof(KLOCK_QUEUE_HANDLE) == 3 * sizeof(void *), "KLOCK_QUEUE_HANDLE layout");
NDISLOCK_STATIC_ASSERT(sizeof(PROCESSOR_NUMBER) == 4, "PROCESSOR_NUMBER layout");
NDISLOCK_STATIC_ASSERT(sizeof(KDPC_WATCHDOG_INFORMATION) == 20, "KDPC_WATCHDOG_INFORMATION layout");
#if defined(__x86_64__) || defined(__aarch64__)
NDISLOCK_STATIC_ASSERT(sizeof(KDPC) == 64, "KDPC is 64 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(offsetof(KDPC, DeferredRoutine) == 24, "KDPC.DeferredRoutine offset");
NDISLOCK_STATIC_ASSERT(offsetof(KDPC, DpcData) == 56, "KDPC.DpcData offset");
NDISLOCK_STATIC_ASSERT(sizeof(KEVENT) == 24, "KEVENT is 24 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(sizeof(DISPATCHER_HEADER) == 24, "DISPATCHER_HEADER is 24 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(sizeof(GROUP_AFFINITY) == 16, "GROUP_AFFINITY layout");
NDISLOCK_STATIC_ASSERT(offsetof(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, InterruptHandler) == 8,
                       "interrupt characteristics: handlers after the 4-byte header");
NDISLOCK_STATIC_ASSERT(offsetof(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, MessageInterruptHandler) == 48,
                       "interrupt characteristics: MSI handlers after the two BOOLEANs");
NDISLOCK_STATIC_ASSERT(sizeof(NDIS_OBJECT_HEADER) == 4, "NDIS_OBJECT_HEADER layout");
NDISLOCK_STATIC_ASSERT(sizeof(IO_INTERRUPT_MESSAGE_INFO_ENTRY) == 48,
                       "IO_INTERRUPT_MESSAGE_INFO_ENTRY is 48 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(offsetof(IO_INTERRUPT_MESSAGE_INFO, MessageInfo) == 8,
                       "IO_INTERRUPT_MESSAGE_INFO.MessageInfo offset");
NDISLOCK_STATIC_ASSERT(sizeof(NDIS_SPIN_LOCK) == 16, "NDIS_SPIN_LOCK is 16 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(offsetof(NDIS_SPIN_LOCK, OldIrql) == 8, "OldIrql at offset 8 on 64-bit");
NDISLOCK_STATIC_ASSERT(sizeof(KLOCK_QUEUE_HANDLE) == 24, "KLOCK_QUEUE_HANDLE is 24 bytes on 64-bit");
#endif

#endif /* NDISLOCK_WDK_TYPES_H */
