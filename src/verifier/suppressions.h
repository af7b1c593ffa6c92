// Suppressions, in the sanitizers' manner: findings a team has chosen not to see, in code it cannot
// change. One "RuleId:pattern" per line (NDISLOCK_SUPPRESSIONS=<file>, or
// NdislockVerifierAddSuppression): the rule's catalog ID (or * for any rule), and a glob matched
// against the finding's source file (its whole path or its base name), its function and its lock
// class's name. '#' starts a comment; blank lines are skipped. Terminal rules cannot be suppressed:
// the process cannot go on after them.
#pragma once

#include <string>

namespace ndislock::verifier {

// Adds one suppression line; false (with *why) if it is malformed. Blank and comment lines are
// accepted and add nothing.
bool add_suppression(const char *line, std::string *why);

// Reads a suppressions file. A file that cannot be read or has a malformed line ends the process
// with the file, the line and why: a suppression that silently did nothing would hide nothing, or
// worse, the typo would go unseen.
void load_suppressions_file(const char *path) noexcept;

// Whether a finding is suppressed. Any of file, function and lock_class may be nullptr.
bool is_suppressed(const char *rule_id, const char *file, const char *function, const char *lock_class);

void clear_suppressions() noexcept;

} // namespace ndislock::verifier
