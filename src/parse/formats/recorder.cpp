#include "parse/formats/recorder.h"

#include <fmt/format.h>

#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "parse/time_value.h"

namespace ta {
namespace {

using json::Ref;


// Python writes "no value" as None, "" or an empty dict or list.
bool is_none(Ref v) {
  return !v || v.is_null() || (v.is_string() && v.text().empty()) ||
         ((v.is_object() || v.is_array()) && v.size() == 0);
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// The span dict of a Recorder object: the wrapper's "data", or the object
// itself when it is the bare dict (as child_span may hold it).
Ref data_of(Ref object) {
  if (!object.is_object()) return {};
  if (const Ref data = object.get("data")) return data.is_object() ? data : Ref();
  return object;
}

bool looks_like_span(Ref v) {
  const Ref data = v.get("data");
  return data.is_object() ? bool(data.get("spanid")) : v.get("spanid") && v.get("servername");
}

AttributeRecord attribute(std::string_view key, Ref v) {
  if (v.is_string()) return {key, v.text(), ValueType::kString};
  if (v.is_bool()) return {key, v.is_true() ? "true" : "false", ValueType::kBool};
  if (v.is_number()) {
    const bool real = v.text().find_first_of(".eE") != std::string_view::npos;
    return {key, v.text(), real ? ValueType::kDouble : ValueType::kInt};
  }
  return {key, v.text(), ValueType::kJson};  // a dict or list, as written
}

// A span still to read: its object, and the span that holds it.
struct Pending {
  Ref object;
  std::string_view parent_id;
  bool parent_unread = false;  // the holding span's spanid could not be read
};

class RecorderReader {
 public:
  RecorderReader(const AdapterOptions& options, RecordSink& sink) : options_(options), sink_(sink) {}
  void read_trace(Ref top);

 private:
  bool read_spanid(Ref spanid, std::string_view& out);
  bool fill(Ref data, const Pending& pending, std::string_view trace_id, std::string_view span_id);
  bool read_duration(Ref data);
  bool read_seconds(Ref value, std::string_view field, Nanos& out);
  void push_children(Ref child, std::string_view parent_id, bool parent_unread);
  void reset_record();
  bool fail(std::string reason) {
    error_ = std::move(reason);
    return false;
  }

  const AdapterOptions& options_;
  RecordSink& sink_;
  SpanRecord record_;
  std::string error_;
  std::vector<Pending> stack_;
  std::vector<Ref> children_;
};

void RecorderReader::read_trace(Ref top) {
  std::string_view trace_id;
  bool at_top = true;
  stack_.assign(1, Pending{top, {}, false});
  while (!stack_.empty()) {
    const Pending pending = stack_.back();
    stack_.pop_back();
    const std::size_t offset = pending.object.offset();
    const Ref data = data_of(pending.object);
    if (!data) {
      sink_.reject(offset, "recorder: not a span: neither {\"id\", \"data\": {...}} nor a span dict");
      continue;
    }
    std::string_view span_id;
    const bool id_read = read_spanid(data.get("spanid"), span_id);
    if (at_top) trace_id = span_id;
    at_top = false;
    if (!id_read) {
      sink_.reject(offset, std::move(error_));
    } else if (pending.parent_unread) {
      sink_.reject(offset, "recorder: the span holding it has no readable spanid, so its trace is unknown");
    } else if (fill(data, pending, trace_id, span_id)) {
      sink_.span(record_, offset);
    } else {
      sink_.reject(offset, std::move(error_));
    }
    push_children(data.get("child_span"), span_id, pending.parent_unread || !id_read);
  }
}

// The id is a 128-bit integer: kept as its digits, which no double holds.
bool RecorderReader::read_spanid(Ref spanid, std::string_view& out) {
  if (is_none(spanid)) return fail("recorder: spanid missing");
  if (spanid.is_string()) {
    out = spanid.text();
    return true;
  }
  if (!spanid.is_number()) return fail("recorder: spanid is not a number");
  if (!all_digits(spanid.text()))
    return fail(fmt::format("recorder: spanid {} is not written as a whole number (was it through a float?)",
                            quoted_value(spanid.text())));
  out = spanid.text();
  return true;
}

bool RecorderReader::fill(Ref data, const Pending& pending, std::string_view trace_id, std::string_view span_id) {
  reset_record();
  record_.trace_id = trace_id;
  record_.span_id = span_id;
  record_.parent_id = pending.parent_id;
  if (!read_seconds(data.get("starttime"), "starttime", record_.start)) return false;
  if (record_.start < 0) return fail("recorder: starttime is before 1970");
  if (!read_duration(data)) return false;
  if (const Ref server = data.get("servername"); server.is_string() || server.is_number())
    record_.service = record_.operation = server.text();
  if (const Ref ip = data.get("ip"); ip.is_string()) record_.host = ip.text();
  for (const std::string_view key : {"tag", "location"}) {
    const Ref value = data.get(key);
    if (is_none(value)) continue;
    record_.attributes.push_back(attribute(key, value));
    if (key == options_.group_field) record_.group = record_.attributes.back().value;
  }
  if (const Ref log = data.get("log"); !is_none(log)) {
    EventRecord event;
    event.time = record_.start + record_.duration;
    event.name = log.text();  // a string's text, or the JSON text of anything else
    record_.events.push_back(event);
  }
  return true;
}

// durationtime is what the Recorder measured; endtime - starttime only
// stands in when it is missing.
bool RecorderReader::read_duration(Ref data) {
  if (const Ref duration = data.get("durationtime"); !is_none(duration)) {
    if (!read_seconds(duration, "durationtime", record_.duration)) return false;
    if (record_.duration < 0) return fail("recorder: durationtime is negative");
  } else {
    const Ref end_time = data.get("endtime");
    if (is_none(end_time)) return fail("recorder: neither durationtime nor endtime");
    Nanos end = 0;
    if (!read_seconds(end_time, "endtime", end)) return false;
    if (end < record_.start) return fail("recorder: endtime is before starttime (the span ends before it starts)");
    record_.duration = end - record_.start;
  }
  if (record_.duration > std::numeric_limits<Nanos>::max() - record_.start)
    return fail("recorder: the span ends past the year 2262");
  return true;
}

bool RecorderReader::read_seconds(Ref value, std::string_view field, Nanos& out) {
  if (is_none(value)) return fail(fmt::format("recorder: {} missing", field));
  std::optional<Decimal> seconds;
  if (value.is_number() || value.is_string()) seconds = parse_decimal(value.text());
  if (!seconds) return fail(fmt::format("recorder: {} {} is not a number of seconds", field, quoted_value(value.text())));
  const std::optional<Nanos> nanos = to_nanos(*seconds, TimeUnit::kSeconds);
  if (!nanos) return fail(fmt::format("recorder: {} {} is out of range", field, quoted_value(value.text())));
  out = *nanos;
  return true;
}

void RecorderReader::push_children(Ref child, std::string_view parent_id, bool parent_unread) {
  if (is_none(child)) return;
  if (!child.is_array()) {
    stack_.push_back({child, parent_id, parent_unread});
    return;
  }
  // Several callees: pushed last first, so that they are read in the order written.
  children_.clear();
  for (Ref c : child.elements()) children_.push_back(c);
  for (auto c = children_.rbegin(); c != children_.rend(); ++c) stack_.push_back({*c, parent_id, parent_unread});
}

void RecorderReader::reset_record() {
  record_.clear_details();
  record_.calls.clear();
  record_.host = record_.service = record_.operation = record_.group = {};
  record_.start = record_.duration = 0;
  record_.http_code = kNoCode;
}

}  // namespace

bool is_recorder(json::Ref value) {
  if (!value.is_array()) return value.is_object() && looks_like_span(value);
  const json::Ref::Elements elements = value.elements();
  const auto first = elements.begin();
  return first != elements.end() && (*first).is_object() && looks_like_span(*first);
}

void read_recorder(json::Ref value, const AdapterOptions& options, RecordSink& sink) {
  RecorderReader reader(options, sink);
  if (!value.is_array()) return reader.read_trace(value);
  for (json::Ref top : value.elements()) reader.read_trace(top);
}

}  // namespace ta
