// The Zipkin v2 JSON adapter: an `/api/v2/spans` array (or one span object)
// read into span records. Ids are normalised as Zipkin does, a 16-hex trace
// id is joined to the 32-hex id it is the low half of, and a span reported in
// parts is merged back into one record, as zipkin2.internal.Trace#merge does;
// a part still without a timestamp then joins a span with its ids that has one.
#pragma once

#include "parse/formats/adapter.h"
#include "parse/json_tree.h"
#include "parse/record_sink.h"

namespace ta {

// True when `value` is a Zipkin v2 span (an object with "traceId" and "id")
// or a non-empty array whose first element is one.
bool is_zipkin(json::Ref value);

// Reads every span in `value` (an array of Zipkin v2 spans, or one span
// object) into `sink`: each input object ends as one span, one merged part
// or one rejection. Spans are handed over in the order of their first part.
void read_zipkin(json::Ref value, const AdapterOptions& options, RecordSink& sink);

}  // namespace ta
