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
    platform::OwnTimeStamp start{};

    observe::Site site() const noexcept {
        return observe::Site{file.load(std::memory_order_relaxed), line.load(std::memory_order_relaxed),
                             function.load(std::memory_order_relaxed),
                             return_address.load(std::memory_order_relaxed)};
    }
};

struct VerifierThread {
    std::atomic<unsigned> depth{0};
    HeldLock held[kMaxHeld];
    bool overflowed = false;
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
