/* c11.header_only_compile: each public C header compiles on its own, first in its unit. */
#if defined(NDISLOCK_TEST_HEADER_WDK_TYPES)
#include <ndislock/wdk_types.h>
#elif defined(NDISLOCK_TEST_HEADER_EXT)
#include <ndislock/ext.h>
#elif defined(NDISLOCK_TEST_HEADER_SAL)
#include <ndislock/sal.h>
#else
#include <ndislock/ndis.h>
#endif
typedef int header_each_not_empty; /* ISO C forbids an empty translation unit */
