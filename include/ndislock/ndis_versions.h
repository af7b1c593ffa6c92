/*
 * ndislock/ndis_versions.h: the NDIS_SUPPORT_NDISxxx macros ndis.h derives from the NDIS version a
 * driver says it is written for, so that "#if NDIS_SUPPORT_NDIS620" in driver code selects what it
 * would with the WDK. Clean C11 and C++. Included by ndislock/wdk.h; usable alone.
 *
 * A driver names its version as with the WDK, on the compiler's command line or before including
 * <ndis.h>: NDISxxx (a protocol or filter driver: NDIS630), NDISxxx_MINIPORT (a miniport:
 * NDIS620_MINIPORT), UM_NDISxxx (user-mode NDIS), or NDIS_MINIPORT_MAJOR_VERSION and
 * NDIS_MINIPORT_MINOR_VERSION (6 and 30). The highest version named wins, and every
 * NDIS_SUPPORT_NDISxxx is then 1 up to it and 0 above it: NDIS620_MINIPORT gives
 * NDIS_SUPPORT_NDIS6, NDIS_SUPPORT_NDIS61 and NDIS_SUPPORT_NDIS620 1 and NDIS_SUPPORT_NDIS630 up
 * to NDIS_SUPPORT_NDIS689 0. All of them are always defined, to 0 or 1 (a driver's own definition
 * of one is kept). Versions: 6.0 (NDIS_SUPPORT_NDIS6, from NDIS60), 6.1 (NDIS61), 6.20, 6.30,
 * 6.40, 6.50, 6.51, 6.60, 6.70, 6.80 to 6.89.
 *
 * A driver that names NDIS 5 (NDIS51_MINIPORT, NDIS50, NDIS_MINIPORT_MAJOR_VERSION 5...) gets every
 * NDIS_SUPPORT_NDISxxx 0, as with the WDK. When the driver names no version (the WDK would then
 * declare the NDIS 5 interface, which ndislock does not model), ndislock assumes NDIS 6.30 (Windows 8 and Server 2012):
 * every NDIS 6 call ndislock models is there by 6.20 (NDIS_RW_LOCK_EX came with it) and 6.30 is the oldest version
 * current NDIS miniport samples build for, so code guarded by a version test sees what an ordinary NDIS 6 driver would;
 * a driver that needs a later version names it. ndislock reports the version it settled on as NDISLOCK_NDIS_VERSION
 * (630 for 6.30, 600 for 6.0, 610 for 6.1).
 */
#ifndef NDISLOCK_NDIS_VERSIONS_H
#define NDISLOCK_NDIS_VERSIONS_H

/* The minor version a driver named through NDIS_MINIPORT_MAJOR_VERSION 6 (and
 * NDIS_MINIPORT_MINOR_VERSION, 0 if it names none); -1 if it named none that way, -2 if it named an
 * earlier major version (NDIS 5). */
#if defined(NDIS_MINIPORT_MAJOR_VERSION)
#if NDIS_MINIPORT_MAJOR_VERSION == 6 && defined(NDIS_MINIPORT_MINOR_VERSION)
#define NDISLOCK_NDIS_MINIPORT_MINOR_ NDIS_MINIPORT_MINOR_VERSION
#elif NDIS_MINIPORT_MAJOR_VERSION == 6
#define NDISLOCK_NDIS_MINIPORT_MINOR_ 0
#elif NDIS_MINIPORT_MAJOR_VERSION < 6
#define NDISLOCK_NDIS_MINIPORT_MINOR_ (-2)
#endif
#endif
#ifndef NDISLOCK_NDIS_MINIPORT_MINOR_
#define NDISLOCK_NDIS_MINIPORT_MINOR_ (-1)
#endif

#ifndef NDISLOCK_NDIS_VERSION
#if defined(NDIS689) || defined(NDIS689_MINIPORT) || defined(UM_NDIS689) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 89
#define NDISLOCK_NDIS_VERSION 689
#elif defined(NDIS688) || defined(NDIS688_MINIPORT) || defined(UM_NDIS688) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 88
#define NDISLOCK_NDIS_VERSION 688
#elif defined(NDIS687) || defined(NDIS687_MINIPORT) || defined(UM_NDIS687) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 87
#define NDISLOCK_NDIS_VERSION 687
#elif defined(NDIS686) || defined(NDIS686_MINIPORT) || defined(UM_NDIS686) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 86
#define NDISLOCK_NDIS_VERSION 686
#elif defined(NDIS685) || defined(NDIS685_MINIPORT) || defined(UM_NDIS685) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 85
#define NDISLOCK_NDIS_VERSION 685
#elif defined(NDIS684) || defined(NDIS684_MINIPORT) || defined(UM_NDIS684) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 84
#define NDISLOCK_NDIS_VERSION 684
#elif defined(NDIS683) || defined(NDIS683_MINIPORT) || defined(UM_NDIS683) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 83
#define NDISLOCK_NDIS_VERSION 683
#elif defined(NDIS682) || defined(NDIS682_MINIPORT) || defined(UM_NDIS682) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 82
#define NDISLOCK_NDIS_VERSION 682
#elif defined(NDIS681) || defined(NDIS681_MINIPORT) || defined(UM_NDIS681) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 81
#define NDISLOCK_NDIS_VERSION 681
#elif defined(NDIS680) || defined(NDIS680_MINIPORT) || defined(UM_NDIS680) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 80
#define NDISLOCK_NDIS_VERSION 680
#elif defined(NDIS670) || defined(NDIS670_MINIPORT) || defined(UM_NDIS670) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 70
#define NDISLOCK_NDIS_VERSION 670
#elif defined(NDIS660) || defined(NDIS660_MINIPORT) || defined(UM_NDIS660) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 60
#define NDISLOCK_NDIS_VERSION 660
#elif defined(NDIS651) || defined(NDIS651_MINIPORT) || defined(UM_NDIS651) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 51
#define NDISLOCK_NDIS_VERSION 651
#elif defined(NDIS650) || defined(NDIS650_MINIPORT) || defined(UM_NDIS650) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 50
#define NDISLOCK_NDIS_VERSION 650
#elif defined(NDIS640) || defined(NDIS640_MINIPORT) || defined(UM_NDIS640) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 40
#define NDISLOCK_NDIS_VERSION 640
#elif defined(NDIS630) || defined(NDIS630_MINIPORT) || defined(UM_NDIS630) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 30
#define NDISLOCK_NDIS_VERSION 630
#elif defined(NDIS620) || defined(NDIS620_MINIPORT) || defined(UM_NDIS620) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 20
#define NDISLOCK_NDIS_VERSION 620
#elif defined(NDIS61) || defined(NDIS61_MINIPORT) || defined(UM_NDIS61) || NDISLOCK_NDIS_MINIPORT_MINOR_ == 1
#define NDISLOCK_NDIS_VERSION 610
#elif defined(NDIS60) || defined(NDIS60_MINIPORT) || defined(UM_NDIS60) || NDISLOCK_NDIS_MINIPORT_MINOR_ >= 0
#define NDISLOCK_NDIS_VERSION 600
#elif defined(NDIS51) || defined(NDIS51_MINIPORT) || defined(NDIS50) || defined(NDIS50_MINIPORT) || defined(NDIS40) || \
    defined(NDIS40_MINIPORT) || NDISLOCK_NDIS_MINIPORT_MINOR_ == -2
#define NDISLOCK_NDIS_VERSION 500 /* NDIS 5 (or 4): no NDIS 6 version is supported */
#else
#define NDISLOCK_NDIS_VERSION 630 /* no version named: NDIS 6.30 (see the top of this header) */
#endif
#endif /* NDISLOCK_NDIS_VERSION */

/* NDIS_SUPPORT_NDISxxx: 1 if the driver's NDIS version (NDISLOCK_NDIS_VERSION) is xxx or later,
 * else 0; one the driver defined itself is kept. */
#ifndef NDIS_SUPPORT_NDIS6
#if NDISLOCK_NDIS_VERSION >= 600
#define NDIS_SUPPORT_NDIS6 1
#else
#define NDIS_SUPPORT_NDIS6 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS61
#if NDISLOCK_NDIS_VERSION >= 610
#define NDIS_SUPPORT_NDIS61 1
#else
#define NDIS_SUPPORT_NDIS61 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS620
#if NDISLOCK_NDIS_VERSION >= 620
#define NDIS_SUPPORT_NDIS620 1
#else
#define NDIS_SUPPORT_NDIS620 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS630
#if NDISLOCK_NDIS_VERSION >= 630
#define NDIS_SUPPORT_NDIS630 1
#else
#define NDIS_SUPPORT_NDIS630 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS640
#if NDISLOCK_NDIS_VERSION >= 640
#define NDIS_SUPPORT_NDIS640 1
#else
#define NDIS_SUPPORT_NDIS640 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS650
#if NDISLOCK_NDIS_VERSION >= 650
#define NDIS_SUPPORT_NDIS650 1
#else
#define NDIS_SUPPORT_NDIS650 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS651
#if NDISLOCK_NDIS_VERSION >= 651
#define NDIS_SUPPORT_NDIS651 1
#else
#define NDIS_SUPPORT_NDIS651 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS660
#if NDISLOCK_NDIS_VERSION >= 660
#define NDIS_SUPPORT_NDIS660 1
#else
#define NDIS_SUPPORT_NDIS660 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS670
#if NDISLOCK_NDIS_VERSION >= 670
#define NDIS_SUPPORT_NDIS670 1
#else
#define NDIS_SUPPORT_NDIS670 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS680
#if NDISLOCK_NDIS_VERSION >= 680
#define NDIS_SUPPORT_NDIS680 1
#else
#define NDIS_SUPPORT_NDIS680 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS681
#if NDISLOCK_NDIS_VERSION >= 681
#define NDIS_SUPPORT_NDIS681 1
#else
#define NDIS_SUPPORT_NDIS681 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS682
#if NDISLOCK_NDIS_VERSION >= 682
#define NDIS_SUPPORT_NDIS682 1
#else
#define NDIS_SUPPORT_NDIS682 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS683
#if NDISLOCK_NDIS_VERSION >= 683
#define NDIS_SUPPORT_NDIS683 1
#else
#define NDIS_SUPPORT_NDIS683 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS684
#if NDISLOCK_NDIS_VERSION >= 684
#define NDIS_SUPPORT_NDIS684 1
#else
#define NDIS_SUPPORT_NDIS684 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS685
#if NDISLOCK_NDIS_VERSION >= 685
#define NDIS_SUPPORT_NDIS685 1
#else
#define NDIS_SUPPORT_NDIS685 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS686
#if NDISLOCK_NDIS_VERSION >= 686
#define NDIS_SUPPORT_NDIS686 1
#else
#define NDIS_SUPPORT_NDIS686 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS687
#if NDISLOCK_NDIS_VERSION >= 687
#define NDIS_SUPPORT_NDIS687 1
#else
#define NDIS_SUPPORT_NDIS687 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS688
#if NDISLOCK_NDIS_VERSION >= 688
#define NDIS_SUPPORT_NDIS688 1
#else
#define NDIS_SUPPORT_NDIS688 0
#endif
#endif
#ifndef NDIS_SUPPORT_NDIS689
#if NDISLOCK_NDIS_VERSION >= 689
#define NDIS_SUPPORT_NDIS689 1
#else
#define NDIS_SUPPORT_NDIS689 0
#endif
#endif

#endif /* NDISLOCK_NDIS_VERSIONS_H */
