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

} // namespace ndislock::lock::parking
