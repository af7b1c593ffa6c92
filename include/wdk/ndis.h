/*
 * <ndis.h> for driver sources built against ndislock: the NDIS driver header: everything (ndislock/wdk.h).
 * On the include path only through the ndislock::wdk CMake target or `pkg-config ndislock-wdk`.
 */
#ifndef NDISLOCK_WDK_FACE_NDIS_H
#define NDISLOCK_WDK_FACE_NDIS_H
#include "ndislock/wdk.h"
#endif /* NDISLOCK_WDK_FACE_NDIS_H */
