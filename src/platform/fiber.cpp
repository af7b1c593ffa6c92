#include "platform/fiber.h"

#include <cstdint>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/diagnostics.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define NDISLOCK_FIBER_ASAN 1
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define NDISLOCK_FIBER_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif
#if __has_include(<valgrind/valgrind.h>)
#define NDISLOCK_FIBER_VALGRIND 1
#include <valgrind/valgrind.h>
#endif

#if defined(__x86_64__) && defined(__linux__) && !defined(NDISLOCK_NO_FIBERS)
#define NDISLOCK_FIBER_SWITCH 1
#endif

#ifdef NDISLOCK_FIBER_SWITCH
// void *ndislock_fiber_jump(void **save_sp, void *load_sp, void *value): pushes the callee-saved
// registers (and the SSE and x87 control words) of the System V ABI on the running stack, stores
// its pointer in *save_sp, loads load_sp, pops the same from there and returns value on that stack
// (in rdi too: a new fiber's trampoline passes it on as its entry's first argument).
// ndislock_fiber_trampoline: where a new fiber's first jump returns to, with its entry in r12 and
// its Fiber in r13; it calls entry(value, fiber), which never returns.
__asm__(R"(
    .text
    .p2align 4
    .globl ndislock_fiber_jump
    .hidden ndislock_fiber_jump
    .type ndislock_fiber_jump, @function
ndislock_fiber_jump:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    movq %rdx, %rax
    movq %rdx, %rdi
    ret
    .cfi_endproc
    .size ndislock_fiber_jump, .-ndislock_fiber_jump

    .p2align 4
    .type ndislock_fiber_trampoline, @function
ndislock_fiber_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r13, %rsi
    andq $-16, %rsp
    callq *%r12
    ud2
    .cfi_endproc
    .size ndislock_fiber_trampoline, .-ndislock_fiber_trampoline
)");

extern "C" void *ndislock_fiber_jump(void **save_sp, void *load_sp, void *value) noexcept;
extern "C" void ndislock_fiber_trampoline() noexcept;
#endif

namespace ndislock::platform {

#ifdef NDISLOCK_FIBER_SWITCH
const bool kFibers = true;
#else
const bool kFibers = false;
#endif

Fiber::~Fiber() {
    if (mapping_ == nullptr) return;
#ifdef NDISLOCK_FIBER_TSAN
    if (tsan_fiber_ != nullptr) __tsan_destroy_fiber(tsan_fiber_);
#endif
#ifdef NDISLOCK_FIBER_VALGRIND
    VALGRIND_STACK_DEREGISTER(valgrind_stack_);
#endif
    munmap(mapping_, mapped_);
}

void Fiber::adopt_current() noexcept {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *bottom = nullptr;
        std::size_t size = 0;
        if (pthread_attr_getstack(&attr, &bottom, &size) == 0) {
            stack_bottom_ = bottom;
            stack_size_ = size;
        }
        pthread_attr_destroy(&attr);
    }
#ifdef NDISLOCK_FIBER_TSAN
    tsan_fiber_ = __tsan_get_current_fiber();
#endif
}

#ifdef NDISLOCK_FIBER_SWITCH

bool Fiber::create(Entry entry, void *argument, std::size_t stack_bytes) noexcept {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t usable = (stack_bytes + page - 1) / page * page;
    void *mapping = mmap(nullptr, usable + page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED) return false;
    // The guard: an overflow faults instead of writing below. A stack without one is not made.
    if (mprotect(mapping, page, PROT_NONE) != 0) {
        munmap(mapping, usable + page);
        return false;
    }
    mapping_ = mapping;
    mapped_ = usable + page;
    auto *const bottom = static_cast<unsigned char *>(mapping) + page;
    stack_bottom_ = bottom;
    stack_size_ = usable;
    entry_ = entry;
    argument_ = argument;

    // The frame ndislock_fiber_jump pops: control words, r15, r14, r13, r12, rbx, rbp, return.
    auto *top = reinterpret_cast<std::uint64_t *>(bottom + usable);
    std::uint64_t *sp = top - 10;
    sp[0] = 0x037F'00001F80ull;                              // MXCSR and x87 control word: the ABI's initial values
    sp[1] = 0;                                               // r15
    sp[2] = 0;                                               // r14
    sp[3] = reinterpret_cast<std::uintptr_t>(this);          // r13
    sp[4] = reinterpret_cast<std::uintptr_t>(&Fiber::start); // r12
    sp[5] = 0;                                               // rbx
    sp[6] = 0;                                               // rbp: ends frame-pointer walks
    sp[7] = reinterpret_cast<std::uintptr_t>(&ndislock_fiber_trampoline); // return address
    sp_ = sp;
#ifdef NDISLOCK_FIBER_TSAN
    tsan_fiber_ = __tsan_create_fiber(0);
#endif
#ifdef NDISLOCK_FIBER_VALGRIND
    valgrind_stack_ = VALGRIND_STACK_REGISTER(bottom, bottom + usable);
#endif
    return true;
}

void Fiber::arrived(void *from, void *fake_stack) noexcept {
#ifdef NDISLOCK_FIBER_ASAN
    const void *bottom = nullptr;
    std::size_t size = 0;
    __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
    auto *const previous = static_cast<Fiber *>(from);
    if (previous->mapping_ == nullptr) { // an adopted stack: its bounds as AddressSanitizer knows them
        previous->stack_bottom_ = bottom;
        previous->stack_size_ = size;
    }
#else
    (void)from;
    (void)fake_stack;
#endif
}

void Fiber::start(void *from, void *self) noexcept {
    auto *const fiber = static_cast<Fiber *>(self);
    fiber->arrived(from, nullptr);
    fiber->entry_(fiber->argument_);
    fatal("a fiber's entry returned");
}

void Fiber::switch_to(Fiber &from, Fiber &to) noexcept {
    void *fake_stack = nullptr;
#ifdef NDISLOCK_FIBER_ASAN
    __sanitizer_start_switch_fiber(&fake_stack, to.stack_bottom_, to.stack_size_);
#endif
#ifdef NDISLOCK_FIBER_TSAN
    __tsan_switch_to_fiber(to.tsan_fiber_, 0);
#endif
    ++tls_fiber_switches;
    void *const came_from = ndislock_fiber_jump(&from.sp_, to.sp_, &from);
    from.arrived(came_from, fake_stack);
}

void Fiber::exit_to(Fiber &from, Fiber &to) noexcept {
#ifdef NDISLOCK_FIBER_ASAN
    __sanitizer_start_switch_fiber(nullptr, to.stack_bottom_, to.stack_size_);
#endif
#ifdef NDISLOCK_FIBER_TSAN
    __tsan_switch_to_fiber(to.tsan_fiber_, 0);
#endif
    ++tls_fiber_switches;
    ndislock_fiber_jump(&from.sp_, to.sp_, &from);
    __builtin_unreachable();
}

#else

bool Fiber::create(Entry, void *, std::size_t) noexcept { return false; }
void Fiber::arrived(void *, void *) noexcept {}
void Fiber::start(void *, void *) noexcept { fatal("no fibers on this target"); }
void Fiber::switch_to(Fiber &, Fiber &) noexcept { fatal("no fibers on this target"); }
void Fiber::exit_to(Fiber &, Fiber &) noexcept { fatal("no fibers on this target"); }

#endif

} // namespace ndislock::platform
