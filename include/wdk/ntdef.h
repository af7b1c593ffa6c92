/*
 * <ntdef.h> for driver sources built against ndislock: the base types and macros only (ndislock/wdk_base.h and its
 * lists). On the include path only through the ndislock::wdk CMake target or `pkg-config ndislock-wdk`.
 */
#ifndef NDISLOCK_WDK_FACE_NTDEF_H
#define NDISLOCK_WDK_FACE_NTDEF_H
#include "ndislock/wdk_base.h"
#include "ndislock/wdk_list.h"
#endif /* NDISLOCK_WDK_FACE_NTDEF_H */
