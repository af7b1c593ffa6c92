// printf into a std::string: the one formatting helper of the library's messages and reports.
#pragma once

#include <cstdarg>
#include <string>

namespace ndislock::platform {

// The whole text, however long (no fixed buffer to cut it at). Allocates: not for signal handlers
// (platform/diagnostics.h is).
std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string vformat(const char *fmt, va_list args);

} // namespace ndislock::platform
