#include "parse/format_reader.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

#include "parse/formats/jaeger.h"
#include "parse/formats/otlp.h"
#include "parse/formats/recorder.h"
#include "parse/formats/zipkin.h"
#include "util/utf8.h"

namespace ta {
namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// White space, and a BOM that starts the text or a line (files joined with
// cat, each saved with one).
std::size_t skip_space(std::string_view s, std::size_t p) {
  for (;;) {
    while (p < s.size() && is_space(s[p])) ++p;
    if ((p == 0 || s[p - 1] == '\n') && s.substr(p, 3) == kBom) {
      p += 3;
      continue;
    }
    return p;
  }
}

// Where the next value may start after a broken one: the next line that
// starts with '{' or '[' (after a BOM, if any); npos when there is none.
std::size_t next_value_start(std::string_view text, std::size_t from) {
  for (std::size_t p = text.find('\n', from); p != std::string_view::npos; p = text.find('\n', p + 1)) {
    std::size_t q = p + 1;
    if (text.substr(q, 3) == kBom) q += 3;
    if (q < text.size() && (text[q] == '{' || text[q] == '[')) return q;
  }
  return std::string_view::npos;
}

}  // namespace

Framing detect_framing(std::string_view head, bool whole) {
  const std::size_t start = skip_space(head, 0);
  if (start >= head.size()) return Framing::kLines;
  if (head[start] == '[') return Framing::kDocument;
  if (head[start] != '{') return Framing::kLines;
  std::size_t end = head.find('\n', start);
  if (end == std::string_view::npos) {
    if (!whole) return Framing::kLines;  // a first line longer than the head: a line as long as that is no pretty print
    end = head.size();
  }
  if (end >= head.size()) return Framing::kLines;  // all of it on one line
  // A value whose brackets are still open at the end of its first line
  // goes on past it: JSON printed across lines.
  int depth = 0;
  bool in_string = false;
  for (std::size_t p = start; p < end; ++p) {
    const char c = head[p];
    if (in_string) {
      if (c == '\\') {
        ++p;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return Framing::kLines;  // the first value ends on its line
    }
  }
  return depth > 0 && !in_string ? Framing::kDocument : Framing::kLines;
}

FormatReader::FormatReader(InputFormat forced, const ParseOptions& options)
    : forced_(forced), native_(options) {
  adapter_.group_field = options.group_field;
}

// A line that is surely not native: an OTLP document (its first key), or
// an array. The native parser is not tried on it first.
static bool surely_other(std::string_view line) {
  const std::size_t p = line.find_first_not_of(" \t");
  if (p == std::string_view::npos) return false;
  if (line[p] == '[') return true;
  return line.compare(p, 17, "{\"resourceSpans\":") == 0;
}

bool FormatReader::read_line(std::string_view line, std::size_t capacity, SpanRecord& record, RecordSink& sink) {
  if (forced_ == InputFormat::kNative || (forced_ == InputFormat::kAuto && !surely_other(line))) {
    if (native_.parse(line, capacity, record)) return true;
    // Only a line the native parser took for another format, or a Filebeat
    // event (which may carry one), is read again.
    const bool envelope = line.find("\"message\"") != std::string_view::npos ||
                          line.find("\"json\"") != std::string_view::npos;
    if (forced_ == InputFormat::kNative || !(native_.other_format() || envelope)) {
      sink.reject(0, native_.error());
      return false;
    }
  }
  std::size_t pos = 0;
  if (!tree_.parse(line, pos)) {
    sink.reject(0, fmt::format("not valid JSON: {} (byte {})", tree_.error().reason, tree_.error().offset + 1));
    return false;
  }
  if (skip_space(line, pos) < line.size()) {
    sink.reject(0, fmt::format("text after the JSON value (byte {})", skip_space(line, pos) + 1));
    return false;
  }
  read_value(tree_.root(), line, capacity, sink);
  return false;
}

const char* FormatReader::read_line_in_place(const char* p, const char* e, SpanRecord& record) {
  if (forced_ != InputFormat::kNative && forced_ != InputFormat::kAuto) return nullptr;
  // surely_other looks at the line's first bytes only.
  if (forced_ == InputFormat::kAuto && surely_other(std::string_view(p, std::min<std::size_t>(e - p, 64)))) return nullptr;
  return native_.parse_in_place(p, e, record);
}

void FormatReader::read_document(std::string_view text, const json::LineIndex& lines, RecordSink& sink) {
  const std::size_t capacity = text.size() + simdjson::SIMDJSON_PADDING;
  std::size_t pos = skip_space(text, 0);
  while (pos < text.size()) {
    const std::size_t start = pos;
    if (!tree_.parse(text, pos)) {
      const json::Tree::Error& e = tree_.error();
      const std::uint64_t line = lines.line_of(e.offset);
      const std::size_t line_start = text.rfind('\n', e.offset == 0 ? 0 : e.offset - 1);
      const std::size_t column = e.offset - (line_start == std::string_view::npos || e.offset == 0 ? 0 : line_start + 1) + 1;
      sink.reject(start, fmt::format("not valid JSON: {} at line {}, column {} (byte {})", e.reason, line, column,
                                     e.offset + 1));
      pos = next_value_start(text, std::max(e.offset, start));
      if (pos == std::string_view::npos) return;
      continue;
    }
    read_value(tree_.root(), text, capacity, sink);
    pos = skip_space(text, pos);
  }
}

namespace {

// Records read from inside a Filebeat event: at the event's offset, and with
// the event's host.name where the span names no host.
class EnvelopeSink final : public RecordSink {
 public:
  EnvelopeSink(RecordSink& out, std::size_t offset, std::string_view host) : out_(out), offset_(offset), host_(host) {}
  void span(const SpanRecord& r, std::size_t) override {
    if (!r.host.empty() || host_.empty()) return out_.span(r, offset_);
    record_ = r;
    record_.host = host_;
    out_.span(record_, offset_);
  }
  void reject(std::size_t, std::string reason) override { out_.reject(offset_, std::move(reason)); }
  void merged(std::size_t) override { out_.merged(offset_); }
  void note(std::string message) override { out_.note(std::move(message)); }

 private:
  RecordSink& out_;
  std::size_t offset_;
  std::string_view host_;
  SpanRecord record_;
};

// Filebeat writes host.name nested or, from ECS loggers, dotted.
std::string_view envelope_host(json::Ref event) {
  if (const json::Ref nested = event["host"]["name"]; nested.is_string()) return nested.text();
  if (const json::Ref dotted = event["host.name"]; dotted.is_string()) return dotted.text();
  return {};
}

}  // namespace

void FormatReader::read_adapter(InputFormat format, json::Ref value, RecordSink& sink) {
  switch (format) {
    case InputFormat::kZipkin: return read_zipkin(value, adapter_, sink);
    case InputFormat::kJaeger: return read_jaeger(value, adapter_, sink);
    case InputFormat::kOtlp: return read_otlp(value, adapter_, sink);
    case InputFormat::kRecorder: return read_recorder(value, adapter_, sink);
    case InputFormat::kNative:
    case InputFormat::kAuto: break;
  }
}

bool FormatReader::read_envelope(json::Ref value, RecordSink& sink) {
  if (!value.is_object()) return false;
  const json::Ref message = value["message"], decoded = value["json"];
  json::Ref inner;
  if (decoded.is_object() || decoded.is_array()) {
    inner = decoded;
  } else if (message.is_string()) {
    std::size_t pos = 0;
    if (!inner_.parse(message.text(), pos)) return false;  // the native parser says why
    inner = inner_.root();
  } else {
    return false;
  }
  const InputFormat format = forced_ == InputFormat::kAuto ? detect_format(inner) : forced_;
  if (format == InputFormat::kAuto || format == InputFormat::kNative) return false;
  EnvelopeSink located(sink, value.offset(), envelope_host(value));
  read_adapter(format, inner, located);
  return true;
}

void FormatReader::read_value(json::Ref value, std::string_view text, std::size_t capacity, RecordSink& sink) {
  InputFormat format = forced_ == InputFormat::kAuto ? detect_format(value) : forced_;
  // A Filebeat event is unwrapped whatever the format inside.
  if ((format == InputFormat::kNative || format == InputFormat::kAuto || forced_ != InputFormat::kAuto) &&
      read_envelope(value, sink))
    return;
  switch (format) {
    case InputFormat::kNative: return read_native(value, text, capacity, sink);
    case InputFormat::kZipkin:
    case InputFormat::kJaeger:
    case InputFormat::kOtlp:
    case InputFormat::kRecorder: return read_adapter(format, value, sink);
    case InputFormat::kAuto: break;
  }
  if (value.is_array()) {
    // An array of spans of any format: each on its own. An empty list in
    // it (`[]`, or an empty trace in Zipkin's list of traces) holds no
    // span, and is no record.
    auto empty_list = [](json::Ref e) { return e.is_array() && e.size() == 0; };
    json::Ref first;
    for (json::Ref e : value.elements()) {
      if (!empty_list(e)) {
        first = e;
        break;
      }
    }
    if (!first) return;
    if (detect_format(first) != InputFormat::kAuto) {
      for (json::Ref e : value.elements()) {
        if (empty_list(e)) continue;
        if (detect_format(e) == InputFormat::kAuto) {
          sink.reject(e.offset(), unknown_value_reason(e));
        } else {
          read_value(e, text, capacity, sink);
        }
      }
      return;
    }
  }
  sink.reject(value.offset(), unknown_value_reason(value));
}

void FormatReader::read_native(json::Ref value, std::string_view text, std::size_t capacity, RecordSink& sink) {
  if (value.is_array()) {  // an array of native spans: each on its own (one level: a nested array is no span)
    for (json::Ref e : value.elements()) read_native_object(e, text, capacity, sink);
    return;
  }
  read_native_object(value, text, capacity, sink);
}

void FormatReader::read_native_object(json::Ref value, std::string_view text, std::size_t capacity,
                                      RecordSink& sink) {
  const std::size_t at = value.offset();
  const std::string_view raw = text.substr(at, value.text().size());
  if (value.type() != json::Type::kObject) {
    sink.reject(at, unknown_value_reason(value));
  } else if (native_.parse(raw, capacity - at, record_)) {
    sink.span(record_, at);
  } else {
    sink.reject(at, native_.error());
  }
}

std::string unknown_value_reason(json::Ref value) {
  switch (value.type()) {
    case json::Type::kObject: {
      std::string keys;
      std::size_t n = 0;
      for (auto [key, v] : value.members()) {
        (void)v;
        if (n++ == 4) {
          keys += ", ...";
          break;
        }
        if (!keys.empty()) keys += ", ";
        std::string shown;
        for (char c : key.substr(0, 32)) shown += (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') ? '?' : c;
        keys += fmt::format("\"{}\"", shown);
      }
      if (keys.empty()) return "not a span: an empty object";
      return fmt::format("not a span of any format read here (native, Filebeat, Zipkin, Jaeger, OTLP, Recorder): an object with keys {}", keys);
    }
    case json::Type::kArray: return "not a JSON object but an array";
    case json::Type::kString: return "not a JSON object but a string";
    case json::Type::kNumber: return "not a JSON object but a number";
    case json::Type::kNull: return "not a JSON object but null";
    default: return "not a JSON object but a boolean";
  }
}

}  // namespace ta
