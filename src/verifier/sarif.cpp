// The SARIF 2.1.0 log of the findings (NDISLOCK_SARIF=<path>, or NdislockVerifierWriteSarif):
// the rule catalog as tool.driver.rules, one result per distinct finding with ruleId, level,
// message, a physicalLocation (file URI and region.startLine) and relatedLocations for the other
// party. Written at exit, or before a terminal finding ends the process. "%p" in the path becomes
// the process ID, so that each process of a test suite run with one NDISLOCK_SARIF keeps its own
// log instead of overwriting the others'.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "observe/rules.h"
#include "platform/symbolizer.h"
#include "verifier/findings.h"

namespace ndislock::verifier {

namespace {

std::string json_string(const char *text) {
    std::string out = "\"";
    for (const char *p = text != nullptr ? text : ""; *p != '\0'; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            if (c < 0x20) {
                char buffer[8];
                std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                out += buffer;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

// A file URI for a source path: absolute paths become file:///..., relative ones stay relative
// (with uriBaseId SRCROOT), with characters outside the URI set percent-encoded.
std::string file_uri(const char *path, bool *relative) {
    std::string out;
    *relative = path[0] != '/';
    if (!*relative) out = "file://";
    for (const char *p = path; *p != '\0'; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            std::string("/-._~+").find(static_cast<char>(c)) != std::string::npos) {
            out += static_cast<char>(c);
        } else {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "%%%02X", c);
            out += buffer;
        }
    }
    return out;
}

std::string location(const char *file, int line, const char *function, int id) {
    bool relative = false;
    std::string out = "{";
    if (id >= 0) out += "\"id\":" + std::to_string(id) + ",";
    out += "\"physicalLocation\":{\"artifactLocation\":{\"uri\":" + json_string(file_uri(file, &relative).c_str());
    if (relative) out += ",\"uriBaseId\":\"SRCROOT\"";
    out += "},\"region\":{\"startLine\":" + std::to_string(line > 0 ? line : 1) + "}}";
    if (function != nullptr)
        out += ",\"logicalLocations\":[{\"name\":" + json_string(function) + ",\"kind\":\"function\"}]";
    return out + "}";
}

// A relative __FILE__ (a driver compiled with relative paths, or with -fmacro-prefix-map) made
// absolute from the debug information at the call, whose file names carry the directory of the
// compilation: the directory the program happens to run in (SRCROOT below) is not where the
// source is. Unchanged without debug information there, or when no frame's file ends with it.
const char *without_dot_slash(const char *file) { return file[0] == '.' && file[1] == '/' ? file + 2 : file; }

std::string source_path(const char *file, const void *return_address) {
    if (file[0] == '/' || return_address == nullptr) return file;
    platform::Symbolized at;
    if (!platform::symbolize(static_cast<const char *>(return_address) - 1, &at)) return file;
    const std::string tail = std::string("/") + without_dot_slash(file);
    for (const platform::SourceFrame &frame : at.frames)
        if (frame.file.size() > tail.size() && frame.file[0] == '/' &&
            frame.file.compare(frame.file.size() - tail.size(), tail.size(), tail) == 0)
            return frame.file;
    return file;
}

void append_result(const NDISLOCK_FINDING &f, bool suppressed, void *context) {
    std::string &out = *static_cast<std::string *>(context);
    if (out.back() == '}') out += ",";
    out += "{\"ruleId\":" + json_string(f.RuleId);
    out += ",\"level\":\"" +
           std::string(f.Severity == NDISLOCK_SEVERITY_ERROR     ? "error"
                       : f.Severity == NDISLOCK_SEVERITY_WARNING ? "warning"
                                                                 : "note") +
           "\"";
    out += ",\"message\":{\"text\":" + json_string(f.Message) + "}";
    std::string other; // the other party's file made absolute, or empty
    if (f.File != nullptr) {
        const std::string file = source_path(f.File, f.ReturnAddress);
        out += ",\"locations\":[" + location(file.c_str(), f.Line, f.Function, -1) + "]";
        // The other party's relative file, from the same compilation directory when it is there.
        if (f.OtherFile != nullptr && f.OtherFile[0] != '/' && file != f.File) {
            other = file.substr(0, file.size() - std::string(without_dot_slash(f.File)).size()) +
                    without_dot_slash(f.OtherFile);
            if (access(other.c_str(), F_OK) != 0) other.clear();
        }
    } else {
        char address[40];
        std::snprintf(address, sizeof address, "%p", f.ReturnAddress);
        out += ",\"locations\":[{\"logicalLocations\":[{\"name\":" +
               json_string(f.Function != nullptr ? f.Function : address) + ",\"kind\":\"function\"}]}]";
    }
    if (f.OtherFile != nullptr)
        out += ",\"relatedLocations\":[" +
               location(other.empty() ? f.OtherFile : other.c_str(), f.OtherLine, f.OtherFunction, 1) + "]";
    out += ",\"occurrenceCount\":" + std::to_string(f.Count);
    // Silenced by the user's suppressions file: code scanning shows it as suppressed.
    if (suppressed) out += ",\"suppressions\":[{\"kind\":\"external\",\"justification\":\"NDISLOCK_SUPPRESSIONS\"}]";
    out += "}";
}

} // namespace

// The path with every "%p" replaced by this process's ID (the ID at the time of writing: a forked
// child that writes its own log gets its own file).
std::string sarif_file_name(const char *path) {
    std::string out;
    for (const char *p = path; *p != '\0'; ++p) {
        if (p[0] == '%' && p[1] == 'p') {
            out += std::to_string(static_cast<long>(getpid()));
            ++p;
        } else {
            out += *p;
        }
    }
    return out;
}

int write_sarif(const char *path) noexcept {
    std::string out =
        "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{";
    out += "\"tool\":{\"driver\":{\"name\":\"ndislock verifier\",\"informationUri\":"
           "\"https://learn.microsoft.com/windows-hardware/drivers/devtest/driver-verifier\",\"rules\":[";
    for (unsigned i = 0; i < static_cast<unsigned>(observe::Rule::Count_); ++i) {
        const observe::RuleInfo &r = observe::rule_info(static_cast<observe::Rule>(i));
        if (i != 0) out += ",";
        out += "{\"id\":" + json_string(r.id) + ",\"name\":" + json_string(r.id);
        out += ",\"shortDescription\":{\"text\":" + json_string((std::string(r.id) + " (" + r.windows + ")").c_str()) +
               "}";
        out += ",\"defaultConfiguration\":{\"level\":\"" + std::string(observe::severity_name(r.severity)) + "\"}";
        out += ",\"properties\":{\"terminal\":" + std::string(r.terminal ? "true" : "false") +
               ",\"windows\":" + json_string(r.windows) + "}}";
    }
    out += "]}}";
    char cwd[PATH_MAX];
    if (realpath(".", cwd) != nullptr)
        out += ",\"originalUriBaseIds\":{\"SRCROOT\":{\"uri\":" +
               json_string(("file://" + std::string(cwd) + "/").c_str()) + "}}";
    out += ",\"results\":[";
    for_each_finding(append_result, &out);
    out += "]}]}\n";
    FILE *file = std::fopen(sarif_file_name(path).c_str(), "w");
    if (file == nullptr) return -1;
    const bool ok = std::fwrite(out.data(), 1, out.size(), file) == out.size();
    return std::fclose(file) == 0 && ok ? 0 : -1;
}

} // namespace ndislock::verifier
