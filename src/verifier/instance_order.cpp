#include "verifier/instance_order.h"

#include <atomic>
#include <mutex>

#include "platform/diagnostics.h"

namespace ndislock::verifier {

namespace {

// Pair records, a hash of them by (held, wanted), and a hash from each lock's address to the
// chain of its records, so that freeing a lock removes its pairs without a scan. Every change
// (a new pair, a forgotten one) takes g_mutex; the common question "is held -> wanted known, and
// its reverse not?" is answered without it, as a seqlock reader: under g_version's even value,
// retried when a writer ran meanwhile. Deletion shifts later entries back (no tombstones), so the
// table never fills with removed pairs and a miss ends at the first empty slot.
//
// With every record live, a new pair replaces the oldest record: a run that nests more
// same-class pairs than fit keeps checking the recent ones (said once).
constexpr unsigned kRecords = 1u << 13;
constexpr unsigned kPairSlots = 2 * kRecords;    // at most half full; powers of two
constexpr unsigned kAddressSlots = 4 * kRecords; // two addresses a record, at most half full
constexpr std::uint32_t kNone = 0;               // record links and slots hold index + 1

struct Record {
    std::atomic<std::uintptr_t> held{0}; // 0: free (read by the lock-free lookup)
    std::atomic<std::uintptr_t> wanted{0};
    std::uint32_t next_of_held = kNone;   // the next record in held's chain
    std::uint32_t next_of_wanted = kNone; // the next record in wanted's chain
    observe::Site site{}, held_site{};
    int thread = 0;
};
struct AddressSlot {
    std::uintptr_t address = 0; // 0 empty
    std::uint32_t head = kNone;
};

Record g_records[kRecords];
std::atomic<std::uint32_t> g_pair_slots[kPairSlots]; // record index + 1, 0 empty
AddressSlot g_addresses[kAddressSlots];              // only under g_mutex
std::uint32_t g_free_head = kNone;                   // free records, linked through next_of_held
unsigned g_never_used = 0;                           // records below this were handed out once
unsigned g_evict_cursor = 0;                         // the oldest record, once all are live
bool g_evicting_said = false;
std::mutex g_mutex;
std::atomic<std::uint32_t> g_version{0}; // odd while a writer changes the tables
// How many live records name an address hashed to each counter: a lock's initialization or free
// (the common case: a lock in no pair) reads one counter, not the tables.
constexpr unsigned kCounters = 1u << 16;
std::atomic<std::uint16_t> g_counts[kCounters];

std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return x;
}
unsigned pair_home(std::uintptr_t held, std::uintptr_t wanted) noexcept {
    return static_cast<unsigned>(mix(held * 0x9E3779B97F4A7C15ull ^ (wanted + 0x632BE59BD9B4E019ull)) >> 20) &
           (kPairSlots - 1);
}
unsigned address_home(std::uintptr_t address) noexcept {
    return static_cast<unsigned>(mix(address) >> 20) & (kAddressSlots - 1);
}
unsigned counter_of(std::uintptr_t address) noexcept {
    return static_cast<unsigned>(mix(address ^ 0x5851F42D4C957F2Dull) >> 40) & (kCounters - 1);
}

// The record of held -> wanted, or kNone. Under g_mutex, or as a seqlock reader (then only a hint
// until g_version is checked again).
std::uint32_t lookup(std::uintptr_t held, std::uintptr_t wanted) noexcept {
    for (unsigned i = 0, s = pair_home(held, wanted); i < kPairSlots; ++i, s = (s + 1) & (kPairSlots - 1)) {
        const std::uint32_t r = g_pair_slots[s].load(std::memory_order_relaxed);
        if (r == kNone || r > kRecords) return kNone;
        const Record &rec = g_records[r - 1];
        if (rec.held.load(std::memory_order_relaxed) == held && rec.wanted.load(std::memory_order_relaxed) == wanted)
            return r;
    }
    return kNone;
}

// A writer's section: g_version odd for the seqlock readers.
class Writing {
public:
    Writing() noexcept { g_version.fetch_add(1, std::memory_order_acq_rel); }
    ~Writing() { g_version.fetch_add(1, std::memory_order_release); }
    Writing(const Writing &) = delete;
    Writing &operator=(const Writing &) = delete;
};

// --- Under g_mutex and Writing from here on ---

std::uint32_t &next_in_chain(Record &rec, std::uintptr_t address) noexcept {
    return rec.held.load(std::memory_order_relaxed) == address ? rec.next_of_held : rec.next_of_wanted;
}

AddressSlot *address_slot(std::uintptr_t address, bool create) noexcept {
    for (unsigned i = 0, s = address_home(address); i < kAddressSlots; ++i, s = (s + 1) & (kAddressSlots - 1)) {
        AddressSlot &slot = g_addresses[s];
        if (slot.address == address) return &slot;
        if (slot.address == 0) {
            if (!create) return nullptr;
            slot.address = address;
            slot.head = kNone;
            return &slot;
        }
    }
    return nullptr; // cannot happen: at most half full
}

// Linear probing's deletion: later entries of the run move back into the hole when their home
// allows, so every lookup still reaches its entry before an empty slot.
void erase_address_slot(AddressSlot *hole_slot) noexcept {
    unsigned hole = static_cast<unsigned>(hole_slot - g_addresses);
    g_addresses[hole] = AddressSlot{};
    for (unsigned s = (hole + 1) & (kAddressSlots - 1); g_addresses[s].address != 0;
         s = (s + 1) & (kAddressSlots - 1)) {
        const unsigned home = address_home(g_addresses[s].address);
        // The entry at s may fill the hole if its home is not within (hole, s].
        if (((s - home) & (kAddressSlots - 1)) >= ((s - hole) & (kAddressSlots - 1))) {
            g_addresses[hole] = g_addresses[s];
            g_addresses[s] = AddressSlot{};
            hole = s;
        }
    }
}

void erase_pair_slot(unsigned hole) noexcept {
    g_pair_slots[hole].store(kNone, std::memory_order_relaxed);
    for (unsigned s = (hole + 1) & (kPairSlots - 1);; s = (s + 1) & (kPairSlots - 1)) {
        const std::uint32_t r = g_pair_slots[s].load(std::memory_order_relaxed);
        if (r == kNone) return;
        const Record &rec = g_records[r - 1];
        const unsigned home =
            pair_home(rec.held.load(std::memory_order_relaxed), rec.wanted.load(std::memory_order_relaxed));
        if (((s - home) & (kPairSlots - 1)) >= ((s - hole) & (kPairSlots - 1))) {
            g_pair_slots[hole].store(r, std::memory_order_relaxed);
            g_pair_slots[s].store(kNone, std::memory_order_relaxed);
            hole = s;
        }
    }
}

void count(std::uintptr_t address, int delta) noexcept {
    g_counts[counter_of(address)].fetch_add(static_cast<std::uint16_t>(delta), std::memory_order_relaxed);
}

void unlink_from_chain(std::uint32_t r, std::uintptr_t address) noexcept {
    AddressSlot *slot = address_slot(address, false);
    if (slot == nullptr) return;
    std::uint32_t *link = &slot->head;
    while (*link != kNone && *link != r)
        link = &next_in_chain(g_records[*link - 1], address);
    if (*link == r) *link = next_in_chain(g_records[r - 1], address);
    if (slot->head == kNone) erase_address_slot(slot);
}

// Removes record r from the pair hash and both chains, and frees it.
void remove_record(std::uint32_t r) noexcept {
    Record &rec = g_records[r - 1];
    const std::uintptr_t held = rec.held.load(std::memory_order_relaxed);
    const std::uintptr_t wanted = rec.wanted.load(std::memory_order_relaxed);
    for (unsigned i = 0, s = pair_home(held, wanted); i < kPairSlots; ++i, s = (s + 1) & (kPairSlots - 1)) {
        const std::uint32_t seen = g_pair_slots[s].load(std::memory_order_relaxed);
        if (seen == kNone) break;
        if (seen == r) {
            erase_pair_slot(s);
            break;
        }
    }
    unlink_from_chain(r, held);
    unlink_from_chain(r, wanted);
    count(held, -1);
    count(wanted, -1);
    rec.held.store(0, std::memory_order_relaxed);
    rec.wanted.store(0, std::memory_order_relaxed);
    rec.next_of_held = g_free_head;
    g_free_head = r;
}

std::uint32_t take_record() noexcept {
    if (g_free_head != kNone) {
        const std::uint32_t r = g_free_head;
        g_free_head = g_records[r - 1].next_of_held;
        return r;
    }
    if (g_never_used < kRecords) return ++g_never_used;
    // Every record live: the oldest goes (records were handed out in order, and a freed one
    // rejoins in the free list, so the cursor is close to the oldest).
    if (!g_evicting_said) {
        g_evicting_said = true;
        platform::diagnostic("verifier: more than %u ordered pairs of same-class locks live at once; the oldest are "
                             "forgotten to check new ones",
                             kRecords);
    }
    const std::uint32_t r = g_evict_cursor + 1;
    g_evict_cursor = (g_evict_cursor + 1) % kRecords;
    remove_record(r);
    g_free_head = g_records[r - 1].next_of_held;
    return r;
}

void insert(std::uintptr_t held, std::uintptr_t wanted, const observe::Site &site, const observe::Site &held_site,
            int thread) noexcept {
    const std::uint32_t r = take_record();
    Record &rec = g_records[r - 1];
    rec.held.store(held, std::memory_order_relaxed);
    rec.wanted.store(wanted, std::memory_order_relaxed);
    rec.site = site;
    rec.held_site = held_site;
    rec.thread = thread;
    for (unsigned s = pair_home(held, wanted);; s = (s + 1) & (kPairSlots - 1)) {
        if (g_pair_slots[s].load(std::memory_order_relaxed) == kNone) {
            g_pair_slots[s].store(r, std::memory_order_relaxed);
            break;
        }
    }
    AddressSlot *h = address_slot(held, true);
    rec.next_of_held = h->head;
    h->head = r;
    AddressSlot *w = address_slot(wanted, true);
    rec.next_of_wanted = w->head;
    w->head = r;
    count(held, +1);
    count(wanted, +1);
}

} // namespace

bool note_instance_pair(const void *held, const void *wanted, const observe::Site &site, const observe::Site &held_site,
                        int thread, InstancePairSeen *reverse) noexcept {
    const auto h = reinterpret_cast<std::uintptr_t>(held), w = reinterpret_cast<std::uintptr_t>(wanted);
    // Without the mutex first: a walk down a list takes the same pairs again and again.
    const std::uint32_t before = g_version.load(std::memory_order_acquire);
    if ((before & 1) == 0) {
        const bool known = lookup(h, w) != kNone && lookup(w, h) == kNone;
        std::atomic_thread_fence(std::memory_order_acquire);
        if (known && g_version.load(std::memory_order_relaxed) == before) return false;
    }
    const std::lock_guard<std::mutex> guard(g_mutex);
    if (const std::uint32_t r = lookup(w, h); r != kNone) {
        const Record &rec = g_records[r - 1];
        reverse->site = rec.site;
        reverse->held_site = rec.held_site;
        reverse->thread = rec.thread;
        return true;
    }
    if (lookup(h, w) != kNone) return false;
    const Writing writing;
    insert(h, w, site, held_site, thread);
    return false;
}

void forget_instance_pairs(const void *lock) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(lock);
    if (g_counts[counter_of(a)].load(std::memory_order_relaxed) == 0) return;
    const std::lock_guard<std::mutex> guard(g_mutex);
    const AddressSlot *slot = address_slot(a, false);
    if (slot == nullptr) return;
    const Writing writing;
    // remove_record erases the address's slot with its last record: read the head again each time.
    while ((slot = address_slot(a, false)) != nullptr)
        remove_record(slot->head);
}

} // namespace ndislock::verifier
