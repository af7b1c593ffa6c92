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
        std::string why;
        if (!add_suppression(buffer, &why)) {
            std::fclose(file);
            platform::fatal("verifier: NDISLOCK_SUPPRESSIONS=\"%s\", line %d: %s", path, number, why.c_str());
        }
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
