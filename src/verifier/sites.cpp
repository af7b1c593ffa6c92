#include "verifier/sites.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unwind.h>

#include "platform/clock.h"
#include "platform/symbolizer.h"
#include "verifier/checks.h"

namespace ndislock::verifier {

namespace {

std::mutex g_cache_mutex;
std::unordered_map<const void *, ResolvedSite> *g_cache = nullptr; // leaked on purpose: used at exit
// Routine names, by routine, apart from g_cache: a routine's site resolved before the routine was
// noted is cached there as a return address (the function before it), which must not name it.
std::unordered_map<const void *, const char *> *g_routine_names = nullptr; // leaked, as g_cache

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

} // namespace

namespace {

// File, line and function of the code at address, in-process (platform/symbolizer.h: no child
// process; it takes its own leaf mutex and allocates, which is why every caller here caches).
// A routine's function is the one its address lies in (the outermost frame), a site's the one of
// the frame it names.
ResolvedSite symbolize(const void *address, bool routine) {
    ResolvedSite r{nullptr, 0, nullptr};
    if (address == nullptr) return r;
    // A return address points after the call; the call itself is one byte earlier.
    const void *call = static_cast<const char *>(address) - 1;
    platform::Symbolized s;
    const bool found = platform::symbolize(call, &s);
    // That took this thread's own CPU time, up to milliseconds: the holds and callbacks open on it
    // go untimed, as for a report (addr2line ran in a child process, and the thread's sleep in
    // pclose left them untimed the same way).
    untime_open_holds(model::tls_thread);
    if (!found) return r;
    const auto offset = reinterpret_cast<std::uintptr_t>(call) - s.module_base;
    const platform::InlinedFrame frame = platform::pick_driver_frame(s.frames);
    if (!frame.file.empty()) {
        r.file = intern_string(frame.file);
        r.line = frame.line;
    }
    // Without debug information the frame is the ELF symbol's, as addr2line names it.
    const std::string &named = routine ? frame.outermost_function : frame.function;
    const std::string &function = named.empty() ? s.symbol : named;
    if (!function.empty()) r.function = intern_string(function);
    if (r.file == nullptr && r.function == nullptr) {
        char module[700];
        std::snprintf(module, sizeof module, "%s+0x%lx", s.module.c_str(), static_cast<unsigned long>(offset + 1));
        r.function = intern_string(module);
    }
    return r;
}

// The routines seen run: an insert-only open-addressing set (a driver has a handful; past
// kRoutineSlots new ones are not noted, and their sites resolve as return addresses).
constexpr unsigned kRoutineSlots = 4096;
std::atomic<const void *> g_routines[kRoutineSlots];

unsigned routine_hash(const void *routine) noexcept {
    const auto key = reinterpret_cast<std::uintptr_t>(routine);
    return static_cast<unsigned>((key >> 4) ^ (key >> 16)) % kRoutineSlots;
}

} // namespace

void note_routine(const void *routine) noexcept {
    if (routine == nullptr) return;
    unsigned i = routine_hash(routine);
    for (unsigned probes = 0; probes < 64; ++probes, i = (i + 1) % kRoutineSlots) {
        const void *seen = g_routines[i].load(std::memory_order_acquire);
        if (seen == routine) return; // the common case: seen before, one load
        if (seen == nullptr &&
            (g_routines[i].compare_exchange_strong(seen, routine, std::memory_order_acq_rel) || seen == routine))
            return;
    }
}

bool is_noted_routine(const void *address) noexcept {
    if (address == nullptr) return false;
    unsigned i = routine_hash(address);
    for (unsigned probes = 0; probes < 64; ++probes, i = (i + 1) % kRoutineSlots) {
        const void *seen = g_routines[i].load(std::memory_order_acquire);
        if (seen == address) return true;
        if (seen == nullptr) return false;
    }
    return false;
}

ResolvedSite resolve_site(const observe::Site &site) noexcept {
    if (site.file != nullptr) return ResolvedSite{site.file, site.line, site.function};
    std::lock_guard<std::mutex> guard(g_cache_mutex);
    if (g_cache == nullptr) g_cache = new std::unordered_map<const void *, ResolvedSite>;
    auto it = g_cache->find(site.return_address);
    if (it != g_cache->end()) return it->second;
    // A routine's own address stands for the routine: look it up at its first byte (symbolize
    // looks one byte before what it is given).
    const bool routine = is_noted_routine(site.return_address);
    const ResolvedSite r =
        symbolize(routine ? static_cast<const char *>(site.return_address) + 1 : site.return_address, routine);
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

observe::Site routine_site(const void *routine) noexcept {
    return observe::Site{nullptr, 0, nullptr, routine != nullptr ? static_cast<const char *>(routine) + 1 : nullptr};
}

observe::Site code_site(const void *pc) noexcept { return routine_site(pc); }

std::string routine_name(const void *routine) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%p", routine);
    if (routine == nullptr) return buffer;
    const char *function = nullptr;
    {
        std::lock_guard<std::mutex> guard(g_cache_mutex);
        if (g_routine_names == nullptr) g_routine_names = new std::unordered_map<const void *, const char *>;
        auto it = g_routine_names->find(routine);
        if (it == g_routine_names->end()) {
            // At its first byte (symbolize looks one byte before what it is given), named by the
            // function it lies in, not by code inlined at its first instruction.
            function = symbolize(static_cast<const char *>(routine) + 1, true).function;
            g_routine_names->emplace(routine, function);
        } else {
            function = it->second;
        }
    }
    if (function == nullptr || std::strchr(function, '+') != nullptr) return buffer; // module+offset only
    std::string name = function;
    // C++ functions are named with their parameter list (as addr2line -C prints them): drop it
    // (the last balanced "(...)"), keeping "(anonymous namespace)::" and the like in front.
    if (!name.empty() && name.back() == ')') {
        int depth = 0;
        for (std::size_t i = name.size(); i-- > 0;) {
            if (name[i] == ')')
                ++depth;
            else if (name[i] == '(' && --depth == 0) {
                if (i > 0) name.erase(i);
                break;
            }
        }
    }
    return name;
}

std::string site_string(const observe::Site &site) {
    char buffer[512];
    return format_site(site, buffer, sizeof buffer);
}

namespace {

// Where ndislock's own sources lie, read at run time from the debug information of this very
// file's unit (".../src/verifier/sites.cpp" gives ".../src/"), not compiled in: the tree may have
// moved since the build, or be built with a prefix map. Empty without debug information. Needed
// only where ndislock is linked statically: its code then shares the driver's module, and its
// source file is all that tells it apart (in libndislock.so the module does, classify_slow).
// Asked only for a symbolized frame, when the module's debug information is open anyway.
const std::string &library_source_root() {
    static const std::string root = [] {
        constexpr std::string_view kThisFile = "verifier/sites.cpp";
        const std::string unit = platform::compilation_unit_of(reinterpret_cast<const void *>(&library_file_slow));
        const std::string_view file = unit;
        if (!file.ends_with(kThisFile)) return std::string();
        return std::string(file.substr(0, file.size() - kThisFile.size()));
    }();
    return root;
}

// ndislock's own code: its headers and the toolchain's (is_library_inline), and its sources.
bool is_library_code(std::string_view file) noexcept {
    if (platform::is_library_inline(file)) return true;
    const std::string &root = library_source_root();
    return !root.empty() && file.starts_with(root);
}

std::uintptr_t file_key(const char *file) noexcept { return reinterpret_cast<std::uintptr_t>(file) << 1; }

} // namespace

std::atomic<std::uintptr_t> g_file_kinds[kFileKindSlots];

bool library_file_slow(const char *file, std::atomic<std::uintptr_t> &slot) noexcept {
    if (file == nullptr) return false;
    // Headers only: ndislock's sources pass no site of their own (each call takes its caller's),
    // so a site's file is never one of them, and telling them apart would cost the first site in
    // a process the symbolizer's reading of debug information (megabytes, kept for the process).
    const bool library = platform::is_library_inline(file);
    slot.store(file_key(file) | (library ? 1 : 0), std::memory_order_relaxed);
    return library;
}

namespace {

// What a return address on a walked stack is: code of the driver's (the frame a report names,
// symbolized once), or code to walk past (ndislock's, the toolchain's, the C library's, or code
// without line information). An insert-only open-addressing table keyed by address: a lookup is a
// few loads, no lock, no allocation; only an address seen for the first time is symbolized.
struct DriverFrame {
    const char *file;
    int line;
    const char *function;
};
const DriverFrame kWalkPast{nullptr, 0, nullptr};

constexpr unsigned kFrameSlots = 4096;
struct FrameSlot {
    std::atomic<const void *> pc{nullptr};
    std::atomic<const DriverFrame *> frame{nullptr}; // set after pc; nullptr while being filled
};
FrameSlot g_frames[kFrameSlots];

// ndislock's own module when it is its shared library (libndislock.so), else nullptr: a frame in
// it is library code whatever its debug information says (a prefix map, a stripped build). Linked
// statically, ndislock shares its module with driver code, and the module says nothing.
const void *shared_library_base() noexcept {
    static const void *const base = [] {
        Dl_info self{};
        if (dladdr(reinterpret_cast<const void *>(&library_file_slow), &self) == 0 || self.dli_fname == nullptr)
            return static_cast<const void *>(nullptr);
        const char *slash = std::strrchr(self.dli_fname, '/');
        const char *name = slash != nullptr ? slash + 1 : self.dli_fname;
        return std::strncmp(name, "libndislock.so", 14) == 0 ? static_cast<const void *>(self.dli_fbase) : nullptr;
    }();
    return base;
}

// ndislock's inline functions by name too: emitted out of line at -O0, some are recorded under
// the including file (a line past its end) in the line table. Its headers' prefixes only, so a
// driver's own "ndislock_..." names are not taken for them.
bool library_function(const char *function) noexcept {
    if (function == nullptr) return false;
    for (const char *prefix : {"ndislock_fast_", "ndislock_inline_", "ndislock_at_", "ndislock::"})
        if (std::strncmp(function, prefix, std::strlen(prefix)) == 0) return true;
    return false;
}

// True when pc is the driver's code, with its frame in *out.
bool classify_slow(const void *pc, DriverFrame *out) noexcept {
    Dl_info info{};
    const void *library_base = shared_library_base();
    if (library_base != nullptr && dladdr(pc, &info) != 0 && info.dli_fbase == library_base) return false;
    const ResolvedSite r = resolve_site(observe::Site{nullptr, 0, nullptr, pc});
    if (r.file == nullptr || is_library_code(r.file) || library_function(r.function)) return false;
    *out = DriverFrame{r.file, r.line, r.function};
    return true;
}

// The frame pc is (scratch holds it when it is not cached); *symbolized is set when it had not
// been seen before.
const DriverFrame *classify(const void *pc, DriverFrame *scratch, bool *symbolized) noexcept {
    const auto key = reinterpret_cast<std::uintptr_t>(pc);
    unsigned i = static_cast<unsigned>((key >> 2) ^ (key >> 14)) % kFrameSlots;
    for (unsigned probes = 0; probes < 32; ++probes, i = (i + 1) % kFrameSlots) {
        const void *seen = g_frames[i].pc.load(std::memory_order_acquire);
        if (seen == pc) {
            if (const DriverFrame *f = g_frames[i].frame.load(std::memory_order_acquire)) return f;
            break; // another thread is filling it in: classify it here too
        }
        if (seen == nullptr) {
            *symbolized = true;
            const bool driver = classify_slow(pc, scratch);
            // Only the thread that claims the slot allocates (once per address, kept for the process).
            if (g_frames[i].pc.compare_exchange_strong(seen, pc, std::memory_order_acq_rel)) {
                const DriverFrame *f = driver ? new DriverFrame(*scratch) : &kWalkPast;
                g_frames[i].frame.store(f, std::memory_order_release);
                return f;
            }
            return driver ? scratch : &kWalkPast;
        }
    }
    *symbolized = true; // a full table or a slot being filled: not cached
    return classify_slow(pc, scratch) ? scratch : &kWalkPast;
}

constexpr int kMaxWalkFrames = 48; // a walk gives up past this many frames

struct Walk {
    DriverFrame scratch{};
    int frames = 0;
    const void *pc = nullptr;
    const DriverFrame *found = nullptr;
    bool symbolized = false;
};

_Unwind_Reason_Code walk_step(_Unwind_Context *context, void *argument) {
    Walk &w = *static_cast<Walk *>(argument);
    if (w.frames++ == 0) return _URC_NO_REASON; // driver_site_from_stack itself
    if (w.frames > kMaxWalkFrames) return _URC_END_OF_STACK;
    const void *pc = reinterpret_cast<const void *>(_Unwind_GetIP(context));
    if (pc == nullptr) return _URC_END_OF_STACK;
    const DriverFrame *f = classify(pc, &w.scratch, &w.symbolized);
    if (f == &kWalkPast) return _URC_NO_REASON;
    w.found = f;
    w.pc = pc;
    return _URC_END_OF_STACK; // stops the walk at the first frame of the driver's
}

struct CallerWalk {
    const void *frame = nullptr; // the return address to find
    const void *caller = nullptr;
    bool found = false;
    int frames = 0;
};

_Unwind_Reason_Code caller_step(_Unwind_Context *context, void *argument) {
    CallerWalk &w = *static_cast<CallerWalk *>(argument);
    if (++w.frames > kMaxWalkFrames) return _URC_END_OF_STACK;
    const void *pc = reinterpret_cast<const void *>(_Unwind_GetIP(context));
    if (pc == nullptr) return _URC_END_OF_STACK;
    if (w.found) {
        w.caller = pc;
        return _URC_END_OF_STACK;
    }
    w.found = pc == w.frame;
    return _URC_NO_REASON;
}

#ifdef NDISLOCK_TEST_KNOBS
std::atomic<std::uint64_t> g_walk_padding_ns{0}; // set_walk_padding_for_tests

void pad_walk() noexcept {
    const std::uint64_t pad = g_walk_padding_ns.load(std::memory_order_relaxed);
    if (pad == 0) return;
    for (const std::uint64_t start = platform::monotonic_ns(); platform::monotonic_ns() - start < pad;) {
    }
}
#else
void pad_walk() noexcept {} // the knob is compiled into the test-only library alone
#endif
} // namespace

#ifdef NDISLOCK_TEST_KNOBS
void set_walk_padding_for_tests(std::uint64_t ns) noexcept { g_walk_padding_ns.store(ns, std::memory_order_relaxed); }
#endif

const void *caller_of_frame(const void *return_address) noexcept {
    if (return_address == nullptr) return nullptr;
    CallerWalk w;
    w.frame = return_address;
    _Unwind_Backtrace(caller_step, &w);
    return w.caller;
}

observe::Site driver_site_from_stack(const observe::Site &site, bool *symbolized) noexcept {
    pad_walk();
    Walk w;
    // The call's own return address first: where the C++ API was inlined into the driver's code
    // (an optimized build), the driver's frame is the caller's, and no walk is needed.
    if (site.return_address != nullptr) {
        const DriverFrame *f = classify(site.return_address, &w.scratch, &w.symbolized);
        if (f != &kWalkPast) {
            if (symbolized != nullptr) *symbolized = w.symbolized;
            return observe::Site{f->file, f->line, f->function, site.return_address};
        }
    }
    _Unwind_Backtrace(walk_step, &w);
    if (symbolized != nullptr) *symbolized = w.symbolized;
    if (w.found == nullptr) return site;
    return observe::Site{w.found->file, w.found->line, w.found->function, w.pc};
}

} // namespace ndislock::verifier
