#!/usr/bin/env bash
# The hash key (util/hash.h) differs between processes unless TA_HASH_KEY
# fixes it, and nothing trace-assemble writes depends on it: the same input
# gives the same report, byte for byte, under different keys and threads.
#
#   tests/hash_key/check.sh PROBE TRACE_ASSEMBLE TRACE_GEN
set -euo pipefail
probe=$1 ta=$2 gen=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "hash key: $*" >&2; exit 1; }

a=$("$probe") b=$("$probe")
[[ "$a" != "$b" ]] || fail "two processes hashed alike without TA_HASH_KEY: $a"
a=$(TA_HASH_KEY=7 "$probe") b=$(TA_HASH_KEY=7 "$probe")
[[ "$a" == "$b" ]] || fail "TA_HASH_KEY=7 did not fix the key: $a / $b"
c=$(TA_HASH_KEY=8 "$probe")
[[ "$a" != "$c" ]] || fail "TA_HASH_KEY=7 and 8 hashed alike: $a"

# Inputs where order could leak: thousands of traces over every partition,
# ids of several shapes (some joined 16/32-hex), many hosts, in one file.
{
  "$gen" --traces 1500 --ids hex --hosts 700 --seed 1
  "$gen" --traces 800 --ids uuid --host-only --seed 2
  "$gen" --traces 800 --ids decimal --hosts 2000 --seed 3
  "$gen" --traces 400 --ids w3c --time-unit us --seed 4
} >"$work/in.jsonl"
mask() { sed -E -e 's/ read in [0-9.]+(ns|µs|ms|s|m[0-9]+s)$/ read in <elapsed>/' \
                -e 's/"(elapsed|read|analysis)Us":[0-9]+/"\1Us":0/g'; }
run() {  # KEY THREADS ARGS...
  local key=$1 threads=$2
  shift 2
  TA_HASH_KEY=$key NO_COLOR=1 "$ta" --threads "$threads" "$@" "$work/in.jsonl" 2>&1 | mask
}
for args in "--format json --all-traces" "--format text" "--format markdown --top 20"; do
  # shellcheck disable=SC2086
  run 1 1 $args >"$work/one"
  for key in 2 3; do
    for threads in 1 2; do
      # shellcheck disable=SC2086
      run "$key" "$threads" $args >"$work/other"
      cmp -s "$work/one" "$work/other" ||
        { diff "$work/one" "$work/other" | head -20 >&2; fail "$args: the report changed with key $key, $threads threads"; }
    done
  done
done
# The samples as they are, each report under two keys.
for sample in "$(dirname "$0")"/../../samples/*.jsonl; do
  for args in "--format json --all-traces" "--format text --top 50"; do
    # shellcheck disable=SC2086
    TA_HASH_KEY=1 NO_COLOR=1 "$ta" $args "$sample" 2>&1 | mask >"$work/one"
    # shellcheck disable=SC2086
    TA_HASH_KEY=2 NO_COLOR=1 "$ta" $args "$sample" 2>&1 | mask >"$work/other"
    cmp -s "$work/one" "$work/other" || fail "$(basename "$sample") $args: the report changed with the key"
  done
done
# --follow too (stdin: a file would be followed forever).
TA_HASH_KEY=1 "$ta" --follow --format json - <"$work/in.jsonl" 2>/dev/null >"$work/one"
TA_HASH_KEY=2 "$ta" --follow --format json - <"$work/in.jsonl" 2>/dev/null >"$work/other"
cmp -s "$work/one" "$work/other" || fail "--follow: the traces written changed with the key"
echo "hash key: differs per process, fixed by TA_HASH_KEY; reports identical under keys 1-3 and 1-2 threads, and on the samples"
