/* c11.header_only_compile: each public C header compiles on its own, first in its unit
 * (tests/c11/CMakeLists.txt builds this file once per header, naming it in NDISLOCK_TEST_HEADER). */
#if defined(NDISLOCK_TEST_HEADER)
#include NDISLOCK_TEST_HEADER
#else
#include <ndislock/ndis.h>
#endif
typedef int header_each_not_empty; /* ISO C forbids an empty translation unit */
