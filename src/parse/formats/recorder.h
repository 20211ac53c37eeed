// The seed Recorder adapter: the seed's Python Recorder spans written as JSON,
// {"id": n, "data": {spanid, servername, ip, starttime, durationtime, endtime,
// tag, location, log, root_span_flag, child_span}}, where child_span nests the
// callee's span. There is no trace id: a top-level span and everything nested
// under it are one trace, named by the top span's spanid digits (a 128-bit
// integer, kept as written). Times are exact: seconds with a fraction, never
// through a double.
#pragma once

#include "parse/formats/adapter.h"

namespace ta {

// True when `value` is a seed Recorder span ({"id":..,"data":{"spanid":..,...}}
// or the bare data dict) or an array of them.
bool is_recorder(json::Ref value);

// Hands every span object, the nested ones included (each at the offset of
// its own object), to the sink as a span or a rejection. Nesting is walked
// with a loop: a chain a million deep is read like a flat one.
void read_recorder(json::Ref value, const AdapterOptions& options, RecordSink& sink);

}  // namespace ta
