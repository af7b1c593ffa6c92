/*
 * demo/device.c: the simulated NIC's hardware (device.h). One thread, ticking RatePerSecond times
 * a second; each tick it
 *
 *   1. sends: everything the driver rang up on the transmit doorbell (TxTail) is on the wire, so
 *      TxHead = TxTail and, if that moved, the TX-done status bit is set;
 *   2. receives: new packets are written into pool buffers and put on the receive ring
 *      (DemoDevicePostReceives, the stand-in for DMA), and the RX status bit is set;
 *   3. raises the line if (InterruptStatus & InterruptEnable) != 0. The line is level-triggered:
 *      it stays up, and is raised again next tick, until the ISR acknowledges the status bits or
 *      masks them. ndislock merges a raise into one still pending (Coalesced).
 *
 * Pacing sleeps to absolute deadlines; a device thread that fell far behind (the OS ran something
 * else) skips the missed ticks instead of firing them in a burst.
 */
#define _POSIX_C_SOURCE 200809L

#include "device.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#define DEMO_HW_MAX_LAG_TICKS 8u /* further behind than this: skip ahead rather than burst */

static ULONG64 DemoHwNowNs(void) {
    struct timespec Now;
    clock_gettime(CLOCK_MONOTONIC, &Now);
    return (ULONG64)Now.tv_sec * 1000000000ull + (ULONG64)Now.tv_nsec;
}

static void DemoHwSleepUntil(ULONG64 WhenNs) {
    struct timespec Deadline = {(time_t)(WhenNs / 1000000000ull), (long)(WhenNs % 1000000000ull)};
    /* EINTR: ndislock's preemption signal or Ctrl-C; the deadline is absolute, so just go on. */
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &Deadline, NULL) == EINTR) {
    }
}

static void DemoHwTick(PDEMO_HW Hw) {
    PDEMO_HW_REGISTERS Registers = &Hw->Registers;
    ULONG Events = 0;

    ULONG64 Tail = atomic_load(&Registers->TxTail);
    if (Tail != atomic_load(&Registers->TxHead)) {
        atomic_store(&Registers->TxHead, Tail);
        Events |= DEMO_INT_TX_DONE;
    }
    if (!atomic_load(&Hw->StopReceiving) && DemoDevicePostReceives(Hw->Adapter, &Hw->Counters) != 0)
        Events |= DEMO_INT_RX;
    if (Events != 0) atomic_fetch_or(&Registers->InterruptStatus, Events);

    ULONG Raised = atomic_load(&Registers->InterruptStatus) & atomic_load(&Registers->InterruptEnable);
    if (Hw->Msix) {
        /* A message is an edge: it is sent again next tick while its source stays raised and
         * enabled (the ISR masks it when it claims it, so that is at most a few times). */
        for (ULONG m = 0; m < DEMO_MSIX_MESSAGES; m++) {
            if ((Raised & DemoMessageSource(m)) == 0) continue;
            Hw->LineRaised++;
            if (NdislockAssertInterruptMessage(Hw->InterruptHandle, m, NDISLOCK_ANY_PROCESSOR) != NDISLOCK_OK)
                Hw->AssertFailed++;
        }
    } else if (Raised != 0) {
        Hw->LineRaised++;
        if (NdislockAssertInterrupt(Hw->InterruptHandle, NDISLOCK_ANY_PROCESSOR) != NDISLOCK_OK) Hw->AssertFailed++;
    }
    Hw->Ticks++;
}

static void *DemoHwThread(void *Context) {
    PDEMO_HW Hw = Context;
    const ULONG64 Period = 1000000000ull / Hw->RatePerSecond;

    Hw->BindStatus = NdislockBindCurrentThread(Hw->Processor);
    /* Sleeps as short as asked: with the default 50 us timer slack a 50 us tick would run at
     * half the rate. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

    ULONG64 Next = DemoHwNowNs();
    while (!atomic_load(&Hw->Stop)) {
        DemoHwTick(Hw);
        Next += Period;
        ULONG64 Now = DemoHwNowNs();
        if (Now > Next + DEMO_HW_MAX_LAG_TICKS * Period)
            Next = Now;
        else if (Next > Now)
            DemoHwSleepUntil(Next);
    }
    /* Packets that arrived but found the receive ring full never reach the driver. */
    DemoDeviceFlush(Hw->Adapter, &Hw->Counters);
    DemoHwLastLook(Hw->Adapter);
    return NULL;
}

void DemoHwLastLook(PADAPTER Adapter) {
    if (DemoBug == DEMO_BUG_THREAD_EXIT_HOLDING) {
        /* Seeded mistake: a last look at the transmit ring, and the thread returns without
         * NdisReleaseSpinLock. */
        NdisAcquireSpinLock(&Adapter->TxLock); /* BUG:thread-exit-holding */
        if (Adapter->TxRing.Count != 0) fprintf(stderr, "ndislock-demo: transmit ring not empty\n");
    }
}

void DemoHwInitialize(PDEMO_HW Hw, PADAPTER Adapter, ULONG RatePerSecond, ULONG Processor, BOOLEAN Msix) {
    memset(Hw, 0, sizeof(*Hw));
    atomic_init(&Hw->Registers.InterruptStatus, 0);
    atomic_init(&Hw->Registers.InterruptEnable, 0);
    atomic_init(&Hw->Registers.TxTail, 0);
    atomic_init(&Hw->Registers.TxHead, 0);
    atomic_init(&Hw->StopReceiving, FALSE);
    atomic_init(&Hw->Stop, FALSE);
    Hw->Adapter = Adapter;
    Hw->RatePerSecond = RatePerSecond;
    Hw->Processor = Processor;
    Hw->Msix = Msix;
}

int DemoHwStart(PDEMO_HW Hw) { return pthread_create(&Hw->Thread, NULL, DemoHwThread, Hw); }

void DemoHwStopReceiving(PDEMO_HW Hw) { atomic_store(&Hw->StopReceiving, TRUE); }

void DemoHwStop(PDEMO_HW Hw) {
    atomic_store(&Hw->Stop, TRUE);
    pthread_join(Hw->Thread, NULL);
}
