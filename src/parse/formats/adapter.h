// What every whole-document format adapter shares: options and the scratch
// text its records' views point into.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "parse/json_tree.h"
#include "parse/record_sink.h"

namespace ta {

struct AdapterOptions {
  // --group-by FIELD that is not built in: the value of the span attribute
  // (tag) of that name goes into SpanRecord::group.
  std::string group_field;
};

// Texts an adapter makes (lower-cased or padded ids, numbers written out)
// live here until the record they belong to is handed over.
class Scratch {
 public:
  std::string_view keep(std::string s) {
    texts_.push_back(std::move(s));
    return texts_.back();
  }
  void clear() { texts_.clear(); }

 private:
  std::deque<std::string> texts_;  // deque: a kept text never moves
};

// A value shown inside a rejection's reason: at most 40 bytes, quoted, and
// anything but printable ASCII written as \xNN, so the reason stays valid
// UTF-8 and one line whatever the input held.
std::string quoted_value(std::string_view s);

// a == lower, ignoring the case of ASCII letters in a (status codes, kinds
// and tag values that formats write in either case).
bool same_letters(std::string_view a, std::string_view lower);

// The value of an otel.status_code tag (ERROR, OK in any case; else unset),
// as OpenTelemetry's exporters to Zipkin and Jaeger write a span's status.
StatusCode otel_status_code(std::string_view value);

// Ids as the formats write them: hex of either case, back in lower case
// (other ids are left as they are).
std::string_view lower_hex_id(std::string_view id, Scratch& scratch);
// The same for an id that must be hex: nullopt when it is not (or empty).
std::optional<std::string_view> hex_id_lower(std::string_view id, Scratch& scratch);

}  // namespace ta
