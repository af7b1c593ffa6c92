// Which KTIMERs are in the timer queue (timers.cpp), by address: the queue's links live in the
// driver's memory, and a timer freed and reused while set leaves links that point anywhere. Every
// link is looked up here before it is followed, so a broken one is reported (bug check 0xC7), not
// followed into a crash without a word.
//
// A fixed open-addressing table, touched only under the timer queue's lock (no allocation: timers
// are set from DPCs inside emulated interrupts). Past kTimerRegistrySlots * 3/4 set timers at once
// the registry stops answering for good (known() says yes to everything) and the queue is followed
// unchecked, as before it existed.
#pragma once

#include <cstdint>

namespace ndislock::interrupt {

inline constexpr std::uint32_t kTimerRegistrySlots = 1u << 16;

// Records a timer that enters the queue.
void registry_add(const void *timer) noexcept;
// Forgets a timer that leaves it.
void registry_remove(const void *timer) noexcept;
// Whether timer is in the queue (always true once the registry overflowed).
bool registry_known(const void *timer) noexcept;
// Forgets every timer (the queue was dropped).
void registry_clear() noexcept;

} // namespace ndislock::interrupt
