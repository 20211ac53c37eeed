// The OTLP JSON adapter: an ExportTraceServiceRequest or TracesData document
// (the collector's file exporter writes one per line) read into span records.
// Ids are hex of any case (handed over in lower case), times are exact
// nanoseconds, attributes keep their types; a span that cannot be read is
// one rejection naming the field.
#pragma once

#include "parse/formats/adapter.h"

namespace ta {

// True when `value` is an OTLP JSON ExportTraceServiceRequest / TracesData (an
// object with "resourceSpans").
bool is_otlp(json::Ref value);

// Hands every span object under resourceSpans[].scopeSpans[].spans[] (or the
// older instrumentationLibrarySpans[]) to the sink as a span or a rejection.
void read_otlp(json::Ref value, const AdapterOptions& options, RecordSink& sink);

}  // namespace ta
