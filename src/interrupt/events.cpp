#include "interrupt/events.h"

#include <atomic>
#include <climits>

#include "platform/clock.h"
#include "lock/park.h"

namespace ndislock::interrupt {

namespace {

static_assert(sizeof(LONG) == sizeof(std::uint32_t), "SignalState is the parking word");

std::atomic_ref<LONG> state(PNDIS_EVENT event) noexcept {
    return std::atomic_ref<LONG>(const_cast<LONG &>(event->Event.Header.SignalState));
}

} // namespace

void event_initialize(PNDIS_EVENT event) noexcept {
    event->Event.Header.Type = 0; // NotificationEvent
    event->Event.Header.Size = sizeof(KEVENT) / sizeof(LONG);
    event->Event.Header.WaitListHead.Flink = event->Event.Header.WaitListHead.Blink = &event->Event.Header.WaitListHead;
    state(event).store(0, std::memory_order_release);
}

void event_set(PNDIS_EVENT event) noexcept {
    if (state(event).exchange(1, std::memory_order_acq_rel) == 0)
        lock::unpark_all(const_cast<LONG *>(&event->Event.Header.SignalState));
}

void event_reset(PNDIS_EVENT event) noexcept { state(event).store(0, std::memory_order_release); }

bool event_wait(PNDIS_EVENT event, UINT ms) noexcept {
    const std::uint64_t deadline = ms == 0 ? 0 : platform::monotonic_ns() + std::uint64_t{ms} * 1'000'000;
    for (;;) {
        if (state(event).load(std::memory_order_acquire) != 0) return true;
        std::uint64_t wait = 1'000'000'000;
        if (deadline != 0) {
            const std::uint64_t now = platform::monotonic_ns();
            if (now >= deadline) return false;
            wait = deadline - now < wait ? deadline - now : wait;
        }
        lock::park(const_cast<LONG *>(&event->Event.Header.SignalState), 0, wait);
    }
}

} // namespace ndislock::interrupt
