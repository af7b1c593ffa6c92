# c11.header_only_compile: compiles the public C headers, compile only (-fsyntax-only), as strict
# C11 and as C++20 with -Wall -Wextra -Wpedantic -Werror. Run as
#   cmake -DC_COMPILER=cc -DCXX_COMPILER=c++ -DINCLUDE_DIR=<include> -DSOURCE_DIR=<tests/c11> -P header_only_compile.cmake
foreach(var IN ITEMS C_COMPILER CXX_COMPILER INCLUDE_DIR SOURCE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "header_only_compile.cmake: -D${var}=... is required")
  endif()
endforeach()

set(strict -Wall -Wextra -Wpedantic -Werror)
set(failures 0)
set(passes 0)

function(compile_case name compiler)
  execute_process(COMMAND ${compiler} ${ARGN} ${strict} -I${INCLUDE_DIR} -fsyntax-only
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(STATUS "PASS: ${name}")
    math(EXPR n "${passes} + 1")
    set(passes ${n} PARENT_SCOPE)
  else()
    string(REPLACE ";" " " shown "${compiler} ${ARGN} ${strict} -I${INCLUDE_DIR} -fsyntax-only")
    message(STATUS "FAIL: ${name}\n  ${shown}\n${out}${err}")
    math(EXPR n "${failures} + 1")
    set(failures ${n} PARENT_SCOPE)
  endif()
endfunction()

compile_case("<ndislock/ndis.h> as C11, every call through the site macros and as functions"
             ${C_COMPILER} -std=c11 -x c ${SOURCE_DIR}/header_only.c)
compile_case("<ndislock/ndis.h> as C11 with NDISLOCK_NO_SITE_MACROS"
             ${C_COMPILER} -std=c11 -DNDISLOCK_NO_SITE_MACROS -x c ${SOURCE_DIR}/header_only.c)
foreach(header IN ITEMS NDIS WDK_TYPES EXT SAL)
  compile_case("the ${header} header alone as C11"
               ${C_COMPILER} -std=c11 -DNDISLOCK_TEST_HEADER_${header} -x c ${SOURCE_DIR}/header_each.c)
endforeach()
compile_case("<ndislock/ndis.h> as C++20, the same driver code"
             ${CXX_COMPILER} -std=c++20 -x c++ ${SOURCE_DIR}/header_only.cpp)
compile_case("<ndislock/ndis.h> as C++20 with NDISLOCK_NO_SITE_MACROS"
             ${CXX_COMPILER} -std=c++20 -DNDISLOCK_NO_SITE_MACROS -x c++ ${SOURCE_DIR}/header_only.cpp)

# The WDK face (include/wdk): <ndis.h>, SAL 2 and legacy SAL, lists, interlocked, flags.
foreach(variant IN ITEMS "" "-DNDISLOCK_NO_SITE_MACROS")
  compile_case("<ndis.h> (WDK face) as C11 ${variant}"
               ${C_COMPILER} -std=c11 ${variant} -I${INCLUDE_DIR}/wdk -x c ${SOURCE_DIR}/wdk_face.c)
  compile_case("<ndis.h> (WDK face) as C++20 ${variant}"
               ${CXX_COMPILER} -std=c++20 ${variant} -I${INCLUDE_DIR}/wdk -x c++ ${SOURCE_DIR}/wdk_face.cpp)
endforeach()

message(STATUS "${passes} passed, ${failures} failed")
if(NOT failures EQUAL 0)
  message(FATAL_ERROR "the public headers do not compile cleanly")
endif()
