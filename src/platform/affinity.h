// The host CPUs a thread may run on (sched_setaffinity), for the exploration's scheduler
// (src/explore) in OS-thread mode: its threads run one at a time, so it keeps them all on one CPU, where handing the
// baton from one to the next is a switch on that CPU instead of a wake-up of another, possibly
// idle, one (docs/explore.md, "Contexts: fibers or OS threads"). Nothing to do with the virtual processors of the
// model.
#pragma once

#include <sched.h>

namespace ndislock::platform {

// While it lives, the calling thread runs only on the CPU it was on when it was made; its
// affinity before is put back when it ends. cpu() is that CPU, or -1 if the kernel refused (a
// restricted container): then nothing was changed.
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
};

// Runs the calling thread only on cpu (no effect for cpu < 0 or if the kernel refuses).
void pin_current_thread(int cpu) noexcept;
// The n-th CPU (modulo their count) of the calling thread's allowed set, or -1: spreads the
// exploration's forked jobs over the CPUs, one each.
int nth_allowed_cpu(unsigned n) noexcept;

} // namespace ndislock::platform
