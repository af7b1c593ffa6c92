// ndislock_full_barrier: KeMemoryBarrier under ThreadSanitizer (ndislock/wdk_interlocked.h), a
// sequentially consistent read-modify-write of one word, which TSan models and a fence it does not.
#include "ndislock/export.h"

namespace {
int g_barrier_word = 0;
}

extern "C" NDISLOCK_API void ndislock_full_barrier(void) { __atomic_fetch_add(&g_barrier_word, 0, __ATOMIC_SEQ_CST); }
