// Critical regions (KeEnterCriticalRegion / KeLeaveCriticalRegion, api/critical_region.cpp): the
// thread's count in model/apc_state.h. ndislock
// delivers no APCs, so the count only says whether the thread is in a region, which executive
// resources require (api/resource.cpp) and kernel mutexes enter (api/dispatcher_api.cpp).
#pragma once

namespace ndislock::api {

void enter_critical_region() noexcept;
void leave_critical_region() noexcept;
// How many regions the calling thread is in.
unsigned critical_region_depth() noexcept;

} // namespace ndislock::api
