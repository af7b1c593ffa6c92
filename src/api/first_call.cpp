// The first call of each thread into ndislock: registers the thread and, once per process, reads
// the verifier's configuration, NDISLOCK_TRACE and NDISLOCK_REPORT from the environment. Every API
// file reaches it through this_thread(), so a statically linked program always links the verifier
// in.
#include "api/spin_lock_ops.h"
#include "observe/trace.h"
#include "verifier/report.h"
#include "verifier/settings.h"

namespace ndislock::api {

model::ThreadState &first_call() noexcept {
    verifier::configure_once();
    observe::trace::configure_from_environment();
    verifier::html_report::configure_from_environment();
    return model::register_current_thread();
}

} // namespace ndislock::api
