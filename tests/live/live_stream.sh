#!/usr/bin/env bash
# End-to-end checks of --follow on real streams:
#   1. a generated stream: every trace is written exactly once, and the
#      traces and span counts match the batch run on the same bytes (copies
#      of a line after their trace was written are counted late instead of
#      duplicate);
#   2. a pipe that stays open: complete traces come out before input ends;
#   3. a file that grows, is replaced (log rotation), then SIGTERM: new lines
#      are picked up, the summary is printed and the exit code is 0;
#   4. a file replaced in the middle of a line over --max-line-bytes.
#
#   tests/live/live_stream.sh TRACE_ASSEMBLE TRACE_GEN
set -euo pipefail
ta=$(realpath "$1")
gen=$(realpath "$2")
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Waits up to 10 s for FILE to have at least N lines.
wait_lines() {
  for _ in $(seq 100); do
    [[ -f $1 && $(grep -c . "$1" || true) -ge $2 ]] && return 0
    sleep 0.1
  done
  return 1
}

# 1. Exactly once, against the batch run.
"$gen" --seed 5 --traces 3000 --dup-rate 0.01 --orphan-rate 0.005 --bad-rate 0.005 --out stream.jsonl
"$ta" --follow --format json -q < stream.jsonl > live.jsonl 2> live-summary.json
"$ta" --format json --all-traces -q stream.jsonl > batch.json
# The first "traceId" of each line is the trace's own.
sed -E 's/^\{"traceId":"([^"]*)".*"spanCount":([0-9]+).*/\1 \2/' live.jsonl | sort > live.ids
[[ $(wc -l < live.ids) -eq $(wc -l < live.jsonl) ]] || fail "a line without traceId"
dups=$(cut -d' ' -f1 live.ids | uniq -d | head -3)
[[ -z $dups ]] || fail "traces written twice: $dups"
grep -o '{"traceId":"[^"]*","startUs":[0-9]*,"durationUs":[0-9]*,"spanCount":[0-9]*' batch.json |
  sed -E 's/^\{"traceId":"([^"]*)".*"spanCount":([0-9]+)/\1 \2/' | sort > batch.ids
[[ $(wc -l < batch.ids) -gt 2000 ]] || fail "batch run shows too few traces: $(wc -l < batch.ids)"
cmp -s live.ids batch.ids || { diff live.ids batch.ids | head -5; fail "live traces differ from batch"; }
# Copies of a line (--dup-rate) that come after their trace was written are
# late; every other copy is a duplicate, as in the batch run.
field() { grep -o "\"$1\":[0-9]*" "$2" | head -1 | cut -d: -f2; }
late=$(field lateSpans live-summary.json)
[[ $late -gt 0 ]] || fail "expected late copies of lines"
[[ $(( $(field duplicates live-summary.json) + late )) -eq $(field duplicates batch.json) ]] ||
  fail "duplicates + late spans differ from the batch run's duplicates"
[[ $(field rejected live-summary.json) -eq $(field rejected batch.json) ]] || fail "rejected lines differ"
echo "ok: $(wc -l < live.ids) traces written exactly once, as in the batch run"

# 2. Traces come out while the pipe is still open.
head -n 2000 stream.jsonl > part1.jsonl
mkfifo pipe
"$ta" --follow < pipe > early.txt 2> early.err &
pid=$!
exec 3> pipe
cat part1.jsonl >&3
wait_lines early.txt 10 || fail "no trace written while the input was open"
kill -0 "$pid" 2>/dev/null || fail "live run ended before its input did"
grep -q '^live ' early.txt && fail "summary printed before the input ended"
exec 3>&-
wait "$pid" || fail "exit code $? after the pipe closed"
grep -q '^live ' early.txt || fail "no summary after the pipe closed"
echo "ok: $(grep -c complete early.txt) traces written before the input ended"

# 2b. A named pipe or <(cmd) is read to its end, not followed.
"$ta" --follow <(head -n 500 stream.jsonl) > fifo.txt 2> fifo.err &
pid=$!
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && { kill "$pid"; fail "--follow <(cmd) did not end with its input"; }
wait "$pid" || true
grep -q '^live ' fifo.txt || fail "no summary after <(cmd) ended"
echo "ok: <(cmd) read to its end"

# 2c. Ctrl-C in the middle of a line: the half line is not a rejected line.
rm -f pipe2; mkfifo pipe2
"$ta" --follow < pipe2 > half.txt 2> half.err &
pid=$!
exec 4> pipe2
head -n 3 stream.jsonl >&4
printf '{"traceId":"half","spanId":"a",' >&4
sleep 0.5
kill -INT "$pid"
wait "$pid" || fail "exit code $? after SIGINT with half a line read"
exec 4>&-
grep -q '<stdin>:4: stopped in the middle of this line' half.err || { cat half.err; fail "no note of the half line"; }
grep -q ' 0 rejected' half.txt || fail "the half line was counted as rejected"
echo "ok: SIGINT mid-line"

# 3. Follow a file as it grows and when it is replaced; stop with SIGTERM.
T=1704038400000
span() {  # trace span parent start
  printf '{"traceId":"%s","spanId":"%s","parentSpanId":"%s","timestamp":%d,"duration":10,"host":"h","service":"s"}\n' "$@"
}
span f1 r 0 $T > grow.jsonl
"$ta" --follow grow.jsonl > follow.txt 2> follow.err &
pid=$!
wait_lines follow.txt 1 || fail "first trace of the followed file not written"
span f2 r 0 $((T + 10)) >> grow.jsonl
wait_lines follow.txt 2 || fail "a line appended to the followed file was not picked up"
printf '{"traceId":"f3","spanId":"r",' >> grow.jsonl   # half a line: waits for the rest
sleep 0.5
printf '"parentSpanId":"0","timestamp":%d,"duration":10}\n' $((T + 20)) >> grow.jsonl
wait_lines follow.txt 3 || fail "a line written in two parts was not read whole"
mv grow.jsonl grow.jsonl.1
span f4 r 0 $((T + 30)) > grow.jsonl
wait_lines follow.txt 4 || fail "the replaced file was not reopened"
kill -TERM "$pid"
wait "$pid" || fail "exit code $? after SIGTERM"
grep -q '^live    4 traces written .* at the stop' follow.txt || { cat follow.txt; fail "no summary after SIGTERM"; }
[[ ! -s follow.err ]] || { cat follow.err; fail "warnings while following"; }
echo "ok: followed a growing and a replaced file, stopped by SIGTERM"

# 3b. SIGTERM while a followed file is quiet in the middle of a line: the
#     half line is not counted, and a warning names it, as on a stream (it
#     had been dropped without a word).
span h1 r 0 $T > halfway.jsonl
"$ta" --follow halfway.jsonl > halfway.txt 2> halfway.err &
pid=$!
wait_lines halfway.txt 1 || fail "first trace of halfway.jsonl not written"
printf '{"traceId":"h2","spanId' >> halfway.jsonl
sleep 1
kill -TERM "$pid"
wait "$pid" || fail "exit code $? after SIGTERM"
grep -q 'halfway.jsonl:2: stopped in the middle of this line; its 23 bytes so far are not counted' halfway.err ||
  { cat halfway.err; fail "no note of the followed file's half line"; }
grep -q '^lines   1 = 1 spans' halfway.txt || { cat halfway.txt; fail "the half line was counted"; }
echo "ok: SIGTERM in the middle of a followed file's line"

# 4. A followed file rotated in the middle of a line over --max-line-bytes:
#    the cut line is rejected and the new file is read.
span o1 r 0 $T > over.jsonl
"$ta" --follow --max-line-bytes 200 over.jsonl > over.txt 2> over.err &
pid=$!
wait_lines over.txt 1 || fail "first trace of over.jsonl not written"
head -c 400 /dev/zero | tr '\0' x >> over.jsonl
sleep 0.5
mv over.jsonl over.jsonl.1
span o2 r 0 $((T + 5)) > over.jsonl
wait_lines over.txt 2 || fail "the file replaced during a long line was not reopened"
kill -TERM "$pid"
wait "$pid" || fail "exit code $? after SIGTERM"
grep -q 'over.jsonl:2: line of 400 bytes is longer than --max-line-bytes 200' over.err || { cat over.err; fail "the cut long line was not rejected"; }
echo "ok: rotation during a long line"
