#include "explore/token.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace ndislock::explore {

namespace {
bool format_choices(const ChoiceList *ranks, char *out, std::size_t size) noexcept {
    int n = std::snprintf(out, size, "x1.choices.");
    unsigned zeros = 0, written = 0;
    for (std::size_t i = 0; ranks != nullptr && i < ranks->size() && n >= 0; ++i) {
        const unsigned rank = (*ranks)[i];
        if (rank == 0) {
            ++zeros;
            continue;
        }
        if (static_cast<std::size_t>(n) >= size) break;
        n += std::snprintf(out + n, size - static_cast<std::size_t>(n), "%u%c", zeros, 'a' + rank - 1);
        zeros = 0;
        ++written;
    }
    if (written == 0 && n >= 0 && static_cast<std::size_t>(n) < size)
        n += std::snprintf(out + n, size - static_cast<std::size_t>(n), "-");
    if (n < 0 || static_cast<std::size_t>(n) >= size) {
        if (size != 0) out[0] = '\0';
        return false;
    }
    return true;
}

bool parse_choices(const char *p, ChoiceList &ranks) noexcept {
    ranks.clear();
    if (std::strcmp(p, "-") == 0) return true;
    if (*p == '\0') return false;
    while (*p != '\0') {
        if (*p < '0' || *p > '9') return false;
        char *end = nullptr;
        const unsigned long zeros = std::strtoul(p, &end, 10);
        if (zeros > 1000000ul || *end < 'a' || *end > 'g') return false;
        ranks.insert(ranks.end(), zeros, 0);
        ranks.push_back(static_cast<std::uint8_t>(*end - 'a' + 1));
        p = end + 1;
    }
    return true;
}
} // namespace

bool format_token(const ScheduleKey &key, char *out, std::size_t size) noexcept {
    if (key.kind == StrategyKind::Choices) return format_choices(key.choices.get(), out, size);
    const int n = key.kind == StrategyKind::Random
                      ? std::snprintf(out, size, "x1.random.%016" PRIx64, key.seed)
                      : std::snprintf(out, size, "x1.pct%u.%u.%016" PRIx64, key.depth, key.horizon, key.seed);
    return n >= 0 && static_cast<std::size_t>(n) < size;
}

namespace {
// Exactly 16 hex digits, then the end.
bool parse_seed(const char *p, std::uint64_t &seed) noexcept {
    if (std::strlen(p) != 16) return false;
    std::uint64_t v = 0;
    for (int i = 0; i < 16; ++i) {
        const char c = p[i];
        const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) return false;
        v = v << 4 | static_cast<unsigned>(digit);
    }
    seed = v;
    return true;
}
} // namespace

bool parse_token(const char *text, ScheduleKey &key) noexcept {
    if (text == nullptr) return false;
    ScheduleKey k{};
    if (std::strncmp(text, "x1.random.", 10) == 0) {
        k.kind = StrategyKind::Random;
        if (!parse_seed(text + 10, k.seed)) return false;
        key = k;
        return true;
    }
    if (std::strncmp(text, "x1.choices.", 11) == 0) {
        auto ranks = std::make_shared<ChoiceList>();
        if (!parse_choices(text + 11, *ranks)) return false;
        k.kind = StrategyKind::Choices;
        k.choices = std::move(ranks);
        key = k;
        return true;
    }
    if (std::strncmp(text, "x1.pct", 6) != 0) return false;
    const char *p = text + 6;
    if (*p < '1' || *p > '0' + static_cast<int>(kMaxDepth) || p[1] != '.') return false;
    k.kind = StrategyKind::Pct;
    k.depth = static_cast<unsigned>(*p - '0');
    p += 2;
    char *end = nullptr;
    const unsigned long horizon = std::strtoul(p, &end, 10);
    if (end == p || *end != '.' || horizon == 0 || horizon > 0xFFFFFFFFul) return false;
    k.horizon = static_cast<std::uint32_t>(horizon);
    if (!parse_seed(end + 1, k.seed)) return false;
    key = k;
    return true;
}

} // namespace ndislock::explore
