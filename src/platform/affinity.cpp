#include "platform/affinity.h"

#include <pthread.h>

namespace ndislock::platform {

PinnedToCurrentCpu::PinnedToCurrentCpu() noexcept {
    CPU_ZERO(&saved_);
    if (pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_) != 0) return;
    const int here = sched_getcpu();
    if (here < 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(here, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0) cpu_ = here;
}

PinnedToCurrentCpu::~PinnedToCurrentCpu() {
    if (cpu_ >= 0) pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_);
}

void pin_current_thread(int cpu) noexcept {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
}

int nth_allowed_cpu(unsigned n) noexcept {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed) != 0) return -1;
    const int count = CPU_COUNT(&allowed);
    if (count <= 0) return -1;
    int wanted = static_cast<int>(n % static_cast<unsigned>(count));
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &allowed) && wanted-- == 0) return cpu;
    return -1;
}

} // namespace ndislock::platform
