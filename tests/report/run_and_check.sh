#!/bin/sh
# Runs a program that writes an HTML report, then a check of the page.
# Usage: run_and_check.sh PAGE PROGRAM [ARGS...] -- CHECK [ARGS...]
# Both commands may name the page as @PAGE@. Exit status: the program's if it failed, else the
# check's (a page the program did not write fails the check).
set -u
page=$1
shift
rm -f "$page"
cmd=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    arg=$1
    [ "$arg" = "@PAGE@" ] && arg=$page
    cmd="$cmd '$arg'"
    shift
done
[ $# -gt 0 ] && shift
eval "$cmd" || { status=$?; echo "run_and_check: the program failed with status $status"; exit "$status"; }
[ -s "$page" ] || { echo "run_and_check: no page at $page"; exit 1; }
check=""
for arg in "$@"; do
    [ "$arg" = "@PAGE@" ] && arg=$page
    check="$check '$arg'"
done
eval "exec $check"
