# Whether the library's Helgrind/DRD annotations are built in. src/observe/tool_annotations.cpp
# includes <valgrind/helgrind.h> and <valgrind/valgrind.h> if the compiler has them (__has_include)
# and otherwise builds without them, silently: so say it here, at configure time, with the reason
# when they are not (docs/tools.md, "Helgrind and DRD").
include(CheckIncludeFileCXX)
# Looked for again at every configure: the headers may have been installed since the last one.
unset(NDISLOCK_HAVE_VALGRIND_HELGRIND_H CACHE)
unset(NDISLOCK_HAVE_VALGRIND_VALGRIND_H CACHE)
set(ndislock_saved_required_quiet "${CMAKE_REQUIRED_QUIET}")
set(CMAKE_REQUIRED_QUIET ON)
check_include_file_cxx(valgrind/helgrind.h NDISLOCK_HAVE_VALGRIND_HELGRIND_H)
check_include_file_cxx(valgrind/valgrind.h NDISLOCK_HAVE_VALGRIND_VALGRIND_H)
set(CMAKE_REQUIRED_QUIET "${ndislock_saved_required_quiet}")
if(NDISLOCK_HAVE_VALGRIND_HELGRIND_H AND NDISLOCK_HAVE_VALGRIND_VALGRIND_H)
  message(STATUS "ndislock: Helgrind/DRD annotations: built in (<valgrind/helgrind.h> found); "
                 "they announce the locks only when a program runs under Valgrind")
else()
  message(STATUS "ndislock: Helgrind/DRD annotations: NOT built in, because the C++ compiler does not find "
                 "<valgrind/helgrind.h> and <valgrind/valgrind.h> (Debian: apt-get install valgrind, "
                 "then configure again); Helgrind and DRD will not see ndislock's locks")
endif()
