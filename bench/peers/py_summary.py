#!/usr/bin/env python3
"""Python 3 stdlib peer for scripts/bench: what a quick script would do.

Reads span log lines (one JSON object per line), json.loads each, groups the
spans by traceId (a dict of lists), and prints per-host span count and p50/p99
of duration (sorted list, nearest rank). Output:
    spans=N traces=T hosts=H rejected=R
    host<TAB>count<TAB>p50<TAB>p99        (one line per host, sorted by host)
Usage: py_summary.py FILE   ("-" reads stdin)
"""
import json
import math
import sys


def nearest_rank(sorted_values, q):
    """Nearest-rank percentile: the ceil(q*n)-th smallest value (1-based)."""
    n = len(sorted_values)
    return sorted_values[max(0, math.ceil(q * n) - 1)]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: py_summary.py FILE|-")
    path = sys.argv[1]
    traces = {}          # traceId -> [span, ...]
    durations = {}       # host -> [duration, ...]
    spans = rejected = 0
    f = sys.stdin.buffer if path == "-" else open(path, "rb")
    with f:
        for line in f:
            if not line.strip():
                continue
            try:
                span = json.loads(line)
                trace_id = str(span["traceId"])
                duration = float(span.get("duration", 0))
            except (ValueError, KeyError, TypeError):
                rejected += 1
                continue
            spans += 1
            traces.setdefault(trace_id, []).append(span)
            durations.setdefault(str(span.get("host", "")), []).append(duration)

    out = [f"spans={spans} traces={len(traces)} hosts={len(durations)} rejected={rejected}"]
    for host in sorted(durations):
        values = sorted(durations[host])
        out.append(f"{host}\t{len(values)}\t{nearest_rank(values, 0.5):g}\t{nearest_rank(values, 0.99):g}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
