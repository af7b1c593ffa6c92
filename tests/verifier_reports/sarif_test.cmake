# ctest script for the SARIF tests (cmake -P): runs sarif_scenario, then validate_sarif.py on the
# log it wrote. Variables: MODE (write: NdislockVerifierWriteSarif; env: NDISLOCK_SARIF at exit),
# SCENARIO, PYTHON, VALIDATOR, SCHEMA, SCENARIOS_C, OUT; per_process: NDISLOCK_SARIF with %p in
# two processes, then the docs' merge step (also DOC_MERGE, REPO; OUT is a folder). MODE note: the exit status of a run with a
# note only (no log, no python).
# validate_sarif(<log> <what> [VAR=value...]): validate_sarif.py on log (in the environment given),
# its output shown; a log that does not validate fails the test, naming what it was.
function(validate_sarif log what)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env ${ARGN} "${PYTHON}" "${VALIDATOR}" "${SCHEMA}" "${log}"
                          "${SCENARIOS_C}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE verr)
  message("${out}${verr}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED: ${what} did not validate (see above)")
  endif()
endfunction()

# run_env_scenario(<sarif path> <what>): the scenario's errors with NDISLOCK_SARIF set, which must
# exit with status 86; its stderr in the caller's `err`.
function(run_env_scenario sarif what)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env "NDISLOCK_SARIF=${sarif}" NDISLOCK_VERIFIER=on
                          --unset=NDISLOCK_VERIFIER_EXITCODE "${SCENARIO}" env
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 86)
    message(FATAL_ERROR "FAILED: sarif_scenario env (${what}) exited with ${rc}, expected 86 (errors reported)\n${err}")
  endif()
  set(err "${err}" PARENT_SCOPE)
endfunction()

file(REMOVE "${OUT}")
if(MODE STREQUAL "relative")
  # relative_site.c's __FILE__ is "relative_site.c"; the test runs in the build tree. The log must
  # name the source where it is (from the debug information), not SRCROOT-relative to the run's
  # directory.
  execute_process(COMMAND "${SCENARIO}" "${OUT}" RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED: relative_site exited with ${rc}\n${err}")
  endif()
  if(NOT err MATCHES "at relative_site.c:")
    message(FATAL_ERROR "FAILED: the finding's __FILE__ was not relative; the test proves nothing\n${err}")
  endif()
  file(READ "${OUT}" log)
  if(NOT log MATCHES "\"uri\":\"file://${SOURCE_DIR}/relative_site.c\"")
    message(FATAL_ERROR "FAILED: the SARIF location is not file://${SOURCE_DIR}/relative_site.c\n${log}")
  endif()
  return()
endif()
if(MODE STREQUAL "note")
  # A note only (the documented pairing broken, Windows behaving the same): reported once for its
  # site, and the exit status stays 0.
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env NDISLOCK_VERIFIER=on --unset=NDISLOCK_VERIFIER_EXITCODE
                          "${SCENARIO}" note RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED: sarif_scenario note exited with ${rc}, expected 0 (a note is no error)\n${err}")
  endif()
  string(REGEX MATCHALL "note: ReleaseVariantEquivalent" reports "${err}")
  list(LENGTH reports count)
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "FAILED: ${count} ReleaseVariantEquivalent reports for one site run 1000 times, expected 1\n${err}")
  endif()
  return()
endif()
if(MODE STREQUAL "unwritable")
  # NDISLOCK_SARIF naming a folder that does not exist: an error on stderr at the first call, and
  # the exit status says so even though the run itself found only a note.
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env NDISLOCK_VERIFIER=on --unset=NDISLOCK_VERIFIER_EXITCODE
                          "NDISLOCK_SARIF=${OUT}.missing-folder/log.sarif" "${SCENARIO}" note
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 86)
    message(FATAL_ERROR "FAILED: exit status ${rc} with an unwritable NDISLOCK_SARIF, expected 86\n${err}")
  endif()
  if(NOT err MATCHES "the SARIF log \"[^\"]*missing-folder/log.sarif\" cannot be written \\(No such file or directory\\)")
    message(FATAL_ERROR "FAILED: no clear error about the unwritable SARIF path on stderr\n${err}")
  endif()
  return()
endif()
if(MODE STREQUAL "bad_suppressions")
  # A malformed suppressions file is refused at the first call, naming the file, the line and why.
  file(WRITE "${OUT}.supp" "# comment\nReleaseNotHeld:*\nNoSuchRule:foo.c\n")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env NDISLOCK_VERIFIER=on "NDISLOCK_SUPPRESSIONS=${OUT}.supp"
                          "${SCENARIO}" note RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "FAILED: a malformed NDISLOCK_SUPPRESSIONS file was accepted\n${err}")
  endif()
  if(NOT err MATCHES "NDISLOCK_SUPPRESSIONS=\"[^\"]*\", line 3: 'NoSuchRule' is not a rule ID")
    message(FATAL_ERROR "FAILED: the error does not name the file, line 3 and the unknown rule\n${err}")
  endif()
  # A directory opens but cannot be read: refused, not taken for an empty file.
  file(MAKE_DIRECTORY "${OUT}.dir")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env NDISLOCK_VERIFIER=on "NDISLOCK_SUPPRESSIONS=${OUT}.dir"
                          "${SCENARIO}" note RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT err MATCHES "NDISLOCK_SUPPRESSIONS=\"[^\"]*\" cannot be read")
    message(FATAL_ERROR "FAILED: a directory given as NDISLOCK_SUPPRESSIONS was accepted (${rc})\n${err}")
  endif()
  # An unclosed '[' would match nothing: refused. A UTF-8 byte-order mark before the first rule
  # ID is no part of it: line 1 is accepted and the error is line 2's.
  string(ASCII 239 187 191 bom)
  file(WRITE "${OUT}.supp" "${bom}ReleaseNotHeld:*\nLockOrderInversion:[abc\n")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env NDISLOCK_VERIFIER=on "NDISLOCK_SUPPRESSIONS=${OUT}.supp"
                          "${SCENARIO}" note RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT err MATCHES "line 2: a '\\[' in the pattern has no '\\]'")
    message(FATAL_ERROR "FAILED: a BOM or an unclosed '[' was not handled as documented (${rc})\n${err}")
  endif()
  return()
endif()
if(NOT PYTHON)
  message(FATAL_ERROR "FAILED: no python3 found at configure time; the SARIF test needs python3 with "
                      "jsonschema (Debian: apt-get install python3 python3-jsonschema)")
endif()
if(MODE STREQUAL "suppressed")
  # The mix with its ReleaseVariantMismatch suppressed by a file: silent on stderr, counted in the
  # exit summary, and in the log as a result with a suppression of kind external.
  file(WRITE "${OUT}.supp" "# vendor code we cannot change\nReleaseVariantMismatch:ScenarioReleaseVariant*  # by function\n")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env "NDISLOCK_SUPPRESSIONS=${OUT}.supp" "${SCENARIO}" write "${OUT}"
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED: sarif_scenario write exited with ${rc}\n${err}")
  endif()
  if(err MATCHES "error: ReleaseVariantMismatch")
    message(FATAL_ERROR "FAILED: the suppressed finding was printed\n${err}")
  endif()
  if(NOT err MATCHES "1 finding suppressed")
    message(FATAL_ERROR "FAILED: the exit summary does not count the suppressed finding\n${err}")
  endif()
  set(ENV{VALIDATE_SUPPRESSED} ReleaseVariantMismatch)
elseif(MODE STREQUAL "write")
  execute_process(COMMAND "${SCENARIO}" write "${OUT}" RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED: sarif_scenario write exited with ${rc}\n${err}")
  endif()
elseif(MODE STREQUAL "env")
  # The library reads NDISLOCK_SARIF when it loads and writes the log when the process exits;
  # the errors make that exit status 86.
  run_env_scenario("${OUT}" "one process")
  if(NOT err MATCHES "exit status 86")
    message(FATAL_ERROR "FAILED: no 'exit status 86' note on stderr\n${err}")
  endif()
  if(NOT EXISTS "${OUT}")
    message(FATAL_ERROR "FAILED: NDISLOCK_SARIF=${OUT} was set but no log was written at exit\n${err}")
  endif()
elseif(MODE STREQUAL "per_process")
  # NDISLOCK_SARIF=<folder>/%p.sarif, as a whole ctest run sets it: each process keeps its own log,
  # named by its process ID, instead of the last one to exit overwriting the others'. Then the
  # merge step of the CI snippet in README.md and docs/verifier.md (doc_sarif_merge.py runs it)
  # makes them one log with one run, which must validate with every process's results.
  file(REMOVE_RECURSE "${OUT}")
  file(MAKE_DIRECTORY "${OUT}/sarif")
  foreach(i RANGE 1 2)
    run_env_scenario("${OUT}/sarif/%p.sarif" "process ${i}")
  endforeach()
  file(GLOB logs RELATIVE "${OUT}/sarif" "${OUT}/sarif/*")
  list(LENGTH logs count)
  if(NOT count EQUAL 2)
    message(FATAL_ERROR "FAILED: ${count} logs in ${OUT}/sarif after two processes, expected 2: ${logs}")
  endif()
  foreach(log IN LISTS logs)
    if(NOT log MATCHES "^[0-9]+\\.sarif$")
      message(FATAL_ERROR "FAILED: log ${log}: %p was not replaced by the process ID")
    endif()
    validate_sarif("${OUT}/sarif/${log}" "${OUT}/sarif/${log}")
  endforeach()
  foreach(doc IN ITEMS README.md docs/verifier.md)
    execute_process(COMMAND "${PYTHON}" "${DOC_MERGE}" "${REPO}/${doc}" "${OUT}" RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE merr)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "FAILED: the SARIF merge step of ${doc} failed (${rc})\n${out}${merr}")
    endif()
    # The two processes' logs and doc_sarif_merge.py's copy of one with relative source paths.
    validate_sarif("${OUT}/ndislock.sarif" "the log merged by the step in ${doc}" VALIDATE_REPEAT=3)
  endforeach()
  return()
else()
  message(FATAL_ERROR "MODE must be write, env, per_process, note, unwritable, suppressed or bad_suppressions")
endif()
validate_sarif("${OUT}" "${OUT}")
