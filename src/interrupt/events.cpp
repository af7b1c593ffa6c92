#include "interrupt/events.h"

#include "interrupt/dispatcher.h"
#include "platform/clock.h"

namespace ndislock::interrupt {

// An NDIS_EVENT is a notification KEVENT (ndis.h): the same object, the same waits, so a driver
// may mix NdisSetEvent with KeWaitForSingleObject on &Event->Event, or KeSetEvent with NdisWaitEvent.

void event_initialize(PNDIS_EVENT event) noexcept { event_init(&event->Event, false, false); }

void event_set(PNDIS_EVENT event) noexcept { event_set(&event->Event); }

void event_reset(PNDIS_EVENT event) noexcept { event_reset(&event->Event); }

bool event_wait(PNDIS_EVENT event, UINT ms) noexcept {
    DISPATCHER_HEADER *const object = &event->Event.Header;
    const std::uint64_t deadline = ms == 0 ? kWaitForever : platform::monotonic_ns() + std::uint64_t{ms} * 1'000'000;
    return wait_for(&object, 1, false, deadline, model::current_thread()).satisfied;
}

} // namespace ndislock::interrupt
