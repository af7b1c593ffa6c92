// A thread's part of the execution model: its IRQL, its virtual processor, what it waits on.
//
// Each thread that calls into ndislock gets one ThreadState on its first call (registered, given
// a small id and a processor), reached afterwards through one initial-exec TLS pointer, which is
// also safe to read from a signal handler. It is unregistered when the thread ends.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lock/wait_observer.h"
#include "ndislock/detail/fast_layout.h"
#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

namespace ndislock::model {

// Live threads at once; an id is reused after its thread ends.
inline constexpr std::uint32_t kMaxThreads = 8192;

// What a waiting thread waits for, for reports of waits that never end.
using lock::WaitKind;

// Entries of ThreadState::observer_data.
inline constexpr unsigned kThreadDataSlots = 4;

// What a thread's state holds, by layer. The model's hot head comes first, alone on its cache
// line: the fields the lock and IRQL fast path reads (the inline path of ndislock/fast_path.h reads
// its first member, the C struct of ndislock/detail/fast_layout.h). The extensions follow, each a
// struct of its own layer's fields, starting on the next line, so that an interrupter's or a
// watchdog's writes to them never share a line with the head.

// The preemption handshake (model/preemption.h) and what it leaves for reports.
struct ThreadPreemption {
    // Nonzero while this thread runs ndislock's own bookkeeping (observers, internal queues):
    // an interrupt then waits until it is done, so an ISR never finds a library lock held.
    std::atomic<std::uint32_t> no_preempt{0};
    // An interrupt thread that wants to run an ISR over this thread posts a sequence number in
    // request (with the interrupt's DIRQL in level) and signals it; this thread stops, answers
    // with ack = request, and waits until release == request.
    std::atomic<std::uint32_t> request{0};
    std::atomic<KIRQL> level{0};
    std::atomic<std::uint32_t> ack{0};
    std::atomic<std::uint32_t> release{0};
    // Interrupt signals this thread's handler took, whether it stopped for them or not: the
    // long-hold heartbeat counts no stretch of a hold in which one arrived (their delivery is
    // kernel time charged to the thread, no driver code).
    std::atomic<std::uint32_t> signals{0};
    // While stopped: where and at what IRQL; and the id of the interrupt thread running over it.
    std::atomic<const void *> stopped_at{nullptr};
    std::atomic<KIRQL> stopped_irql{0};
    std::atomic<std::uint32_t> preempted_by{0};
    // The id of the thread this one interrupted (an ISR thread while it runs an ISR), or 0.
    std::atomic<std::uint32_t> interrupting{0};
};

// The driver routine ndislock is running on this thread, if any (interrupt/callback_scope.h).
struct ThreadCallback {
    std::atomic<std::uint8_t> kind{0};         // observe::Callback
    std::atomic<const void *> object{nullptr}; // its interrupt handle or KDPC
    std::atomic<const void *> routine{nullptr};
    std::atomic<std::uint64_t> since_ns{0};
};

// A stack dump asked of the stopped thread for a report (model/preemption.h): the asker bumps
// request; the thread writes frames, then done = request.
struct ThreadStackDump {
    std::atomic<std::uint32_t> request{0};
    std::atomic<std::uint32_t> done{0};
    int depth = 0;
    void *frames[24] = {};
};

struct alignas(64) ThreadState {
    // ---- The hot head (model): read by the lock and IRQL fast path ----
    // The fields the inline fast path reads, in their one definition (ndislock/detail/fast_layout.h),
    // first so that a ThreadState * is also the NDISLOCK_FAST_THREAD * the inline path reads through
    // ndislock_tls_thread. The library reaches them through the accessors below, as atomics over
    // plain C fields (std::atomic_ref), the inline path with the same __atomic operations.
    // Mutable, so that the const accessors (reports read a const ThreadState) can form them:
    // C++20 has no std::atomic_ref<const T>.
    mutable NDISLOCK_FAST_THREAD fast{};

    // This thread's IRQL. Below DISPATCH_LEVEL it is the thread's own; at DISPATCH_LEVEL and above
    // it is its processor's, which this thread then owns exclusively. Written only by this thread;
    // atomic so other threads may read it: reports, and the revoker of a biased processor, for
    // which it is the holder's mark (raising stores are release stores, model/processors.h).
    std::atomic_ref<KIRQL> irql() const noexcept { return std::atomic_ref<KIRQL>(fast.Irql); }
    // The virtual processor this thread runs on. Changed only below DISPATCH_LEVEL.
    std::atomic_ref<std::uint32_t> processor() const noexcept { return std::atomic_ref<std::uint32_t>(fast.Processor); }
    // The processor this thread entered at DISPATCH_LEVEL, with kBiased (model/processors.h) set
    // when it entered through the processor's bias (or kBiasedOutOfLine: the same, but its drop
    // must go out of line): its IRQL at or above DISPATCH_LEVEL is then what tells a revoker
    // that it runs on the processor. Valid while irql >= DISPATCH_LEVEL; written only by this
    // thread, read by revokers and reports.
    std::atomic_ref<std::uint32_t> dispatch_entry() const noexcept {
        return std::atomic_ref<std::uint32_t>(fast.DispatchEntry);
    }
    // 1..kMaxThreads, unique among live threads; the tag a processor's owner word holds. Written
    // by the registry only (thread_state.cpp), before the state is published.
    std::uint32_t id() const noexcept { return fast.Id; }

    std::atomic<int> os_tid{0}; // read by other threads (reports, interrupts) while a state is recycled
    bool bound = false;
    // An interrupt or DPC thread: tied to its processor index for good (a processor count change
    // does not move it).
    bool system = false;

    // ---- The extensions, from the next cache line on ----
    // The current wait, if any (lock layer): written by the lock layer (WaitScope, park) through
    // lock::tls_wait_record, read by the watchdog and reports.
    alignas(64) lock::WaitRecord wait;
    // Preemption by interrupts (model/preemption.h).
    ThreadPreemption preemption;
    // The driver routine ndislock is running on this thread (interrupt layer).
    ThreadCallback callback;
    // The bias holder this thread is taking its processor from (model/processors.cpp,
    // revoke_bias), or 0. From its claim of the owner word until the holder leaves, the word names
    // this thread while the holder still runs at DISPATCH_LEVEL: owner_at_dispatch reads this to
    // name the holder (an interrupt must stop it, not this thread, which is not running there).
    std::atomic<std::uint32_t> revoking{0};

    // Per-thread data of the layers above (the verifier's held-lock table), by index; freed as the
    // thread ends by the release its owner set (set_thread_data_release).
    std::atomic<void *> observer_data[kThreadDataSlots] = {};

    ThreadState *next_free = nullptr; // the registry's recycling list

    // Cold, and the largest part: a stack dump for a Deadlock report.
    ThreadStackDump dump;
};

// The head's size: it must stay within the first cache line (the extensions start on the next).
inline constexpr std::size_t kThreadHeadBytes = offsetof(ThreadState, system) + sizeof(bool);
static_assert(kThreadHeadBytes <= 64 && offsetof(ThreadState, wait) == 64,
              "the hot head of ThreadState fits one cache line, alone");
// The inline path reads the state through a NDISLOCK_FAST_THREAD pointer (the same address).
static_assert(offsetof(ThreadState, fast) == 0, "the inline fast path's part of ThreadState comes first");
// The whole state's size as docs/execution-model.md ("Memory") states it: 448 bytes on a 64-bit
// target, with or without sanitizers (they change no layout). A change here is a change there.
static_assert(sizeof(void *) != 8 || sizeof(ThreadState) == 448,
              "ThreadState changed size: update docs/execution-model.md (\"Memory\") and this figure");

// Exported as ndislock_tls_thread: the inline fast path of ndislock/fast_path.h reads the state's
// first member, NDISLOCK_FAST_THREAD fast, through it.
extern constinit thread_local ThreadState *tls_thread __asm__("ndislock_tls_thread")
    __attribute__((tls_model("initial-exec"))) NDISLOCK_API;

// Registers the calling thread (first call only). Not async-signal-safe: it allocates.
ThreadState &register_current_thread() noexcept;

// Called as a registered thread ends, before the model releases its state (the observers' "thread
// exiting"). Set once by the composition root; the model knows nothing of who listens.
using ThreadExitHook = void (*)(ThreadState &) noexcept;
void set_thread_exit_hook(ThreadExitHook hook) noexcept;
// The same, for a thread that runs on one processor for good (an interrupt or DPC thread): it is
// bound to processor and takes no turn in the round-robin placement of the others.
inline constexpr std::uint32_t kAnyProcessor = ~std::uint32_t{0};
ThreadState &register_current_thread_on(std::uint32_t processor) noexcept;

// The calling thread's state. One TLS load and a predictable branch after the first call.
inline ThreadState &current_thread() noexcept {
    ThreadState *t = tls_thread;
    if (__builtin_expect(t != nullptr, 1)) return *t;
    return register_current_thread();
}

// The live thread with this id, or nullptr. The object is never freed (states are recycled), so
// reading it is always safe; it may already describe a newer thread (callers use it for reports).
ThreadState *thread_by_id(std::uint32_t id) noexcept;

// What frees a thread's observer_data[index] when the thread ends, whatever observers are
// registered then (the verifier may be off while a thread it watched ends): set by the data's
// owner, once or again with the same function. Runs after the thread-exit observers, only for data
// still there.
using ThreadDataRelease = void (*)(ThreadState &) noexcept;
void set_thread_data_release(unsigned index, ThreadDataRelease release) noexcept;

// Calls f(ThreadState&) for every live thread, under the registry lock (not for hot paths).
void for_each_thread(void (*f)(ThreadState &, void *), void *context);

} // namespace ndislock::model
