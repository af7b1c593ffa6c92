// The composition root: the one unit that knows every module. Each thread's first call into
// ndislock comes here (api::first_call, through this_thread()): once per process it connects the
// observer seam to the lock and model layers, reads the environment (the verifier's settings,
// which install the verifier as an observer; a timeline; an HTML report), starts the watchdog, and
// then registers the thread. No layer
// below calls up into another to be configured: they are configured from here. (It also keeps a
// statically linked program linking the verifier in: every API file reaches this unit.)
#include "api/spin_lock_ops.h"
#include "observe/hooks.h"
#include "observe/trace.h"
#include "observe/watchdog.h"
#include "verifier/report.h"
#include "verifier/settings.h"

namespace ndislock::api {

model::ThreadState &first_call() noexcept {
    observe::connect_to_lower_layers();
    verifier::configure_once();
    observe::trace::configure_from_environment();
    verifier::html_report::configure_from_environment();
    // Verifier on or off: the one watchdog (observe/watchdog.h) sees every wait and every ISR and
    // DPC from the start. After the settings, which set its limit.
    observe::start_watchdog();
    return model::register_current_thread();
}

} // namespace ndislock::api
