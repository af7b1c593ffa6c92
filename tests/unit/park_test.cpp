// The one parking primitive (lock/park.h): what a park returns, and that an unpark wakes it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

#include "lock/park.h"
#include "lock/wait_observer.h"
#include "model/thread_state.h"
#include "test_support.h"

using ndislock::lock::park;
using ndislock::lock::ParkResult;
using ndislock::lock::unpark_all;
using ndislock::lock::unpark_one;

namespace {
constexpr std::uint64_t kLong = 60'000'000'000; // never reached: a test that hangs fails by its Watchdog

// Whether Linux reports thread tid of this process asleep (state S in /proc/self/task/TID/stat).
bool asleep(int tid) {
    std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const std::size_t name_end = line.rfind(')'); // the state follows the command name, ") S ..."
    return name_end != std::string::npos && name_end + 2 < line.size() && line[name_end + 2] == 'S';
}
} // namespace

TEST(Park, ValidationThatSaysNoNeverSleeps) {
    std::atomic<std::uint32_t> word{7};
    int calls = 0;
    const auto no = [](const void *c) {
        ++*static_cast<int *>(const_cast<void *>(c));
        return false;
    };
    ndislock_test::Watchdog dog("a refused park");
    EXPECT_EQ(park(&word, 7, kLong, no, &calls), ParkResult::Invalid);
    EXPECT_EQ(calls, 1);
}

TEST(Park, AWordThatNoLongerHoldsTheExpectedValueReturnsAtOnce) {
    std::atomic<std::uint32_t> word{1};
    ndislock_test::Watchdog dog("a stale park");
    EXPECT_EQ(park(&word, 0, kLong), ParkResult::Unparked);
}

TEST(Park, TimesOut) {
    std::atomic<std::uint32_t> word{0};
    ndislock_test::Watchdog dog("a timed park");
    // A timed-out park says so; a spurious wake-up says Unparked and the caller re-checks.
    ParkResult r;
    do
        r = park(&word, 0, 1'000'000);
    while (r == ParkResult::Unparked);
    EXPECT_EQ(r, ParkResult::TimedOut);
}

TEST(Park, UnparkWakesAParkedThread) {
    for (const bool all : {false, true}) {
        std::atomic<std::uint32_t> word{0};
        std::atomic<bool> woken{false};
        ndislock_test::Watchdog dog("a park never unparked");
        std::thread waiter([&] {
            while (word.load() == 0)
                park(&word, 0, kLong);
            woken = true;
        });
        word.store(1);
        if (all)
            unpark_all(&word);
        else
            unpark_one(&word);
        waiter.join();
        EXPECT_TRUE(woken.load());
    }
}

// unpark_one wakes one parked thread, not every one: with two parked on the same word, the first
// unpark_one lets exactly one return (the other is still parked once that one has returned and
// ended), and the second unpark_one wakes the other. The word never changes: only the unparks end
// the parks (each waiter parks once and returns, whatever woke it).
TEST(Park, UnparkOneWakesOne) {
    ndislock_test::Watchdog dog("two parks, two unpark_one");
    std::atomic<std::uint32_t> word{0};
    std::atomic<ndislock::model::ThreadState *> states[2] = {nullptr, nullptr};
    std::atomic<bool> returned[2] = {false, false};
    std::thread waiters[2];
    for (int i = 0; i < 2; ++i)
        waiters[i] = std::thread([&, i] {
            states[i].store(&ndislock::model::current_thread());
            park(&word, 0, kLong);
            returned[i] = true;
        });
    // Parked, and asleep in the kernel: an unpark before the futex wait would be lost (the word
    // does not change here, as a real waker's would first).
    const auto parked = [&](int i) {
        const ndislock::model::ThreadState *t = states[i].load();
        return t != nullptr && t->wait.parked_on.load() == &word && asleep(t->os_tid.load());
    };
    while (!parked(0) || !parked(1))
        std::this_thread::yield();
    unpark_one(&word);
    while (!returned[0] && !returned[1])
        std::this_thread::yield();
    const int first = returned[0] ? 0 : 1, other = 1 - first;
    waiters[first].join();
    EXPECT_FALSE(returned[other].load()) << "one unpark_one woke both";
    EXPECT_TRUE(parked(other)) << "the other waiter is no longer parked";
    unpark_one(&word);
    waiters[other].join();
    EXPECT_TRUE(returned[other].load());
}

// The registry the watchdog reads (lock/wait_observer.h): a registered thread's record says where
// it is parked while it is, and what it waits for while a WaitScope is open.
TEST(Park, AParkedThreadIsSeenInItsWaitRecord) {
    std::atomic<std::uint32_t> word{0};
    std::atomic<ndislock::model::ThreadState *> state{nullptr};
    ndislock_test::Watchdog dog("a park never seen or never unparked");
    std::thread waiter([&] {
        ndislock::model::ThreadState &t = ndislock::model::current_thread();
        state.store(&t);
        const ndislock::lock::WaitScope wait(ndislock::lock::WaitKind::SpinLock, &word);
        while (word.load() == 0)
            park(&word, 0, kLong);
    });
    while (state.load() == nullptr || state.load()->wait.parked_on.load() != &word)
        std::this_thread::yield();
    ndislock::lock::WaitRecord &record = state.load()->wait;
    EXPECT_EQ(record.kind.load(), ndislock::lock::WaitKind::SpinLock);
    EXPECT_EQ(record.object.load(), &word);
    EXPECT_NE(record.since_ns.load(), 0u);
    word.store(1);
    unpark_all(&word);
    waiter.join();
}

TEST(Park, TheRecordIsClearedWhenTheWaitEnds) {
    ndislock::model::ThreadState &t = ndislock::model::current_thread();
    std::atomic<std::uint32_t> word{1};
    {
        const ndislock::lock::WaitScope wait(ndislock::lock::WaitKind::Processor, &word);
        EXPECT_EQ(t.wait.kind.load(), ndislock::lock::WaitKind::Processor);
        park(&word, 0, kLong); // the word is not 0: returns at once
        EXPECT_EQ(t.wait.parked_on.load(), nullptr);
    }
    EXPECT_EQ(t.wait.kind.load(), ndislock::lock::WaitKind::None);
    EXPECT_EQ(t.wait.object.load(), nullptr);
}
