// Call sites in reports: "file:line in function" from the site macros, or, for callers of the
// function forms, the return address symbolized to file:line (addr2line) or module+offset
// (dladdr) when debug information is not there. Symbolizing runs only when a report is written.
#pragma once

#include <string>

#include "observe/hooks.h"

namespace ndislock::verifier {

struct ResolvedSite {
    const char *file; // nullptr if unknown
    int line;
    const char *function;
};

// Formats site into buffer and returns buffer.
const char *format_site(const observe::Site &site, char *buffer, unsigned size) noexcept;
// The same, as a string (report writers).
std::string site_string(const observe::Site &site);

// File, line and function for site, symbolizing a bare return address when possible. The strings
// are interned and live for the process.
ResolvedSite resolve_site(const observe::Site &site) noexcept;

} // namespace ndislock::verifier
