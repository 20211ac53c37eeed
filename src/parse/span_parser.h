// Turns one input line into a SpanRecord: the native span line of DESIGN.md,
// or a Filebeat event carrying one (span JSON in `message`, span fields at the
// root, or under `json`). No exceptions: a bad line yields a reason.
//
// A line may carry `kind`, `tags` (an object) and `logs` (an array of
// {timestamp, event|name|message, fields}); they become the record's kind,
// status (the `error` tag), attributes, events and event_attributes. A line
// without them gives a record with no details (SpanRecord::clear_details).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "parse/span_record.h"
#include "parse/time_value.h"

namespace ta {

struct ParseOptions {
  TimeUnit time_unit = TimeUnit::kAuto;
  std::string group_field;  // extra field to capture for --group-by; "" = none
  // Read flat lines in one pass first (flat_line.cpp); off only to compare
  // against the careful reading alone (tests, fuzzing).
  bool fast_path = true;
};

class SpanParser {
 public:
  explicit SpanParser(ParseOptions options);

  // `line` must be followed by readable bytes up to `capacity`, and capacity
  // must be at least line.size() + simdjson::SIMDJSON_PADDING.
  // On false, error() says why the line was rejected. The record's views
  // point into the line and this parser's buffers, valid until the next
  // parse.
  bool parse(std::string_view line, std::size_t capacity, SpanRecord& out);
  // A line read where it lies, its end not yet found: the fast reading of
  // the line starting at p, in text that goes on to e (the end of what was
  // read, followed by padding as for parse). Returns the line's end (its
  // '\n', or e) when the fast reading took the whole line, else nullptr:
  // the line is then to be found and read with parse. Saves a scan for
  // the line's end ahead of its reading.
  const char* parse_in_place(const char* p, const char* e, SpanRecord& out);
  const std::string& error() const { return error_; }
  // After a failed parse: the line looked like another format (an array,
  // or keys of Zipkin, Jaeger, OTLP or the Recorder), for its adapter.
  bool other_format() const { return p_.other_format != nullptr; }

 private:
  struct PendingCall {
    std::string_view span_id;
    Decimal start, duration;
    bool has_start = false, has_duration = false;
    std::string_view host;
    std::int16_t http_code = kNoCode;
  };
  // What one object said, before units are known (they follow the timestamp).
  struct Pending {
    std::string_view trace_id, span_id, parent_id, host, service, operation, name, group;
    Decimal timestamp, duration;
    bool has_timestamp = false, has_duration = false, has_span_fields = false;
    std::int16_t http_code = kNoCode;
    SpanKind kind = SpanKind::kUnset;
    // Filebeat envelope
    std::string_view message, envelope_host, origin_path, origin_offset;
    bool has_message = false;
    unsigned present = 0;                // span keys met, by SpanKey bit
    const char* other_format = nullptr;  // a known other format's sign
  };
  // A `logs` entry, before units are known.
  struct PendingEvent {
    Decimal time;
    std::string_view name;
    std::uint32_t attributes_begin = 0, attributes_count = 0;
  };
  using Value = simdjson::ondemand::value;
  enum class Scalar { kString, kNumber, kNull, kOther };

  void reset();
  bool parse_flat(std::string_view line);  // false: read it the careful way
  // The fast reading of an object from `from`: the end of the white space
  // after it (up to a '\n' or `to`), or nullptr to read it the careful way.
  const char* flat_object(const char* from, const char* to);
  bool parse_document(simdjson::ondemand::parser& parser, const char* data, std::size_t len,
                      std::size_t capacity, bool envelope);
  bool parse_fields(simdjson::ondemand::object object, bool envelope);
  bool parse_envelope_field(std::string_view key, Value value, bool& handled);
  bool parse_calls(Value value);
  bool parse_call(simdjson::ondemand::object object, std::size_t index);
  // kind, tags and logs: a value of the wrong shape is noted (detail_error_)
  // and stepped over, so that the rest of the object is still read (another
  // format's keys may follow); false only when the JSON itself is broken.
  bool parse_kind(Value value);
  bool parse_tags(Value value, std::string_view field, std::vector<AttributeRecord>& out);
  bool parse_logs(Value value);
  bool parse_log(simdjson::ondemand::object object, std::size_t index);
  bool detail_wrong_type(Value& value, std::string_view field, const char* expected);
  bool note_detail(bool ok);
  void keep_detail_error(std::string reason);
  Scalar scalar(Value& value, std::string_view& text, simdjson::error_code& err);
  bool wrong_type(Value& value, std::string_view field, const char* expected);
  simdjson::error_code skip_unused(Value& value);
  bool read_id(Value value, std::string_view field, std::string_view& out, bool nullable = true);
  bool read_label(Value value, std::string_view field, std::string_view& out);
  bool read_number(Value value, std::string_view field, Decimal& out, bool& present);
  bool read_code(Value value, std::string_view field, std::int16_t& out);
  bool finish(SpanRecord& out);
  bool json_error(simdjson::error_code err, std::string_view where = {});
  bool fail(std::string reason);

  ParseOptions options_;
  simdjson::ondemand::parser outer_;
  simdjson::ondemand::parser inner_;  // for the span JSON inside `message`
  simdjson::dom::parser validator_;   // full check of lines with unused containers
  bool unchecked_container_ = false;
  std::string message_copy_;
  std::string number_text_;
  Pending p_;
  std::vector<PendingCall> calls_;  // p_'s requestStacks, kept apart so Pending is reset with a plain store
  // p_'s tags and logs, kept apart for the same reason.
  std::vector<AttributeRecord> attributes_;
  std::vector<PendingEvent> events_;
  std::vector<AttributeRecord> event_attributes_;
  std::string brackets_;       // strict_json's stack, kept for its capacity
  std::string detail_error_;  // the first bad kind, tags or logs value
  bool json_failed_ = false;  // error_ is about broken JSON
  std::string error_;
};

// A readable reason for a simdjson error, e.g. "invalid JSON: unclosed string".
std::string describe_json_error(simdjson::error_code err);

}  // namespace ta
