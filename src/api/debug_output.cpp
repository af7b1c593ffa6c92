// DbgPrint, DbgPrintEx, vDbgPrintEx, vDbgPrintExWithPrefix, DbgBreakPoint and
// DbgBreakPointWithStatus (ndislock/wdk_debug.h): the kernel debugger's output written to stderr.
//
// Every path here is async-signal-safe: an ISR may print while the thread it interrupted is
// stopped inside malloc or stdio. A message is formatted into a buffer on the stack by the
// formatter below (no allocation, no lock, no locale: vsnprintf promises none of that), with
// Microsoft's format rules rather than glibc's, and written with write(2). The settings are read
// from the environment once, into atomics.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "api/debug_output.h"
#include "api/spin_lock_ops.h"

using namespace ndislock;
using namespace ndislock::api;

namespace {

// ---- Output --------------------------------------------------------------------------------------

// A Windows DbgPrint call transmits at most 512 bytes.
constexpr std::size_t kMessageBytes = 512;

void write_all(const char *text, std::size_t length) noexcept {
    const int saved_errno = errno;
    while (length > 0) {
        const ssize_t n = ::write(2, text, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text += n;
        length -= static_cast<std::size_t>(n);
    }
    errno = saved_errno;
}

// A bounded sink: what does not fit is dropped.
struct Sink {
    char *buffer;
    std::size_t capacity;
    std::size_t length = 0;

    void put(char c) noexcept {
        if (length < capacity) buffer[length++] = c;
    }
    void put(const char *text, std::size_t n) noexcept {
        for (std::size_t i = 0; i < n; ++i)
            put(text[i]);
    }
    void pad(char c, long n) noexcept {
        for (; n > 0; --n)
            put(c);
    }
};

// ---- The formatter -------------------------------------------------------------------------------

struct Spec {
    bool left = false, plus = false, space = false, alternate = false, zero = false;
    long width = 0;
    long precision = -1; // none
};

// The field around text: width padding on the side the '-' flag says.
void emit_field(Sink &out, const Spec &spec, const char *text, std::size_t n) noexcept {
    const long padding = spec.width - static_cast<long>(n);
    if (!spec.left) out.pad(' ', padding);
    out.put(text, n);
    if (spec.left) out.pad(' ', padding);
}

void emit_integer(Sink &out, const Spec &spec, std::uint64_t magnitude, bool negative, unsigned base, bool upper,
                  bool is_signed) noexcept {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char reversed[24];
    int count = 0;
    for (std::uint64_t v = magnitude; v != 0; v /= base)
        reversed[count++] = digits[v % base];
    long min_digits = spec.precision < 0 ? 1 : spec.precision;
    if (min_digits > 64) min_digits = 64;
    // The prefix: a sign, or the alternate form's "0x" / "0X" (a nonzero value) or leading "0".
    char prefix[2];
    int prefix_length = 0;
    if (is_signed) {
        if (negative)
            prefix[prefix_length++] = '-';
        else if (spec.plus)
            prefix[prefix_length++] = '+';
        else if (spec.space)
            prefix[prefix_length++] = ' ';
    }
    if (spec.alternate && base == 16 && magnitude != 0) {
        prefix[prefix_length++] = '0';
        prefix[prefix_length++] = upper ? 'X' : 'x';
    }
    if (spec.alternate && base == 8 && min_digits <= count) min_digits = count + 1;
    const long zeros = min_digits > count ? min_digits - count : 0;
    const long body = prefix_length + zeros + count;
    const long padding = spec.width - body;
    const bool zero_fill = spec.zero && !spec.left && spec.precision < 0;
    if (!spec.left && !zero_fill) out.pad(' ', padding);
    out.put(prefix, static_cast<std::size_t>(prefix_length));
    if (zero_fill) out.pad('0', padding);
    out.pad('0', zeros);
    while (count > 0)
        out.put(reversed[--count]);
    if (spec.left) out.pad(' ', padding);
}

// Appends the UTF-8 form of the UTF-16 code units at text (count of them, or up to the first 0 when
// count is negative) to a bounded buffer; returns the bytes written.
std::size_t utf16_to_utf8(const WCHAR *text, long count, long max_units, char *out, std::size_t capacity) noexcept {
    std::size_t n = 0;
    auto put = [&](unsigned c) {
        if (n < capacity) out[n++] = static_cast<char>(c);
    };
    for (long i = 0; (count < 0 || i < count) && (max_units < 0 || i < max_units); ++i) {
        std::uint32_t c = text[i];
        if (count < 0 && c == 0) break;
        if (c >= 0xD800 && c <= 0xDBFF && (count < 0 || i + 1 < count) && text[i + 1] >= 0xDC00 &&
            text[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (text[i + 1] - 0xDC00u);
            ++i;
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD; // a lone surrogate
        }
        if (c < 0x80) {
            put(c);
        } else if (c < 0x800) {
            put(0xC0 | (c >> 6));
            put(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            put(0xE0 | (c >> 12));
            put(0x80 | ((c >> 6) & 0x3F));
            put(0x80 | (c & 0x3F));
        } else {
            put(0xF0 | (c >> 18));
            put(0x80 | ((c >> 12) & 0x3F));
            put(0x80 | ((c >> 6) & 0x3F));
            put(0x80 | (c & 0x3F));
        }
    }
    return n;
}

void emit_narrow(Sink &out, const Spec &spec, const char *text, long length) noexcept {
    static constexpr char kNull[] = "(null)";
    if (text == nullptr) return emit_field(out, spec, kNull, sizeof kNull - 1);
    std::size_t n = 0;
    const long limit = spec.precision;
    if (length >= 0) {
        n = static_cast<std::size_t>(limit >= 0 && limit < length ? limit : length);
    } else {
        while (text[n] != '\0' && (limit < 0 || static_cast<long>(n) < limit))
            ++n;
    }
    emit_field(out, spec, text, n);
}

void emit_wide(Sink &out, const Spec &spec, const WCHAR *text, long units) noexcept {
    static constexpr char kNull[] = "(null)";
    if (text == nullptr) return emit_field(out, spec, kNull, sizeof kNull - 1);
    char utf8[kMessageBytes];
    const std::size_t n = utf16_to_utf8(text, units, spec.precision, utf8, sizeof utf8);
    emit_field(out, spec, utf8, n);
}

enum class Length { None, Char, Short, Long32, Long64, Pointer, Size, PtrDiff, IntMax, Wide, LongDouble };

std::size_t format_message(Sink &out, const char *format, va_list args, bool *unicode) noexcept {
    const char *p = format;
    while (*p != '\0') {
        if (*p != '%') {
            out.put(*p++);
            continue;
        }
        const char *start = p++;
        Spec spec;
        for (;; ++p) {
            if (*p == '-')
                spec.left = true;
            else if (*p == '+')
                spec.plus = true;
            else if (*p == ' ')
                spec.space = true;
            else if (*p == '#')
                spec.alternate = true;
            else if (*p == '0')
                spec.zero = true;
            else
                break;
        }
        if (*p == '*') {
            const int w = va_arg(args, int);
            spec.left = spec.left || w < 0;
            spec.width = w < 0 ? -static_cast<long>(w) : w;
            ++p;
        } else {
            for (; *p >= '0' && *p <= '9'; ++p)
                if (spec.width < 100000) spec.width = spec.width * 10 + (*p - '0');
        }
        if (*p == '.') {
            ++p;
            spec.precision = 0;
            if (*p == '*') {
                const int v = va_arg(args, int);
                spec.precision = v < 0 ? -1 : v;
                ++p;
            } else {
                for (; *p >= '0' && *p <= '9'; ++p)
                    if (spec.precision < 100000) spec.precision = spec.precision * 10 + (*p - '0');
            }
        }
        Length length = Length::None;
        if (p[0] == 'h' && p[1] == 'h') {
            length = Length::Char;
            p += 2;
        } else if (p[0] == 'h') {
            length = Length::Short;
            ++p;
        } else if (p[0] == 'l' && p[1] == 'l') {
            length = Length::Long64;
            p += 2;
        } else if (p[0] == 'l') {
            length = Length::Long32; // Microsoft's long: 32 bits (and %ls / %lc are wide)
            ++p;
        } else if (p[0] == 'w') {
            length = Length::Wide;
            ++p;
        } else if (p[0] == 'L') {
            length = Length::LongDouble;
            ++p;
        } else if (p[0] == 'I' && p[1] == '6' && p[2] == '4') {
            length = Length::Long64;
            p += 3;
        } else if (p[0] == 'I' && p[1] == '3' && p[2] == '2') {
            length = Length::Long32;
            p += 3;
        } else if (p[0] == 'I') {
            length = Length::Pointer;
            ++p;
        } else if (p[0] == 'z') {
            length = Length::Size;
            ++p;
        } else if (p[0] == 't') {
            length = Length::PtrDiff;
            ++p;
        } else if (p[0] == 'j') {
            length = Length::IntMax;
            ++p;
        }
        const char conversion = *p;
        if (conversion == '\0') { // a format that ends inside a conversion: written as it is
            out.put(start, static_cast<std::size_t>(p - start));
            break;
        }
        ++p;
        switch (conversion) {
        case 'd':
        case 'i': {
            std::int64_t v;
            switch (length) {
            case Length::Char:
                v = static_cast<signed char>(va_arg(args, int));
                break;
            case Length::Short:
                v = static_cast<short>(va_arg(args, int));
                break;
            case Length::Long64:
            case Length::LongDouble:
                v = va_arg(args, long long);
                break;
            case Length::Pointer:
            case Length::PtrDiff:
                v = va_arg(args, std::intptr_t);
                break;
            case Length::Size:
                v = static_cast<std::int64_t>(va_arg(args, std::size_t));
                break;
            case Length::IntMax:
                v = va_arg(args, std::intmax_t);
                break;
            default:
                v = va_arg(args, int);
                break;
            }
            const bool negative = v < 0;
            const std::uint64_t magnitude =
                negative ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
            emit_integer(out, spec, magnitude, negative, 10, false, true);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            std::uint64_t v;
            switch (length) {
            case Length::Char:
                v = static_cast<unsigned char>(va_arg(args, unsigned));
                break;
            case Length::Short:
                v = static_cast<unsigned short>(va_arg(args, unsigned));
                break;
            case Length::Long64:
            case Length::LongDouble:
                v = va_arg(args, unsigned long long);
                break;
            case Length::Pointer:
            case Length::Size:
                v = va_arg(args, std::size_t);
                break;
            case Length::PtrDiff:
                v = static_cast<std::uint64_t>(va_arg(args, std::ptrdiff_t));
                break;
            case Length::IntMax:
                v = va_arg(args, std::uintmax_t);
                break;
            default:
                v = va_arg(args, unsigned);
                break;
            }
            const unsigned base = conversion == 'o' ? 8 : conversion == 'u' ? 10 : 16;
            emit_integer(out, spec, v, false, base, conversion == 'X', false);
            break;
        }
        case 'p': { // Microsoft's %p: every hexadecimal digit of the address, upper case, no "0x"
            Spec pointer = spec;
            pointer.precision = static_cast<long>(2 * sizeof(void *));
            emit_integer(out, pointer, reinterpret_cast<std::uintptr_t>(va_arg(args, void *)), false, 16, true, false);
            break;
        }
        case 'c':
        case 'C': {
            const int v = va_arg(args, int);
            const bool wide =
                conversion == 'c' ? (length == Length::Long32 || length == Length::Wide) : length != Length::Short;
            if (wide) {
                *unicode = true;
                const WCHAR w = static_cast<WCHAR>(v);
                char utf8[4];
                emit_field(out, spec, utf8, utf16_to_utf8(&w, 1, -1, utf8, sizeof utf8));
            } else {
                const char c = static_cast<char>(v);
                emit_field(out, spec, &c, 1);
            }
            break;
        }
        case 's':
        case 'S': {
            const bool wide =
                conversion == 's' ? (length == Length::Long32 || length == Length::Wide) : length != Length::Short;
            if (wide) {
                *unicode = true;
                emit_wide(out, spec, va_arg(args, const WCHAR *), -1);
            } else {
                emit_narrow(out, spec, va_arg(args, const char *), -1);
            }
            break;
        }
        case 'Z': { // %Z: a PANSI_STRING; %wZ: a PUNICODE_STRING (Length in bytes)
            if (length == Length::Wide) {
                *unicode = true;
                const UNICODE_STRING *s = va_arg(args, const UNICODE_STRING *);
                if (s == nullptr || s->Buffer == nullptr)
                    emit_wide(out, spec, nullptr, 0);
                else
                    emit_wide(out, spec, s->Buffer, s->Length / 2);
            } else {
                const ANSI_STRING *s = va_arg(args, const ANSI_STRING *);
                if (s == nullptr || s->Buffer == nullptr)
                    emit_narrow(out, spec, nullptr, 0);
                else
                    emit_narrow(out, spec, s->Buffer, s->Length);
            }
            break;
        }
        case 'n': // writes nothing (the kernel's formatter refuses %n as well)
            (void)va_arg(args, void *);
            break;
        case '%':
            out.put('%');
            break;
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
        case 'a':
        case 'A': // DbgPrint has no floating point: the conversion as written, its argument consumed
            if (length == Length::LongDouble)
                (void)va_arg(args, long double);
            else
                (void)va_arg(args, double);
            out.put(start, static_cast<std::size_t>(p - start));
            break;
        default: // not a conversion: written as it is, no argument consumed
            out.put(start, static_cast<std::size_t>(p - start));
            break;
        }
    }
    return out.length;
}

// Writes "ndislock: " and the message (ndislock's own formatter), one write, like
// platform::diagnostic but async-signal-safe.
void say(const char *format, ...) noexcept {
    char buffer[kMessageBytes];
    Sink out{buffer, sizeof buffer - 1};
    out.put("ndislock: ", 10);
    va_list args;
    va_start(args, format);
    bool unicode = false;
    format_message(out, format, args, &unicode);
    va_end(args);
    buffer[out.length++] = '\n'; // the one byte the sink left free
    write_all(buffer, out.length);
}

bool same_word(const char *a, const char *b) noexcept {
    for (; *a != '\0' && *b != '\0'; ++a, ++b)
        if ((*a | 0x20) != (*b | 0x20)) return false;
    return *a == '\0' && *b == '\0';
}

// A decimal or 0x-hexadecimal number that fits 32 bits; false for anything else.
bool parse_mask(const char *text, ULONG *mask) noexcept {
    unsigned base = 10;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
    }
    if (*text == '\0') return false;
    std::uint64_t v = 0;
    for (; *text != '\0'; ++text) {
        unsigned d;
        if (*text >= '0' && *text <= '9')
            d = static_cast<unsigned>(*text - '0');
        else if (base == 16 && (*text | 0x20) >= 'a' && (*text | 0x20) <= 'f')
            d = static_cast<unsigned>((*text | 0x20) - 'a' + 10);
        else
            return false;
        if (d >= base) return false;
        v = v * base + d;
        if (v > 0xFFFFFFFFu) return false;
    }
    *mask = static_cast<ULONG>(v);
    return true;
}

// ---- The filter ----------------------------------------------------------------------------------

enum Filter : int { kUnread = -1, kDefault = 0, kAll = 1, kOff = 2, kMask = 3 };
std::atomic<int> g_filter{kUnread};
std::atomic<ULONG> g_mask{0};
std::atomic<bool> g_filtered_note_said{false};
std::atomic<bool> g_break_note_said{false};

// NDISLOCK_DBGPRINT, read once (two first messages at once may both read it: the same answer).
int filter() noexcept {
    int f = g_filter.load(std::memory_order_acquire);
    if (__builtin_expect(f != kUnread, 1)) return f;
    const char *value = std::getenv("NDISLOCK_DBGPRINT");
    ULONG mask = 0;
    if (value == nullptr || *value == '\0' || same_word(value, "default")) {
        f = kDefault;
    } else if (same_word(value, "all")) {
        f = kAll;
    } else if (same_word(value, "off")) {
        f = kOff;
    } else if (parse_mask(value, &mask)) {
        f = kMask;
        g_mask.store(mask, std::memory_order_relaxed);
    } else {
        f = kDefault;
        say("NDISLOCK_DBGPRINT=%s is not all, default, off or a filter mask: default (only DPFLTR_ERROR_LEVEL "
            "messages)",
            value);
    }
    g_filter.store(f, std::memory_order_release);
    return f;
}

// Microsoft's rule: Level 0-31 is the mask 1 << Level, a larger Level the mask itself; the system
// default lets bit 0 (DPFLTR_ERROR_LEVEL) through for every component.
bool passes(ULONG level) noexcept {
    const ULONG importance = level <= 31 ? (1u << level) : level;
    switch (filter()) {
    case kAll:
        return true;
    case kOff:
        return false;
    case kMask:
        return (importance & (g_mask.load(std::memory_order_relaxed) | 1u)) != 0;
    default:
        return (importance & 1u) != 0;
    }
}

// call names the caller in the notes; unicode_call in an IrqlTooHighForCall report.
ULONG print(const char *call, const char *unicode_call, const char *prefix, ULONG level, const char *format,
            va_list args, const void *return_address) noexcept {
    if (!passes(level)) {
        if (filter() == kDefault && !g_filtered_note_said.exchange(true, std::memory_order_relaxed))
            say("%s: a debugger message filtered out, as on Windows, where only DPFLTR_ERROR_LEVEL ones are shown "
                "by default (DbgPrint and KdPrint are DPFLTR_INFO_LEVEL): NDISLOCK_DBGPRINT=all shows every "
                "message, NDISLOCK_DBGPRINT=off none (said once)",
                call);
        return STATUS_SUCCESS;
    }
    char buffer[kMessageBytes];
    Sink out{buffer, sizeof buffer};
    if (prefix != nullptr) out.put(prefix, std::strlen(prefix));
    bool unicode = false;
    if (format != nullptr) format_message(out, format, args, &unicode);
    // The Unicode conversions are documented for PASSIVE_LEVEL only (they may touch paged tables).
    if (unicode) {
        model::ThreadState *t = model::tls_thread; // no registration here: unknown threads are at PASSIVE_LEVEL
        if (t != nullptr && t->irql().load(std::memory_order_relaxed) > PASSIVE_LEVEL)
            check_call_irql(*t, PASSIVE_LEVEL, unicode_call, observe::Site{nullptr, 0, nullptr, return_address});
    }
    write_all(buffer, out.length);
    return STATUS_SUCCESS;
}

// ---- Breakpoints ---------------------------------------------------------------------------------

// Whether a debugger (any tracer) is attached: TracerPid in /proc/self/status.
bool debugger_attached() noexcept {
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char text[4096];
    std::size_t n = 0;
    for (;;) {
        const ssize_t r = ::read(fd, text + n, sizeof text - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += static_cast<std::size_t>(r);
        if (n == sizeof text - 1) break;
    }
    ::close(fd);
    text[n] = '\0';
    const char *line = std::strstr(text, "TracerPid:");
    if (line == nullptr) return false;
    line += 10;
    while (*line == ' ' || *line == '\t')
        ++line;
    return *line >= '1' && *line <= '9';
}

void break_point(bool with_status, ULONG status, const void *return_address) noexcept {
    const int saved_errno = errno;
    const char *mode = std::getenv("NDISLOCK_DBGBREAK");
    if (mode != nullptr && (same_word(mode, "0") || same_word(mode, "off"))) return;
    const bool trap = mode != nullptr && (same_word(mode, "1") || same_word(mode, "trap"));
    if (trap || debugger_attached()) {
        std::raise(SIGTRAP);
    } else if (!g_break_note_said.exchange(true, std::memory_order_relaxed)) {
        if (with_status)
            say("DbgBreakPointWithStatus(0x%X) called from %p: no debugger is attached, going on "
                "(NDISLOCK_DBGBREAK=1 stops with SIGTRAP; said once)",
                status, return_address);
        else
            say("DbgBreakPoint called from %p: no debugger is attached, going on (NDISLOCK_DBGBREAK=1 stops with "
                "SIGTRAP; said once)",
                return_address);
    }
    errno = saved_errno;
}

} // namespace

namespace ndislock::api {

void reset_debug_output() noexcept {
    g_filter.store(kUnread, std::memory_order_release);
    g_filtered_note_said.store(false, std::memory_order_relaxed);
    g_break_note_said.store(false, std::memory_order_relaxed);
}

std::size_t format_debug_message(char *buffer, std::size_t size, const char *format, va_list args,
                                 bool *unicode) noexcept {
    if (size == 0) return 0;
    Sink out{buffer, size - 1};
    bool used = false;
    format_message(out, format, args, &used);
    buffer[out.length] = '\0';
    if (unicode != nullptr) *unicode = used;
    return out.length;
}

} // namespace ndislock::api

// The conversions Microsoft documents for PASSIVE_LEVEL only, as the reports list them.
#define NDISLOCK_UNICODE_CODES_ " (%S, %ls, %ws, %wZ, %C, %lc or %wc)"

extern "C" {

NDISLOCK_API ULONG DbgPrint(PCSTR format, ...) {
    va_list args;
    va_start(args, format);
    const ULONG status = print("DbgPrint", "DbgPrint with a Unicode conversion" NDISLOCK_UNICODE_CODES_, nullptr,
                               DPFLTR_INFO_LEVEL, format, args, __builtin_return_address(0));
    va_end(args);
    return status;
}

NDISLOCK_API ULONG DbgPrintEx(ULONG component, ULONG level, PCSTR format, ...) {
    (void)component; // one filter for every component
    va_list args;
    va_start(args, format);
    const ULONG status = print("DbgPrintEx", "DbgPrintEx with a Unicode conversion" NDISLOCK_UNICODE_CODES_, nullptr,
                               level, format, args, __builtin_return_address(0));
    va_end(args);
    return status;
}

NDISLOCK_API ULONG vDbgPrintEx(ULONG component, ULONG level, PCCH format, va_list args) {
    (void)component;
    return print("vDbgPrintEx", "vDbgPrintEx with a Unicode conversion" NDISLOCK_UNICODE_CODES_, nullptr, level, format,
                 args, __builtin_return_address(0));
}

NDISLOCK_API ULONG vDbgPrintExWithPrefix(PCCH prefix, ULONG component, ULONG level, PCCH format, va_list args) {
    (void)component;
    return print("vDbgPrintExWithPrefix", "vDbgPrintExWithPrefix with a Unicode conversion" NDISLOCK_UNICODE_CODES_,
                 prefix, level, format, args, __builtin_return_address(0));
}

NDISLOCK_API VOID DbgBreakPoint(VOID) { break_point(false, 0, __builtin_return_address(0)); }

NDISLOCK_API VOID DbgBreakPointWithStatus(ULONG status) { break_point(true, status, __builtin_return_address(0)); }

} // extern "C"
