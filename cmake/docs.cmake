# The API reference: Doxygen HTML of the public headers (include/ndislock, include/wdk), with each
# call's contract comment (its IRQL rule, what it does, what misuse gets, its Microsoft page).
#   cmake --build build/default --target docs    ->  build/default/docs/api/html/index.html
# Only when Doxygen is found (Debian: apt-get install doxygen). The headers keep plain C comments
# (they are the WDK's face, read by C compilers and people); docs/api/doxygen_filter.py turns a
# comment before a declaration into a Doxygen comment and a trailing member comment into a "<"
# one as Doxygen reads them, and each Microsoft page a header names ("Page: ndis/nf-ndis-...") into
# a link to learn.microsoft.com, without changing the files. Doxygen's warnings are printed, never
# fatal: the build does not depend on them.
find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  message(STATUS "ndislock: doxygen not found: no 'docs' target (apt-get install doxygen)")
  return()
endif()
find_program(NDISLOCK_PYTHON3_FOR_DOCS NAMES python3 REQUIRED)

set(NDISLOCK_DOCS_DIR ${PROJECT_BINARY_DIR}/docs/api)
set(DOXYGEN_PROJECT_NAME "ndislock")
set(DOXYGEN_PROJECT_NUMBER ${PROJECT_VERSION})
set(DOXYGEN_PROJECT_BRIEF "Windows NDIS/Ke spin locks and their kernel model in user-mode Linux")
set(DOXYGEN_OUTPUT_DIRECTORY ${NDISLOCK_DOCS_DIR})
set(DOXYGEN_GENERATE_HTML YES)
set(DOXYGEN_GENERATE_LATEX NO)
# XML too: tests/docs/check_docs.py walks every entry in it (each Windows-named call must carry its
# IRQL rule and a learn.microsoft.com link).
set(DOXYGEN_GENERATE_XML YES)
set(DOXYGEN_EXTRACT_ALL YES)
set(DOXYGEN_EXTRACT_STATIC YES)
set(DOXYGEN_OPTIMIZE_OUTPUT_FOR_C YES)
set(DOXYGEN_JAVADOC_AUTOBRIEF YES)
set(DOXYGEN_FULL_PATH_NAMES YES)
set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_FILE_PATTERNS *.h *.hpp)
set(DOXYGEN_RECURSIVE YES)
set(DOXYGEN_EXCLUDE ${PROJECT_SOURCE_DIR}/include/ndislock/gtest.h ${PROJECT_SOURCE_DIR}/include/ndislock/explore_gtest.h)
set(DOXYGEN_ENABLE_PREPROCESSING YES)
set(DOXYGEN_MACRO_EXPANSION YES)
set(DOXYGEN_EXPAND_ONLY_PREDEF YES)
# The declarations as a C compiler without the site macros sees them: NdisAcquireSpinLock is the
# function, not the macro that adds the caller's line.
# Attributes and the layout checks' static assertions expand to nothing: read as declarations they
# were junk entries (a function "__attribute__", nine "NDISLOCK_STATIC_ASSERT").
set(DOXYGEN_PREDEFINED "NDISLOCK_API=" "NDISLOCK_NO_SITE_MACROS" "__attribute__(x)=" "NDISLOCK_STATIC_ASSERT(c,m)=")
# The Interlocked* and ReadAcquire* / WriteRelease* families are written once and stamped out per
# width and fence by these macros: expanded, every one is an entry of its own, and the comment
# before the stamps (a member group, /*@{*/ ... /*@}*/) documents each (DISTRIBUTE_GROUP_DOC). The
# same groups give a family of declarations that one comment documents ("A / B: IRQL ...") that
# comment on each member.
set(DOXYGEN_EXPAND_AS_DEFINED NDISLOCK_INTERLOCKED_FAMILY NDISLOCK_INTERLOCKED_BITS NDISLOCK_INTERLOCKED_POINTER
                              NDISLOCK_ORDERED_ACCESS)
set(DOXYGEN_DISTRIBUTE_GROUP_DOC YES)
set(DOXYGEN_EXCLUDE_SYMBOLS NDISLOCK_STATIC_ASSERT)
set(DOXYGEN_INPUT_FILTER "${NDISLOCK_PYTHON3_FOR_DOCS} ${PROJECT_SOURCE_DIR}/docs/api/doxygen_filter.py")
set(DOXYGEN_FILTER_SOURCE_FILES YES)
set(DOXYGEN_SOURCE_BROWSER NO)
set(DOXYGEN_QUIET YES)
set(DOXYGEN_WARN_IF_UNDOCUMENTED NO)
set(DOXYGEN_WARN_AS_ERROR NO)
set(DOXYGEN_WARN_LOGFILE ${NDISLOCK_DOCS_DIR}/warnings.log)
set(DOXYGEN_USE_MDFILE_AS_MAINPAGE ${PROJECT_SOURCE_DIR}/docs/api/mainpage.md)
set(DOXYGEN_HTML_TIMESTAMP NO)
doxygen_add_docs(docs ${PROJECT_SOURCE_DIR}/docs/api/mainpage.md ${PROJECT_SOURCE_DIR}/include/ndislock
                 ${PROJECT_SOURCE_DIR}/include/wdk
                 COMMENT "API reference (Doxygen) in ${NDISLOCK_DOCS_DIR}/html")
