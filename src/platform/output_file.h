// An output file named by the user (a timeline, a report), checked when it is asked for: a path
// that cannot be written is said at once, on stderr, not found at exit with nothing written.
#pragma once

namespace ndislock::platform {

// Creates or truncates path now. False, with "<what>: ..." on stderr, for a NULL or empty path or
// one that cannot be written; consequence ends that message ("no trace will be recorded").
bool prepare_output_file(const char *path, const char *what, const char *consequence) noexcept;

} // namespace ndislock::platform
