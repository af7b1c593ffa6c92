// Compiled by clang with -Wthread-safety -Werror: must NOT compile (the test expects failure),
// because guarded data is written without its lock.
#include "ndislock/ndislock.hpp"

struct Adapter {
    ndislock::NdisSpinLock tx_lock{"tx"};
    int tx_pending NDISLOCK_GUARDED_BY(tx_lock) = 0;
    void send_without_lock() { ++tx_pending; }
};

int main() {
    Adapter a;
    a.send_without_lock();
}
