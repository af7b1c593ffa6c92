#include "verifier/lock_order.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "verifier/lock_classes.h"

namespace ndislock::verifier {

namespace {

constexpr unsigned kWords = kMaxClasses / 64;
std::atomic<std::uint64_t> g_edges[kMaxClasses][kWords];

struct EdgeInfo {
    std::atomic<std::uint32_t> key{0}; // (from << 12 | to) + 1
    observe::Site from_site{}, to_site{};
    int thread = 0;
};
constexpr unsigned kEdgeSlots = 1u << 15;
EdgeInfo g_edge_info[kEdgeSlots];

constexpr unsigned kChainSlots = 1u << 16;
std::atomic<std::uint64_t> g_chains[kChainSlots];

std::mutex g_graph_mutex;

// What one exploration schedule added to the graph (begin_order_journal): each new edge bit, edge
// record and chain, undone in reverse order at the schedule's end, which leaves the tables exactly
// as they were at its start (an open-addressed entry added later never moved an earlier one). Only
// the schedule's running thread adds (one runs at a time), under g_graph_mutex for edges.
struct Undo {
    enum Kind : std::uint8_t { EdgeBit, EdgeRecord, Chain } kind;
    std::uint32_t a, b; // EdgeBit: from, to; EdgeRecord and Chain: the slot
};
constexpr unsigned kJournalSize = 4096;
Undo g_journal[kJournalSize];
std::atomic<unsigned> g_journal_used{0};
std::atomic<bool> g_journaling{false};
std::atomic<bool> g_journal_overflowed{false};

void journal(Undo::Kind kind, std::uint32_t a, std::uint32_t b) noexcept {
    if (__builtin_expect(!g_journaling.load(std::memory_order_relaxed), 1)) return;
    const unsigned i = g_journal_used.fetch_add(1, std::memory_order_relaxed);
    if (i < kJournalSize)
        g_journal[i] = Undo{kind, a, b};
    else
        g_journal_overflowed.store(true, std::memory_order_relaxed);
}

bool has_edge(std::uint32_t from, std::uint32_t to) noexcept {
    return (g_edges[from][to / 64].load(std::memory_order_acquire) >> (to % 64)) & 1u;
}

std::uint32_t edge_key(std::uint32_t from, std::uint32_t to) noexcept { return ((from << 12) | to) + 1; }

EdgeInfo *edge_info(std::uint32_t from, std::uint32_t to, bool create) noexcept {
    const std::uint32_t key = edge_key(from, to);
    for (unsigned i = 0, slot = (key * 2654435761u) % kEdgeSlots; i < kEdgeSlots; ++i, slot = (slot + 1) % kEdgeSlots) {
        std::uint32_t seen = g_edge_info[slot].key.load(std::memory_order_acquire);
        if (seen == key) return &g_edge_info[slot];
        if (seen == 0) {
            if (!create) return nullptr;
            if (g_edge_info[slot].key.compare_exchange_strong(seen, key, std::memory_order_acq_rel)) {
                journal(Undo::EdgeRecord, slot, 0);
                return &g_edge_info[slot];
            }
            if (seen == key) return &g_edge_info[slot];
        }
    }
    return nullptr;
}

// The path from -> ... -> to, by parent links, into found->path (its first and last classes kept
// when it is longer than kMaxPathShown).
void record_path(const std::uint32_t *parent, std::uint32_t from, std::uint32_t to, Inversion *found) noexcept {
    unsigned n = 1; // classes from `from` to `to`, both included
    for (std::uint32_t at = to; at != from && n <= kMaxClasses; at = parent[at])
        ++n;
    constexpr unsigned kMax = Inversion::kMaxPathShown;
    found->path_cut = n > kMax;
    found->path_length = n > kMax ? kMax : n;
    // Walked back from `to`: class k of the path (0 = from) is n - 1 - steps back. Kept: the first
    // path_length - 1 classes and `to` (the cut is in between).
    unsigned k = n - 1;
    for (std::uint32_t at = to;; at = parent[at], --k) {
        if (k == n - 1)
            found->path[found->path_length - 1] = at;
        else if (k + 1 < found->path_length)
            found->path[k] = at;
        if (at == from || k == 0) break;
    }
}

// Is there a path from -> ... -> to? Fills first_hop with the edge leaving from on that path, and
// found (if given) with the path's classes.
bool reachable(std::uint32_t from, std::uint32_t to, std::uint32_t *first_hop, Inversion *found = nullptr) noexcept {
    std::uint64_t visited[kWords] = {};
    std::uint32_t stack[kMaxClasses], origin[kMaxClasses];
    std::uint32_t parent[kMaxClasses]; // the node each visited one was reached from
    parent[from] = from;
    unsigned top = 0;
    stack[top] = from;
    origin[top++] = kOverflowClass;
    visited[from / 64] |= std::uint64_t{1} << (from % 64);
    while (top > 0) {
        --top;
        const std::uint32_t node = stack[top], hop = origin[top];
        for (unsigned w = 0; w < kWords; ++w) {
            std::uint64_t bits = g_edges[node][w].load(std::memory_order_acquire) & ~visited[w];
            while (bits != 0) {
                const unsigned b = static_cast<unsigned>(__builtin_ctzll(bits));
                bits &= bits - 1;
                const std::uint32_t next = w * 64 + b;
                const std::uint32_t next_hop = node == from ? next : hop;
                parent[next] = node;
                if (next == to) {
                    *first_hop = next_hop;
                    if (found != nullptr) record_path(parent, from, to, found);
                    return true;
                }
                visited[w] |= std::uint64_t{1} << b;
                if (top < kMaxClasses) {
                    stack[top] = next;
                    origin[top++] = next_hop;
                }
            }
        }
    }
    return false;
}

bool chain_seen(std::uint64_t hash) noexcept {
    for (unsigned i = 0, slot = static_cast<unsigned>(hash % kChainSlots); i < 8;
         ++i, slot = (slot + 1) % kChainSlots) {
        const std::uint64_t seen = g_chains[slot].load(std::memory_order_relaxed);
        if (seen == hash) return true;
        if (seen == 0) return false;
    }
    return false;
}

void remember_chain(std::uint64_t hash) noexcept {
    for (unsigned i = 0, slot = static_cast<unsigned>(hash % kChainSlots); i < 8;
         ++i, slot = (slot + 1) % kChainSlots) {
        std::uint64_t seen = 0;
        if (g_chains[slot].compare_exchange_strong(seen, hash, std::memory_order_relaxed))
            return journal(Undo::Chain, slot, 0);
        if (seen == hash) return;
    }
    // A full neighbourhood: the chain is simply checked again next time.
}

} // namespace

bool chain_checked(std::uint64_t key) noexcept { return chain_seen(key); }

bool check_and_record_order(const HeldForOrder *held, unsigned count, std::uint32_t wanted_class, bool wanted_shared,
                            const observe::Site &wanted_site, int thread_id, std::uint64_t hash,
                            Inversion *found) noexcept {
    if (count == 0 || wanted_class == kOverflowClass) return false;
    if (chain_seen(hash)) return false;

    bool inverted = false;
    std::lock_guard<std::mutex> guard(g_graph_mutex);
    for (unsigned i = 0; i < count; ++i) {
        const std::uint32_t a = held[i].lock_class;
        if (held[i].shared && wanted_shared) continue; // read under read: no conflict
        if (a == wanted_class || a == kOverflowClass || has_edge(a, wanted_class)) continue;
        std::uint32_t hop = kOverflowClass;
        if (!inverted && reachable(wanted_class, a, &hop, found)) {
            inverted = true;
            found->held_class = a;
            found->wanted_class = wanted_class;
            found->held_site = held[i].site;
            found->wanted_site = wanted_site;
            found->earlier_from = wanted_class;
            found->earlier_to = hop;
            if (const EdgeInfo *e = edge_info(wanted_class, hop, false)) {
                found->earlier_from_site = e->from_site;
                found->earlier_to_site = e->to_site;
                found->earlier_thread = e->thread;
            }
            continue; // the inverted edge is not recorded: the report is about it
        }
        const std::uint64_t bit = std::uint64_t{1} << (wanted_class % 64);
        if ((g_edges[a][wanted_class / 64].fetch_or(bit, std::memory_order_acq_rel) & bit) == 0)
            journal(Undo::EdgeBit, a, wanted_class);
        if (EdgeInfo *e = edge_info(a, wanted_class, true)) {
            e->from_site = held[i].site;
            e->to_site = wanted_site;
            e->thread = thread_id;
        }
    }
    if (!inverted) remember_chain(hash);
    return inverted;
}

void begin_order_journal() noexcept {
    g_journal_used.store(0, std::memory_order_relaxed);
    g_journal_overflowed.store(false, std::memory_order_relaxed);
    g_journaling.store(true, std::memory_order_release);
}

bool rollback_order_journal() noexcept {
    g_journaling.store(false, std::memory_order_release);
    const std::lock_guard<std::mutex> guard(g_graph_mutex);
    const unsigned used = std::min(g_journal_used.load(std::memory_order_relaxed), kJournalSize);
    for (unsigned i = used; i-- > 0;) {
        const Undo &u = g_journal[i];
        switch (u.kind) {
        case Undo::EdgeBit:
            g_edges[u.a][u.b / 64].fetch_and(~(std::uint64_t{1} << (u.b % 64)), std::memory_order_acq_rel);
            break;
        case Undo::EdgeRecord:
            g_edge_info[u.a].from_site = {};
            g_edge_info[u.a].to_site = {};
            g_edge_info[u.a].thread = 0;
            g_edge_info[u.a].key.store(0, std::memory_order_release);
            break;
        case Undo::Chain:
            g_chains[u.a].store(0, std::memory_order_relaxed);
            break;
        }
    }
    g_journal_used.store(0, std::memory_order_relaxed);
    return !g_journal_overflowed.exchange(false, std::memory_order_relaxed);
}

} // namespace ndislock::verifier
