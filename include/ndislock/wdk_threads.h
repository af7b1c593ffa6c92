/*
 * ndislock/wdk_threads.h: the calling thread's identity as wdm.h and ntddk.h give it:
 * KeGetCurrentThread, PsGetCurrentThread, PsGetCurrentThreadId and PsGetCurrentProcessId. Clean C11
 * and C++. Included by ndislock/wdk.h.
 *
 * The thread objects are opaque: a driver compares them (a KMUTEX's OwnerThread against
 * KeGetCurrentThread(), an owner it recorded itself) and passes them back, and both work as on
 * Windows: KeGetCurrentThread() is what ndislock writes into the OwnerThread of a mutex the thread
 * takes. Contract: each call's IRQL and result below; pages under
 * https://learn.microsoft.com/windows-hardware/drivers/ddi/.
 */
#ifndef NDISLOCK_WDK_THREADS_H
#define NDISLOCK_WDK_THREADS_H

#include "ndislock/export.h"
#include "ndislock/wdk_base.h"

#ifdef __cplusplus
extern "C" {
#endif

struct _KTHREAD;
typedef struct _KTHREAD *PKTHREAD, *PRKTHREAD;
struct _ETHREAD;
typedef struct _ETHREAD *PETHREAD;

/* KeGetCurrentThread: any IRQL. The calling thread's kernel thread object: the same pointer for
 * the thread's whole life, different for every live thread, and the value a KMUTEX's OwnerThread
 * holds while this thread owns it. A DPC or ISR gets the thread it runs on (on Windows, whichever
 * thread it interrupted: do not rely on it there either). Page: wdm/nf-wdm-kegetcurrentthread. */
NDISLOCK_API PKTHREAD KeGetCurrentThread(VOID);

/* PsGetCurrentThread: any IRQL. The calling thread's executive thread object: the same object as
 * KeGetCurrentThread (as on Windows, where the ETHREAD begins with its KTHREAD). Page:
 * ntddk/nf-ntddk-psgetcurrentthread. */
NDISLOCK_API PETHREAD PsGetCurrentThread(VOID);

/* PsGetCurrentThreadId: any IRQL. The calling thread's ID as a HANDLE: its Linux thread ID (the
 * number ndislock's reports print for it). Page: ntddk/nf-ntddk-psgetcurrentthreadid. */
NDISLOCK_API HANDLE PsGetCurrentThreadId(VOID);

/* PsGetCurrentProcessId: any IRQL. The process ID as a HANDLE (getpid()). Page:
 * ntddk/nf-ntddk-psgetcurrentprocessid. */
NDISLOCK_API HANDLE PsGetCurrentProcessId(VOID);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_THREADS_H */
