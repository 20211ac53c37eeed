#!/usr/bin/env bash
# The builds of the portable set write the same reports, byte for byte:
# trace-assemble handing over to each other level this CPU runs
# (TA_CPU=x86-64, avx512) against the x86-64-v3 build itself. Given OTHER,
# TRACE_ASSEMBLE handing over to the baseline build (or the baseline build
# itself) is compared with OTHER instead: scripts/test compares the
# baseline build's scalar code with the test build's SIMD code.
#
#   tests/launch/same_output.sh TRACE_ASSEMBLE TRACE_GEN SAMPLES_DIR [OTHER]
set -euo pipefail
ta=$1 gen=$2 samples=$3 other=${4:-$1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$gen" --traces 3000 --hosts 500 --seed 5 >"$work/in.jsonl"
"$gen" --traces 500 --format otlp --seed 6 >"$work/otlp.jsonl"
mask() { sed -E -e 's/ read in [0-9.]+(ns|µs|ms|s|m[0-9]+s)$/ read in <elapsed>/' \
                -e 's/"(elapsed|read|analysis)Us":[0-9]+/"\1Us":0/g'; }
if [[ $other == "$ta" ]]; then
  levels=()
  for level in x86-64 avx512; do
    TA_CPU=$level "$ta" --version >/dev/null 2>&1 && levels+=("$level")
  done
  reference=(env TA_CPU=x86-64-v3 "$ta")
else
  levels=(x86-64)
  reference=("$other")
fi
for level in "${levels[@]}"; do
  for args in "--format json --all-traces" "--format text" "--format markdown"; do
    for input in "$work/in.jsonl" "$work/otlp.jsonl" "$samples"/*.jsonl; do
      # shellcheck disable=SC2086
      TA_CPU=$level TA_HASH_KEY=1 "$ta" $args "$input" 2>&1 | mask >"$work/a" || true
      # shellcheck disable=SC2086
      TA_HASH_KEY=1 "${reference[@]}" $args "$input" 2>&1 | mask >"$work/b" || true
      cmp -s "$work/a" "$work/b" ||
        { diff "$work/a" "$work/b" | head >&2; echo "builds differ: TA_CPU=$level $args $input" >&2; exit 1; }
    done
  done
done
if [[ $other == "$ta" ]]; then
  echo "the builds for ${levels[*]} write the same reports as the x86-64-v3 build"
else
  echo "$ta and $other write the same reports"
fi
