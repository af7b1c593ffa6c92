#include "lock/parking.h"

#include <climits>

#include "lock/wait_observer.h"
#include "platform/futex.h"

namespace ndislock::lock::parking {

Bucket g_buckets[std::size_t{1} << kBucketBits];

void wake_all(const void *address) noexcept {
    Bucket &b = bucket_for(address);
    b.epoch.fetch_add(1, std::memory_order_seq_cst);
    note_slow_path();
    platform::futex_wake(&b.epoch, INT_MAX);
}

bool sleep_unless(const void *address, bool (*done)(const void *context), const void *context,
                  std::uint64_t timeout_ns) noexcept {
    Bucket &b = bucket_for(address);
    b.waiters.fetch_add(1, std::memory_order_seq_cst);
    const std::uint32_t epoch = b.epoch.load(std::memory_order_seq_cst);
    const bool ready = done(context); // after the registration: a waker now sees us, or we see it
    if (!ready) platform::futex_wait(&b.epoch, epoch, timeout_ns);
    b.waiters.fetch_sub(1, std::memory_order_relaxed);
    return ready;
}

} // namespace ndislock::lock::parking
