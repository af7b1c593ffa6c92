// Shared helpers for the unit tests: bounded threads (a hang fails the test, it never stalls CI)
// and small synchronisation aids.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ndislock/ndis.h"

namespace ndislock_test {

// Ends the process with a message if not destroyed within the limit: a thread test that hangs
// fails loudly instead of stalling CI.
class Watchdog {
public:
    Watchdog(const char *what, std::chrono::seconds limit = std::chrono::seconds(60)) : what_(what) {
        thread_ = std::thread([this, limit] {
            std::unique_lock<std::mutex> lock(mutex_);
            if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
                std::fprintf(stderr, "WATCHDOG: '%s' did not finish within %lld s: a hang\n", what_,
                             static_cast<long long>(limit.count()));
                std::fflush(stderr);
                std::_Exit(3);
            }
        });
    }
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

private:
    const char *what_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

// Runs body(i) on n threads at once (started together) and joins them, under a watchdog.
inline void run_threads(int n, const std::function<void(int)> &body, const char *what = "threads",
                        std::chrono::seconds limit = std::chrono::seconds(120)) {
    Watchdog dog(what, limit);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            ready.fetch_add(1);
            while (ready.load() < n)
                std::this_thread::yield();
            body(i);
        });
    for (auto &t : threads)
        t.join();
}

// Waits (bounded) until pred() holds; false on timeout.
inline bool eventually(const std::function<bool()> &pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

// A one-shot flag threads can wait on (bounded by the caller's watchdog).
class Flag {
public:
    void set() { value_.store(true, std::memory_order_release); }
    bool is_set() const { return value_.load(std::memory_order_acquire); }
    void wait() const {
        while (!is_set())
            std::this_thread::yield();
    }

private:
    std::atomic<bool> value_{false};
};

inline KSPIN_LOCK word(const KSPIN_LOCK &lock) { return __atomic_load_n(&lock, __ATOMIC_ACQUIRE); }

// Every test starts and must end at PASSIVE_LEVEL on a known processor count.
class ModelTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL); }
    void TearDown() override { EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL) << "test left the IRQL raised"; }
};

} // namespace ndislock_test
