// Turns one input line into a SpanRecord: the native span line of DESIGN.md,
// or a Filebeat event carrying one (span JSON in `message`, span fields at the
// root, or under `json`). No exceptions: a bad line yields a reason.
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
  // On false, error() says why the line was rejected.
  bool parse(std::string_view line, std::size_t capacity, SpanRecord& out);
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
    // Filebeat envelope
    std::string_view message, envelope_host, origin_path, origin_offset;
    bool has_message = false;
    unsigned present = 0;                // span keys met, by SpanKey bit
    const char* other_format = nullptr;  // a known other format's sign
  };
  using Value = simdjson::ondemand::value;
  enum class Scalar { kString, kNumber, kNull, kOther };

  void reset();
  bool parse_flat(std::string_view line);  // false: read it the careful way
  bool parse_document(simdjson::ondemand::parser& parser, const char* data, std::size_t len,
                      std::size_t capacity, bool envelope);
  bool parse_fields(simdjson::ondemand::object object, bool envelope);
  bool parse_envelope_field(std::string_view key, Value value, bool& handled);
  bool parse_calls(Value value);
  bool parse_call(simdjson::ondemand::object object, std::size_t index);
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
  std::string error_;
};

// A readable reason for a simdjson error, e.g. "invalid JSON: unclosed string".
std::string describe_json_error(simdjson::error_code err);

}  // namespace ta
