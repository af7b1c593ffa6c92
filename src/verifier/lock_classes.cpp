#include "verifier/lock_classes.h"

#include <atomic>
#include <cstdio>
#include <cstring>

#include "platform/diagnostics.h"
#include "verifier/sites.h"

namespace ndislock::verifier {

namespace {

struct ClassRecord {
    std::atomic<std::uint64_t> key{0};
    std::atomic<bool> ready{false};
    const char *name = nullptr;
    observe::Site site{};
    bool first_use = false; // site is where the lock was first used, not allocated
    // An allocation inside a helper: the helper's caller, and the key of its line alone (a line
    // that makes classes for several callers has them told apart in reports: describe_class).
    const void *caller = nullptr;
    std::uint64_t site_only = 0;
};

ClassRecord g_classes[kMaxClasses];
std::atomic<bool> g_full_reported{false};

std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x | 1; // never 0 (0 marks an empty slot)
}

std::uint32_t intern(std::uint64_t key, const char *name, const observe::Site &site, bool first_use = false,
                     const void *caller = nullptr, std::uint64_t site_only = 0) noexcept {
    std::uint32_t slot = static_cast<std::uint32_t>(key % (kMaxClasses - 1)) + 1; // slot 0 is the overflow class
    for (std::uint32_t probe = 0; probe < kMaxClasses - 1; ++probe, slot = slot % (kMaxClasses - 1) + 1) {
        ClassRecord &c = g_classes[slot];
        std::uint64_t seen = c.key.load(std::memory_order_acquire);
        if (seen == 0 && c.key.compare_exchange_strong(seen, key, std::memory_order_acq_rel)) {
            c.name = name;
            c.site = site;
            c.first_use = first_use;
            c.caller = caller;
            c.site_only = site_only;
            c.ready.store(true, std::memory_order_release);
            return slot;
        }
        if (seen == key) return slot;
    }
    if (!g_full_reported.exchange(true))
        platform::diagnostic("verifier: more than %u lock classes; further classes share one and lock-order "
                             "checking among them is off",
                             kMaxClasses - 1);
    return kOverflowClass;
}

// Whether another class comes from the same line as class id (a helper called from several
// places): then its reports name the caller too. Reports only, never a lock's path.
bool line_shared(std::uint32_t id) noexcept {
    const std::uint64_t line = g_classes[id].site_only;
    if (line == 0) return false;
    for (std::uint32_t other = 1; other < kMaxClasses; ++other)
        if (other != id && g_classes[other].ready.load(std::memory_order_acquire) && g_classes[other].site_only == line)
            return true;
    return false;
}

} // namespace

namespace {
std::uint64_t site_key(const observe::Site &site) noexcept {
    return site.file != nullptr
               ? mix(reinterpret_cast<std::uintptr_t>(site.file) * 131 + static_cast<std::uint64_t>(site.line))
               : mix(reinterpret_cast<std::uintptr_t>(site.return_address));
}
} // namespace

std::uint32_t class_for_site(const observe::Site &allocation, const void *caller) noexcept {
    const std::uint64_t line = site_key(allocation);
    if (caller == nullptr) return intern(line, nullptr, allocation);
    return intern(mix(line ^ (reinterpret_cast<std::uintptr_t>(caller) * 0x9E3779B97F4A7C15ull)), nullptr, allocation,
                  false, caller, line);
}

std::uint32_t class_for_first_use(const observe::Site &use) noexcept {
    return intern(mix(site_key(use) ^ 0x2545F4914F6CDD1Dull), nullptr, use, true);
}

std::uint32_t class_for_name(const char *name) noexcept {
    std::uint64_t h = 1469598103934665603ull; // FNV-1a over the text: equal names are one class
    for (const char *p = name; *p != '\0'; ++p)
        h = (h ^ static_cast<unsigned char>(*p)) * 1099511628211ull;
    return intern(mix(h ^ 0x5bd1e995), name, observe::Site{});
}

const char *class_name(std::uint32_t id) noexcept {
    return id < kMaxClasses && g_classes[id].ready.load(std::memory_order_acquire) ? g_classes[id].name : nullptr;
}

const observe::Site &class_site(std::uint32_t id) noexcept {
    static const observe::Site none{};
    return id < kMaxClasses && g_classes[id].ready.load(std::memory_order_acquire) ? g_classes[id].site : none;
}

const char *describe_class(std::uint32_t id, char *buffer, unsigned size) noexcept {
    if (const char *name = class_name(id)) {
        std::snprintf(buffer, size, "\"%s\"", name);
    } else if (id == kOverflowClass) {
        std::snprintf(buffer, size, "(unclassified)");
    } else {
        char where[256];
        const ClassRecord &c = g_classes[id];
        if (c.caller != nullptr && line_shared(id)) {
            char from[256];
            std::snprintf(buffer, size, "allocated at %s, called from %s",
                          format_site(class_site(id), where, sizeof where),
                          format_site(observe::Site{nullptr, 0, nullptr, c.caller}, from, sizeof from));
        } else {
            std::snprintf(buffer, size, "%s at %s", c.first_use ? "first seen" : "allocated",
                          format_site(class_site(id), where, sizeof where));
        }
    }
    return buffer;
}

std::string class_string(std::uint32_t id) {
    char buffer[512];
    return describe_class(id, buffer, sizeof buffer);
}

} // namespace ndislock::verifier
