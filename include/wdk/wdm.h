/*
 * <wdm.h> for driver sources built against ndislock: the kernel driver header: everything (ndislock/wdk.h; ndislock has
 * no finer split). On the include path only through the ndislock::wdk CMake target or `pkg-config ndislock-wdk`.
 */
#ifndef NDISLOCK_WDK_FACE_WDM_H
#define NDISLOCK_WDK_FACE_WDM_H
#include "ndislock/wdk.h"
#endif /* NDISLOCK_WDK_FACE_WDM_H */
