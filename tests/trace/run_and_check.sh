#!/bin/sh
# Runs a program that writes a timeline, then checks the file.
# Usage: run_and_check.sh TRACE_FILE PROGRAM [ARGS...] -- [check_trace.py options]
# The program's arguments may name the file as @TRACE@. Exit status: the program's if it failed,
# else check_trace.py's.
set -u
trace=$1
shift
here=$(dirname "$0")
rm -f "$trace"
cmd=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    arg=$1
    [ "$arg" = "@TRACE@" ] && arg=$trace
    cmd="$cmd '$arg'"
    shift
done
[ $# -gt 0 ] && shift
eval "$cmd" || { status=$?; echo "run_and_check: the program failed with status $status"; exit "$status"; }
exec python3 "$here/check_trace.py" "$trace" "$@"
