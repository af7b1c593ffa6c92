// Per-thread state that follows a user-mode context (platform/fiber.h) instead of the OS thread.
//
// The explorer runs its contexts as fibers on one OS thread (docs/explore.md, "The model"): each
// must see its own ndislock thread state, as a thread of its own would. Every layer that keeps a
// thread_local describing the ndislock thread (its ThreadState pointer, wait record, held
// resources, statistics stamps...) registers it here, once, at static initialization
// (NDISLOCK_CONTEXT_LOCAL); a pthread key whose value is such state registers with its destructor
// (register_context_key). A switch of context then saves the registered bytes and key values of
// the context it leaves and loads those of the one it enters (ContextLocals::switch_locals); a
// context starts with each variable's value-initialized image and no key value, as a new thread
// does, and its end runs the destructors of its key values, as a thread's end does.
//
// Nothing here is on a lock's path: the variables are read where they always were, and only a
// switch of context copies them. What describes the OS thread itself (a perf event witnessing its
// CPU time, platform/own_time.cpp) is not registered: the contexts of one OS thread share it.
#pragma once

#include <cstddef>
#include <pthread.h>
#include <type_traits>

namespace ndislock::platform {

// The variable's address on the calling thread (a thread_local's differs per OS thread).
using ContextLocalAddress = void *(*)() noexcept;

// At static initialization only (before any context switch). Fatal past the registry's room.
void register_context_local(ContextLocalAddress address, std::size_t size, const void *initial) noexcept;
// At any time (keys are created lazily); the key's destructor runs for a context's value as the
// context ends. Fatal past the registry's room.
void register_context_key(pthread_key_t key, void (*destructor)(void *)) noexcept;

template <class T> const void *value_initialized() noexcept {
    static const T value{};
    return &value;
}

#define NDISLOCK_CONTEXT_LOCAL_CAT2(a, b) a##b
#define NDISLOCK_CONTEXT_LOCAL_CAT(a, b) NDISLOCK_CONTEXT_LOCAL_CAT2(a, b)
// Registers the thread_local variable `var` (trivially copyable: it is copied as bytes).
#define NDISLOCK_CONTEXT_LOCAL(var)                                                                                    \
    static_assert(std::is_trivially_copyable_v<std::remove_all_extents_t<decltype(var)>>);                             \
    [[maybe_unused]] static const bool NDISLOCK_CONTEXT_LOCAL_CAT(context_local_registered_, __LINE__) =               \
        (::ndislock::platform::register_context_local(                                                                 \
             []() noexcept -> void * { return static_cast<void *>(&(var)); }, sizeof(var),                             \
             ::ndislock::platform::value_initialized<std::remove_cv_t<decltype(var)>>()),                              \
         true)

inline constexpr unsigned kMaxContextKeys = 8;

// One context's copy of the registered state, while it does not run. Used on one OS thread: the
// one whose thread_locals the contexts take turns in (the addresses are that thread's).
class ContextLocals {
public:
    ContextLocals() = default;
    ContextLocals(const ContextLocals &) = delete;
    ContextLocals &operator=(const ContextLocals &) = delete;
    ~ContextLocals();

    // The state of a new thread (value-initialized variables, no key values), on the calling
    // thread. False if out of memory.
    bool fresh() noexcept;
    // Saves the live state into out, then makes in's live. On the thread fresh() ran on.
    static void switch_locals(ContextLocals &out, const ContextLocals &in) noexcept;
    // The live context ends: each key value it still has is cleared and destroyed (repeatedly, as
    // glibc does at a thread's end, while a destructor sets one again).
    static void end_live() noexcept;

private:
    void save() noexcept;
    void load() const noexcept;

    unsigned char *bytes_ = nullptr;
    void *keys_[kMaxContextKeys] = {};
};

} // namespace ndislock::platform
