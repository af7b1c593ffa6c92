// Pool memory (ndislock/wdk_pool.h): ExAllocatePoolWithTag, ExAllocatePool2, ExAllocatePoolZero,
// ExAllocatePoolUninitialized, ExAllocatePool, ExFreePoolWithTag, ExFreePool and the NDIS forms.
//
// A block is heap memory (posix_memalign) with a 32-byte header right before it: the heap's own
// address, the size, the tag, the pool type and a mark, kLive while the block is allocated and
// kFreed once it is freed. The header sits at the end of the lead-in before the block (64 bytes
// below PAGE_SIZE, a page from it up), away from the words the heap reuses in freed memory, so a
// second free of a block still finds kFreed there as long as the heap has not handed the memory
// out again.
//
// IRQL: above the documented level the verifier reports IrqlTooHighForCall. Above DISPATCH_LEVEL
// the heap is never entered (the thread an emulated interrupt stopped may hold its lock): an
// allocation returns NULL, a free marks the block freed and puts it on a lock-free list that the
// next pool call at DISPATCH_LEVEL or below gives back to the heap.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "api/spin_lock_ops.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

constexpr std::uint64_t kLive = 0x4C4F4F504B4C444EULL;  // "NDLKPOOL" in memory
constexpr std::uint64_t kFreed = 0x45455246504B4C44ULL; // "DLKPFREE" in memory

struct Header {
    void *base;         // what posix_memalign returned
    std::uint64_t size; // NumberOfBytes; once freed from an ISR, the next deferred block (Header *)
    ULONG tag;
    ULONG pool;         // the POOL_TYPE (paged when odd)
    std::uint64_t mark; // kLive, kFreed, or anything else: not a pool block
};
static_assert(sizeof(Header) == 32, "the header is the 32 bytes before the block");

constexpr std::size_t kCacheLine = 64;
constexpr ULONG kUntaggedTag = 0x656E6F4E; // 'enoN': "None" in a pool dump, ExAllocatePool's tag

Header *header_of(void *block) noexcept {
    return reinterpret_cast<Header *>(static_cast<char *>(block) - sizeof(Header));
}

bool paged(ULONG pool) noexcept { return (pool & 1u) != 0; }

// The tag as a pool dump shows it: its bytes in memory order, '.' for an unprintable one.
struct TagText {
    char text[5];
    explicit TagText(ULONG tag) noexcept {
        for (int i = 0; i < 4; ++i) {
            const unsigned char c = static_cast<unsigned char>(tag >> (8 * i));
            text[i] = c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '.';
        }
        text[4] = '\0';
    }
};

[[noreturn]] void bad_pool_caller(ULONG_PTR p1, ULONG_PTR p2, ULONG_PTR p3, ULONG_PTR p4, const char *what,
                                  const observe::Site &site) noexcept {
    char detail[480];
    std::snprintf(detail, sizeof detail, "%s: bug check 0xC2 BAD_POOL_CALLER (0x%llx, 0x%llx, 0x%llx, 0x%llx)", what,
                  static_cast<unsigned long long>(p1), static_cast<unsigned long long>(p2),
                  static_cast<unsigned long long>(p3), static_cast<unsigned long long>(p4));
    observe::report_misuse(observe::Rule::BugCheck, site, detail);
    platform::fatal("BugCheck: %s", detail); // a terminal rule: reached only if an observer let it go on
}

// Blocks freed above DISPATCH_LEVEL, not yet given back to the heap: a stack linked through
// Header::size, pushed from ISRs (lock-free), taken whole by the next pool call that may use the
// heap. Still reachable from here, so a leak checker does not count them.
std::atomic<Header *> g_deferred{nullptr};

void defer_free(Header *h) noexcept {
    Header *top = g_deferred.load(std::memory_order_relaxed);
    do {
        h->size = reinterpret_cast<std::uintptr_t>(top);
    } while (!g_deferred.compare_exchange_weak(top, h, std::memory_order_release, std::memory_order_relaxed));
}

void free_deferred() noexcept {
    if (g_deferred.load(std::memory_order_relaxed) == nullptr) return;
    for (Header *h = g_deferred.exchange(nullptr, std::memory_order_acquire); h != nullptr;) {
        Header *next = reinterpret_cast<Header *>(static_cast<std::uintptr_t>(h->size));
        std::free(h->base);
        h = next;
    }
}

PVOID allocate(ULONG pool, SIZE_T bytes, ULONG tag, bool zero, const char *call, const void *return_address) noexcept {
    ThreadState &t = this_thread();
    const observe::Site site{nullptr, 0, nullptr, return_address};
    check_call_irql(t, paged(pool) ? APC_LEVEL : DISPATCH_LEVEL, call, site);
    if (t.irql().load(std::memory_order_relaxed) > DISPATCH_LEVEL) return nullptr; // never the heap from an ISR
    free_deferred();
    const std::size_t alignment = bytes >= PAGE_SIZE ? PAGE_SIZE : kCacheLine;
    if (bytes > SIZE_MAX - alignment) return nullptr;
    void *base = nullptr;
    if (posix_memalign(&base, alignment, alignment + bytes) != 0) return nullptr;
    char *block = static_cast<char *>(base) + alignment;
    Header *h = header_of(block);
    h->base = base;
    h->size = bytes;
    h->tag = tag;
    h->pool = pool;
    __atomic_store_n(&h->mark, kLive, __ATOMIC_RELEASE);
    if (zero) std::memset(block, 0, bytes);
    return block;
}

void release(PVOID block, ULONG tag, bool check_tag, const char *call, const void *return_address) noexcept {
    ThreadState &t = this_thread();
    const observe::Site site{nullptr, 0, nullptr, return_address};
    char what[320];
    if (block == nullptr) {
        std::snprintf(what, sizeof what, "%s of NULL: no pool block is there", call);
        bad_pool_caller(0x42, 0, 0, 0, what, site);
    }
    Header *h = header_of(block);
    const std::uint64_t mark = __atomic_load_n(&h->mark, __ATOMIC_ACQUIRE);
    if (mark == kFreed) {
        std::snprintf(what, sizeof what, "%s of %p, a pool block (tag '%s') already freed", call, block,
                      TagText(h->tag).text);
        bad_pool_caller(0x07, 0, h->tag, reinterpret_cast<ULONG_PTR>(block), what, site);
    }
    if (mark != kLive) {
        std::snprintf(what, sizeof what, "%s of %p, which no pool allocation returned", call, block);
        bad_pool_caller(0x42, reinterpret_cast<ULONG_PTR>(block), 0, 0, what, site);
    }
    if (check_tag && tag != h->tag) {
        std::snprintf(what, sizeof what, "%s of %p with tag '%s' (0x%08X): it was allocated with tag '%s' (0x%08X)",
                      call, block, TagText(tag).text, static_cast<unsigned>(tag), TagText(h->tag).text,
                      static_cast<unsigned>(h->tag));
        bad_pool_caller(0x0A, reinterpret_cast<ULONG_PTR>(block), h->tag, tag, what, site);
    }
    check_call_irql(t, paged(h->pool) ? APC_LEVEL : DISPATCH_LEVEL, call, site);
    std::uint64_t expected = kLive;
    if (!__atomic_compare_exchange_n(&h->mark, &expected, kFreed, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        std::snprintf(what, sizeof what, "%s of %p, a pool block another thread freed meanwhile", call, block);
        bad_pool_caller(0x07, 0, h->tag, reinterpret_cast<ULONG_PTR>(block), what, site);
    }
    if (t.irql().load(std::memory_order_relaxed) > DISPATCH_LEVEL) return defer_free(h); // never the heap from an ISR
    free_deferred();
    std::free(h->base);
}

// ExAllocatePool2's flags: the pool (POOL_FLAG_PAGED: PagedPool, else NonPagedPoolNx), or false
// for flags Windows refuses (an unknown required flag, or not exactly one pool flag).
bool pool_of(POOL_FLAGS flags, ULONG *pool) noexcept {
    constexpr POOL_FLAGS kKnownRequired = POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED | POOL_FLAG_SESSION |
                                          POOL_FLAG_CACHE_ALIGNED | POOL_FLAG_RAISE_ON_FAILURE | POOL_FLAG_NON_PAGED |
                                          POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;
    if ((flags & 0xFFFFFFFFULL & ~kKnownRequired) != 0) return false;
    const POOL_FLAGS which = flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);
    if (which == 0 || (which & (which - 1)) != 0) return false;
    *pool = which == POOL_FLAG_PAGED ? ULONG{PagedPool} : ULONG{NonPagedPoolNx};
    return true;
}

} // namespace

extern "C" {

NDISLOCK_API PVOID ExAllocatePoolWithTag(POOL_TYPE pool, SIZE_T bytes, ULONG tag) {
    return allocate(static_cast<ULONG>(pool), bytes, tag, (static_cast<ULONG>(pool) & POOL_ZERO_ALLOCATION) != 0,
                    "ExAllocatePoolWithTag", __builtin_return_address(0));
}

NDISLOCK_API PVOID ExAllocatePool2(POOL_FLAGS flags, SIZE_T bytes, ULONG tag) {
    ULONG pool = 0;
    if (tag == 0 || !pool_of(flags, &pool)) return nullptr;
    return allocate(pool, bytes, tag, (flags & POOL_FLAG_UNINITIALIZED) == 0, "ExAllocatePool2",
                    __builtin_return_address(0));
}

NDISLOCK_API PVOID ExAllocatePoolZero(POOL_TYPE pool, SIZE_T bytes, ULONG tag) {
    return allocate(static_cast<ULONG>(pool), bytes, tag, true, "ExAllocatePoolZero", __builtin_return_address(0));
}

NDISLOCK_API PVOID ExAllocatePoolUninitialized(POOL_TYPE pool, SIZE_T bytes, ULONG tag) {
    return allocate(static_cast<ULONG>(pool), bytes, tag, false, "ExAllocatePoolUninitialized",
                    __builtin_return_address(0));
}

NDISLOCK_API PVOID ExAllocatePool(POOL_TYPE pool, SIZE_T bytes) {
    return allocate(static_cast<ULONG>(pool), bytes, kUntaggedTag,
                    (static_cast<ULONG>(pool) & POOL_ZERO_ALLOCATION) != 0, "ExAllocatePool",
                    __builtin_return_address(0));
}

NDISLOCK_API VOID ExFreePoolWithTag(PVOID block, ULONG tag) {
    release(block, tag, tag != 0, "ExFreePoolWithTag", __builtin_return_address(0));
}

NDISLOCK_API VOID ExFreePool(PVOID block) { release(block, 0, false, "ExFreePool", __builtin_return_address(0)); }

NDISLOCK_API PVOID NdisAllocateMemoryWithTagPriority(NDIS_HANDLE handle, UINT length, ULONG tag,
                                                     EX_POOL_PRIORITY priority) {
    (void)handle;
    (void)priority;
    return allocate(NonPagedPoolNx, length, tag, false, "NdisAllocateMemoryWithTagPriority",
                    __builtin_return_address(0));
}

NDISLOCK_API VOID NdisFreeMemoryWithTagPriority(NDIS_HANDLE handle, PVOID block, ULONG tag) {
    (void)handle;
    release(block, tag, tag != 0, "NdisFreeMemoryWithTagPriority", __builtin_return_address(0));
}

NDISLOCK_API NDIS_STATUS NdisAllocateMemoryWithTag(PVOID *address, UINT length, ULONG tag) {
    *address = allocate(NonPagedPoolNx, length, tag, false, "NdisAllocateMemoryWithTag", __builtin_return_address(0));
    return *address != nullptr ? NDIS_STATUS_SUCCESS : NDIS_STATUS_FAILURE;
}

NDISLOCK_API VOID NdisFreeMemory(PVOID block, UINT length, UINT flags) {
    (void)length;
    (void)flags;
    release(block, 0, false, "NdisFreeMemory", __builtin_return_address(0));
}

} // extern "C"
