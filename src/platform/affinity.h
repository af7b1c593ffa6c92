// The host CPUs a thread may run on (sched_setaffinity), for the exploration's scheduler
// (src/explore): its threads run one at a time, so it keeps them all on one CPU, where handing the
// baton from one to the next is a switch on that CPU instead of a wake-up of another, possibly
// idle, one (docs/explore.md, "Speed"). Nothing to do with the virtual processors of the model.
#pragma once

#include <sched.h>

namespace ndislock::platform {

// While it lives, the calling thread runs only on the CPU it was on when it was made, and under
// SCHED_BATCH (as batch_current_thread); its affinity and policy before are put back when it ends.
// cpu() is that CPU, or -1 if the kernel refused (a restricted container): then the affinity was
// not changed.
class PinnedToCurrentCpu {
public:
    PinnedToCurrentCpu() noexcept;
    ~PinnedToCurrentCpu();
    PinnedToCurrentCpu(const PinnedToCurrentCpu &) = delete;
    PinnedToCurrentCpu &operator=(const PinnedToCurrentCpu &) = delete;
    int cpu() const noexcept { return cpu_; }

private:
    cpu_set_t saved_;
    int cpu_ = -1;
    int saved_policy_ = -1; // SCHED_OTHER when it was switched to SCHED_BATCH, else -1
};

// Puts the calling thread under SCHED_BATCH if it runs under SCHED_OTHER (no privilege needed):
// a thread it wakes then never preempts it on the spot (the kernel's wake-up preemption is off for
// batch threads), so a hand-off between two threads of one CPU, a wake then a wait, is one context
// switch, at the wait, instead of two (the woken thread preempting the waker at the wake's return,
// then the waker coming back only to wait). False if the kernel refused.
bool batch_current_thread() noexcept;

// Runs the calling thread only on cpu (no effect for cpu < 0 or if the kernel refuses).
void pin_current_thread(int cpu) noexcept;
// The n-th CPU (modulo their count) of the calling thread's allowed set, or -1: spreads the
// exploration's forked jobs over the CPUs, one each.
int nth_allowed_cpu(unsigned n) noexcept;

} // namespace ndislock::platform
