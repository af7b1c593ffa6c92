// NDIS events: notification events; a waiter parks (lock/park.h) on the KEVENT's SignalState word.
#pragma once

#include "ndislock/wdk_types.h"

namespace ndislock::interrupt {

void event_initialize(PNDIS_EVENT event) noexcept;
void event_set(PNDIS_EVENT event) noexcept;
void event_reset(PNDIS_EVENT event) noexcept;
// Waits until set or ms milliseconds pass (0: no limit). True if set.
bool event_wait(PNDIS_EVENT event, UINT ms) noexcept;

} // namespace ndislock::interrupt
