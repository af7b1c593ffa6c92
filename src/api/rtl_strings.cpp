// The counted strings' initializers and RtlCompareMemory (ndislock/wdk_strings.h): plain code over
// the caller's memory, any thread, no state.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <cstddef>

namespace {

// The length of a zero-terminated string, capped so that it and its terminator fit a USHORT count
// of bytes.
template <class Char> USHORT counted_bytes(const Char *text, std::size_t max_chars) noexcept {
    std::size_t n = 0;
    while (n < max_chars && text[n] != 0)
        ++n;
    return static_cast<USHORT>(n * sizeof(Char));
}

template <class String, class Char> void init(String *destination, const Char *source, std::size_t max_chars) noexcept {
    if (source == nullptr) {
        destination->Length = 0;
        destination->MaximumLength = 0;
        destination->Buffer = nullptr;
        return;
    }
    destination->Length = counted_bytes(source, max_chars);
    destination->MaximumLength = static_cast<USHORT>(destination->Length + sizeof(Char));
    destination->Buffer = const_cast<Char *>(source);
}

} // namespace

extern "C" {

NDISLOCK_API VOID RtlInitUnicodeString(PUNICODE_STRING destination, PCWSTR source) {
    init(destination, source, UNICODE_STRING_MAX_CHARS - 1); // 65532 bytes, 65534 with the terminator
}

NDISLOCK_API VOID RtlInitAnsiString(PANSI_STRING destination, PCSZ source) {
    init(destination, source, 65533); // 65534 bytes with the terminator
}

NDISLOCK_API VOID RtlInitString(PSTRING destination, PCSZ source) { init(destination, source, 65533); }

NDISLOCK_API SIZE_T RtlCompareMemory(const VOID *source1, const VOID *source2, SIZE_T length) {
    const auto *a = static_cast<const unsigned char *>(source1);
    const auto *b = static_cast<const unsigned char *>(source2);
    SIZE_T n = 0;
    while (n < length && a[n] == b[n])
        ++n;
    return n;
}

} // extern "C"
