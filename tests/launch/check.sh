#!/usr/bin/env bash
# The portable hand-over (src/launch.cpp): the x86-64-v3 build runs the best
# build this CPU can run (AVX-512, itself or any x86-64) with the
# arguments as given; TA_CPU=<level> asks for one; a level the CPU lacks or
# an unknown one is an error, exit 2; a missing build below v3 is an error,
# exit 2, a missing AVX-512 one leaves the v3 build running.
#
#   tests/launch/check.sh V3_STUB     (the other stubs beside it)
set -uo pipefail
front=$1
fail() { echo "launch: $*" >&2; exit 1; }
has() { for flag; do grep -qw "$flag" /proc/cpuinfo || return 1; done; }
# What the CPU runs, from /proc/cpuinfo (lzcnt, part of v3, is not listed
# by every VM: every CPU with the others has it).
levels=(x86-64)
has sse4_2 avx avx2 bmi1 bmi2 fma f16c movbe xsave pclmulqdq && levels+=(x86-64-v3)
has avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512vbmi avx512_vbmi2 pclmulqdq && levels+=(avx512)
best=${levels[-1]}
got=$("$front" a "b c" "") || fail "exit $? from the v3 build"
[[ $got == "$best|a|b c|" ]] || fail "ran '$got', expected '$best|a|b c|'"
for level in x86-64 x86-64-v3 avx512; do
  if [[ " ${levels[*]} " == *" $level "* ]]; then
    got=$(TA_CPU=$level "$front" --version) || fail "exit $? with TA_CPU=$level"
    [[ $got == "$level|--version" ]] || fail "TA_CPU=$level ran '$got'"
  else
    err=$(TA_CPU=$level "$front" 2>&1)
    code=$?
    [[ $code -eq 2 && $err == "trace-assemble: error: TA_CPU=$level: this CPU cannot run that build"* ]] ||
      fail "TA_CPU=$level on a CPU without it: exit $code, said: $err"
  fi
done
err=$(TA_CPU=x86-64-v5 "$front" 2>&1)
code=$?
[[ $code -eq 2 && $err == "trace-assemble: error: TA_CPU must be one of x86-64, x86-64-v3, avx512"* ]] ||
  fail "TA_CPU=x86-64-v5: exit $code, said: $err"
# A v3 build alone: the builds below it are needed, the one above is not.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$front" "$dir/trace-assemble"
err=$(TA_CPU=x86-64 "$dir/trace-assemble" 2>&1)
code=$?
[[ $code -eq 2 ]] || fail "a missing baseline build: exit $code, expected 2"
[[ $err == "trace-assemble: error: cannot run the build for any x86-64, $dir/trace-assemble-x86-64: No such file or directory (it is built beside this one)" ]] ||
  fail "a missing baseline build said: $err"
if [[ $best == avx512 || $best == x86-64-v3 ]]; then
  got=$("$dir/trace-assemble" x) || fail "a v3 build alone on a $best CPU: exit $?"
  [[ $got == "x86-64-v3|x" ]] || fail "a v3 build alone on a $best CPU ran '$got'"
fi
echo "launch: runs $best (of ${levels[*]}), each level by TA_CPU, a missing build below v3 is exit 2, above it the v3 build runs"
