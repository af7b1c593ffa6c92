#include "explore/token.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ndislock::explore {

void format_token(const ScheduleKey &key, char *out, std::size_t size) noexcept {
    if (key.kind == StrategyKind::Random)
        std::snprintf(out, size, "x1.random.%016" PRIx64, key.seed);
    else
        std::snprintf(out, size, "x1.pct%u.%u.%016" PRIx64, key.depth, key.horizon, key.seed);
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
