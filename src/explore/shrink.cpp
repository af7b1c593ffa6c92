#include "explore/shrink.h"

#include <cctype>
#include <cstring>
#include <string>

namespace ndislock::explore {

namespace {

// A measured duration or ratio in a verifier's text ("168.1 us", "7x the budget"): what the
// machine measured, not what the schedule chose, so it may differ between two runs of one schedule.
std::size_t measurement_length(const char *p) noexcept {
    const char *q = p;
    while (std::isdigit(static_cast<unsigned char>(*q)) || *q == '.')
        ++q;
    if (q == p) return 0;
    if (std::strncmp(q, " us", 3) == 0) return static_cast<std::size_t>(q + 3 - p);
    if (q[0] == 'x' && q[1] == ' ') return static_cast<std::size_t>(q + 1 - p);
    return 0;
}

// The finding's text as two runs of one schedule print it alike: no addresses, no measurements.
std::string without_addresses(const char *text) {
    std::string out;
    for (const char *p = text; *p != '\0';) {
        if (const std::size_t n =
                (p == text || !std::isalnum(static_cast<unsigned char>(p[-1]))) ? measurement_length(p) : 0;
            n != 0) {
            p += n;
            out += '?';
            continue;
        }
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && std::isxdigit(static_cast<unsigned char>(p[2]))) {
            p += 2;
            while (std::isxdigit(static_cast<unsigned char>(*p)))
                ++p;
            out += "0x?";
            continue;
        }
        out += *p++;
    }
    return out;
}

// Fewer preemptions, then fewer non-default choices, then lower ranks.
struct Size {
    unsigned preemptions, deviations, ranks;
    bool operator<(const Size &o) const noexcept {
        if (preemptions != o.preemptions) return preemptions < o.preemptions;
        return deviations != o.deviations ? deviations < o.deviations : ranks < o.ranks;
    }
};

Size size_of(const std::vector<ChoiceRecord> &c) noexcept {
    Size s{0, 0, 0};
    for (const ChoiceRecord &r : c)
        if (r.rank != 0) {
            ++s.deviations;
            s.preemptions += r.preemptive ? 1 : 0;
            s.ranks += r.rank;
        }
    return s;
}

// Positions of the non-default choices.
std::vector<std::size_t> deviations(const ChoiceList &ranks) {
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < ranks.size(); ++i)
        if (ranks[i] != 0) at.push_back(i);
    return at;
}

// The schedule's threads, one per point, with segment [k] moved: before segment `to` (to < k) or
// after it (to > k).
ChoiceList moved(const std::vector<ChoiceRecord> &c, const std::vector<std::size_t> &starts, std::size_t k,
                 std::size_t to) {
    auto segment = [&](std::size_t i, ChoiceList &out) {
        const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : c.size();
        for (std::size_t j = starts[i]; j < end; ++j)
            out.push_back(c[j].chosen);
    };
    ChoiceList out;
    for (std::size_t i = 0; i < starts.size(); ++i) {
        if (i == k) continue;
        if (i == to && to < k) segment(k, out);
        segment(i, out);
        if (i == to && to > k) segment(k, out);
    }
    return out;
}

} // namespace

bool same_finding(const Finding &a, const Finding &b) noexcept {
    if (a.found != b.found || std::strcmp(a.rule, b.rule) != 0) return false;
    return without_addresses(a.message) == without_addresses(b.message);
}

Shrunk shrink(const std::vector<ChoiceRecord> &failing, const Finding &finding, unsigned budget,
              const ReplayChoices &replay) {
    Shrunk best;
    best.choices = failing;
    Finding seen;
    std::vector<ChoiceRecord> recorded;
    // Runs candidate; true if it failed the same way with a smaller schedule (which becomes best).
    auto attempt = [&](const ChoiceList &candidate, bool any_size, StrategyKind kind = StrategyKind::Choices) {
        if (best.replays >= budget) return false;
        ++best.replays;
        seen = Finding{};
        if (!replay(kind, candidate, &seen, &recorded) || !same_finding(seen, finding)) return false;
        if (!any_size && !(size_of(recorded) < size_of(best.choices))) return false;
        best.choices = recorded;
        return true;
    };
    // A scenario whose runs depend on more than the choices cannot be shrunk by replaying them.
    best.reproduced = attempt(ranks_of(failing), true);
    if (!best.reproduced) {
        best.choices = failing;
        return best;
    }
    for (bool changed = true; changed && best.replays < budget;) {
        changed = false;
        const ChoiceList ranks = ranks_of(best.choices);
        const std::vector<std::size_t> at = deviations(ranks);
        // The shortest prefix of the non-default choices that still fails.
        for (std::size_t keep = 0; keep < at.size() && !changed; ++keep) {
            ChoiceList candidate(ranks.begin(), ranks.begin() + static_cast<std::ptrdiff_t>(at[keep]));
            changed = attempt(candidate, false);
        }
        // One choice back to the default, or to the next thread in its point's order; last first
        // (a late change leaves the earlier choices meaning what they meant).
        for (std::size_t k = at.size(); k-- > 0 && !changed;) {
            ChoiceList candidate = ranks;
            candidate[at[k]] = 0;
            changed = attempt(candidate, false);
            if (!changed && ranks[at[k]] > 1) {
                candidate[at[k]] = 1;
                changed = attempt(candidate, false);
            }
        }
        // A segment moved to join another of its thread.
        std::vector<std::size_t> starts;
        for (std::size_t i = 0; i < best.choices.size(); ++i)
            if (i == 0 || best.choices[i].chosen != best.choices[i - 1].chosen) starts.push_back(i);
        const std::vector<ChoiceRecord> current = best.choices;
        for (std::size_t k = 0; k < starts.size() && !changed; ++k)
            for (std::size_t m = 0; m < starts.size() && !changed; ++m) {
                if (m + 1 == k || m == k || m == k + 1) continue; // already next to it
                if (current[starts[m]].chosen != current[starts[k]].chosen) continue;
                changed = attempt(moved(current, starts, k, m < k ? m + 1 : m - 1), false, StrategyKind::Threads);
            }
    }
    // Last, while the budget lasts: every schedule with fewer preemptions than the best, in the
    // exhaustive search's order, smallest bound first. The greedy steps above move choices by
    // their positions, and a change early in a schedule shifts what the later positions mean (an
    // interrupt's arrival, say), so they can stop at a local minimum that a small bounded search
    // passes: the first failing schedule it meets is the smallest within its bound.
    for (unsigned bound = 0; bound < size_of(best.choices).preemptions && best.replays < budget; ++bound) {
        ChoiceList prefix;
        bool smaller = false;
        while (best.replays < budget) {
            ++best.replays;
            seen = Finding{};
            if (!replay(StrategyKind::Choices, prefix, &seen, &recorded)) break;
            if (same_finding(seen, finding)) {
                best.choices = recorded;
                smaller = true;
                break;
            }
            if (!next_bounded_prefix(recorded, bound, prefix)) break;
        }
        if (smaller) break;
    }
    return best;
}

} // namespace ndislock::explore
