// Compiled by clang with -Wthread-safety -Werror: correct use of the C++ API must be clean.
#include <mutex>

#include "ndislock/ndislock.hpp"

struct Adapter {
    ndislock::NdisSpinLock tx_lock{"tx"};
    ndislock::KSpinLock pool_lock{"pool"};
    int tx_pending NDISLOCK_GUARDED_BY(tx_lock) = 0;
    int pool_free NDISLOCK_GUARDED_BY(pool_lock) = 0;

    void send() {
        ndislock::LockGuard<ndislock::NdisSpinLock> guard(tx_lock);
        ++tx_pending;
    }
    void complete_at_dpc() NDISLOCK_REQUIRES_SHARED(ndislock::raised_irql) {
        ndislock::DprLockGuard guard(tx_lock);
        --tx_pending;
    }
    void take_buffer() {
        ndislock::InStackQueuedGuard guard(pool_lock);
        --pool_free;
    }
    void manual() {
        tx_lock.lock();
        tx_pending = 0;
        tx_lock.unlock();
    }
};

int main() {
    Adapter a;
    a.send();
    a.take_buffer();
    a.manual();
    ndislock::RaisedIrql dpc(DISPATCH_LEVEL);
    a.complete_at_dpc();
}
