/*
 * demo/main.c: ndislock-demo. Runs the simulated NIC of adapter.c for a few seconds with send
 * threads and a device spread over the virtual processors, then checks that every packet is
 * accounted for and prints what the interrupt and each spin lock did.
 *
 * Threads, with the device on (--irq-rate N, the default):
 *   send threads      PASSIVE_LEVEL: take a buffer from the pool, fill it, DemoNicSendPacket.
 *   device thread     the hardware (device.c): N times a second sends what was queued, posts newly
 *                     arrived packets on the receive ring and raises the interrupt line.
 *   ndislock's        MiniportInterrupt at DIRQL and MiniportInterruptDPC at DISPATCH_LEVEL
 *   interrupt threads (interrupt.c), on the processor the interrupt lands on.
 *   main thread       the progress line (an OID_GEN_STATISTICS-like query under StatsLock).
 *
 * With --irq-rate 0 there is no interrupt: a device thread runs the send-complete DPC and posts
 * receives as fast as it can, and receive threads poll the receive ring (DemoReceiveDpc).
 *
 * Shutdown, in this order, so that nothing is left in flight: senders stop and are joined; no
 * more packets arrive; every transmitted packet is completed; the device stops; the receive ring
 * is drained empty (by DPCs, or by the receive threads).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapter.h"
#include "device.h"
#include "explore.h"
#include "interrupt.h"
#include "report.h"
#include "tool_annotations.h"

#include <ndislock/verifier.h> /* the demo sets and reads the verifier (--verifier, the exit summary) */
#include "watchdog.h"

#define DEMO_NAME "ndislock-demo"
#define DEMO_MAX_THREADS 256u /* per kind */
#define DEMO_MAX_SECONDS 3600.0
#define DEMO_DEFAULT_IRQ_RATE 20000u
#define DEMO_MAX_IRQ_RATE 200000u /* a tick every 5 us */
#define DEMO_SEND_DRAIN_MS 5000u  /* at shutdown, how long sent packets may take to complete */

typedef struct _DEMO_OPTIONS {
    double Seconds;
    ULONG Senders;      /* 0: one per virtual processor */
    ULONG Receivers;    /* 0: one per virtual processor */
    ULONG Processors;   /* 0: leave the count as it is */
    ULONG IrqRate;      /* device ticks (at most one interrupt each) a second; 0: no device */
    const char *Bug;    /* --bug NAME, or NULL */
    const char *Trace;  /* --trace PATH, or NULL */
    const char *Report; /* --report PATH, or NULL */
    BOOLEAN Msix;       /* --msix: a message-signalled interrupt, one message per source */
    BOOLEAN Explore;    /* --explore: explore a small scenario instead of running (demo/explore.c) */
    ULONG Jobs;         /* --jobs N: with --explore, worker processes */
} DEMO_OPTIONS;

/* --bug NAME: one seeded mistake each (adapter.h, DEMO_BUG), and the rule the verifier reports. */
static const struct {
    const char *Name;
    DEMO_BUG Bug;
    const char *Rule;
    const char *What;
} DemoBugs[] = {
    {"recursive-acquire", DEMO_BUG_RECURSIVE_ACQUIRE, "RecursiveAcquire",
     "DemoSendPacket calls a helper that takes TxLock again (terminal: the process ends)"},
    {"wrong-release", DEMO_BUG_WRONG_RELEASE, "ReleaseVariantMismatch",
     "the send path takes TxLock at PASSIVE_LEVEL with NdisAcquireSpinLock, releases it with NdisDprReleaseSpinLock"},
    {"out-of-order-release", DEMO_BUG_OUT_OF_ORDER_RELEASE, "IrqlDroppedWhileHoldingLock",
     "the device releases RxLock before StatsLock, both from NdisAcquireSpinLock (the documented trap)"},
    {"lock-order", DEMO_BUG_LOCK_ORDER, "LockOrderInversion",
     "senders take TxLock -> RxLock, the receive DPC RxLock -> TxLock"},
    {"hold-too-long", DEMO_BUG_HOLD_TOO_LONG, "LockHeldTooLong",
     "about 300 us of work under TxLock on every hold (a warning)"},
    {"release-not-held", DEMO_BUG_RELEASE_NOT_HELD, "ReleaseNotHeld",
     "DemoAllocateBuffers releases its queued PoolLock handle twice"},
    {"uninitialized", DEMO_BUG_UNINITIALIZED, "LockNotInitialized",
     "DemoInitializeAdapter takes StatsLock before NdisAllocateSpinLock set it up"},
    {"use-after-free", DEMO_BUG_USE_AFTER_FREE, "LockUsedAfterFree",
     "DemoHaltAdapter takes StatsLock after NdisFreeSpinLock"},
    {"dpr-at-passive", DEMO_BUG_DPR_AT_PASSIVE, "DprAcquireBelowDispatch",
     "the PASSIVE_LEVEL statistics query uses NdisDprAcquireSpinLock"},
    {"wrong-oldirql", DEMO_BUG_WRONG_OLDIRQL, "WrongOldIrql",
     "the receive DPC passes PASSIVE_LEVEL, not what its acquire saved, to KeReleaseSpinLock(ActivityLock, ...)"},
    {"thread-exit-holding", DEMO_BUG_THREAD_EXIT_HOLDING, "ThreadExitHoldingLock",
     "the device thread ends holding TxLock"},
    {"isr-spin-lock", DEMO_BUG_ISR_SPIN_LOCK, "AcquireAboveDispatch",
     "MiniportInterrupt guards the enable register with an NDIS spin lock, not the interrupt's"},
};
#define DEMO_BUG_COUNT (sizeof(DemoBugs) / sizeof(DemoBugs[0]))

static void DemoListBugs(FILE *Out) {
    fprintf(Out, "seeded mistakes for --bug NAME (the verifier reports the rule shown):\n");
    for (size_t i = 0; i < DEMO_BUG_COUNT; i++)
        fprintf(Out, "  %-22s %-29s %s\n", DemoBugs[i].Name, DemoBugs[i].Rule, DemoBugs[i].What);
}

typedef struct _SENDER {
    pthread_t Thread;
    ULONG Index;
    ULONG Processor;
    NDISLOCK_STATUS BindStatus;
    ULONG64 Sent;
    ULONG64 IdSum; /* sum of DemoMixId(id) over packets sent */
    ULONG64 RingFull;
} SENDER;

typedef struct _RECEIVER {
    pthread_t Thread;
    ULONG Processor;
    NDISLOCK_STATUS BindStatus;
    DEMO_RECEIVER Counters;
} RECEIVER;

typedef struct _DEVICE {
    pthread_t Thread;
    ULONG Processor;
    NDISLOCK_STATUS BindStatus;
    DEMO_DEVICE Counters;
} DEVICE;

/* One run: who runs where, and what each thread counted (read after the threads are joined). */
typedef struct _DEMO_RUN {
    ULONG Processors;
    ULONG SenderCount;
    ULONG ReceiverCount; /* 0 with the device on: MiniportInterruptDPC receives */
    SENDER *Senders;
    RECEIVER *Receivers;
    DEVICE Device; /* --irq-rate 0: the polling device thread */
    DEMO_HW Hw;    /* otherwise: the interrupting device */
    BOOLEAN Interrupts;
    BOOLEAN Drained; /* every sent packet completed and the receive ring emptied at shutdown */
    NDISLOCK_INTERRUPT_STATS InterruptStats;
    double InterruptSeconds; /* what InterruptStats covers */
    double Start;
    double Elapsed; /* until the senders stopped */
} DEMO_RUN;

static ADAPTER g_Adapter;
static atomic_bool g_StopSending;           /* time is up */
static atomic_bool g_SendersDone;           /* every send thread has been joined */
static atomic_bool g_DeviceDone;            /* the device thread has been joined */
static volatile sig_atomic_t g_Interrupted; /* Ctrl-C: stop early, still report */

static void DemoOnInterrupt(int Signal) {
    (void)Signal;
    g_Interrupted = 1;
}

/* ---- Command line ------------------------------------------------------------------------ */

static void DemoUsage(FILE *Out) {
    fprintf(Out,
            "usage: " DEMO_NAME " [--seconds N] [--senders N] [--irq-rate N] [--receivers N] [--processors N]\n"
            "                     [--msix] [--bug NAME] [--trace PATH] [--report PATH]\n"
            "       " DEMO_NAME " --explore [--bug NAME] [--jobs N]\n"
            "\n"
            "Runs a simulated NIC datapath (transmit ring, receive ring, adapter statistics, buffer pool, an\n"
            "interrupting device with its ISR and DPC) on ndislock's NDIS spin locks and interrupts, then checks\n"
            "the packet totals and prints interrupt and per-lock statistics.\n"
            "\n"
            "  --seconds N      how long to run, in seconds (default 3; fractions allowed, at most %.0f)\n"
            "  --senders N      send threads, 1..%u (default: one per virtual processor)\n"
            "  --irq-rate N     device ticks a second, each raising the interrupt line at most once,\n"
            "                   0..%u (default %u); 0: no device, receive threads poll the receive ring\n"
            "  --receivers N    with --irq-rate 0: receive threads, 1..%u (default: one per virtual processor)\n"
            "  --processors N   virtual processors, 1..%u, set with NdislockSetProcessorCount\n"
            "                   (default: NDISLOCK_PROCESSORS, else the machine's hardware threads)\n"
            "  --msix           register the interrupt message-signalled (MSI-X): one message for the\n"
            "                   receive queue, one for transmit done, each message's DPC on its own processor\n"
            "  --bug NAME       run the datapath with one seeded locking mistake for the verifier to\n"
            "                   report; --bug list shows the names and the rule each one breaks\n"
            "  --trace PATH     write a timeline of the run to PATH (Chrome trace / Perfetto JSON: open it\n"
            "                   in ui.perfetto.dev): lock holds and waits, each virtual processor's IRQL,\n"
            "                   ISR and DPC runs, interrupts, findings (NdislockTraceStart)\n"
            "  --report PATH    write an HTML report of the run to PATH (one self-contained page): hold-time\n"
            "                   histograms against the 25 us budget, contention over time, ISR and DPC run\n"
            "                   times against their budgets, the verifier's findings (NdislockReportStart)\n"
            "  --explore        do not run: explore the miniport's life schedule by schedule (initialize,\n"
            "                   a sender, the device and its interrupt, halt; NdislockExplore, portfolio\n"
            "                   strategy, 1000 schedules); print a failing schedule's finding (with --bug,\n"
            "                   the seeded mistake's rule), replay token, shrunk token and trace\n"
            "  --jobs N         with --explore: search in N worker processes, 1..64 (default 1)\n"
            "  --help           show this help\n"
            "\n"
            "Exit status: 0 when the totals are consistent, 1 when they are not, 2 on a bad argument.\n"
            "With --bug: the verifier's exit status (86) when it reported an error, abort for a terminal\n"
            "rule, 1 when it reported only warnings. With --explore: 0 when no schedule failed, 1 when\n"
            "one did.\n",
            DEMO_MAX_SECONDS, DEMO_MAX_THREADS, DEMO_MAX_IRQ_RATE, DEMO_DEFAULT_IRQ_RATE, DEMO_MAX_THREADS,
            (unsigned)NDISLOCK_MAX_PROCESSORS);
}

/* Prints the complaint and the usual hint; returns exit status 2. */
static int DemoBadArgument(const char *Format, ...) __attribute__((format(printf, 1, 2)));
static int DemoBadArgument(const char *Format, ...) {
    va_list Args;
    va_start(Args, Format);
    fprintf(stderr, DEMO_NAME ": ");
    vfprintf(stderr, Format, Args);
    fprintf(stderr, "\nTry '" DEMO_NAME " --help'.\n");
    va_end(Args);
    return 2;
}

static BOOLEAN DemoParseCount(const char *Text, ULONG Min, ULONG Max, ULONG *Out) {
    char *End;
    if (Text[0] < '0' || Text[0] > '9') return FALSE; /* strtoul would take "-1" and " 1" */
    errno = 0;
    unsigned long Value = strtoul(Text, &End, 10);
    if (errno != 0 || *End != '\0' || Value < Min || Value > Max) return FALSE;
    *Out = (ULONG)Value;
    return TRUE;
}

static BOOLEAN DemoParseSeconds(const char *Text, double *Out) {
    char *End;
    if ((Text[0] < '0' || Text[0] > '9') && Text[0] != '.') return FALSE;
    errno = 0;
    double Value = strtod(Text, &End);
    if (errno != 0 || *End != '\0' || !isfinite(Value) || Value <= 0.0 || Value > DEMO_MAX_SECONDS) return FALSE;
    *Out = Value;
    return TRUE;
}

/* Returns -1 to go on, otherwise the exit status. Accepts "--name value" and "--name=value". */
static int DemoParseArguments(int Argc, char **Argv, DEMO_OPTIONS *Options) {
    static const struct {
        const char *Name;
        ULONG Min;
        ULONG Max;
        size_t Offset;
    } Counts[] = {
        {"--senders", 1, DEMO_MAX_THREADS, offsetof(DEMO_OPTIONS, Senders)},
        {"--receivers", 1, DEMO_MAX_THREADS, offsetof(DEMO_OPTIONS, Receivers)},
        {"--processors", 1, NDISLOCK_MAX_PROCESSORS, offsetof(DEMO_OPTIONS, Processors)},
        {"--irq-rate", 0, DEMO_MAX_IRQ_RATE, offsetof(DEMO_OPTIONS, IrqRate)},
        {"--jobs", 1, 64, offsetof(DEMO_OPTIONS, Jobs)},
    };

    for (int i = 1; i < Argc; i++) {
        const char *Arg = Argv[i];
        if (strcmp(Arg, "--help") == 0 || strcmp(Arg, "-h") == 0) {
            DemoUsage(stdout);
            return 0;
        }
        if (strcmp(Arg, "--msix") == 0) { /* a switch: takes no value */
            Options->Msix = TRUE;
            continue;
        }
        if (strcmp(Arg, "--explore") == 0) { /* a switch too */
            Options->Explore = TRUE;
            continue;
        }
        const char *Equals = strchr(Arg, '=');
        size_t NameLength = Equals != NULL ? (size_t)(Equals - Arg) : strlen(Arg);
        char Name[32];
        if (strncmp(Arg, "--", 2) != 0 || NameLength >= sizeof(Name))
            return DemoBadArgument("unexpected argument '%s'", Arg);
        memcpy(Name, Arg, NameLength);
        Name[NameLength] = '\0';

        int Known = strcmp(Name, "--seconds") == 0 || strcmp(Name, "--bug") == 0 || strcmp(Name, "--trace") == 0 ||
                    strcmp(Name, "--report") == 0;
        for (size_t k = 0; k < sizeof(Counts) / sizeof(Counts[0]); k++)
            Known |= strcmp(Name, Counts[k].Name) == 0;
        if (!Known) return DemoBadArgument("unknown option '%s'", Name);

        const char *Value = Equals != NULL ? Equals + 1 : (i + 1 < Argc ? Argv[++i] : NULL);
        if (Value == NULL || Value[0] == '\0') return DemoBadArgument("%s needs a value", Name);

        if (strcmp(Name, "--bug") == 0) {
            if (strcmp(Value, "list") == 0) {
                DemoListBugs(stdout);
                return 0;
            }
            size_t k = 0;
            while (k < DEMO_BUG_COUNT && strcmp(Value, DemoBugs[k].Name) != 0)
                k++;
            if (k == DEMO_BUG_COUNT) return DemoBadArgument("unknown bug '%s' (--bug list shows them)", Value);
            Options->Bug = DemoBugs[k].Name;
            DemoBug = DemoBugs[k].Bug;
            continue;
        }
        if (strcmp(Name, "--trace") == 0) {
            Options->Trace = Value;
            continue;
        }
        if (strcmp(Name, "--report") == 0) {
            Options->Report = Value;
            continue;
        }
        if (strcmp(Name, "--seconds") == 0) {
            if (!DemoParseSeconds(Value, &Options->Seconds))
                return DemoBadArgument("--seconds needs a number of seconds above 0 and at most %.0f, got '%s'",
                                       DEMO_MAX_SECONDS, Value);
            continue;
        }
        for (size_t k = 0; k < sizeof(Counts) / sizeof(Counts[0]); k++) {
            if (strcmp(Name, Counts[k].Name) != 0) continue;
            if (!DemoParseCount(Value, Counts[k].Min, Counts[k].Max, (ULONG *)((char *)Options + Counts[k].Offset)))
                return DemoBadArgument("%s needs a whole number from %lu to %lu, got '%s'", Name,
                                       (unsigned long)Counts[k].Min, (unsigned long)Counts[k].Max, Value);
        }
    }
    if (Options->IrqRate != 0 && Options->Receivers != 0)
        return DemoBadArgument("--receivers needs --irq-rate 0 (with the device on, MiniportInterruptDPC receives)");
    if (Options->IrqRate == 0 && Options->Msix)
        return DemoBadArgument("--msix needs the device (an --irq-rate above 0): it changes how the device interrupts");
    if (Options->Jobs != 0 && !Options->Explore) return DemoBadArgument("--jobs needs --explore");
    if (!Options->Explore && Options->IrqRate == 0 && DemoBug == DEMO_BUG_ISR_SPIN_LOCK)
        return DemoBadArgument(
            "--bug isr-spin-lock needs the device (an --irq-rate above 0): its mistake is in the ISR");
    return -1;
}

/* ---- Threads ------------------------------------------------------------------------------ */

/* Waiting for work happens at PASSIVE_LEVEL only: a thread never waits at DISPATCH_LEVEL for
 * something another thread of its processor would have to do. */
static void DemoIdle(ULONG *Idle) {
    if (++*Idle < 64) {
        sched_yield();
    } else {
        struct timespec Pause = {0, 50 * 1000};
        nanosleep(&Pause, NULL);
    }
}

static void *DemoSendThread(void *Context) {
    SENDER *Sender = Context;
    ULONG64 NextId = (ULONG64)Sender->Index << 40;
    ULONG Buffer = 0, Idle = 0;
    BOOLEAN HaveBuffer = FALSE;

    Sender->BindStatus = NdislockBindCurrentThread(Sender->Processor);
    while (!atomic_load_explicit(&g_StopSending, memory_order_relaxed)) {
        if (!HaveBuffer) {
            if (DemoAllocateBuffers(&g_Adapter, &Buffer, 1) == 0) {
                DemoIdle(&Idle);
                continue;
            }
            DemoFillBuffer(&g_Adapter.Buffers[Buffer], NextId);
            HaveBuffer = TRUE;
        }
        if (DemoNicSendPacket(&g_Adapter, Buffer)) {
            Sender->Sent++;
            Sender->IdSum += DemoMixId(NextId);
            NextId++;
            HaveBuffer = FALSE;
            Idle = 0;
        } else {
            Sender->RingFull++;
            DemoIdle(&Idle);
        }
    }
    if (HaveBuffer) DemoFreeBuffers(&g_Adapter, &Buffer, 1);
    return NULL;
}

/* --irq-rate 0: the device without an interrupt, completing sends and posting receives itself. */
static void *DemoDeviceThread(void *Context) {
    DEVICE *Device = Context;
    ULONG Idle = 0;

    Device->BindStatus = NdislockBindCurrentThread(Device->Processor);
    for (;;) {
        /* Read before the pass: once the senders are gone, a pass that finds nothing to complete
         * means the transmit ring is empty for good. */
        BOOLEAN SendersDone = atomic_load_explicit(&g_SendersDone, memory_order_acquire);
        ULONG Work = DemoSendCompleteDpc(&g_Adapter, &Device->Counters);
        if (!atomic_load_explicit(&g_StopSending, memory_order_relaxed))
            Work += DemoDevicePostReceives(&g_Adapter, &Device->Counters);
        if (Work != 0) {
            Idle = 0;
        } else if (SendersDone) {
            break;
        } else {
            DemoIdle(&Idle);
        }
    }
    DemoDeviceFlush(&g_Adapter, &Device->Counters);
    if (DemoBug == DEMO_BUG_THREAD_EXIT_HOLDING) {
        /* Seeded mistake: a last look at the transmit ring, and the thread returns without
         * NdisReleaseSpinLock. */
        NdisAcquireSpinLock(&g_Adapter.TxLock); /* BUG:thread-exit-holding */
        if (g_Adapter.TxRing.Count != 0) fprintf(stderr, DEMO_NAME ": transmit ring not empty\n");
    }
    return NULL;
}

static void *DemoReceiveThread(void *Context) {
    RECEIVER *Receiver = Context;
    ULONG Idle = 0;

    Receiver->BindStatus = NdislockBindCurrentThread(Receiver->Processor);
    for (;;) {
        BOOLEAN DeviceDone = atomic_load_explicit(&g_DeviceDone, memory_order_acquire);
        if (DemoReceiveDpc(&g_Adapter, &Receiver->Counters) != 0) {
            Idle = 0;
        } else if (DeviceDone) {
            break;
        } else {
            DemoIdle(&Idle);
        }
    }
    return NULL;
}

/* ---- Time and progress -------------------------------------------------------------------- */

static double DemoNow(void) {
    struct timespec Now;
    clock_gettime(CLOCK_MONOTONIC, &Now);
    return (double)Now.tv_sec + (double)Now.tv_nsec / 1e9;
}

static void DemoSleepUntil(double When) {
    struct timespec Deadline;
    Deadline.tv_sec = (time_t)When;
    Deadline.tv_nsec = (long)((When - (double)Deadline.tv_sec) * 1e9);
    if (Deadline.tv_nsec >= 1000000000L) Deadline.tv_nsec = 999999999L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &Deadline, NULL) == EINTR && !g_Interrupted) {
    }
}

/* Runs the progress line on stderr until the time is up: rewritten in place 4 times a second on a
 * terminal, a plain line once a second otherwise. */
static void DemoShowProgress(double Start, double Seconds) {
    const BOOLEAN Tty = (BOOLEAN)isatty(STDERR_FILENO);
    const double Interval = Tty ? 0.25 : 1.0;
    const double End = Start + Seconds;
    double Next = Start + Interval, LastTime = Start;
    ULONG64 LastTotal = 0, LastInterrupts = 0;
    DEMO_ADAPTER_STATS Stats;
    NDISLOCK_INTERRUPT_STATS Interrupts;
    char Line[160], Rate[32], IrqRate[32];

    for (;;) {
        DemoSleepUntil(Next < End ? Next : End);
        double Now = DemoNow();
        DemoQueryStatistics(&g_Adapter, &Stats);
        ULONG64 Total = Stats.TxQueued + Stats.RxIndicated;
        double Elapsed = Now - LastTime;
        DemoFormatRate(Elapsed > 0 ? (double)(Total - LastTotal) / Elapsed : 0.0, Rate, sizeof(Rate));
        int Length = snprintf(Line, sizeof(Line), "[%.1fs] sent %llu recv %llu pkts/s %s", Now - Start,
                              (unsigned long long)Stats.TxQueued, (unsigned long long)Stats.RxIndicated, Rate);
        if (g_Adapter.InterruptHandle != NULL &&
            NdislockGetInterruptStats(g_Adapter.InterruptHandle, &Interrupts) == NDISLOCK_OK) {
            DemoFormatRate(Elapsed > 0 ? (double)(Interrupts.Delivered - LastInterrupts) / Elapsed : 0.0, IrqRate,
                           sizeof(IrqRate));
            snprintf(Line + Length, sizeof(Line) - (size_t)Length, " irq/s %s", IrqRate);
            LastInterrupts = Interrupts.Delivered;
        }
        if (Tty)
            fprintf(stderr, "\r%-80s", Line);
        else
            fprintf(stderr, "%s\n", Line);
        fflush(stderr);
        LastTotal = Total;
        LastTime = Now;
        if (Now >= End || g_Interrupted) break;
        while (Next <= Now)
            Next += Interval;
    }
    if (Tty) fputc('\n', stderr);
}

/* ---- Start and stop ------------------------------------------------------------------------ */

/* Starts the device, the receivers, then the senders, round-robin over the processors. Returns
 * FALSE if a thread could not be created. */
static BOOLEAN DemoStartThreads(DEMO_RUN *Run) {
    int Error;

    if (Run->Interrupts) {
        /* The figures cover the run, not initialize's synchronize call. */
        NdislockResetInterruptStats(g_Adapter.InterruptHandle);
        Run->Hw.InterruptHandle = g_Adapter.InterruptHandle;
        Error = DemoHwStart(&Run->Hw);
    } else {
        Run->Device.Processor = (Run->SenderCount + Run->ReceiverCount) % Run->Processors;
        Error = pthread_create(&Run->Device.Thread, NULL, DemoDeviceThread, &Run->Device);
    }
    for (ULONG i = 0; i < Run->ReceiverCount && Error == 0; i++) {
        Run->Receivers[i].Processor = (Run->SenderCount + i) % Run->Processors;
        Error = pthread_create(&Run->Receivers[i].Thread, NULL, DemoReceiveThread, &Run->Receivers[i]);
    }
    Run->Start = DemoNow();
    for (ULONG i = 0; i < Run->SenderCount && Error == 0; i++) {
        Run->Senders[i].Index = i;
        Run->Senders[i].Processor = i % Run->Processors;
        Error = pthread_create(&Run->Senders[i].Thread, NULL, DemoSendThread, &Run->Senders[i]);
    }
    if (Error != 0) fprintf(stderr, DEMO_NAME ": pthread_create failed: %s\n", strerror(Error));
    return Error == 0;
}

/* With the device: no more packets arrive and the senders stop; the device keeps sending and
 * interrupting until the DPCs have completed every sent packet; then it stops, and DPCs drain what
 * is left on the receive ring. Nothing is left in flight. */
static void DemoStopInterruptingDevice(DEMO_RUN *Run) {
    DemoHwStopReceiving(&Run->Hw);
    atomic_store_explicit(&g_StopSending, TRUE, memory_order_relaxed);
    for (ULONG i = 0; i < Run->SenderCount; i++)
        pthread_join(Run->Senders[i].Thread, NULL);
    Run->Elapsed = DemoNow() - Run->Start;

    ULONG Waited = 0;
    while (!DemoNicSendsIdle(&g_Adapter) && Waited < DEMO_SEND_DRAIN_MS * 10) {
        NdisMSleep(100);
        Waited++;
    }
    BOOLEAN SendsIdle = DemoNicSendsIdle(&g_Adapter);
    if (!SendsIdle)
        fprintf(stderr, DEMO_NAME ": sent packets still not completed %u ms after the senders stopped\n",
                DEMO_SEND_DRAIN_MS);
    DemoHwStop(&Run->Hw);
    Run->Drained = (BOOLEAN)(DemoNicFlushDpcs(&g_Adapter) && SendsIdle);
    if (!Run->Drained) fprintf(stderr, DEMO_NAME ": the DPCs did not drain the rings\n");

    Run->InterruptSeconds = DemoNow() - Run->Start;
    if (NdislockGetInterruptStats(g_Adapter.InterruptHandle, &Run->InterruptStats) != NDISLOCK_OK)
        fprintf(stderr, DEMO_NAME ": NdislockGetInterruptStats failed\n");
}

/* Senders first, then the device (which completes every queued packet), then the receivers (which
 * drain the receive ring): nothing is left in flight. */
static void DemoStopThreads(DEMO_RUN *Run) {
    if (Run->Interrupts) {
        DemoStopInterruptingDevice(Run);
        return;
    }
    atomic_store_explicit(&g_StopSending, TRUE, memory_order_relaxed);
    for (ULONG i = 0; i < Run->SenderCount; i++)
        pthread_join(Run->Senders[i].Thread, NULL);
    Run->Elapsed = DemoNow() - Run->Start;
    atomic_store_explicit(&g_SendersDone, TRUE, memory_order_release);
    pthread_join(Run->Device.Thread, NULL);
    atomic_store_explicit(&g_DeviceDone, TRUE, memory_order_release);
    for (ULONG i = 0; i < Run->ReceiverCount; i++)
        pthread_join(Run->Receivers[i].Thread, NULL);
    Run->Drained = TRUE;
}

/* Ctrl-C ends the run early, still with the checks and the table. Only the main thread takes the
 * signal: the workers are created while it is blocked, and inherit that. Returns the old mask. */
static sigset_t DemoCatchInterrupt(void) {
    struct sigaction Action;
    sigset_t Interrupt, Previous;

    memset(&Action, 0, sizeof(Action));
    Action.sa_handler = DemoOnInterrupt;
    Action.sa_flags = SA_RESETHAND; /* a second Ctrl-C ends the process at once */
    sigemptyset(&Action.sa_mask);
    sigaction(SIGINT, &Action, NULL);
    sigemptyset(&Interrupt);
    sigaddset(&Interrupt, SIGINT);
    pthread_sigmask(SIG_BLOCK, &Interrupt, &Previous);
    return Previous;
}

/* ---- Checks and report -------------------------------------------------------------------- */

static BOOLEAN DemoCheck(const char *What, BOOLEAN Ok, const char *Detail) {
    printf("  %-44s %-3s  %s\n", What, Ok ? "yes" : "NO", Detail);
    return Ok;
}

/* --msix: what each message did. */
static void DemoPrintMessages(void) {
    static const char *const Names[DEMO_MSIX_MESSAGES] = {"receive queue", "transmit done"};
    for (ULONG m = 0; m < DEMO_MSIX_MESSAGES; m++)
        printf("  message %lu         %14llu ISRs (%llu claimed), %llu DPC runs on processor %lu (%s)\n",
               (unsigned long)m,
               (unsigned long long)atomic_load_explicit(&g_Adapter.MessageIsrs[m], memory_order_relaxed),
               (unsigned long long)atomic_load_explicit(&g_Adapter.MessageClaimed[m], memory_order_relaxed),
               (unsigned long long)atomic_load_explicit(&g_Adapter.MessageDpcs[m], memory_order_relaxed),
               (unsigned long)g_Adapter.MessageProcessor[m], Names[m]);
}

/* Prints the totals and the checks; returns TRUE if every check holds. */
static BOOLEAN DemoReport(const DEMO_RUN *Run) {
    /* What the device did: posted receives (either kind of device), completed sends (the polling
     * device thread, or the DPCs on each processor). */
    DEMO_DEVICE DeviceTotals = Run->Interrupts ? Run->Hw.Counters : Run->Device.Counters;
    const DEMO_DEVICE *Device = &DeviceTotals;
    DEMO_ADAPTER_STATS Stats;
    ULONG64 Sent = 0, SentIdSum = 0, RingFull = 0, Received = 0, ReceivedIdSum = 0, ChecksumErrors = 0;
    ULONG64 PerProcessorPackets = 0, PerProcessorBytes = 0;
    BOOLEAN BindOk = (Run->Interrupts ? Run->Hw.BindStatus : Run->Device.BindStatus) == NDISLOCK_OK;
    char Rate[32], Detail[160];

    DemoQueryStatistics(&g_Adapter, &Stats);
    for (ULONG i = 0; i < Run->SenderCount; i++) {
        Sent += Run->Senders[i].Sent;
        SentIdSum += Run->Senders[i].IdSum;
        RingFull += Run->Senders[i].RingFull;
        BindOk = BindOk && Run->Senders[i].BindStatus == NDISLOCK_OK;
    }
    for (ULONG i = 0; i < Run->ReceiverCount; i++) {
        Received += Run->Receivers[i].Counters.Packets;
        ReceivedIdSum += Run->Receivers[i].Counters.IdSum;
        ChecksumErrors += Run->Receivers[i].Counters.ChecksumErrors;
        BindOk = BindOk && Run->Receivers[i].BindStatus == NDISLOCK_OK;
    }
    for (ULONG p = 0; p < Run->Processors; p++) {
        PerProcessorPackets += g_Adapter.PerProcessor[p].RxPackets;
        PerProcessorBytes += g_Adapter.PerProcessor[p].RxBytes;
        /* MiniportInterruptDPC's counters: every DPC has returned (DemoNicFlushDpcs). */
        const DEMO_DPC_COUNTERS *Dpc = &g_Adapter.Dpc[p];
        Received += Dpc->Rx.Packets;
        ReceivedIdSum += Dpc->Rx.IdSum;
        ChecksumErrors += Dpc->Rx.ChecksumErrors;
        DeviceTotals.TxCompletedCount += Dpc->TxCompleted;
        DeviceTotals.TxCompletedIdSum += Dpc->TxCompletedIdSum;
    }

    printf("\nresults over %.2f s:\n", Run->Elapsed);
    printf("  packets sent      %14llu  %8s/s  (%llu bytes; ring full %llu times)\n", (unsigned long long)Sent,
           DemoFormatRate((double)Sent / Run->Elapsed, Rate, sizeof(Rate)), (unsigned long long)Stats.TxBytes,
           (unsigned long long)RingFull);
    printf("  packets received  %14llu  %8s/s  (%llu bytes)\n", (unsigned long long)Received,
           DemoFormatRate((double)Received / Run->Elapsed, Rate, sizeof(Rate)), (unsigned long long)Stats.RxBytes);
    printf("  packets total     %14llu  %8s/s\n", (unsigned long long)(Sent + Received),
           DemoFormatRate((double)(Sent + Received) / Run->Elapsed, Rate, sizeof(Rate)));
    if (Run->Interrupts) {
        ULONG64 Runs = 0, Requeued = 0;
        for (ULONG p = 0; p < Run->Processors; p++) {
            Runs += atomic_load_explicit(&g_Adapter.Dpc[p].Runs, memory_order_relaxed);
            Requeued += atomic_load_explicit(&g_Adapter.Dpc[p].Requeued, memory_order_relaxed);
        }
        printf("  device            %14llu ticks (%llu %s), %llu DPC runs, %llu requeued at the budget\n",
               (unsigned long long)Run->Hw.Ticks, (unsigned long long)Run->Hw.LineRaised,
               g_Adapter.Msix ? "messages sent" : "raised the line", (unsigned long long)Runs,
               (unsigned long long)Requeued);
        if (g_Adapter.Msix) DemoPrintMessages();
    }
    DEMO_WATCHDOG_VIEW Watchdog;
    DemoWatchdogQuery(&g_Adapter, &Watchdog);
    printf("  watchdog timer    %14llu ticks (every %d ms): tx queue stalled at %llu, rx queue stalled at %llu\n",
           (unsigned long long)Watchdog.Ticks, DEMO_WATCHDOG_PERIOD_MS, (unsigned long long)Watchdog.TxStalled,
           (unsigned long long)Watchdog.RxStalled);
    printf("  received per processor (DISPATCH_LEVEL counters, no lock):");
    for (ULONG p = 0; p < Run->Processors; p++) {
        if (p % 4 == 0) printf("\n   ");
        printf("  [%2lu] %12llu", (unsigned long)p, (unsigned long long)g_Adapter.PerProcessor[p].RxPackets);
    }
    printf("\n");
    if (Sent == 0 || Received == 0) printf("  (hardly any packets moved: try a longer --seconds)\n");

    printf("\nchecks:\n");
    BOOLEAN Ok = TRUE;
    snprintf(Detail, sizeof(Detail), "%llu sent, %llu queued, %llu completed, ids %s", (unsigned long long)Sent,
             (unsigned long long)Stats.TxQueued, (unsigned long long)Stats.TxCompleted,
             SentIdSum == Device->TxCompletedIdSum ? "match" : "DIFFER");
    Ok &= DemoCheck("every packet sent was completed",
                    Sent == Stats.TxQueued && Sent == Stats.TxCompleted && Sent == Device->TxCompletedCount &&
                        SentIdSum == Device->TxCompletedIdSum && g_Adapter.TxRing.Count == 0,
                    Detail);
    snprintf(Detail, sizeof(Detail), "%llu arrived, %llu indicated, %llu counted, ids %s",
             (unsigned long long)Device->RxPostedCount, (unsigned long long)Stats.RxIndicated,
             (unsigned long long)Received, ReceivedIdSum == Device->RxPostedIdSum ? "match" : "DIFFER");
    Ok &= DemoCheck("every received packet counted exactly once",
                    Received == Device->RxPostedCount && Received == Stats.RxPosted && Received == Stats.RxIndicated &&
                        ReceivedIdSum == Device->RxPostedIdSum && g_Adapter.RxRing.Count == 0,
                    Detail);
    snprintf(Detail, sizeof(Detail), "%llu %s %llu packets, %llu %s %llu bytes",
             (unsigned long long)PerProcessorPackets,
             PerProcessorPackets == Stats.RxIndicated ? "==" : "!=", (unsigned long long)Stats.RxIndicated,
             (unsigned long long)PerProcessorBytes,
             PerProcessorBytes == Stats.RxBytes ? "==" : "!=", (unsigned long long)Stats.RxBytes);
    Ok &= DemoCheck("sum of per-processor counters == global",
                    PerProcessorPackets == Stats.RxIndicated && PerProcessorBytes == Stats.RxBytes, Detail);
    if (g_Adapter.Msix) {
        ULONG64 Elsewhere = 0;
        for (ULONG m = 0; m < DEMO_MSIX_MESSAGES; m++)
            Elsewhere += atomic_load_explicit(&g_Adapter.MessageDpcsElsewhere[m], memory_order_relaxed);
        snprintf(Detail, sizeof(Detail), "%llu DPC runs elsewhere", (unsigned long long)Elsewhere);
        Ok &= DemoCheck("each message's DPC ran on its own processor", Elsewhere == 0, Detail);
    }
    if (Run->Interrupts) {
        snprintf(Detail, sizeof(Detail), "%llu asserts failed", (unsigned long long)Run->Hw.AssertFailed);
        Ok &= DemoCheck("device stopped, DPCs drained the rings", Run->Drained && Run->Hw.AssertFailed == 0, Detail);
    }
    snprintf(Detail, sizeof(Detail), "%llu errors", (unsigned long long)ChecksumErrors);
    Ok &= DemoCheck("every payload intact", ChecksumErrors == 0, Detail);
    snprintf(Detail, sizeof(Detail), "%lu of %lu free", (unsigned long)g_Adapter.PoolFree,
             (unsigned long)g_Adapter.PoolSize);
    Ok &= DemoCheck("every buffer back in the pool", g_Adapter.PoolFree == g_Adapter.PoolSize, Detail);
    const KIRQL Irql = KeGetCurrentIrql();
    snprintf(Detail, sizeof(Detail), "IRQL %u, every thread bound %s", (unsigned)Irql, BindOk ? "as asked" : "FAILED");
    Ok &= DemoCheck("back at PASSIVE_LEVEL, threads bound", Irql == PASSIVE_LEVEL && BindOk, Detail);
    printf("totals consistent: %s\n\n", Ok ? "yes" : "NO");
    return Ok;
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    DEMO_OPTIONS Options = {3.0, 0, 0, 0, DEMO_DEFAULT_IRQ_RATE, NULL, NULL, NULL, FALSE, FALSE, 0};
    DEMO_RUN Run;
    NDIS_HANDLE AdapterHandle = NULL;
    memset(&Run, 0, sizeof(Run));
    DEMO_ATOMIC_FOR_HELGRIND(g_StopSending); /* flags shared through atomics only (tool_annotations.h) */
    DEMO_ATOMIC_FOR_HELGRIND(g_SendersDone);
    DEMO_ATOMIC_FOR_HELGRIND(g_DeviceDone);

    int Status = DemoParseArguments(argc, argv, &Options);
    if (Status >= 0) return Status;
    if (Options.Explore) return DemoExplore(Options.Bug, 1000, Options.Jobs);
    if (Options.Bug != NULL) {
        fprintf(stderr, DEMO_NAME ": --bug %s: one seeded locking mistake; the verifier's report follows\n",
                Options.Bug);
        if (NdislockVerifierGetMode() == NDISLOCK_VERIFIER_OFF)
            fprintf(stderr, DEMO_NAME ": the verifier is off (NDISLOCK_VERIFIER=off): nothing will be reported\n");
    }

    if (Options.Processors != 0) {
        NDISLOCK_STATUS Set = NdislockSetProcessorCount(Options.Processors);
        if (Set != NDISLOCK_OK) {
            fprintf(stderr, DEMO_NAME ": NdislockSetProcessorCount(%lu) failed with status %d\n",
                    (unsigned long)Options.Processors, (int)Set);
            return 2;
        }
    }
    Run.Processors = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
    if (Run.Processors == 0 || Run.Processors > NDISLOCK_MAX_PROCESSORS) {
        fprintf(stderr, DEMO_NAME ": KeQueryActiveProcessorCountEx returned %lu\n", (unsigned long)Run.Processors);
        return 1;
    }
    /* Before anything is allocated: a trace or report file that cannot be opened ends the run here. */
    if (Options.Trace != NULL && NdislockTraceStart(Options.Trace) != NDISLOCK_OK) return 2; /* said why */
    if (Options.Report != NULL && NdislockReportStart(Options.Report) != NDISLOCK_OK) {
        if (Options.Trace != NULL) NdislockTraceStop(); /* the trace file was made: leave a whole one */
        return 2;                                       /* said why */
    }
    Run.Interrupts = (BOOLEAN)(Options.IrqRate != 0);
    Run.SenderCount = Options.Senders != 0 ? Options.Senders : Run.Processors;
    Run.ReceiverCount = Run.Interrupts ? 0 : Options.Receivers != 0 ? Options.Receivers : Run.Processors;
    Run.Senders = calloc(Run.SenderCount, sizeof(SENDER));
    Run.Receivers = calloc(Run.ReceiverCount + 1, sizeof(RECEIVER));
    /* Enough buffers for full rings and every thread's batch in hand: the pool never runs dry. */
    const ULONG PoolSize = DEMO_TX_RING_SIZE + DEMO_RX_RING_SIZE + DEMO_TX_COMPLETE_BATCH + DEMO_RX_POST_BATCH +
                           Run.SenderCount + (Run.ReceiverCount + Run.Processors) * DEMO_RX_DRAIN_BATCH;
    if (Run.Senders == NULL || Run.Receivers == NULL) {
        fprintf(stderr, DEMO_NAME ": out of memory\n");
        return 1;
    }

    /* NDIS's part: MiniportInitializeEx with the device's registers (the hardware comes out of
     * reset first), which registers the interrupt. */
    DemoHwInitialize(&Run.Hw, &g_Adapter, Options.IrqRate, Run.SenderCount % Run.Processors, Options.Msix);
    DEMO_DRIVER_CONTEXT Driver = {&g_Adapter, PoolSize, Run.Processors, Run.Interrupts ? &Run.Hw.Registers : NULL,
                                  Options.Msix};
    NDIS_STATUS InitStatus = NdislockMiniportInitialize(DemoMiniportInitializeEx, &Driver, &AdapterHandle);
    if (InitStatus != NDIS_STATUS_SUCCESS) {
        fprintf(stderr, DEMO_NAME ": MiniportInitializeEx failed with status 0x%08x\n", (unsigned)InitStatus);
        return 1;
    }

    if (Run.Interrupts)
        printf(DEMO_NAME ": simulated NIC on %lu virtual processor%s, %lu send thread%s, a device ticking %lu "
                         "times/s (%s), %.4g s\n",
               (unsigned long)Run.Processors, Run.Processors == 1 ? "" : "s", (unsigned long)Run.SenderCount,
               Run.SenderCount == 1 ? "" : "s", (unsigned long)Options.IrqRate,
               Options.Msix ? "MSI-X: a message per source, ISR + DPC each" : "ISR + DPC receive", Options.Seconds);
    else
        printf(DEMO_NAME ": simulated NIC on %lu virtual processor%s, %lu send thread%s, %lu receive thread%s, "
                         "1 device thread, no interrupts, %.4g s\n",
               (unsigned long)Run.Processors, Run.Processors == 1 ? "" : "s", (unsigned long)Run.SenderCount,
               Run.SenderCount == 1 ? "" : "s", (unsigned long)Run.ReceiverCount, Run.ReceiverCount == 1 ? "" : "s",
               Options.Seconds);
    fflush(stdout);

    NdislockBindCurrentThread(0); /* the main thread only queries statistics */
    NdislockStatsEnable(TRUE, 0);
    const sigset_t Previous = DemoCatchInterrupt();
    if (!DemoStartThreads(&Run)) exit(1); /* threads already running cannot be stopped cleanly */
    pthread_sigmask(SIG_SETMASK, &Previous, NULL);

    DemoShowProgress(Run.Start, Options.Seconds);
    if (g_Interrupted) fprintf(stderr, DEMO_NAME ": interrupted, stopping early\n");
    DemoStopThreads(&Run);

    const BOOLEAN Ok = DemoReport(&Run);
    if (Run.Interrupts) {
        DemoPrintInterruptTable(stdout, &Run.InterruptStats, Run.InterruptSeconds,
                                g_Adapter.Msix ? DEMO_MSIX_MESSAGES : 0);
        printf("\n");
    }
    DemoPrintLockTable(stdout, 0);
    NdislockStatsEnable(FALSE, 0);

    /* NDIS's part again: MiniportHaltEx deregisters the interrupt and frees the adapter. */
    NdislockMiniportHalt(AdapterHandle, DemoMiniportHaltEx, &g_Adapter);
    if (Options.Trace != NULL) {
        if (NdislockTraceStop() != NDISLOCK_OK) return 1;
        printf(DEMO_NAME ": timeline written to %s (open it in ui.perfetto.dev)\n", Options.Trace);
    }
    if (Options.Report != NULL) {
        if (NdislockReportStop() != NDISLOCK_OK) return 1;
        printf(DEMO_NAME ": report written to %s (open it in a browser)\n", Options.Report);
    }
    free(Run.Senders);
    free(Run.Receivers);
    if (Options.Bug != NULL && NdislockVerifierFindingCount() != 0) {
        /* Errors make the verifier end the process with its own status (86) after this returns;
         * a warning alone leaves the status to the program, which says so here. */
        fprintf(stderr, DEMO_NAME ": --bug %s: the verifier reported %lu finding(s), %lu error(s)\n", Options.Bug,
                (unsigned long)NdislockVerifierFindingCount(), (unsigned long)NdislockVerifierErrorCount());
        return 1;
    }
    return Ok ? 0 : 1;
}
