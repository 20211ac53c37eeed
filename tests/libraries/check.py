#!/usr/bin/env python3
"""Holds trace-assemble's reports on the trace files real tracing libraries
wrote (tests/libraries/regenerate) against what each library recorded.

  check.py BINARY

For each file, in a batch run (`-f json --all-traces`) and a live one
(`--follow -f json`, the file on stdin), every span the library recorded must
be read and none rejected, duplicated or late, and each trace must be whole:
every span in it, under the service, operation and kind the library gave it,
at its time (to the microsecond), its error status as recorded, its links
and events, and in the tree under the span the library made it a child of
(a Zipkin server half under its client half, a child of a shared id under
the server half), with the library's root alone at the top. No anomaly but
skew is allowed (OpenTelemetry JS starts spans on whole milliseconds and
ends them to the nanosecond, so a child may end after its parent).
Prints each difference; exit 1 if any.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = [("otel-js.jsonl", "otel-js.expected.json"), ("otel-js.zipkin.json", "otel-js.zipkin.expected.json"),
         ("zipkin-js.json", "zipkin-js.expected.json")]
problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def run(binary, args, path):
    with open(path, "rb") as stdin:
        p = subprocess.run([binary, *args], stdin=stdin, capture_output=True, timeout=120)
    if p.returncode != 0:
        problem(" ".join(args), f"exit {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    return p.stdout.decode(), p.stderr.decode()


def run_slowly(binary, args, path):
    """The same, the file's lines written to stdin one at a time, a tenth of a
    second apart: each comes in a read of its own, as a stream's export
    batches do."""
    p = subprocess.Popen([binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(path, "rb") as f:
        for line in f:
            p.stdin.write(line)
            p.stdin.flush()
            time.sleep(0.1)
    out, err = p.communicate(timeout=120)
    if p.returncode != 0:
        problem(" ".join(args), f"exit {p.returncode}: {err.decode(errors='replace')[-2000:]}")
    return out.decode(), err.decode()


def live(mode, out, err):
    traces = [json.loads(line) for line in out.splitlines() if line.strip()]
    summary = json.loads(err[err.index("{"):])  # after any warning lines
    by_id = {}
    for t in traces:
        if t["traceId"] in by_id:
            problem(mode, f"trace {t['traceId']} written twice")
        by_id[t["traceId"]] = t
    return mode, summary["input"], by_id, summary["live"]


def reports(binary, path):
    """(mode, input counts, traces by id, live counts) for the batch and live runs."""
    out, _ = run(binary, ["-f", "json", "--all-traces", "-"], path)
    doc = json.loads(out)
    yield "batch", doc["input"], {t["traceId"]: t for t in doc["traces"]}, None
    yield live("live", *run(binary, ["--follow", "-f", "json", "-"], path))
    if path.endswith(".jsonl"):
        yield live("live, a line a read", *run_slowly(binary, ["--follow", "-f", "json", "-"], path))


def tree_parents(trace):
    """Each report span's parent in the tree, from the depth-first order."""
    parents, stack = {}, []
    for s in trace["spans"]:
        key = (s["spanId"], s["kind"])
        del stack[s["depth"]:]
        parents[key] = stack[-1] if stack else None
        stack.append(key)
    return parents


def expected_parent(span, spans):
    """The (span id, kind) the library made this span a child of, or None."""
    ids = {}
    for s in spans:
        ids.setdefault(s["spanId"], []).append(s)
    if span.get("shared"):
        return (span["spanId"], "client")
    parent = span["parentSpanId"]
    if not parent or parent not in ids:
        return None
    halves = ids[parent]
    server = [s for s in halves if s.get("shared")]
    chosen = server[0] if server else halves[0]
    return (chosen["spanId"], chosen["kind"])


def times(span):
    if "startNs" in span:
        start, end = int(span["startNs"]), int(span["endNs"])
        return start // 1000, (end - start) // 1000
    return span["startUs"], span["durationUs"]


def check_trace(where, expected, trace):
    spans = {(s["spanId"], s["kind"]): s for s in trace["spans"]}
    if trace["spanCount"] != len(expected) or len(spans) != len(expected):
        problem(where, f"{trace['spanCount']} spans, the library recorded {len(expected)}")
    parents = tree_parents(trace)
    for e in expected:
        key = (e["spanId"], e["kind"])
        s = spans.get(key)
        name = f"{where} span {e['spanId']} ({e['kind']} {e['operation']})"
        if s is None:
            problem(name, "missing")
            continue
        for field in ("service", "operation"):
            if s[field] != e[field]:
                problem(name, f"{field} {s[field]!r}, recorded {e[field]!r}")
        start, duration = times(e)
        if s["startUs"] != start or abs(s["durationUs"] - duration) > 1:
            problem(name, f"at {s['startUs']} for {s['durationUs']} us, recorded {start} for {duration}")
        if (s["status"]["code"] == "error") != e["error"]:
            problem(name, f"status {s['status']['code']}, recorded error={e['error']}")
        if "events" in e and len(s["events"]) != e["events"]:
            problem(name, f"{len(s['events'])} events, recorded {e['events']}")
        if "links" in e:
            got = [(l["traceId"], l["spanId"]) for l in s["links"]]
            want = [(l["traceId"], l["spanId"]) for l in e["links"]]
            if got != want:
                problem(name, f"links {got}, recorded {want}")
        want_parent = expected_parent(e, expected)
        if parents.get(key) != want_parent:
            problem(name, f"under {parents.get(key)} in the tree, recorded under {want_parent}")
    roots = [s for s in trace["spans"] if s["depth"] == 0]
    if len(roots) != 1:
        problem(where, f"{len(roots)} spans at the top of the tree")
    for a in trace["anomalies"]:
        if a["kind"] != "skew":
            problem(where, f"anomaly {a['kind']} on {a['spanId']}: {a['detail']}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = sys.argv[1]
    for name, expected_name in FILES:
        with open(os.path.join(HERE, expected_name)) as f:
            recorded = json.load(f)
        by_trace = {}
        for s in recorded["spans"]:
            by_trace.setdefault(s["traceId"], []).append(s)
        for mode, counts, traces, live in reports(binary, os.path.join(HERE, name)):
            where = f"{name} ({mode})"
            n = len(recorded["spans"])
            if (counts["records"], counts["spans"], counts["rejected"], counts["duplicates"]) != (n, n, 0, 0):
                problem(where, f"records {counts['records']}, spans {counts['spans']}, rejected {counts['rejected']}, "
                        f"duplicates {counts['duplicates']}; the library recorded {n} spans")
            if live is not None and live["lateSpans"] != 0:
                problem(where, f"{live['lateSpans']} spans late")
            if set(traces) != set(by_trace):
                problem(where, f"traces {sorted(traces)}, the library recorded {sorted(by_trace)}")
            for trace_id, expected in by_trace.items():
                if trace_id in traces:
                    check_trace(f"{where} trace {trace_id}", expected, traces[trace_id])
            print(f"{where}: {n} spans in {len(by_trace)} traces checked")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
