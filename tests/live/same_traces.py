#!/usr/bin/env python3
"""--follow writes the traces a batch run writes, whatever the input's format
and order, when the input comes in one read:

  same_traces.py BINARY FILE...

For each file, the batch run's traces (`-f json --all-traces FILE`) and the
live run's (`--follow -f json`, the file on stdin) must be the same, object
for object, but for live mode's "emitted" and the file names (a path in one,
<stdin> in the other), and no span may be late. Prints each difference;
exit 1 if any.
"""
import json
import subprocess
import sys


def traces(objects):
    out = {}
    for t in objects:
        t.pop("emitted", None)
        for item in t["spans"] + t["anomalies"]:
            item["file"] = None
        out[t["traceId"]] = t
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, paths = sys.argv[1], sys.argv[2:]
    problems = 0
    for path in paths:
        batch = subprocess.run([binary, "-f", "json", "--all-traces", path], capture_output=True, timeout=120)
        with open(path, "rb") as stdin:
            live = subprocess.run([binary, "--follow", "-f", "json", "-"], stdin=stdin, capture_output=True,
                                  timeout=120)
        if batch.returncode not in (0, 1) or live.returncode not in (0, 1):
            print(f"{path}: exit {batch.returncode} (batch), {live.returncode} (live)", file=sys.stderr)
            problems += 1
            continue
        b = traces(json.loads(batch.stdout)["traces"])
        lines = live.stdout.decode().splitlines()
        l = traces(json.loads(line) for line in lines if line.strip())
        err = live.stderr.decode()
        late = json.loads(err[err.index("{"):])["live"]["lateSpans"]
        differ = sorted(k for k in set(b) | set(l) if b.get(k) != l.get(k))
        print(f"{path}: {len(b)} traces in batch, {len(l)} live, {len(differ)} differ, {late} spans late")
        for k in differ[:3]:
            if k not in b or k not in l:
                print(f"  trace {k} only in the {'live' if k in l else 'batch'} run", file=sys.stderr)
                continue
            for key in b[k]:
                if b[k][key] != l[k].get(key):
                    print(f"  trace {k}: {key} differs: batch {str(b[k][key])[:300]}, live {str(l[k].get(key))[:300]}",
                          file=sys.stderr)
        problems += len(differ) + (late > 0)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
