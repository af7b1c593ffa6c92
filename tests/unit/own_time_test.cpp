// Own time (platform/own_time.h): an interval in which the thread took a page fault is not its
// own time, as one it was descheduled in is not; an interval without either is.
#include <cstddef>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "platform/own_time.h"
#include "platform/sanitizer.h"

namespace {

using ndislock::platform::kDescheduled;
using ndislock::platform::own_time_now;
using ndislock::platform::own_time_since;
using ndislock::platform::OwnTimeStamp;

class FreshPages {
public:
    explicit FreshPages(int count) : size_(static_cast<std::size_t>(count) * page()) {
        void *p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        base_ = p == MAP_FAILED ? nullptr : static_cast<char *>(p);
    }
    ~FreshPages() {
        if (base_ != nullptr) munmap(base_, size_);
    }
    FreshPages(const FreshPages &) = delete;
    FreshPages &operator=(const FreshPages &) = delete;
    static std::size_t page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }
    void touch_all() {
        for (std::size_t at = 0; at < size_; at += page())
            static_cast<volatile char *>(base_)[at] = static_cast<char>(at / page() + 1);
    }
    bool ok() const { return base_ != nullptr; }

private:
    std::size_t size_;
    char *base_ = nullptr;
};

TEST(OwnTime, AnIntervalWithAPageFaultIsNotTheThreadsOwn) {
    FreshPages fresh(16);
    ASSERT_TRUE(fresh.ok());
    if (NDISLOCK_TSAN) GTEST_SKIP() << "under ThreadSanitizer faults are not watched (platform/own_time.h)";
    const OwnTimeStamp before = own_time_now();
    if (before.exact_clock) GTEST_SKIP() << "no perf events here: own time is the thread's CPU clock";
    fresh.touch_all(); // 16 first touches: 16 page faults
    EXPECT_EQ(own_time_since(before), kDescheduled);
}

TEST(OwnTime, AnIntervalWithoutFaultsOrSwitchesIsTimed) {
    FreshPages touched(16);
    ASSERT_TRUE(touched.ok());
    touched.touch_all();
    if (own_time_now().exact_clock) GTEST_SKIP() << "no perf events here: own time is the thread's CPU clock";
    // The same pages again: no fault. The OS may still deschedule the thread in any one
    // interval; in 1,000 tries at least one runs through.
    int timed = 0;
    for (int i = 0; i < 1'000 && timed == 0; ++i) {
        const OwnTimeStamp before = own_time_now();
        touched.touch_all();
        timed += own_time_since(before) != kDescheduled;
    }
    EXPECT_GT(timed, 0);
}

} // namespace
