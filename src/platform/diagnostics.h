// Diagnostics that must reach the user even when nothing else works: formatted into a stack
// buffer and written to stderr with one write(2), so they are usable from any context, a signal
// handler included (no allocation, no stdio locks).
#pragma once

#include <cstdarg>

namespace ndislock::platform {

// Writes "ndislock: <message>\n" to stderr.
void diagnostic(const char *format, ...) noexcept __attribute__((format(printf, 1, 2)));

// Writes the message, then ends the process with abort() (a core dump and a debugger stop where
// the process is set up for them, like a Windows bug check).
[[noreturn]] void fatal(const char *format, ...) noexcept __attribute__((format(printf, 1, 2)));

} // namespace ndislock::platform
