#include "model/preemption.h"

#include <cerrno>
#include <csignal>
#include <execinfo.h>
#include <mutex>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "model/processors.h"
#include "platform/diagnostics.h"
#include "lock/park.h"

namespace ndislock::model {

namespace {

const void *interrupted_pc(void *context) noexcept {
#if defined(__x86_64__)
    return reinterpret_cast<const void *>(static_cast<ucontext_t *>(context)->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
    return reinterpret_cast<const void *>(static_cast<ucontext_t *>(context)->uc_mcontext.pc);
#else
    (void)context;
    return nullptr;
#endif
}

void on_preempt_signal(int, siginfo_t *, void *context) {
    ThreadState *t = tls_thread;
    if (t == nullptr) return;
    t->preemption.signals.store(t->preemption.signals.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const int saved = errno;
    stop_if_requested(*t, interrupted_pc(context));
    errno = saved;
}

// Waits (stopped) until the interrupter releases request, answering stack-dump requests.
void wait_for_release(ThreadState &t, std::uint32_t request) noexcept {
    for (;;) {
        // Released, or a later request was taken and released by a nested stop (a signal that
        // arrived while this thread waited here): requests are released in order.
        const std::uint32_t released = t.preemption.release.load(std::memory_order_acquire);
        if (static_cast<std::int32_t>(released - request) >= 0) return;
        const std::uint32_t dump = t.dump.request.load(std::memory_order_acquire);
        if (dump != t.dump.done.load(std::memory_order_relaxed)) {
            t.dump.depth = backtrace(t.dump.frames, static_cast<int>(sizeof t.dump.frames / sizeof t.dump.frames[0]));
            t.dump.done.store(dump, std::memory_order_release);
            lock::unpark_one(&t.dump.done);
            continue;
        }
        // Both words are waited on by parking on one: the interrupter bumps preemption.release or
        // dump.request and wakes this one.
        lock::park(&t.preemption.release, released, 100'000'000);
    }
}

} // namespace

// A real-time signal: queued, never merged with the application's ordinary signals. SIGRTMIN is
// computed at run time (glibc keeps the first ones for itself).
int preempt_signal() noexcept { return SIGRTMIN + 7; }

void install_preemption() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        void *warm[2];
        backtrace(warm, 2); // loads the unwinder now, not in a signal handler later
        struct sigaction action {};
        action.sa_sigaction = on_preempt_signal;
        action.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&action.sa_mask);
        if (sigaction(preempt_signal(), &action, nullptr) != 0)
            platform::fatal("cannot install the interrupt signal handler (signal %d)", preempt_signal());
    });
}

void stop_if_requested(ThreadState &t, const void *pc) noexcept {
    const std::uint32_t request = t.preemption.request.load(std::memory_order_acquire);
    if (request == t.preemption.ack.load(std::memory_order_relaxed)) return;
    if (t.preemption.no_preempt.load(std::memory_order_relaxed) != 0) return; // taken when ndislock's code ends
    const KIRQL irql = t.irql().load(std::memory_order_relaxed);
    if (irql >= t.preemption.level.load(std::memory_order_relaxed)) return; // masked: taken at the IRQL drop
    t.preemption.stopped_at.store(pc, std::memory_order_relaxed);
    t.preemption.stopped_irql.store(irql, std::memory_order_relaxed);
    t.preemption.ack.store(request, std::memory_order_release);
    lock::unpark_one(&t.preemption.ack);
    wait_for_release(t, request);
    t.preemption.stopped_at.store(nullptr, std::memory_order_relaxed);
}

Preempt stop_owner(ThreadState &target, std::uint32_t target_id, std::uint32_t processor, KIRQL level,
                   std::uint32_t *seq, bool *waited_for_irql) noexcept {
    const std::uint32_t request = target.preemption.request.load(std::memory_order_relaxed) + 1;
    target.preemption.level.store(level, std::memory_order_relaxed);
    target.preemption.request.store(request, std::memory_order_release);
    syscall(SYS_tgkill, getpid(), target.os_tid.load(std::memory_order_relaxed), preempt_signal());
    for (;;) {
        const std::uint32_t ack = target.preemption.ack.load(std::memory_order_acquire);
        if (ack == request) break;
        if (processor_owner(processor) != target_id) {
            // It left the processor first: withdraw (a late signal then finds the request released).
            target.preemption.release.store(request, std::memory_order_release);
            lock::unpark_one(&target.preemption.release);
            return Preempt::NotOwner;
        }
        if (target.irql().load(std::memory_order_relaxed) >= level) *waited_for_irql = true;
        lock::park(&target.preemption.ack, ack, 200'000);
    }
    if (processor_owner(processor) != target_id) {
        resume(target, request);
        return Preempt::NotOwner;
    }
    *seq = request;
    return Preempt::Stopped;
}

void resume(ThreadState &target, std::uint32_t seq) noexcept {
    target.preemption.release.store(seq, std::memory_order_release);
    lock::unpark_one(&target.preemption.release);
}

int stopped_stack(ThreadState &target, void **frames, int max) noexcept {
    const std::uint32_t request = target.dump.request.load(std::memory_order_relaxed) + 1;
    target.dump.request.store(request, std::memory_order_release);
    lock::unpark_one(&target.preemption.release);
    for (int i = 0; i < 20 && target.dump.done.load(std::memory_order_acquire) != request; ++i)
        lock::park(&target.dump.done, target.dump.done.load(std::memory_order_relaxed), 10'000'000);
    if (target.dump.done.load(std::memory_order_acquire) != request) return 0;
    const int n = target.dump.depth < max ? target.dump.depth : max;
    for (int i = 0; i < n; ++i)
        frames[i] = target.dump.frames[i];
    return n;
}

} // namespace ndislock::model
