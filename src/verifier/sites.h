// Call sites in reports: "file:line in function" from the site macros, or, for callers of the
// function forms, the return address symbolized to file:line (platform/symbolizer.h) or
// module+offset when debug information is not there. Symbolizing runs when a report is written, and
// once per new return address on a stack walked for a library site (driver_site_from_stack).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "observe/hooks.h"
#include "platform/symbolizer.h"

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

// Driver routines: the core locates a report about a routine (a callback's, a misuse found at
// MiniportHaltEx, a hung ISR) by the routine's own address, in Site::return_address. A return
// address is looked up at the byte before it (the call), which for a function's first byte is the
// end of the function before it; so the verifier notes each routine it sees run
// (callback_entered) and resolves a site that is a noted routine's address at the routine itself.
void note_routine(const void *routine) noexcept;
bool is_noted_routine(const void *address) noexcept;

// The site of a function's entry, for any resolver: its address plus one (resolves to the
// routine's first line whether or not it was noted).
observe::Site routine_site(const void *routine) noexcept;
// The site of an instruction (where an interrupt stopped a thread), for the same reason + 1.
observe::Site code_site(const void *pc) noexcept;
// The routine's name without its parameter list ("DemoIsr", "(anonymous namespace)::Dpc"), or
// its address when it has no symbol.
std::string routine_name(const void *routine);

// File, line and function for site, symbolizing a bare return address when possible. The strings
// are interned and live for the process.
ResolvedSite resolve_site(const observe::Site &site) noexcept;

// Sites inside library code. The C++ API (ndislock/ndislock.hpp) takes its caller's location as
// default arguments; called by std::lock_guard, std::unique_lock, std::scoped_lock or
// std::make_unique, that caller is the standard library's header, and ~NdisSpinLock passes its
// own. library_file says whether a site's file is such code (ndislock's or the toolchain's
// headers): one load and a compare per call, cached by the file's address.
inline constexpr unsigned kFileKindSlots = 64;
extern std::atomic<std::uintptr_t> g_file_kinds[kFileKindSlots]; // file address << 1 | library
bool library_file_slow(const char *file, std::atomic<std::uintptr_t> &slot) noexcept;
inline bool library_file(const char *file) noexcept {
    // No separate null test: nullptr (a function form's site) misses (or finds an empty slot: not
    // library) and library_file_slow answers it without caching.
    const auto p = reinterpret_cast<std::uintptr_t>(file);
    std::atomic<std::uintptr_t> &slot = g_file_kinds[(p >> 4) % kFileKindSlots];
    const std::uintptr_t seen = slot.load(std::memory_order_relaxed);
    if (__builtin_expect(seen >> 1 == p, 1)) return (seen & 1) != 0;
    return library_file_slow(file, slot);
}

// For such a site: the driver's own frame that led to it, from the calling thread's stack (the
// first frame whose code is not library code), as a site with a file and line; the site itself
// when no frame is the driver's (no debug information). The walk stops at that frame; each return
// address it passes is classified once (symbolized) and then found in a lock-free
// table, so a walk over known addresses costs about a microsecond (-O0) and takes no lock. The
// verifier walks only where it keeps the site (an acquire's held-lock entry, order edge and lock
// class; an allocation's class) and when it writes a report. *symbolized (if given) says whether
// this walk met a new address (it symbolized it: far longer than any hold budget).
observe::Site driver_site_from_stack(const observe::Site &site, bool *symbolized = nullptr) noexcept;
// The return address into the caller of the function that `return_address` returns into: for an
// initialization made inside the driver's own helper (MpInitLock(&Lock) calling
// NdisAllocateSpinLock), where that helper was called from. nullptr when the walk does not meet
// return_address (the helper was inlined into its caller, or no unwind information).
const void *caller_of_frame(const void *return_address) noexcept;
#ifdef NDISLOCK_TEST_KNOBS
// Test knob, in the test-only library alone (ndislock_internal_testing; the libraries ndislock
// ships have no such function and no cost for it): makes every driver_site_from_stack call take
// ns longer, so that a test can tell the walk's time from a hold's own on any machine and at any
// optimization level (an optimized build rarely unwinds at all).
void set_walk_padding_for_tests(std::uint64_t ns) noexcept;
#endif

} // namespace ndislock::verifier
