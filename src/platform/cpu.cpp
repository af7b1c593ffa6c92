#include "platform/cpu.h"

#include <sched.h>

namespace ndislock::platform {

void yield_core() noexcept { sched_yield(); }

} // namespace ndislock::platform
