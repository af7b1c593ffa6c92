// In-process symbolizer: an instruction address to the module that holds it, its ELF symbol and
// its source frames (the inlined ones too), read from the module's debug information with
// elfutils' libdwfl. It replaces running addr2line in a child process: a caller may hold the
// emulated DISPATCH_LEVEL and spin locks, so it must not fork, and it must not rely on where the
// library was built.
//
// What a call costs, and what it takes (why callers cache what it returns):
// - one process-wide mutex, held for the whole call. It is a leaf: nothing called under it takes
//   a lock of ndislock's, so it nests under any lock a caller holds;
// - malloc, and file I/O the first time a module is looked at (/proc/self/maps, then the module's
//   file and its separate debug file, opened and mapped once and kept for the process);
// - tens of microseconds for an address in a module already open, far more for a new module.
// It never blocks on another thread but the one holding its mutex, and never starts a process.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ndislock::platform {

// One source frame at an address. Innermost first: the code inlined there, then the function it
// was inlined into, out to the function the address lies in (as addr2line -f -i lists them).
struct SourceFrame {
    std::string function; // demangled, with its parameter list for C++; empty if unknown
    std::string file;     // as the debug information names it; empty if unknown
    int line = 0;         // 0 if unknown
};

struct Symbolized {
    std::string module;              // the file of the module (executable or DSO); empty if none
    std::uintptr_t module_base = 0;  // where it is loaded (dladdr's dli_fbase)
    std::string symbol;              // the ELF symbol covering the address, demangled; may be empty
    std::vector<SourceFrame> frames; // empty without debug information for the address
};

// Symbolizes the instruction at pc itself (a caller with a return address passes the byte
// before it, the call). False, and *out empty, when no module holds pc.
bool symbolize(const void *pc, Symbolized *out);

// Code that is not the driver's though it may be inlined into it: ndislock's own headers and the
// toolchain's (libstdc++, compiler intrinsics), by the file the debug information names.
bool is_library_inline(std::string_view file) noexcept;

// The frame of a symbolized address that a report names.
struct InlinedFrame {
    std::string function; // empty if unknown
    std::string file;     // empty if unknown
    int line = 0;
    // The function of the outermost frame: the one the address really lies in, whatever was
    // inlined there. A routine is named by it: clang attributes a function's first instruction
    // to code inlined there (an atomic load) with the routine's own line.
    std::string outermost_function;
};
// The frame a report names, from an address's source frames (innermost first): the first one
// outside ndislock's inline fast path and the toolchain's headers, else the outermost.
InlinedFrame pick_driver_frame(const std::vector<platform::SourceFrame> &frames);

// The source file of the compilation unit that holds pc (its DW_AT_name, made absolute with the
// unit's directory), or empty. Reads only the unit's header: far less than symbolize.
std::string compilation_unit_of(const void *pc);

// The module (its load address) that holds pc, or 0; dladdr's answer, no lock.
std::uintptr_t module_base_of(const void *pc) noexcept;

} // namespace ndislock::platform
