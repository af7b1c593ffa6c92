#include "lock/parking.h"

#include "lock/park.h"
#include "lock/wait_observer.h"

namespace ndislock::lock::parking {

Bucket g_buckets[std::size_t{1} << kBucketBits];

void wake_all(const void *address) noexcept {
    Bucket &b = bucket_for(address);
    b.epoch.fetch_add(1, std::memory_order_seq_cst);
    note_slow_path();
    unpark_all(&b.epoch);
}

namespace {
struct Condition {
    bool (*done)(const void *context);
    const void *context;
    bool ready = false;
};
bool still_waiting(const void *c) {
    auto *condition = const_cast<Condition *>(static_cast<const Condition *>(c));
    condition->ready = condition->done(condition->context);
    return !condition->ready;
}
} // namespace

bool sleep_unless(const void *address, bool (*done)(const void *context), const void *context,
                  std::uint64_t timeout_ns) noexcept {
    Bucket &b = bucket_for(address);
    b.waiters().fetch_add(1, std::memory_order_seq_cst);
    const std::uint32_t epoch = b.epoch.load(std::memory_order_seq_cst);
    // done() runs as the validation, after the registration: a waker now sees us, or we see it.
    Condition condition{done, context};
    park(&b.epoch, epoch, timeout_ns, still_waiting, &condition);
    b.waiters().fetch_sub(1, std::memory_order_relaxed);
    return condition.ready;
}

} // namespace ndislock::lock::parking
