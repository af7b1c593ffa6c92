#include "verifier/sites.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ndislock::verifier {

namespace {

std::mutex g_cache_mutex;
std::unordered_map<const void *, ResolvedSite> *g_cache = nullptr; // leaked on purpose: used at exit

const char *intern_string(const std::string &s) {
    static std::mutex m;
    static std::unordered_map<std::string, const char *> *strings = new std::unordered_map<std::string, const char *>;
    std::lock_guard<std::mutex> guard(m);
    auto it = strings->find(s);
    if (it != strings->end()) return it->second;
    char *copy = strdup(s.c_str());
    strings->emplace(s, copy);
    return copy;
}

// Runs addr2line on the module holding address; fills file/line/function when debug info exists.
ResolvedSite symbolize(const void *address) {
    ResolvedSite r{nullptr, 0, nullptr};
    Dl_info info{};
    if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return r;
    if (info.dli_sname != nullptr) r.function = intern_string(info.dli_sname);
    // A return address points after the call; the call itself is one byte earlier.
    const auto offset = reinterpret_cast<std::uintptr_t>(address) - reinterpret_cast<std::uintptr_t>(info.dli_fbase) - 1;
    char command[1200];
    std::snprintf(command, sizeof command, "addr2line -C -f -e '%s' 0x%lx 2>/dev/null", info.dli_fname,
                  static_cast<unsigned long>(offset));
    if (FILE *p = popen(command, "r")) {
        char function[512] = "", location[700] = "";
        if (std::fgets(function, sizeof function, p) != nullptr && std::fgets(location, sizeof location, p) != nullptr) {
            function[std::strcspn(function, "\n")] = '\0';
            location[std::strcspn(location, "\n")] = '\0';
            char *colon = std::strrchr(location, ':');
            if (colon != nullptr && location[0] != '?') {
                *colon = '\0';
                const int line = std::atoi(colon + 1);
                if (line > 0) {
                    r.file = intern_string(location);
                    r.line = line;
                }
            }
            if (function[0] != '\0' && function[0] != '?') r.function = intern_string(function);
        }
        pclose(p);
    }
    if (r.file == nullptr && info.dli_fname != nullptr && r.function == nullptr) {
        char module[700];
        std::snprintf(module, sizeof module, "%s+0x%lx", info.dli_fname, static_cast<unsigned long>(offset + 1));
        r.function = intern_string(module);
    }
    return r;
}

} // namespace

ResolvedSite resolve_site(const observe::Site &site) noexcept {
    if (site.file != nullptr) return ResolvedSite{site.file, site.line, site.function};
    std::lock_guard<std::mutex> guard(g_cache_mutex);
    if (g_cache == nullptr) g_cache = new std::unordered_map<const void *, ResolvedSite>;
    auto it = g_cache->find(site.return_address);
    if (it != g_cache->end()) return it->second;
    const ResolvedSite r = symbolize(site.return_address);
    g_cache->emplace(site.return_address, r);
    return r;
}

const char *format_site(const observe::Site &site, char *buffer, unsigned size) noexcept {
    if (site.file == nullptr && site.return_address == nullptr) {
        std::snprintf(buffer, size, "(unknown)");
        return buffer;
    }
    const ResolvedSite r = resolve_site(site);
    if (r.file != nullptr)
        std::snprintf(buffer, size, "%s:%d in %s", r.file, r.line, r.function != nullptr ? r.function : "?");
    else
        std::snprintf(buffer, size, "%p (%s)", site.return_address, r.function != nullptr ? r.function : "no symbol");
    return buffer;
}

std::string site_string(const observe::Site &site) {
    char buffer[512];
    return format_site(site, buffer, sizeof buffer);
}

} // namespace ndislock::verifier
