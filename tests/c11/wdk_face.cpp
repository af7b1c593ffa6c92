/* The WDK face compiled as C++20: wdk_face.c. */
#include "wdk_face.c"
