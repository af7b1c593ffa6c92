#include "api/lock_pointer.h"

#include <atomic>
#include <cstdio>

#include "platform/diagnostics.h"

namespace ndislock::api {

void bad_lock_pointer(const void *lock, const char *call, const observe::Site &site) noexcept {
    char detail[300];
    if (lock == nullptr) {
        std::snprintf(detail, sizeof detail,
                      "%s called with a NULL lock pointer: on Windows the first access to it bug-checks", call);
        observe::report_misuse(observe::Rule::NullLockPointer, site, detail); // terminal: ends here
        platform::fatal("NullLockPointer: %s", detail);                       // whoever took the report
    }
    std::snprintf(detail, sizeof detail,
                  "%s on a lock at %p, which is not aligned to %zu bytes as a KSPIN_LOCK must be: its atomic "
                  "operations split across cache lines (slow on x86; a fault with split-lock detection and "
                  "on ARM64 Windows); embed the lock so that the compiler aligns it",
                  call, lock, alignof(KSPIN_LOCK));
    if (observe::report_if_observed(observe::Rule::LockMisaligned, site, detail)) return;
    // With the verifier off: said once per process, and the call goes on as on x86 Windows.
    static std::atomic<bool> said{false};
    if (!said.exchange(true, std::memory_order_relaxed)) platform::diagnostic("LockMisaligned: %s", detail);
}

} // namespace ndislock::api
