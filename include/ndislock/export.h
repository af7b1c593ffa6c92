/*
 * ndislock/export.h: NDISLOCK_API, the visibility of ndislock's exported functions (default
 * visibility while the library itself is built, nothing for its users). Included by the other
 * public headers.
 */
#ifndef NDISLOCK_EXPORT_H
#define NDISLOCK_EXPORT_H

#if defined(NDISLOCK_BUILDING) && !defined(_WIN32)
#define NDISLOCK_API __attribute__((visibility("default")))
#else
#define NDISLOCK_API
#endif

#endif /* NDISLOCK_EXPORT_H */
