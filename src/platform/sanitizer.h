// Which sanitizer this translation unit is built with, for code that must know (the asymmetric
// fences TSan cannot see, the TSan mutex annotations). GCC defines __SANITIZE_THREAD__, clang
// answers __has_feature.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define NDISLOCK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NDISLOCK_TSAN 1
#endif
#endif
#ifndef NDISLOCK_TSAN
#define NDISLOCK_TSAN 0
#endif
