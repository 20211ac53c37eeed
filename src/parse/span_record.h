// A span as an input adapter hands it over, before it is stored. The views
// point into the adapter's buffers and die with the next record.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "util/basic_types.h"

namespace ta {

struct CallRecord {
  std::string_view span_id;
  Nanos start = 0;
  Nanos duration = 0;
  std::string_view host;
  std::int16_t http_code = kNoCode;
};

// What a span did, as the formats name it (OTLP's numbering differs: the
// adapters map it).
enum class SpanKind : std::uint8_t { kUnset = 0, kInternal, kServer, kClient, kProducer, kConsumer };
enum class StatusCode : std::uint8_t { kUnset = 0, kOk, kError };

// How a tag's value was written, so a writer can give it back as it was:
// kString as text, kInt/kDouble as a JSON number (its digits as written),
// kBool as true/false, kJson as the JSON text of an array or object.
enum class ValueType : std::uint8_t { kString = 0, kInt, kDouble, kBool, kJson };

struct AttributeRecord {
  std::string_view key;
  std::string_view value;
  ValueType type = ValueType::kString;
};

// A log line inside a span (Zipkin annotation, Jaeger log, OTLP event).
struct EventRecord {
  Nanos time = 0;
  std::string_view name;
  std::uint32_t attributes_begin = 0;  // into SpanRecord::event_attributes
  std::uint32_t attributes_count = 0;
};

// child_of and follows_from are Jaeger's (and OpenTracing's) references;
// kLink is an OTLP link (a related span, often in another trace).
enum class LinkType : std::uint8_t { kChildOf = 0, kFollowsFrom, kLink };

struct LinkRecord {
  std::string_view trace_id;
  std::string_view span_id;
  LinkType type = LinkType::kLink;
};

struct SpanRecord {
  std::string_view trace_id;
  std::string_view span_id;
  std::string_view parent_id;  // empty: no parent ("0", "", null, absent)
  std::string_view host;
  std::string_view service;
  std::string_view operation;
  std::string_view group;  // value of the --group-by field, when asked for
  Nanos start = 0;
  Nanos duration = 0;
  std::int16_t http_code = kNoCode;
  std::vector<CallRecord> calls;

  // Richer formats (Zipkin, Jaeger, OTLP, Recorder; native lines may carry
  // kind, tags and logs). All empty/unset for a plain native line.
  SpanKind kind = SpanKind::kUnset;
  StatusCode status = StatusCode::kUnset;
  std::string_view status_message;
  // Zipkin: this is the server half of a span whose id the client half
  // also has; it is the client half's child, not a duplicate.
  bool shared = false;
  // How parent_id was referenced: a follows_from parent did not wait for
  // this span (not on its critical path).
  LinkType parent_link = LinkType::kChildOf;
  std::vector<AttributeRecord> attributes;
  std::vector<EventRecord> events;
  std::vector<AttributeRecord> event_attributes;
  std::vector<LinkRecord> links;  // references other than the parent

  bool has_details() const {
    return kind != SpanKind::kUnset || status != StatusCode::kUnset || shared ||
           parent_link != LinkType::kChildOf || !attributes.empty() || !events.empty() || !links.empty();
  }
  // Back to a plain span (the parser reuses one record).
  void clear_details() {
    kind = SpanKind::kUnset;
    status = StatusCode::kUnset;
    status_message = {};
    shared = false;
    parent_link = LinkType::kChildOf;
    attributes.clear();
    events.clear();
    event_attributes.clear();
    links.clear();
  }
};

}  // namespace ta
