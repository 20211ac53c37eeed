#!/usr/bin/env bash
# The portable hand-over (src/launch.cpp): the x86-64-v3 build runs itself
# on a CPU that can, else (or with TA_CPU=x86-64) the baseline build beside
# it, with the arguments as given; a missing baseline build is an error,
# exit 2.
#
#   tests/launch/check.sh V3_STUB     (the baseline stub beside it)
set -uo pipefail
front=$1
fail() { echo "launch: $*" >&2; exit 1; }
# x86-64-v3 and pclmul (lzcnt, part of v3, is not listed by every VM: every
# CPU with the others has it).
want=x86-64-v3
for flag in avx avx2 bmi1 bmi2 fma f16c movbe xsave pclmulqdq; do
  grep -qw "$flag" /proc/cpuinfo || want=x86-64
done
got=$("$front" a "b c" "") || fail "exit $? from the v3 build"
[[ $got == "$want|a|b c|" ]] || fail "ran '$got', expected '$want|a|b c|'"
got=$(TA_CPU=x86-64 "$front" --version) || fail "exit $? with TA_CPU=x86-64"
[[ $got == "x86-64|--version" ]] || fail "TA_CPU=x86-64 ran '$got'"
# A v3 build whose baseline build is not beside it.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$front" "$dir/trace-assemble"
err=$(TA_CPU=x86-64 "$dir/trace-assemble" 2>&1)
code=$?
[[ $code -eq 2 ]] || fail "a missing baseline build: exit $code, expected 2"
[[ $err == "trace-assemble: error: cannot run the build for any x86-64, $dir/trace-assemble-x86-64: No such file or directory (it is built beside this one)" ]] ||
  fail "a missing baseline build said: $err"
echo "launch: runs $want, TA_CPU=x86-64 the baseline, a missing baseline build is exit 2"
