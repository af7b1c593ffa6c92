// The thread-affinity calls (ndislock/wdk_processors.h) over model/system_affinity.h: a system
// affinity binds the thread to a virtual processor of its mask; reverting restores its binding.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include "api/spin_lock_ops.h"
#include "model/system_affinity.h"
#include "platform/diagnostics.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// A GROUP_AFFINITY the caller passes must exist; its group must be 0 to mean anything.
const GROUP_AFFINITY &checked(const GROUP_AFFINITY *a, const char *call, const char *what) noexcept {
    if (a == nullptr) platform::fatal("%s: %s is NULL (a bug check on Windows)", call, what);
    return *a;
}

} // namespace

extern "C" {

NDISLOCK_API KAFFINITY KeSetSystemAffinityThreadEx(KAFFINITY affinity) {
    return model::set_system_affinity(this_thread(), affinity);
}

NDISLOCK_API VOID KeRevertToUserAffinityThreadEx(KAFFINITY affinity) {
    model::revert_system_affinity(this_thread(), affinity);
}

NDISLOCK_API VOID KeSetSystemGroupAffinityThread(PGROUP_AFFINITY affinity, PGROUP_AFFINITY previous) {
    ThreadState &t = this_thread();
    const GROUP_AFFINITY &a = checked(affinity, "KeSetSystemGroupAffinityThread", "Affinity");
    // The previous affinity as KeRevertToUserGroupAffinityThread reads it: Mask 0 stands for the
    // thread's own binding (one of the special values the docs warn about).
    if (previous != nullptr) *previous = GROUP_AFFINITY{model::system_affinity(t), 0, {0, 0, 0}};
    if (a.Group != 0) return; // only group 0 exists: no effect, as for an invalid mask
    model::set_system_affinity(t, a.Mask);
}

NDISLOCK_API VOID KeRevertToUserGroupAffinityThread(PGROUP_AFFINITY previous) {
    ThreadState &t = this_thread();
    const GROUP_AFFINITY &a = checked(previous, "KeRevertToUserGroupAffinityThread", "PreviousAffinity");
    if (a.Mask != 0 && a.Group != 0) return;
    model::revert_system_affinity(t, a.Mask);
}

} // extern "C"
