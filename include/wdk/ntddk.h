/*
 * <ntddk.h> for driver sources built against ndislock: wdm.h plus the non-WDM kernel calls: everything
 * (ndislock/wdk.h). On the include path only through the ndislock::wdk CMake target or `pkg-config ndislock-wdk`.
 */
#ifndef NDISLOCK_WDK_FACE_NTDDK_H
#define NDISLOCK_WDK_FACE_NTDDK_H
#include "ndislock/wdk.h"
#endif /* NDISLOCK_WDK_FACE_NTDDK_H */
