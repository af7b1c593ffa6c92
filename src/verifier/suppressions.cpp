#include "verifier/suppressions.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fnmatch.h>
#include <mutex>
#include <vector>

#include "observe/rules.h"
#include "platform/diagnostics.h"

namespace ndislock::verifier {

namespace {

struct Suppression {
    std::string rule; // a catalog ID, or "*"
    std::string pattern;
};

std::mutex g_mutex;
std::vector<Suppression> *g_list = new std::vector<Suppression>; // leaked on purpose: read at exit

std::string trimmed(const std::string &s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

bool known_rule(const std::string &id, bool *terminal) {
    for (unsigned i = 0; i < static_cast<unsigned>(observe::Rule::Count_); ++i) {
        const observe::RuleInfo &info = observe::rule_info(static_cast<observe::Rule>(i));
        if (id == info.id) {
            *terminal = info.terminal;
            return true;
        }
    }
    return false;
}

// Why pattern is not a glob fnmatch reads as the user meant, or nullptr: a '[' with no ']' to
// close it is matched as a plain character, so the line would silently suppress nothing.
const char *glob_error(const std::string &pattern) {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '\\') {
            ++i; // an escaped character
            continue;
        }
        if (pattern[i] != '[') continue;
        std::size_t j = i + 1;
        if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
        if (j < pattern.size() && pattern[j] == ']') ++j; // a ']' first in the set is a member
        while (j < pattern.size() && pattern[j] != ']')
            ++j;
        if (j >= pattern.size()) return "a '[' in the pattern has no ']' to close it (write \\[ for the character)";
        i = j;
    }
    return nullptr;
}

bool glob(const std::string &pattern, const char *text) {
    return text != nullptr && fnmatch(pattern.c_str(), text, 0) == 0;
}

} // namespace

bool add_suppression(const char *text, std::string *why) {
    std::string line = text != nullptr ? text : "";
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    line = trimmed(line);
    if (line.empty()) return true;
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
        *why = "expected RuleId:pattern, found no ':'";
        return false;
    }
    Suppression s{trimmed(line.substr(0, colon)), trimmed(line.substr(colon + 1))};
    bool terminal = false;
    if (s.rule != "*" && !known_rule(s.rule, &terminal)) {
        *why = "'" + s.rule + "' is not a rule ID of the catalog (docs/verifier.md)";
        return false;
    }
    if (terminal) {
        *why = s.rule + " is terminal: the process cannot go on after it, so it cannot be suppressed";
        return false;
    }
    if (s.pattern.empty()) {
        *why = "the pattern after ':' is empty (use * to match everything)";
        return false;
    }
    if (const char *error = glob_error(s.pattern)) {
        *why = error;
        return false;
    }
    std::lock_guard<std::mutex> guard(g_mutex);
    g_list->push_back(std::move(s));
    return true;
}

void load_suppressions_file(const char *path) noexcept {
    FILE *file = std::fopen(path, "r");
    if (file == nullptr)
        platform::fatal("verifier: NDISLOCK_SUPPRESSIONS=\"%s\" cannot be read (%s)", path, std::strerror(errno));
    char buffer[4096];
    for (int number = 1; std::fgets(buffer, sizeof buffer, file) != nullptr; ++number) {
        // A byte-order mark (an editor's UTF-8 file) is no part of the first rule ID.
        const char *line = number == 1 && std::strncmp(buffer, "\xEF\xBB\xBF", 3) == 0 ? buffer + 3 : buffer;
        std::string why;
        if (!add_suppression(line, &why)) {
            std::fclose(file);
            platform::fatal("verifier: NDISLOCK_SUPPRESSIONS=\"%s\", line %d: %s", path, number, why.c_str());
        }
    }
    // fopen opens a directory; its first read fails (EISDIR). Any read error is a file not read.
    if (std::ferror(file)) {
        const int error = errno;
        std::fclose(file);
        platform::fatal("verifier: NDISLOCK_SUPPRESSIONS=\"%s\" cannot be read (%s)", path, std::strerror(error));
    }
    std::fclose(file);
}

bool is_suppressed(const char *rule_id, const char *file, const char *function, const char *lock_class) {
    const char *slash = file != nullptr ? std::strrchr(file, '/') : nullptr;
    const char *base = slash != nullptr ? slash + 1 : file;
    std::lock_guard<std::mutex> guard(g_mutex);
    for (const Suppression &s : *g_list) {
        if (s.rule != "*" && s.rule != rule_id) continue;
        if (glob(s.pattern, file) || glob(s.pattern, base) || glob(s.pattern, function) || glob(s.pattern, lock_class))
            return true;
    }
    return false;
}

void clear_suppressions() noexcept {
    std::lock_guard<std::mutex> guard(g_mutex);
    g_list->clear();
}

} // namespace ndislock::verifier
