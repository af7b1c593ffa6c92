#include "model/apc_state.h"
#include "platform/context_local.h"

namespace ndislock::model {

namespace {
constinit thread_local ApcState tls_apc_state;
NDISLOCK_CONTEXT_LOCAL(tls_apc_state); // follows the context (platform/context_local.h)
} // namespace

ApcState &this_thread_apc_state() noexcept { return tls_apc_state; }

} // namespace ndislock::model
