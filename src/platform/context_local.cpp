#include "platform/context_local.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "platform/diagnostics.h"

namespace ndislock::platform {

namespace {

constexpr unsigned kMaxBlocks = 32;

struct Block {
    ContextLocalAddress address;
    std::size_t size;
    const void *initial;
    std::size_t offset; // in a context's copy
};

// Written at static initialization (one thread), read afterwards.
Block g_blocks[kMaxBlocks];
unsigned g_block_count = 0;
std::size_t g_block_bytes = 0;

struct Key {
    pthread_key_t key;
    void (*destructor)(void *);
};
std::mutex g_keys_mutex;
Key g_keys[kMaxContextKeys];
std::atomic<unsigned> g_key_count{0}; // published after its entry is written

// The blocks' addresses on this thread, resolved by fresh(): a switch copies without calls.
struct Resolved {
    unsigned count = 0;
    void *address[kMaxBlocks] = {};
};
thread_local Resolved t_resolved;

void resolve() noexcept {
    Resolved &r = t_resolved;
    if (r.count == g_block_count) return;
    for (unsigned i = 0; i < g_block_count; ++i)
        r.address[i] = g_blocks[i].address();
    r.count = g_block_count;
}

} // namespace

void register_context_local(ContextLocalAddress address, std::size_t size, const void *initial) noexcept {
    if (g_block_count == kMaxBlocks) fatal("context-local registry full (%u variables)", kMaxBlocks);
    constexpr std::size_t kAlign = alignof(std::max_align_t);
    g_blocks[g_block_count] = Block{address, size, initial, g_block_bytes};
    g_block_bytes += (size + kAlign - 1) / kAlign * kAlign;
    ++g_block_count;
}

void register_context_key(pthread_key_t key, void (*destructor)(void *)) noexcept {
    std::lock_guard<std::mutex> guard(g_keys_mutex);
    const unsigned n = g_key_count.load(std::memory_order_relaxed);
    for (unsigned i = 0; i < n; ++i)
        if (g_keys[i].key == key) return;
    if (n == kMaxContextKeys) fatal("context-local registry full (%u keys)", kMaxContextKeys);
    g_keys[n] = Key{key, destructor};
    g_key_count.store(n + 1, std::memory_order_release);
}

ContextLocals::~ContextLocals() { std::free(bytes_); }

bool ContextLocals::fresh() noexcept {
    resolve();
    if (bytes_ == nullptr) bytes_ = static_cast<unsigned char *>(std::malloc(g_block_bytes != 0 ? g_block_bytes : 1));
    if (bytes_ == nullptr) return false;
    for (unsigned i = 0; i < g_block_count; ++i)
        std::memcpy(bytes_ + g_blocks[i].offset, g_blocks[i].initial, g_blocks[i].size);
    for (void *&value : keys_)
        value = nullptr;
    return true;
}

void ContextLocals::save() noexcept {
    const Resolved &r = t_resolved;
    for (unsigned i = 0; i < r.count; ++i)
        std::memcpy(bytes_ + g_blocks[i].offset, r.address[i], g_blocks[i].size);
    const unsigned keys = g_key_count.load(std::memory_order_acquire);
    for (unsigned i = 0; i < keys; ++i)
        keys_[i] = pthread_getspecific(g_keys[i].key);
}

void ContextLocals::load() const noexcept {
    const Resolved &r = t_resolved;
    for (unsigned i = 0; i < r.count; ++i)
        std::memcpy(r.address[i], bytes_ + g_blocks[i].offset, g_blocks[i].size);
    // A key registered since this context last ran has no value of its own (keys_ holds null).
    const unsigned keys = g_key_count.load(std::memory_order_acquire);
    for (unsigned i = 0; i < keys; ++i)
        pthread_setspecific(g_keys[i].key, keys_[i]);
}

void ContextLocals::switch_locals(ContextLocals &out, const ContextLocals &in) noexcept {
    out.save();
    in.load();
}

void ContextLocals::end_live() noexcept {
    for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; ++round) {
        bool any = false;
        const unsigned keys = g_key_count.load(std::memory_order_acquire);
        for (unsigned i = 0; i < keys; ++i)
            if (void *value = pthread_getspecific(g_keys[i].key)) {
                pthread_setspecific(g_keys[i].key, nullptr);
                if (g_keys[i].destructor != nullptr) g_keys[i].destructor(value);
                any = true;
            }
        if (!any) return;
    }
}

} // namespace ndislock::platform
