// The debugger output of the WDK face (ndislock/wdk_debug.h): what the white-box tests reach
// beyond the exported calls.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace ndislock::api {

// Forgets what NDISLOCK_DBGPRINT said and the notes already written, so that the next message
// reads the variable again (tests that change it within one process).
void reset_debug_output() noexcept;

// Formats like DbgPrint (Microsoft's rules: 'l' is 32 bits, %ws and %wZ are UTF-16...) into
// buffer, at most size - 1 bytes and a terminating zero; returns the bytes written (without the
// zero) and sets *unicode if a Unicode conversion was used. Allocates nothing, takes no lock:
// usable in a signal handler.
std::size_t format_debug_message(char *buffer, std::size_t size, const char *format, va_list args,
                                 bool *unicode) noexcept;

} // namespace ndislock::api
