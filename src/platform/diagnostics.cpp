#include "platform/diagnostics.h"

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace ndislock::platform {

static void vwrite(const char *format, va_list args) noexcept {
    char buffer[2048];
    int n = std::snprintf(buffer, sizeof buffer, "ndislock: ");
    const int m = std::vsnprintf(buffer + n, sizeof buffer - static_cast<size_t>(n) - 1, format, args);
    n += m < 0 ? 0 : m;
    if (n > static_cast<int>(sizeof buffer) - 2) n = static_cast<int>(sizeof buffer) - 2;
    buffer[n++] = '\n';
    for (int off = 0; off < n;) {
        const ssize_t w = ::write(2, buffer + off, static_cast<size_t>(n - off));
        if (w <= 0) break;
        off += static_cast<int>(w);
    }
}

void diagnostic(const char *format, ...) noexcept {
    va_list args;
    va_start(args, format);
    vwrite(format, args);
    va_end(args);
}

void fatal(const char *format, ...) noexcept {
    va_list args;
    va_start(args, format);
    vwrite(format, args);
    va_end(args);
    std::abort();
}

} // namespace ndislock::platform
