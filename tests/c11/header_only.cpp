// c11.header_only_compile, C++ half: the same C header compiled as C++20 with
// -Wall -Wextra -Wpedantic -Werror (extern "C" linkage, static_assert instead of _Static_assert).
// Compile only. The body is the C file's, so both languages see identical driver code.
#include "header_only.c"

static_assert(sizeof(NDIS_SPIN_LOCK) == 2 * sizeof(void *), "NDIS_SPIN_LOCK seen from C++");
