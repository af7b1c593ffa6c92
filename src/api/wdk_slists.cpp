// The sequenced singly linked lists (ndislock/wdk_slist.h). One header's operations are
// serialized by one of a few spin words chosen by the header's address, held for a few
// instructions with no emulated interrupt let in on the holder's thread (model::NoPreempt): an
// ISR on another virtual processor waits those instructions out, and one on the holder's own
// thread runs after them, so an SList is safe from ISRs as on Windows.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <atomic>
#include <cstdint>

#include "model/preemption.h"
#include "observe/hooks.h"
#include "platform/short_spin.h"

using namespace ndislock;

namespace {

constexpr unsigned kStripes = 64;
struct alignas(64) Stripe {
    std::atomic<bool> held{false};
};
Stripe g_stripes[kStripes];

constexpr ULONGLONG kDepthMask = 0xFFFF;
constexpr ULONGLONG kSequenceOne = 0x10000;

Stripe &stripe_of(const SLIST_HEADER *header) noexcept {
    auto x = reinterpret_cast<std::uintptr_t>(header) >> 4;
    x ^= x >> 7;
    return g_stripes[x % kStripes];
}

// Holds the header's stripe, with emulated interrupts held off on this thread first.
class HeaderGuard {
public:
    explicit HeaderGuard(const SLIST_HEADER *header) noexcept : spin_(stripe_of(header).held) {}

private:
    model::NoPreempt no_interrupt_; // first in, last out: around the stripe
    platform::ShortSpinGuard spin_;
};

// As every interlocked operation of wdk_interlocked.h is, one on a list is an exploration's
// scheduling point and a happens-before edge on the header (what a push published, a later pop
// sees): told before the operation, outside the guard, only while an exploration listens.
[[gnu::always_inline]] inline void point(const SLIST_HEADER *header, const void *return_address) noexcept {
    if (__builtin_expect(__atomic_load_n(&ndislock_interlocked_observers, __ATOMIC_RELAXED) != 0, 0))
        observe::notify_interlocked(header, return_address);
}

PSLIST_ENTRY first(const SLIST_HEADER *h) noexcept { return reinterpret_cast<PSLIST_ENTRY>(h->Alignment); }
void set(PSLIST_HEADER h, PSLIST_ENTRY entry, ULONGLONG depth) noexcept {
    h->Alignment = reinterpret_cast<ULONGLONG>(entry);
    h->Region = ((h->Region & ~kDepthMask) + kSequenceOne) | (depth & kDepthMask);
}

} // namespace

extern "C" {

NDISLOCK_API VOID InitializeSListHead(PSLIST_HEADER SListHead) {
    point(SListHead, __builtin_return_address(0));
    const HeaderGuard guard(SListHead);
    SListHead->Alignment = 0;
    SListHead->Region = 0;
}

NDISLOCK_API PSLIST_ENTRY InterlockedPushEntrySList(PSLIST_HEADER ListHead, PSLIST_ENTRY ListEntry) {
    point(ListHead, __builtin_return_address(0));
    const HeaderGuard guard(ListHead);
    PSLIST_ENTRY previous = first(ListHead);
    ListEntry->Next = previous;
    set(ListHead, ListEntry, (ListHead->Region & kDepthMask) + 1);
    return previous;
}

NDISLOCK_API PSLIST_ENTRY InterlockedPopEntrySList(PSLIST_HEADER ListHead) {
    point(ListHead, __builtin_return_address(0));
    const HeaderGuard guard(ListHead);
    PSLIST_ENTRY taken = first(ListHead);
    if (taken != nullptr) set(ListHead, taken->Next, (ListHead->Region & kDepthMask) - 1);
    return taken;
}

NDISLOCK_API PSLIST_ENTRY InterlockedFlushSList(PSLIST_HEADER ListHead) {
    point(ListHead, __builtin_return_address(0));
    const HeaderGuard guard(ListHead);
    PSLIST_ENTRY chain = first(ListHead);
    if (chain != nullptr) set(ListHead, nullptr, 0);
    return chain;
}

NDISLOCK_API USHORT QueryDepthSList(PSLIST_HEADER SListHead) {
    point(SListHead, __builtin_return_address(0));
    const HeaderGuard guard(SListHead);
    return static_cast<USHORT>(SListHead->Region & kDepthMask);
}

NDISLOCK_API PSLIST_ENTRY FirstEntrySList(PSLIST_HEADER SListHead) {
    point(SListHead, __builtin_return_address(0));
    const HeaderGuard guard(SListHead);
    return first(SListHead);
}

} // extern "C"
