// User-mode contexts (platform/fiber.h) and the thread state that follows them
// (platform/context_local.h): what the explorer's fiber mode rests on.
#include <gtest/gtest.h>

#include <pthread.h>

#include "platform/clock.h"
#include "platform/context_local.h"
#include "platform/fiber.h"
#include "platform/own_time.h"

namespace {

using ndislock::platform::ContextLocals;
using ndislock::platform::Fiber;

struct Counted {
    int value;
    const void *marks[3];
};
thread_local Counted t_counted;
NDISLOCK_CONTEXT_LOCAL(t_counted);

int g_destroyed = 0;
void destroy(void *value) { g_destroyed += *static_cast<int *>(value); }

struct Pair {
    Fiber main, child;
    ContextLocals main_locals, child_locals;
    pthread_key_t key{};
    int key_value = 5;
    int seen_at_start = -1;
    int seen_after_switch = -1;
    bool key_empty_at_start = false;
};

void switch_between(ContextLocals &out, const ContextLocals &in, Fiber &from, Fiber &to) {
    ContextLocals::switch_locals(out, in);
    Fiber::switch_to(from, to);
}

void child_main(void *argument) {
    Pair &p = *static_cast<Pair *>(argument);
    p.seen_at_start = t_counted.value; // a new thread's value, not the main context's
    p.key_empty_at_start = pthread_getspecific(p.key) == nullptr;
    t_counted.value = 20;
    pthread_setspecific(p.key, &p.key_value);
    switch_between(p.child_locals, p.main_locals, p.child, p.main);
    p.seen_after_switch = t_counted.value; // its own again
    ContextLocals::end_live();             // its key value's destructor runs, as at a thread's end
    ContextLocals::switch_locals(p.child_locals, p.main_locals);
    Fiber::exit_to(p.child, p.main);
}

TEST(Fiber, ContextLocalStateFollowsTheFiber) {
    if (!ndislock::platform::kFibers) GTEST_SKIP() << "no fibers on this target";
    Pair p;
    ASSERT_EQ(pthread_key_create(&p.key, destroy), 0);
    ndislock::platform::register_context_key(p.key, destroy);
    p.main.adopt_current();
    ASSERT_TRUE(p.main_locals.fresh());
    ASSERT_TRUE(p.child_locals.fresh());
    ASSERT_TRUE(p.child.create(child_main, &p, 1 << 16));
    int main_key_value = 1;
    pthread_setspecific(p.key, &main_key_value);
    t_counted.value = 10;

    switch_between(p.main_locals, p.child_locals, p.main, p.child);
    EXPECT_EQ(p.seen_at_start, 0);
    EXPECT_TRUE(p.key_empty_at_start);
    EXPECT_EQ(t_counted.value, 10); // the main context's own, restored
    EXPECT_EQ(pthread_getspecific(p.key), &main_key_value);

    // The OS thread's CPU clock ran for the child meanwhile: not the main context's own time.
    const ndislock::platform::OwnTimeStamp before = ndislock::platform::own_time_now();
    std::uint64_t blocked_before = 0, preempted = 0;
    ndislock::platform::thread_switches(&blocked_before, &preempted);
    t_counted.value = 11;
    switch_between(p.main_locals, p.child_locals, p.main, p.child); // the child ends
    EXPECT_EQ(ndislock::platform::own_time_since(before), ndislock::platform::kDescheduled);
    std::uint64_t blocked_after = 0;
    ndislock::platform::thread_switches(&blocked_after, &preempted);
    EXPECT_GE(blocked_after, blocked_before + 2);
    EXPECT_EQ(p.seen_after_switch, 20);
    EXPECT_EQ(g_destroyed, 5);
    EXPECT_EQ(t_counted.value, 11);
    EXPECT_EQ(pthread_getspecific(p.key), &main_key_value);
    pthread_setspecific(p.key, nullptr);
}

} // namespace
