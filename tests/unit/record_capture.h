// One RecordSink for the format adapters' tests. A SpanRecord's views die
// when the sink's callback returns, so every span is copied out whole; the
// tests then assert on plain values, including what was merged or rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parse/record_sink.h"
#include "parse/span_record.h"

namespace test_support {

struct OwnedAttribute {
  std::string key, value;
  ta::ValueType type = ta::ValueType::kString;
  bool operator==(const OwnedAttribute&) const = default;
};

struct OwnedEvent {
  ta::Nanos time = 0;
  std::string name;
  // Initialised, so tests can write OwnedEvent{time, name} without a warning.
  std::vector<OwnedAttribute> attributes{};
  bool operator==(const OwnedEvent&) const = default;
};

struct OwnedLink {
  std::string trace_id, span_id;
  ta::LinkType type = ta::LinkType::kLink;
  bool operator==(const OwnedLink&) const = default;
};

struct OwnedSpan {
  std::size_t offset = 0;  // where the adapter said the span's object starts
  std::string trace_id, span_id, parent_id, host, service, operation, group, status_message;
  ta::Nanos start = 0, duration = 0;
  std::int16_t http_code = ta::kNoCode;
  ta::SpanKind kind = ta::SpanKind::kUnset;
  ta::StatusCode status = ta::StatusCode::kUnset;
  bool shared = false;
  ta::LinkType parent_link = ta::LinkType::kChildOf;
  std::vector<OwnedAttribute> attributes;
  std::vector<OwnedEvent> events;
  std::vector<OwnedLink> links;

  // The first attribute with this key, or null.
  const OwnedAttribute* attribute(std::string_view key) const {
    for (const OwnedAttribute& a : attributes)
      if (a.key == key) return &a;
    return nullptr;
  }
};

struct Rejection {
  std::size_t offset = 0;
  std::string reason;
};

// Keeps everything it is handed, in order. It asserts nothing itself: a test
// that expects no merges checks `merges.empty()`.
class CaptureSink : public ta::RecordSink {
 public:
  std::vector<OwnedSpan> spans;
  std::vector<Rejection> rejects;
  std::vector<std::size_t> merges;
  std::vector<std::string> notes;

  // Every record the adapter read ends as exactly one of these.
  std::size_t records() const { return spans.size() + merges.size() + rejects.size(); }

  void span(const ta::SpanRecord& r, std::size_t offset) override {
    OwnedSpan s;
    s.offset = offset;
    s.trace_id = r.trace_id, s.span_id = r.span_id, s.parent_id = r.parent_id;
    s.host = r.host, s.service = r.service, s.operation = r.operation, s.group = r.group;
    s.status_message = r.status_message;
    s.start = r.start, s.duration = r.duration, s.http_code = r.http_code;
    s.kind = r.kind, s.status = r.status, s.shared = r.shared, s.parent_link = r.parent_link;
    for (const ta::AttributeRecord& a : r.attributes) s.attributes.push_back(owned(a));
    for (const ta::EventRecord& e : r.events) {
      OwnedEvent event{e.time, std::string(e.name), {}};
      for (std::uint32_t i = 0; i < e.attributes_count; ++i)
        event.attributes.push_back(owned(r.event_attributes.at(e.attributes_begin + i)));
      s.events.push_back(std::move(event));
    }
    for (const ta::LinkRecord& l : r.links)
      s.links.push_back({std::string(l.trace_id), std::string(l.span_id), l.type});
    spans.push_back(std::move(s));
  }
  void reject(std::size_t offset, std::string reason) override { rejects.push_back({offset, std::move(reason)}); }
  void merged(std::size_t offset) override { merges.push_back(offset); }
  void note(std::string message) override { notes.push_back(std::move(message)); }

 private:
  static OwnedAttribute owned(const ta::AttributeRecord& a) {
    return {std::string(a.key), std::string(a.value), a.type};
  }
};

}  // namespace test_support
