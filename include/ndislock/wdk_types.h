/*
 * ndislock/wdk_types.h: the WDK base types, IRQL constants, SAL annotations and spin-lock structs
 * that NDIS driver code names, with the WDK's layout.
 *
 * Contract: ../shared/spec/ndis-contract.md section 1; Microsoft's "Windows Data Types" and the
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

/* ---- Layout checks: driver code depends on these exact sizes and offsets ------------------ */

#ifdef __cplusplus
#define NDISLOCK_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define NDISLOCK_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

NDISLOCK_STATIC_ASSERT(sizeof(KIRQL) == 1, "KIRQL is a UCHAR");
NDISLOCK_STATIC_ASSERT(sizeof(KSPIN_LOCK) == sizeof(void *), "KSPIN_LOCK is pointer sized");
NDISLOCK_STATIC_ASSERT(sizeof(NDIS_SPIN_LOCK) == 2 * sizeof(void *), "NDIS_SPIN_LOCK layout");
NDISLOCK_STATIC_ASSERT(offsetof(NDIS_SPIN_LOCK, OldIrql) == sizeof(void *), "NDIS_SPIN_LOCK.OldIrql offset");
NDISLOCK_STATIC_ASSERT(sizeof(KSPIN_LOCK_QUEUE) == 2 * sizeof(void *), "KSPIN_LOCK_QUEUE layout");
NDISLOCK_STATIC_ASSERT(offsetof(KLOCK_QUEUE_HANDLE, OldIrql) == 2 * sizeof(void *), "KLOCK_QUEUE_HANDLE.OldIrql offset");
NDISLOCK_STATIC_ASSERT(sizeof(KLOCK_QUEUE_HANDLE) == 3 * sizeof(void *), "KLOCK_QUEUE_HANDLE layout");
NDISLOCK_STATIC_ASSERT(sizeof(PROCESSOR_NUMBER) == 4, "PROCESSOR_NUMBER layout");
#if defined(__x86_64__) || defined(__aarch64__)
NDISLOCK_STATIC_ASSERT(sizeof(NDIS_SPIN_LOCK) == 16, "NDIS_SPIN_LOCK is 16 bytes on 64-bit");
NDISLOCK_STATIC_ASSERT(offsetof(NDIS_SPIN_LOCK, OldIrql) == 8, "OldIrql at offset 8 on 64-bit");
NDISLOCK_STATIC_ASSERT(sizeof(KLOCK_QUEUE_HANDLE) == 24, "KLOCK_QUEUE_HANDLE is 24 bytes on 64-bit");
#endif

#endif /* NDISLOCK_WDK_TYPES_H */
