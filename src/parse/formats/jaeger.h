// Jaeger JSON input: what the query API (/api/traces) answers, what the
// Jaeger UI downloads and uploads, and single spans in its storage shape
// (embedded process, parentSpanID). Every span object ends as one span
// record or one rejection naming the field that could not be read.
#pragma once

#include "parse/formats/adapter.h"

namespace ta {

// True when `value` is Jaeger JSON: {"data":[trace...]} (query API / UI
// download, also its error answer with "data":null), a non-empty array of
// traces (or of Jaeger spans), one trace (an object with "spans" whose spans
// have "spanID"), or a single Jaeger span (has "spanID" and "traceID").
bool is_jaeger(json::Ref value);

// Reads every span of every trace in `value` into `sink`, each at the byte
// where its object starts.
void read_jaeger(json::Ref value, const AdapterOptions& options, RecordSink& sink);

}  // namespace ta
