// Each thread's held-lock table: the locks it holds, in acquisition order, with where and how
// each was taken. Fixed size, so acquiring and releasing never allocate; a thread that nests
// deeper than kMaxHeld has its checking turned off (said once) until it holds none again.
//
// Entries are written by their thread only; the fields reports read from other threads (the
// watchdog's deadlock report) are relaxed atomics.
#pragma once

#include <atomic>
#include <cstdint>

#include "model/thread_state.h"
#include "observe/hooks.h"
#include "platform/own_time.h"

namespace ndislock::verifier {

struct Shadow;

inline constexpr unsigned kMaxHeld = 48;

struct HeldLock {
    std::atomic<const void *> lock{nullptr};
    std::atomic<const char *> file{nullptr}; // the acquire's site, field by field for other readers
    std::atomic<int> line{0};
    std::atomic<const char *> function{nullptr};
    std::atomic<const void *> return_address{nullptr};
    PKLOCK_QUEUE_HANDLE handle = nullptr;
    std::uint32_t lock_class = 0;
    observe::Variant variant = observe::Variant::NdisAcquire;
    KIRQL irql_at_acquire = 0; // what a raising acquire saved, so what its release must restore
    bool untimed = false;      // this thread waited for another lock or wrote a report meanwhile
    std::uint64_t seq = 0;     // the thread's acquisition count when taken (VerifierThread::next_seq)
    platform::OwnTimeStamp start{};

    observe::Site site() const noexcept {
        return observe::Site{file.load(std::memory_order_relaxed), line.load(std::memory_order_relaxed),
                             function.load(std::memory_order_relaxed),
                             return_address.load(std::memory_order_relaxed)};
    }
};

// A driver routine ndislock is running on this thread (observe::CallbackEvent), innermost last:
// callbacks nest (a synchronize function inside a DPC, MiniportInitializeEx registering an
// interrupt whose enable routine runs). Written by the thread only; routine and kind are read by
// deadlock reports on other threads.
inline constexpr unsigned kMaxCallbackNesting = 8;

struct CallbackFrame {
    std::atomic<const void *> routine{nullptr};
    std::atomic<std::uint8_t> kind{0}; // observe::Callback
    const void *object = nullptr;
    // Acquisitions numbered from first_seq on were made inside the routine: a lock of those still
    // held when it returns is a LockHeldAtCallbackReturn (locks held on entry are the caller's).
    std::uint64_t first_seq = 0;
    bool untimed = false; // it waited, made a wake-up system call or wrote a report meanwhile
};

struct VerifierThread {
    std::atomic<unsigned> depth{0};
    HeldLock held[kMaxHeld];
    bool overflowed = false;
    std::uint64_t next_seq = 0; // acquisitions so far (numbers HeldLock::seq)
    // Callbacks running now; past kMaxCallbackNesting they are counted but not checked.
    std::atomic<unsigned> callbacks{0};
    CallbackFrame callback[kMaxCallbackNesting];
    // The lock this thread released last, with its acquire's site: the verifier forgets a hold
    // before the lock word is freed, so a thread an interrupt stopped inside a release still holds
    // the word (the ISR's deadlock check in watchdog.cpp).
    HeldLock last_released;
    // The lock this thread is acquiring (between acquiring and acquired), for deadlock reports.
    std::atomic<const void *> wanting{nullptr};
    observe::Site wanting_site{};
    Shadow *wanting_shadow = nullptr; // its shadow entry, looked up once per acquire
    VerifierThread *next_free = nullptr;
};

// The calling thread's table (attached on its first observed call; kept for reuse when it ends).
VerifierThread &verifier_thread(model::ThreadState &t) noexcept;
VerifierThread *verifier_thread_of(model::ThreadState &t) noexcept; // nullptr if none yet
void release_verifier_thread(model::ThreadState &t) noexcept;
// The observer slot the verifier registered in (index into ThreadState::observer_data).
void set_observer_slot(int slot) noexcept;

// Index of lock in the table, or -1.
int find_held(const VerifierThread &v, const void *lock) noexcept;

} // namespace ndislock::verifier
