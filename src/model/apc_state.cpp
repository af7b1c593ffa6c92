#include "model/apc_state.h"

namespace ndislock::model {

namespace {
constinit thread_local ApcState tls_apc_state;
} // namespace

ApcState &this_thread_apc_state() noexcept { return tls_apc_state; }

} // namespace ndislock::model
