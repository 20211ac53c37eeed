#!/usr/bin/env bash
# Runs one golden case against the real binary and compares everything it
# printed with what the case expects.
#
#   tests/run_golden.sh BINARY CASE_DIR        compare
#   UPDATE=1 tests/run_golden.sh BINARY DIR     (re)write the expected files
#
# A case folder holds `cmd` (a bash command line; $TA is the binary, run in
# the case folder with pipefail), its inputs, and expected.out, expected.err,
# expected.code. If a file named `stdin` is there it is piped in; otherwise
# stdin is /dev/null. Timings are masked: " read in 1.2ms" and "elapsedUs",
# "readUs", "analysisUs".
set -u
bin=$(realpath "$1")
dir=$2
cd "$dir" || exit 2

input=/dev/null
[[ -f stdin ]] && input=stdin
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

TA="$bin" NO_COLOR=1 bash -o pipefail -c "$(cat cmd)" <"$input" >"$out" 2>"$err"
code=$?

mask() {
  sed -E -e 's/ read in [0-9.]+(ns|µs|ms|s|m[0-9]+s)$/ read in <elapsed>/' \
         -e 's/"(elapsed|read|analysis)Us":[0-9]+/"\1Us":0/g' "$1"
}

if [[ "${UPDATE:-}" == 1 ]]; then
  mask "$out" >expected.out
  mask "$err" >expected.err
  echo "$code" >expected.code
  exit 0
fi

status=0
if ! diff -u expected.out <(mask "$out"); then
  echo "golden $(basename "$dir"): stdout differs" >&2
  status=1
fi
if ! diff -u expected.err <(mask "$err"); then
  echo "golden $(basename "$dir"): stderr differs" >&2
  status=1
fi
if [[ "$(cat expected.code)" != "$code" ]]; then
  echo "golden $(basename "$dir"): exit code $code, expected $(cat expected.code)" >&2
  status=1
fi
exit $status
