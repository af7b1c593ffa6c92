#include "platform/format.h"

#include <cstdio>

namespace ndislock::platform {

std::string vformat(const char *fmt, va_list args) {
    char buffer[512]; // most messages fit: one vsnprintf, no second pass
    va_list again;
    va_copy(again, args);
    const int n = std::vsnprintf(buffer, sizeof buffer, fmt, args);
    if (n < 0) {
        va_end(again);
        return {};
    }
    if (static_cast<unsigned>(n) < sizeof buffer) {
        va_end(again);
        return std::string(buffer, static_cast<std::size_t>(n));
    }
    std::string out(static_cast<std::size_t>(n), '\0');
    std::vsnprintf(out.data(), out.size() + 1, fmt, again);
    va_end(again);
    return out;
}

std::string format(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::string out = vformat(fmt, args);
    va_end(args);
    return out;
}

} // namespace ndislock::platform
