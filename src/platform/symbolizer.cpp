#include "platform/symbolizer.h"

#include <cstddef>
#include <cstdlib>
#include <cxxabi.h>
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <mutex>
#include <string_view>
#include <unistd.h>

namespace ndislock::platform {

namespace {

// One libdwfl session for the process, built on first use and kept: it holds each module's ELF
// and debug information once opened, which is what makes a second address in a module cheap.
// libdwfl is not thread-safe on one session: g_mutex serializes every use of it.
std::mutex g_mutex;
Dwfl *g_dwfl = nullptr;

const Dwfl_Callbacks kCallbacks = {
    dwfl_linux_proc_find_elf,     // the module's file, by the path /proc/self/maps names
    dwfl_standard_find_debuginfo, // its debug information: in it, by build ID, or .gnu_debuglink
    nullptr,                      // no section address callback: a process's modules are already placed
    nullptr,                      // the standard debug file search path
};

// (Re)reads the process's mappings; modules already open stay open. Called with g_mutex held.
void report_modules() {
    if (g_dwfl == nullptr) g_dwfl = dwfl_begin(&kCallbacks);
    if (g_dwfl == nullptr) return;
    dwfl_report_begin(g_dwfl);
    dwfl_linux_proc_report(g_dwfl, getpid());
    dwfl_report_end(g_dwfl, nullptr, nullptr);
}

Dwfl_Module *module_at(Dwarf_Addr address) {
    if (g_dwfl == nullptr) report_modules();
    if (g_dwfl == nullptr) return nullptr;
    Dwfl_Module *module = dwfl_addrmodule(g_dwfl, address);
    if (module == nullptr) { // mapped since the last report (dlopen): read the mappings again
        report_modules();
        module = dwfl_addrmodule(g_dwfl, address);
    }
    return module;
}

// C++ names demangled as addr2line -C prints them (with the parameter list); others as they are.
std::string demangled(const char *name) {
    if (name == nullptr) return {};
    int status = 0;
    char *plain = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status != 0 || plain == nullptr) return name;
    std::string result = plain;
    std::free(plain);
    return result;
}

// A function's name from its debug information: the linkage name when there is one (so C++
// functions carry their scope and parameters), else the plain name, following an inlined instance
// to its abstract origin and a definition to its declaration.
const char *linkage_name(Dwarf_Die *die) {
    Dwarf_Attribute attr;
    const char *linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (linkage == nullptr) linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    return linkage;
}

std::string function_name(Dwarf_Die *die) {
    if (const char *linkage = linkage_name(die)) return demangled(linkage);
    Dwarf_Attribute attr;
    const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
    return name != nullptr ? name : std::string();
}

// Languages whose plain names are not what the linker sees (C++ and the like).
bool mangling_language(Dwarf_Die *cu) {
    switch (dwarf_srclang(cu)) {
    case DW_LANG_C_plus_plus:
    case DW_LANG_C_plus_plus_03:
    case DW_LANG_C_plus_plus_11:
    case DW_LANG_C_plus_plus_14:
    case DW_LANG_ObjC_plus_plus:
    case DW_LANG_D:
    case DW_LANG_Rust:
        return true;
    default:
        return false;
    }
}

// The name of the function the address is innermost in, as addr2line (binutils) gives it, so
// reports read as they did: a C++ function without a linkage name (GCC emits none for internal
// linkage: an anonymous namespace, a lambda's body) is named by the ELF symbol at the address
// ("(anonymous namespace)::Dpc(void*)" rather than "Dpc"). Callers further out keep the plain
// debug name, as addr2line's inlined frames do.
std::string innermost_name(Dwarf_Die *cu, Dwarf_Die *function, const char *symbol) {
    if (linkage_name(function) != nullptr || !mangling_language(cu) || symbol == nullptr)
        return function_name(function);
    return demangled(symbol);
}

// A relative source name is relative to its unit's compilation directory.
std::string full_path(const char *file, const char *comp_dir) {
    if (file == nullptr) return {};
    if (file[0] == '/' || comp_dir == nullptr || comp_dir[0] == '\0') return file;
    return std::string(comp_dir) + "/" + file;
}

// Whether the walk below looks inside a DIE: scopes that hold code or other scopes. Types and
// data are skipped, and so are classes outside functions (GCC defines member functions at
// namespace level; only a local class, inside a function, holds definitions: a lambda's).
bool may_hold_functions(int tag, bool in_function) {
    switch (tag) {
    case DW_TAG_compile_unit:
    case DW_TAG_partial_unit:
    case DW_TAG_namespace:
    case DW_TAG_module:
    case DW_TAG_subprogram:
    case DW_TAG_inlined_subroutine:
    case DW_TAG_lexical_block:
    case DW_TAG_try_block:
    case DW_TAG_catch_block:
        return true;
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
        return in_function;
    default:
        return false;
    }
}

// The chain of functions the unit's tree nests at pc, outermost first, in *best: the deepest one
// whose code holds pc wins, with the functions around it in the tree (an inlined instance sits
// inside the function it was inlined into). This is the function table addr2line builds, not
// dwarf_getscopes, which gives up on some units (a lambda's static invoker, some inlined
// std::string code: "no address value").
void find_functions(Dwarf_Die *parent, Dwarf_Addr pc, bool in_function, std::vector<Dwarf_Die> *path,
                    std::vector<Dwarf_Die> *best) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return;
    do {
        const int tag = dwarf_tag(&child);
        if (!may_hold_functions(tag, in_function)) continue;
        const bool function = tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
        if (function) {
            const bool holds_pc = dwarf_haspc(&child, pc) == 1;
            if (holds_pc) {
                path->push_back(child);
                if (path->size() > best->size()) *best = *path;
                find_functions(&child, pc, true, path, best);
                path->pop_back();
                continue;
            }
            // Code inlined into a function lies inside the function's own ranges; a function not
            // holding pc may still hold the definition of one that does (a local class's members,
            // a lambda's), which is not inlined into it, so it is no frame of theirs.
            if (tag == DW_TAG_inlined_subroutine) continue;
            std::vector<Dwarf_Die> inner_path, inner;
            find_functions(&child, pc, true, &inner_path, &inner);
            if (!inner.empty() && inner.size() > best->size()) *best = inner;
            continue;
        }
        find_functions(&child, pc, in_function, path, best);
    } while (dwarf_siblingof(&child, &child) == 0);
}

// The unit's line table row for pc: the last row at or before it, none when pc lies past the end
// of that row's sequence (padding between functions). dwfl_module_getsrc answers there with the
// sequence's last line, which addr2line does not.
Dwarf_Line *line_at(Dwarf_Die *cu, Dwarf_Addr pc) {
    Dwarf_Lines *lines = nullptr;
    std::size_t count = 0;
    if (dwarf_getsrclines(cu, &lines, &count) != 0 || count == 0) return nullptr;
    auto address_of = [lines](std::size_t i) {
        Dwarf_Addr a = 0;
        dwarf_lineaddr(dwarf_onesrcline(lines, i), &a);
        return a;
    };
    std::size_t low = 0, high = count; // rows are sorted by address: find the first past pc
    while (low < high) {
        const std::size_t middle = low + (high - low) / 2;
        if (address_of(middle) <= pc)
            low = middle + 1;
        else
            high = middle;
    }
    if (low == 0) return nullptr;
    // Of the rows at that address, the last that starts code rather than ends a sequence.
    const Dwarf_Addr at = address_of(low - 1);
    for (std::size_t i = low; i-- > 0 && address_of(i) == at;) {
        Dwarf_Line *line = dwarf_onesrcline(lines, i);
        bool end = false;
        dwarf_lineendsequence(line, &end);
        if (!end) return line;
    }
    return nullptr;
}

// The frames at address, innermost first: the innermost function with the line table's location,
// then, for each inlined instance, the function it was inlined into at the instance's call site.
void source_frames(Dwfl_Module *module, Dwarf_Addr address, const char *symbol, std::vector<SourceFrame> *frames) {
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(module, address, &bias);
    if (cu == nullptr) { // no debug information: the ELF symbol alone, as addr2line gives it
        if (symbol != nullptr) frames->push_back(SourceFrame{demangled(symbol), {}, 0});
        return;
    }
    SourceFrame innermost;
    Dwarf_Attribute comp_dir_attr;
    const char *comp_dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &comp_dir_attr));
    if (Dwarf_Line *line = line_at(cu, address - bias)) {
        innermost.file = full_path(dwarf_linesrc(line, nullptr, nullptr), comp_dir);
        dwarf_lineno(line, &innermost.line);
    }
    std::vector<Dwarf_Die> path, chain;
    find_functions(cu, address - bias, false, &path, &chain);
    // No function holds pc (code without debug information in a unit that has some): the ELF
    // symbol's name, as addr2line gives it.
    if (!chain.empty())
        innermost.function = innermost_name(cu, &chain.back(), symbol);
    else if (symbol != nullptr)
        innermost.function = demangled(symbol);
    frames->push_back(std::move(innermost));
    Dwarf_Files *files = nullptr;
    const bool have_files = dwarf_getsrcfiles(cu, &files, nullptr) == 0;
    for (std::size_t i = chain.size(); i-- > 1;) {
        Dwarf_Die &inlined = chain[i];
        if (dwarf_tag(&inlined) != DW_TAG_inlined_subroutine) break;
        SourceFrame frame;
        frame.function = function_name(&chain[i - 1]);
        Dwarf_Attribute attr;
        Dwarf_Word value = 0;
        if (have_files && dwarf_formudata(dwarf_attr(&inlined, DW_AT_call_file, &attr), &value) == 0)
            frame.file = full_path(dwarf_filesrc(files, value, nullptr, nullptr), comp_dir);
        if (dwarf_formudata(dwarf_attr(&inlined, DW_AT_call_line, &attr), &value) == 0)
            frame.line = static_cast<int>(value);
        frames->push_back(std::move(frame));
    }
}

} // namespace

std::string compilation_unit_of(const void *pc) {
    const auto address = static_cast<Dwarf_Addr>(reinterpret_cast<std::uintptr_t>(pc));
    std::lock_guard<std::mutex> guard(g_mutex);
    Dwfl_Module *module = module_at(address);
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = module != nullptr ? dwfl_module_addrdie(module, address, &bias) : nullptr;
    if (cu == nullptr) return {};
    Dwarf_Attribute attr;
    return full_path(dwarf_diename(cu), dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr)));
}

std::uintptr_t module_base_of(const void *pc) noexcept {
    Dl_info info{};
    if (pc == nullptr || dladdr(pc, &info) == 0) return 0;
    return reinterpret_cast<std::uintptr_t>(info.dli_fbase);
}

bool symbolize(const void *pc, Symbolized *out) {
    *out = Symbolized{};
    Dl_info info{};
    if (pc == nullptr || dladdr(pc, &info) == 0 || info.dli_fname == nullptr) return false;
    // The module as the dynamic loader names it (module+offset in reports stays what it was).
    out->module = info.dli_fname;
    out->module_base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
    const auto address = static_cast<Dwarf_Addr>(reinterpret_cast<std::uintptr_t>(pc));
    std::lock_guard<std::mutex> guard(g_mutex);
    Dwfl_Module *module = module_at(address);
    if (module == nullptr) {
        if (info.dli_sname != nullptr) out->symbol = demangled(info.dli_sname);
        return true;
    }
    GElf_Off offset = 0;
    GElf_Sym symbol;
    const char *name = dwfl_module_addrinfo(module, address, &offset, &symbol, nullptr, nullptr, nullptr);
    out->symbol = demangled(name != nullptr ? name : info.dli_sname);
    source_frames(module, address, name, &out->frames);
    return true;
}

// Code inlined into the driver's own that is not the driver's: ndislock's headers and
// the toolchain's headers (libstdc++, compiler intrinsics). Matched anywhere in the path, not at
// its start: clang records libstdc++'s headers unnormalized, as the path from its own binary
// (/usr/bin/../lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/bits/atomic_base.h).
bool is_library_inline(std::string_view file) noexcept {
    // ndislock's own headers (the inline fast path, the C++ API's inline members), installed or in
    // this tree.
    if (file.find("include/ndislock/") != std::string_view::npos) return true;
    if (file.starts_with("/usr/include/")) return true;
    if (!file.starts_with("/usr/")) return false; // a driver's tree is not matched by its directory names
    return file.find("/include/c++/") != std::string_view::npos || file.find("/lib/gcc/") != std::string_view::npos ||
           file.find("/lib/llvm-") != std::string_view::npos;
}

// The frames come innermost first. The first frame outside ndislock's headers (the inline fast
// path, the C++ API) and the toolchain's own headers (an inlined std::atomic load, say) is the
// driver's own code: a routine whose first instruction, a call whose return address, or a stopped
// thread's instruction that belongs to inlined library code is reported where the driver wrote it.
// If every frame is such code, the outermost is reported.
InlinedFrame pick_driver_frame(const std::vector<platform::SourceFrame> &frames) {
    InlinedFrame picked;
    bool found = false;
    for (const platform::SourceFrame &frame : frames) {
        picked.outermost_function = frame.function;
        if (found) continue; // only the outermost function is still wanted
        picked.function = frame.function;
        picked.file = frame.file;
        picked.line = frame.line;
        found = !is_library_inline(picked.file);
    }
    if (picked.file.empty() || picked.line <= 0) {
        picked.file.clear();
        picked.line = 0;
    }
    return picked;
}

} // namespace ndislock::platform
