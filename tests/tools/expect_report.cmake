# Runs PROGRAM [ARGS] with ENV (a ;-list of NAME=VALUE) and fails unless its output (standard
# error, then standard output) matches every regular expression of EXPECT (a list separated by @@;
# each must match somewhere), none of REJECT (the same form), and, if EXIT is given, it exits with
# that status.
#   cmake -DPROGRAM=... [-DARGS=a;b] -DENV=... -DEXPECT=re1@@re2 [-DREJECT=re3] [-DEXIT=0] -P expect_report.cmake
cmake_minimum_required(VERSION 3.25)
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${ENV} ${PROGRAM} ${ARGS}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 120)
string(REPLACE "@@" ";" expectations "${EXPECT}")
set(missing "")
set(all "${err}\n${out}")
if(DEFINED EXIT AND NOT rc STREQUAL EXIT)
  string(APPEND missing "  exit status ${EXIT}\n")
endif()
foreach(re IN LISTS expectations)
  if(NOT all MATCHES "${re}")
    string(APPEND missing "  ${re}\n")
  endif()
endforeach()
if(DEFINED REJECT)
  string(REPLACE "@@" ";" rejections "${REJECT}")
  foreach(re IN LISTS rejections)
    if(all MATCHES "${re}")
      string(APPEND missing "  not: ${re}\n")
    endif()
  endforeach()
endif()
if(NOT missing STREQUAL "")
  message(FATAL_ERROR "exit status ${rc}; the report does not match:\n${missing}--- stderr:\n${err}\n--- stdout:\n${out}")
endif()
message("exit status ${rc}; every expectation matched\n${err}")
