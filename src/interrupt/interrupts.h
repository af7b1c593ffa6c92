// Interrupt objects and adapters: what NdisMRegisterInterruptEx creates and NDIS_HANDLEs name.
//
// Both live in fixed tables and are recycled, never freed, so a stale handle can always be told
// from a live one: a handle encodes the slot and the slot's generation (an opaque NDIS_HANDLE to
// the driver, never dereferenced).
#pragma once

#include <atomic>
#include <cstdint>

#include "interrupt/latency.h"
#include "model/thread_state.h"
#include "ndislock/device.h"
#include "ndislock/ext.h"
#include "ndislock/wdk_types.h"
#include "observe/hooks.h"

namespace ndislock::interrupt {

inline constexpr std::uint32_t kMaxInterrupts = 64;
static_assert(kMaxInterrupts <= 64, "ProcessorContext::asserted_slots is a 64-bit mask of slots");
inline constexpr std::uint32_t kMaxAdapters = 64;
// Messages of one message-signalled registration (each takes an interrupt slot).
inline constexpr std::uint32_t kMaxMessages = 32;

enum class SlotState : std::uint32_t { Free, Live, Closing };

struct Interrupt;

// The MiniportInterruptDPC of one interrupt on one processor: a KDPC ndislock queues.
struct InterruptDpc {
    KDPC dpc{};
    Interrupt *owner = nullptr;
    std::uint32_t processor = 0;
    std::atomic<std::uint32_t> generation{0}; // the interrupt's generation when queued
    std::atomic<std::uint64_t> queued_ns{0};
};

struct Interrupt {
    std::atomic<SlotState> state{SlotState::Free};
    std::atomic<std::uint32_t> generation{0};
    std::uint32_t index = 0;
    std::uint32_t adapter = 0; // adapter slot
    NDIS_HANDLE context = nullptr;
    MINIPORT_ISR_HANDLER isr = nullptr;
    MINIPORT_INTERRUPT_DPC_HANDLER dpc = nullptr;
    MINIPORT_ENABLE_INTERRUPT_HANDLER enable = nullptr;
    MINIPORT_DISABLE_INTERRUPT_HANDLER disable = nullptr;
    KIRQL dirql = NDISLOCK_DEVICE_IRQL;
    // The interrupt's own spin lock: held around MiniportInterrupt, synchronize functions and
    // enable/disable, so they never overlap on any processor. sync_lock points at it, or for a
    // message with MsiSyncWithAllMessages at the first message's.
    KSPIN_LOCK lock = 0;
    KSPIN_LOCK *sync_lock = &lock;
    // Message-signalled registrations: one slot per message, each an interrupt of its own (its
    // pending bits, its DPCs). The first message's slot is what the handle names (primary), and
    // lists the others; a line-based interrupt is its own primary with no messages.
    bool msi = false;
    ULONG message = 0;
    Interrupt *primary = this;
    std::uint32_t message_count = 0;                    // primary of a message-signalled registration
    std::uint32_t message_slots[kMaxMessages] = {};     // primary: the slot of each message
    IO_INTERRUPT_MESSAGE_INFO *message_table = nullptr; // primary: what MessageInfoTable points at
    MINIPORT_MSI_ISR_HANDLER msi_isr = nullptr;
    MINIPORT_MSI_INTERRUPT_DPC_HANDLER msi_dpc = nullptr;
    MINIPORT_ENABLE_MSI_INTERRUPT_HANDLER msi_enable = nullptr;
    MINIPORT_DISABLE_MSI_INTERRUPT_HANDLER msi_disable = nullptr;
    // Messages are edge-like: asserts toward each processor not yet delivered (a line is level-
    // triggered and merges them in `pending`).
    std::atomic<std::uint32_t> msi_pending[NDISLOCK_MAX_PROCESSORS] = {};
    // Processors whose line is asserted and not yet delivered, and when each was asserted.
    std::atomic<std::uint64_t> pending{0};
    std::atomic<std::uint64_t> asserted_ns[NDISLOCK_MAX_PROCESSORS] = {};
    // Per processor: deliveries so far (a caller interrupting its own processor waits on it).
    std::atomic<std::uint32_t> delivered[NDISLOCK_MAX_PROCESSORS] = {};
    // ISRs and DPCs of this interrupt in progress (deregistration waits for 0).
    std::atomic<std::uint32_t> active{0};
    InterruptDpc dpcs[NDISLOCK_MAX_PROCESSORS];

    struct Counters {
        std::atomic<std::uint64_t> asserted{0}, coalesced{0}, delivered{0}, claimed{0}, preempted{0}, held_pending{0},
            dpcs_queued{0}, dpcs_run{0}, synchronized{0};
    } counters;
    LatencyHistogram delivery_latency, dpc_latency, isr_duration, dpc_duration;

    NDIS_HANDLE handle() const noexcept;
};

struct Adapter {
    std::atomic<SlotState> state{SlotState::Free};
    std::atomic<std::uint32_t> generation{0};
    std::atomic<std::uint32_t> message_count{0}; // MSI-X messages granted (0: one per processor)
};

extern Interrupt g_interrupts[kMaxInterrupts];
extern Adapter g_adapters[kMaxAdapters];

enum class Lookup : std::uint8_t { Live, Stale, Unknown };

// The interrupt a handle names (nullptr unless Live, or Stale when stale_ok).
Interrupt *find_interrupt(NDIS_HANDLE handle, Lookup *how) noexcept;
Adapter *find_adapter(NDIS_HANDLE handle, std::uint32_t *slot) noexcept;

// The calls of ndislock/ndis_interrupt.h and ndislock/device.h (api/ wraps them).
NDIS_STATUS register_interrupt(NDIS_HANDLE adapter, NDIS_HANDLE context,
                               PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS characteristics, PNDIS_HANDLE out,
                               const observe::Site &site) noexcept;
void deregister_interrupt(NDIS_HANDLE handle, const observe::Site &site) noexcept;
BOOLEAN synchronize(NDIS_HANDLE handle, ULONG message, MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER function, PVOID context,
                    const observe::Site &site) noexcept;
KAFFINITY queue_interrupt_dpcs(NDIS_HANDLE handle, ULONG message, KAFFINITY processors, PVOID context) noexcept;
NDISLOCK_STATUS assert_interrupt(NDIS_HANDLE handle, ULONG message, ULONG processor) noexcept;
NDISLOCK_STATUS set_adapter_message_count(NDIS_HANDLE adapter, ULONG count) noexcept;
NDISLOCK_STATUS run_enable_disable(NDIS_HANDLE handle, bool enable) noexcept;
NDISLOCK_STATUS interrupt_stats(NDIS_HANDLE handle, NDISLOCK_INTERRUPT_STATS *out) noexcept;
NDISLOCK_STATUS reset_interrupt_stats(NDIS_HANDLE handle) noexcept;
NDIS_STATUS initialize_miniport(MINIPORT_INITIALIZE_HANDLER initialize, NDIS_HANDLE driver_context,
                                PNDIS_HANDLE adapter_out) noexcept;
void halt_miniport(NDIS_HANDLE adapter, MINIPORT_HALT_HANDLER halt, NDIS_HANDLE adapter_context) noexcept;

// Ends one unit of `active` work (an ISR delivery, a DPC, a synchronize call), waking a
// deregistration that waits for none to remain.
void leave_active(Interrupt &interrupt) noexcept;

// Queues interrupt's MiniportInterruptDPC on processor; true if it was not queued there yet.
bool queue_interrupt_dpc(Interrupt &interrupt, std::uint32_t processor, PVOID context) noexcept;
// Runs interrupt's ISR on processor for the thread t (the ISR thread), which is at its DIRQL.
void run_isr(Interrupt &interrupt, std::uint32_t processor, model::ThreadState &t) noexcept;

} // namespace ndislock::interrupt
