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
# "readUs", "analysisUs", and live mode's "readCpuUs", "parseCpuUs",
# "assembleCpuUs", "writeCpuUs".
#
# Reports must be valid JSON where they are JSON (python3's json, strictly:
# UTF-8, no NaN): a stdout that starts with '{' is one JSON object, or with
# `--follow -f json` (or --format json) one JSON object per line; and such a
# --follow run's summary on stderr is one JSON object among the
# "trace-assemble: ..." diagnostics. Checked on what the binary printed and
# on the expected files; UPDATE=1 still writes the files, then fails.
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
         -e 's/"(elapsed|read|analysis|readCpu|parseCpu|assembleCpu|writeCpu)Us":[0-9]+/"\1Us":0/g' "$1"
}

# check_json MODE FILE LABEL ...: each FILE read as MODE, one of
#   document  one JSON object (a report)
#   lines     one JSON object per non-blank line (--follow's traces)
#   summary   diagnostics ("trace-assemble: ...") and one JSON object (--follow's summary)
# Prints what is wrong and fails if any is not valid.
check_json() {
  if ! python3 -c 'import json' 2>/dev/null; then
    echo "golden $(basename "$dir"): python3 (with its json module) is needed to check JSON reports; run scripts/setup --test" >&2
    return 1
  fi
  python3 - "$@" <<'EOF'
import json, sys

def no_constant(name):  # NaN, Infinity: Python writes them, JSON has none
    raise ValueError(f"{name} is not JSON")

def strict_object(text):
    decoder = json.JSONDecoder(parse_constant=no_constant)
    value, end = decoder.raw_decode(text)
    return value, end

def check(mode, text):
    if mode == "document":
        value, end = strict_object(text.lstrip())
        if not isinstance(value, dict):
            return f"is JSON but not an object ({type(value).__name__})"
        after = text.lstrip()[end:].strip()
        if after:
            return f"has text after its JSON object: {after[:120]!r}"
    elif mode == "lines":
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                value, end = strict_object(line)
            except ValueError as e:
                return f"line {number} is not one JSON object: {e}"
            if not isinstance(value, dict) or line[end:].strip():
                return f"line {number} is not one JSON object"
    elif mode == "summary":
        lines = text.split("\n")
        first = next((i for i, l in enumerate(lines) if l.startswith("{")), None)
        if first is None:
            return "has no --follow JSON summary object"
        rest = "\n".join(lines[first:])
        try:
            value, end = strict_object(rest)
        except ValueError as e:
            return f"--follow summary (from line {first + 1}) is not valid JSON: {e}"
        if not isinstance(value, dict):
            return f"--follow summary (from line {first + 1}) is not a JSON object"
        others = lines[:first] + rest[end:].split("\n")
        stray = [l for l in others if l.strip() and not l.startswith("trace-assemble: ")]
        if stray:
            return f"has text that is neither a diagnostic nor the JSON summary: {stray[0][:120]!r}"
    return None

status = 0
args = sys.argv[1:]
for mode, path, label in zip(args[0::3], args[1::3], args[2::3]):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")  # JSON is UTF-8
        problem = check(mode, text)
    except UnicodeDecodeError as e:
        problem = f"is not UTF-8: {e}"
    except ValueError as e:
        problem = f"is not valid JSON: {e}"
    if problem:
        print(f"{label} {problem}", file=sys.stderr)
        status = 1
sys.exit(status)
EOF
}

# What of this case's output is JSON, from its flags and what it printed.
# A case that cuts the output short on purpose (`| head`) is not checked.
json_checks=()
json_flag='(^|[[:space:]])(-f[[:space:]]*|--format[[:space:]=]+)json([[:space:];|&)]|$)'
follow_flag='(^|[[:space:]])--follow([[:space:];|&)=]|$)'
json_mode=0 follow=0 cut=0
grep -Eq -- "$json_flag" cmd && json_mode=1
grep -Eq -- "$follow_flag" cmd && follow=1
grep -Eq -- '\|[[:space:]]*head([[:space:]]|$)' cmd && cut=1
add_stdout_check() {  # FILE LABEL
  [[ $cut == 0 && "$(head -c 1 "$1")" == "{" ]] || return 0
  if [[ $json_mode == 1 && $follow == 1 ]]; then
    json_checks+=(lines "$1" "$2")
  else
    json_checks+=(document "$1" "$2")
  fi
}
name=$(basename "$dir")
add_stdout_check "$out" "golden $name: stdout"
[[ "${UPDATE:-}" != 1 && -f expected.out ]] && add_stdout_check expected.out "golden $name: expected.out"
# A --follow JSON run that got going (not a usage error) ends with its summary on stderr.
if [[ $json_mode == 1 && $follow == 1 && $cut == 0 && $code != 2 ]]; then
  json_checks+=(summary "$err" "golden $name: stderr")
  [[ "${UPDATE:-}" != 1 && -f expected.err ]] && json_checks+=(summary expected.err "golden $name: expected.err")
fi
json_valid() {
  [[ ${#json_checks[@]} -eq 0 ]] || check_json "${json_checks[@]}"
}

if [[ "${UPDATE:-}" == 1 ]]; then
  mask "$out" >expected.out
  mask "$err" >expected.err
  echo "$code" >expected.code
  json_valid || exit 1
  exit 0
fi

status=0
json_valid || status=1
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
