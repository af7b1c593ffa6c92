// Golden report texts: the verifier's report as printed, with the parts that change from run to
// run written as placeholders, compared line by line.
//
//   {ADDR}  an address as %p prints it (0x... or (nil)); Windows codes such as 0xC4/0x1002 are literal
//   {TID}   a thread id                 {NUM}   any other whole number (processor numbers)
//   {LINE}  a source line number        {DUR}   a duration such as 104.3
//   {PATH}  the directory the repository was built from (absolute paths up to the repo)
//
// The line numbers themselves are checked apart, against the "at:<Rule>" and "other:<Rule>"
// markers in scenarios.c, so editing that file does not touch the golden files.
//
// NDISLOCK_UPDATE_GOLDEN=1 in the environment makes the tests write the golden files from the
// reports they get (placeholders put in by templatize below) instead of comparing: review the
// diff before committing it.
#pragma once

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace golden {

inline std::vector<std::string> split_lines(const std::string &text) {
    std::vector<std::string> lines;
    std::string line;
    std::istringstream in(text);
    while (std::getline(in, line))
        lines.push_back(line);
    return lines;
}

inline std::string read_file(const std::string &path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline bool updating() {
    const char *v = std::getenv("NDISLOCK_UPDATE_GOLDEN");
    return v != nullptr && v[0] == '1';
}

// One template line as a regex matching the whole line.
inline std::regex line_regex(const std::string &pattern) {
    static const std::vector<std::pair<std::string, std::string>> placeholders = {
        {"{ADDR}", "(0x[0-9a-f]+|\\(nil\\))"}, {"{TID}", "[0-9]+"}, {"{NUM}", "[0-9]+"}, {"{LINE}", "[0-9]+"},
        {"{DUR}", "[0-9]+(\\.[0-9]+)?"},       {"{PATH}", "[^ ]*"},
    };
    std::string re;
    for (std::size_t i = 0; i < pattern.size();) {
        bool replaced = false;
        for (const auto &[name, sub] : placeholders) {
            if (pattern.compare(i, name.size(), name) == 0) {
                re += sub;
                i += name.size();
                replaced = true;
                break;
            }
        }
        if (replaced) continue;
        const char c = pattern[i++];
        if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) re += '\\';
        re += c;
    }
    return std::regex(re);
}

// Empty if text matches the template line by line, else what differs.
inline std::string mismatch(const std::string &templ, const std::string &text) {
    const auto want = split_lines(templ), got = split_lines(text);
    std::ostringstream out;
    for (std::size_t i = 0; i < want.size() || i < got.size(); ++i) {
        if (i >= want.size()) {
            out << "line " << i + 1 << ": unexpected extra line\n  got:  " << got[i] << "\n";
            break;
        }
        if (i >= got.size()) {
            out << "line " << i + 1 << ": missing\n  want: " << want[i] << "\n";
            break;
        }
        if (!std::regex_match(got[i], line_regex(want[i]))) {
            out << "line " << i + 1 << " differs\n  want: " << want[i] << "\n  got:  " << got[i] << "\n";
            break;
        }
    }
    if (!out.str().empty()) out << "whole report:\n" << text;
    return out.str();
}

// A report with its variable parts replaced by placeholders (to write a golden file).
inline std::string templatize(std::string text, const std::string &repo_root) {
    for (std::size_t at; !repo_root.empty() && (at = text.find(repo_root)) != std::string::npos;)
        text.replace(at, repo_root.size(), "{PATH}");
    const std::vector<std::pair<std::regex, std::string>> rules = {
        {std::regex("0x[0-9a-f]{6,}|\\(nil\\)"), "{ADDR}"}, // not the Windows codes (0xC4/0x1002)
        {std::regex(":[0-9]+ in "), ":{LINE} in "},          {std::regex("thread [0-9]+"), "thread {TID}"},
        {std::regex("processor [0-9]+"), "processor {NUM}"}, {std::regex("held for [0-9.]+ us"), "held for {DUR} us"},
    };
    for (const auto &[re, with] : rules)
        text = std::regex_replace(text, re, with);
    return text;
}

// The report block of rule in a process's stderr: its first line and the indented lines after it.
inline std::string block_of(const std::string &stderr_text, const std::string &rule) {
    const auto lines = split_lines(stderr_text);
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].rfind("ndislock verifier: ", 0) != 0 || lines[i].find(": " + rule) == std::string::npos) continue;
        out = lines[i] + "\n";
        for (std::size_t j = i + 1; j < lines.size() && lines[j].rfind(" ", 0) == 0; ++j)
            out += lines[j] + "\n";
        break;
    }
    return out;
}

} // namespace golden
