#!/usr/bin/env bash
# The two builds of the portable pair write the same reports, byte for byte:
# trace-assemble as it is, and handing over to the baseline build. Given
# OTHER, TRACE_ASSEMBLE handing over (or the baseline build itself) is
# compared with OTHER instead: scripts/test compares the baseline build's
# scalar code with the test build's SIMD code.
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
for args in "--format json --all-traces" "--format text" "--format markdown"; do
  for input in "$work/in.jsonl" "$work/otlp.jsonl" "$samples"/*.jsonl; do
    # shellcheck disable=SC2086
    TA_CPU=x86-64 TA_HASH_KEY=1 "$ta" $args "$input" 2>&1 | mask >"$work/a" || true
    # shellcheck disable=SC2086
    TA_HASH_KEY=1 "$other" $args "$input" 2>&1 | mask >"$work/b" || true
    cmp -s "$work/a" "$work/b" || { diff "$work/a" "$work/b" | head >&2; echo "builds differ: $args $input" >&2; exit 1; }
  done
done
if [[ $other == "$ta" ]]; then
  echo "the x86-64 and x86-64-v3 builds write the same reports"
else
  echo "$ta and $other write the same reports"
fi
