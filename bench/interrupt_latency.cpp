// Interrupt delivery latency (assert to ISR entry) and DPC latency (queue to DPC entry), each as
// percentiles and as a ratio to the floor any cross-thread hand-off pays on this machine: a futex
// wake of a sleeping thread, measured in the same run.
//
//   build/bench/bench/ndislock-bench-interrupts [rounds]      (default 20000 per case)
//
// Cases (4 virtual processors; processor 1 is the target):
//   idle        nothing runs on processor 1: the ISR thread takes it
//   preempting  a thread holds processor 1 at DISPATCH_LEVEL in a loop: it is stopped (signal)
//   masked      a thread on processor 1 raises to DIRQL for ~20 us at a time: the interrupt waits
//               for the IRQL to drop (latency includes that wait by design)
// and DPC latency: the ISR queues its DPC on processor 1, idle or busy at DISPATCH_LEVEL.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "ndislock/device.h" // the simulated device that asserts the interrupts
#include "ndislock/ndis.h"
#include "ndislock/verifier.h"

namespace {

std::uint64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

struct Percentiles {
    double p50, p99;
};
Percentiles percentiles(std::vector<std::uint64_t> v) {
    std::sort(v.begin(), v.end());
    return {double(v[v.size() / 2]), double(v[v.size() * 99 / 100])};
}

// The floor: thread A stamps the time and futex-wakes sleeping thread B, which stamps on waking.
Percentiles futex_wake_latency(int rounds) {
    std::atomic<std::uint32_t> word{0};
    std::atomic<std::uint64_t> stamp{0};
    std::vector<std::uint64_t> samples;
    samples.reserve(rounds);
    std::atomic<bool> asleep{false};
    std::thread b([&] {
        for (int i = 0; i < rounds; ++i) {
            asleep = true;
            while (word.load() == std::uint32_t(i * 2))
                syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, std::uint32_t(i * 2), nullptr, nullptr, 0);
            samples.push_back(now_ns() - stamp.load());
            word.store(std::uint32_t(i * 2 + 2));
        }
    });
    for (int i = 0; i < rounds; ++i) {
        while (!asleep.exchange(false))
            std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::microseconds(20)); // let B block in the futex
        stamp = now_ns();
        word.store(std::uint32_t(i * 2 + 1));
        syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
        while (word.load() != std::uint32_t(i * 2 + 2))
            std::this_thread::yield();
    }
    b.join();
    return percentiles(samples);
}

struct Device {
    NDIS_HANDLE adapter = nullptr, interrupt = nullptr;
    std::atomic<int> dpcs{0};
    static BOOLEAN Isr(NDIS_HANDLE, PBOOLEAN queue, PULONG) {
        *queue = TRUE;
        return TRUE;
    }
    static VOID Dpc(NDIS_HANDLE context, PVOID, PVOID, PVOID) { static_cast<Device *>(context)->dpcs.fetch_add(1); }
    static NDIS_STATUS Initialize(NDIS_HANDLE adapter, NDIS_HANDLE context, PNDIS_MINIPORT_INIT_PARAMETERS) {
        auto *d = static_cast<Device *>(context);
        NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS c{};
        c.Header = {NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT, NDIS_MINIPORT_INTERRUPT_REVISION_1,
                    NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1};
        c.InterruptHandler = Isr;
        c.InterruptDpcHandler = Dpc;
        c.InterruptType = NDIS_CONNECT_LINE_BASED;
        return NdisMRegisterInterruptEx(adapter, d, &c, &d->interrupt);
    }
    static VOID Halt(NDIS_HANDLE context, NDIS_HALT_ACTION) {
        NdisMDeregisterInterruptEx(static_cast<Device *>(context)->interrupt);
    }
};

enum class Load { Idle, Dispatch, Masked };

void run_case(const char *name, Load load, int rounds, double floor_p50, double floor_p99) {
    Device d;
    if (NdislockMiniportInitialize(Device::Initialize, &d, &d.adapter) != NDIS_STATUS_SUCCESS) std::abort();
    std::atomic<bool> stop{false};
    std::thread busy;
    if (load != Load::Idle)
        busy = std::thread([&] {
            NdislockBindCurrentThread(1);
            while (!stop.load(std::memory_order_relaxed)) {
                KIRQL old;
                KeRaiseIrql(load == Load::Dispatch ? DISPATCH_LEVEL : NDISLOCK_DEVICE_IRQL, &old);
                const std::uint64_t until = now_ns() + 20'000;
                while (now_ns() < until) {
                }
                KeLowerIrql(old);
                if (load == Load::Masked) std::this_thread::sleep_for(std::chrono::microseconds(20));
            }
        });
    NdislockBindCurrentThread(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int i = 0; i < rounds; ++i) {
        const int before = d.dpcs.load();
        NdislockAssertInterrupt(d.interrupt, 1);
        while (d.dpcs.load() == before)
            std::this_thread::sleep_for(std::chrono::microseconds(20)); // frees the core
    }
    NDISLOCK_INTERRUPT_STATS s{};
    NdislockGetInterruptStats(d.interrupt, &s);
    stop = true;
    if (busy.joinable()) busy.join();
    NdislockMiniportHalt(d.adapter, Device::Halt, &d);
    std::printf("%-12s delivery p50 %7.1f us (%5.1fx the futex wake)  p99 %8.1f us (%5.1fx)   "
                "DPC p50 %7.1f us (%5.1fx)  p99 %8.1f us (%5.1fx)   preempting %llu, held pending %llu\n",
                name, s.DeliveryLatency.P50Ns / 1e3, s.DeliveryLatency.P50Ns / floor_p50, s.DeliveryLatency.P99Ns / 1e3,
                s.DeliveryLatency.P99Ns / floor_p99, s.DpcLatency.P50Ns / 1e3, s.DpcLatency.P50Ns / floor_p50,
                s.DpcLatency.P99Ns / 1e3, s.DpcLatency.P99Ns / floor_p99, static_cast<unsigned long long>(s.Preempted),
                static_cast<unsigned long long>(s.HeldPending));
}

} // namespace

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 20'000;
    NdislockVerifierSetMode(NDISLOCK_VERIFIER_OFF);
    NdislockSetProcessorCount(4);
    const Percentiles floor = futex_wake_latency(rounds);
    std::printf("floor: futex wake of a sleeping thread p50 %.1f us, p99 %.1f us (%d rounds, %u cores)\n",
                floor.p50 / 1e3, floor.p99 / 1e3, rounds, std::thread::hardware_concurrency());
    run_case("idle", Load::Idle, rounds, floor.p50, floor.p99);
    run_case("preempting", Load::Dispatch, rounds, floor.p50, floor.p99);
    run_case("masked", Load::Masked, rounds / 4, floor.p50, floor.p99);
    return 0;
}
