// User-mode contexts: a stack of their own, switched to and from without the kernel.
//
// The explorer runs the contexts of a schedule as fibers on the exploring thread (docs/explore.md,
// "The model"): a switch saves the callee-saved registers on the running stack and loads those of
// the fiber it goes to, a few nanoseconds where a hand-off between OS threads costs a futex wake,
// a wait and a kernel context switch. x86-64 Linux only, and not in a build configured with
// -DNDISLOCK_FIBERS=OFF (kFibers false): the explorer then keeps its OS threads. What a thread's
// state holds beyond the registers follows the fiber through platform/context_local.h, which the
// caller switches.
//
// Sanitizers and Valgrind are told of each stack and switch: AddressSanitizer
// (__sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber), ThreadSanitizer (a fiber of
// its own per stack; a switch synchronizes the two), Valgrind (VALGRIND_STACK_REGISTER).
#pragma once

#include <cstddef>

namespace ndislock::platform {

// Whether Fiber::create can succeed in this build.
extern const bool kFibers;

class Fiber {
public:
    // Runs on the new stack when the fiber is first switched to; must never return (it ends by
    // Fiber::exit_to).
    using Entry = void (*)(void *argument);

    Fiber() = default;
    Fiber(const Fiber &) = delete;
    Fiber &operator=(const Fiber &) = delete;
    ~Fiber();

    // The calling thread's own stack, as the fiber the others switch back to.
    void adopt_current() noexcept;
    // A new stack of stack_bytes (plus a guard page) that starts in entry(argument). False if out
    // of memory (or !kFibers).
    bool create(Entry entry, void *argument, std::size_t stack_bytes) noexcept;

    // From the running fiber `from` to `to`; returns when another fiber switches back to from.
    static void switch_to(Fiber &from, Fiber &to) noexcept;
    // The same, for a fiber that never runs again (its stack may then be freed).
    [[noreturn]] static void exit_to(Fiber &from, Fiber &to) noexcept;

private:
    [[noreturn]] static void start(void *from, void *self) noexcept;
    void arrived(void *from, void *fake_stack) noexcept;

    void *sp_ = nullptr;      // saved stack pointer, while not running
    void *mapping_ = nullptr; // the created stack and its guard page (nullptr: adopted)
    std::size_t mapped_ = 0;
    const void *stack_bottom_ = nullptr; // for AddressSanitizer: the stack's lowest address and size
    std::size_t stack_size_ = 0;
    Entry entry_ = nullptr;
    void *argument_ = nullptr;
    void *tsan_fiber_ = nullptr;
    unsigned valgrind_stack_ = 0;
};

} // namespace ndislock::platform
