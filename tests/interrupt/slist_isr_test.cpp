// A sequenced list shared by an ISR and a thread without a spin lock, as drivers share their
// free lists with MiniportInterrupt (ndislock/wdk_slist.h): the ISR pops a buffer and pushes it
// back while the thread pushes and pops on the interrupted processor and another one. Every
// buffer is on the list exactly once at the end, and no operation was torn by an interrupt.
#include <atomic>
#include <thread>
#include <vector>

#include "interrupt_support.h"
#include "ndislock/wdk.h"

using namespace ndislock_test;

namespace {

struct Buffer {
    SLIST_ENTRY link;
    int id;
};

TEST(SListFromIsr, AnIsrAndThreadsShareOneListWithoutALock) {
    Watchdog dog("slist from isr", std::chrono::seconds(120));
    ASSERT_EQ(set_processor_count(2), NDISLOCK_OK);
    constexpr int kBuffers = 64, kRounds = 20'000;
    static SLIST_HEADER free_list;
    InitializeSListHead(&free_list);
    std::vector<Buffer> buffers(kBuffers);
    for (int i = 0; i < kBuffers; ++i) {
        buffers[i].id = i;
        InterlockedPushEntrySList(&free_list, &buffers[i].link);
    }
    std::atomic<int> isr_cycles{0};
    TestDevice d;
    d.isr = [&](TestDevice &, PBOOLEAN queue_dpc, PULONG) {
        if (PSLIST_ENTRY e = InterlockedPopEntrySList(&free_list)) { // at DIRQL, no lock
            InterlockedPushEntrySList(&free_list, e);
            isr_cycles.fetch_add(1);
        }
        *queue_dpc = FALSE;
        return TRUE;
    };
    d.start();
    std::atomic<bool> stop{false};
    std::vector<std::thread> users;
    for (ULONG p = 0; p < 2; ++p)
        users.emplace_back([&, p] {
            NdislockBindCurrentThread(p);
            for (int i = 0; i < kRounds && !stop.load(std::memory_order_relaxed); ++i)
                if (PSLIST_ENTRY e = InterlockedPopEntrySList(&free_list)) InterlockedPushEntrySList(&free_list, e);
        });
    for (int i = 0; i < 2'000; ++i)
        NdislockAssertInterrupt(d.interrupt, static_cast<ULONG>(i % 2));
    for (std::thread &t : users)
        t.join();
    ASSERT_TRUE(eventually([&] {
        const NDISLOCK_INTERRUPT_STATS s = d.stats();
        return s.Delivered == s.Asserted - s.Coalesced;
    }));
    d.halt();
    std::vector<int> on_list(kBuffers, 0);
    int count = 0;
    for (PSLIST_ENTRY e = InterlockedFlushSList(&free_list); e != nullptr; e = e->Next, ++count)
        ++on_list[CONTAINING_RECORD(e, Buffer, link)->id];
    EXPECT_EQ(count, kBuffers);
    for (int i = 0; i < kBuffers; ++i)
        EXPECT_EQ(on_list[i], 1) << "buffer " << i;
    EXPECT_GT(isr_cycles.load(), 0) << "the ISR used the list";
}

} // namespace
