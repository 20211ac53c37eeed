#include "parse/span_parser.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <utility>

#include "parse/formats/adapter.h"
#include "parse/span_keys.h"
#include "util/json_number.h"

namespace ta {
namespace {

using simdjson::error_code;
using simdjson::ondemand::json_type;
using simdjson::ondemand::object;

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

const char* type_name(json_type t) {
  switch (t) {
    case json_type::array: return "an array";
    case json_type::object: return "an object";
    case json_type::number: return "a number";
    case json_type::string: return "a string";
    case json_type::boolean: return "a boolean";
    case json_type::null: return "null";
  }
  return "a value";
}

// Shown inside reasons; long or binary values are cut and escaped, so that a
// reason is always valid UTF-8 (it goes into the JSON report).
std::string quoted(std::string_view s) {
  const bool utf8 = simdjson::validate_utf8(s.data(), s.size());
  std::string out = "\"";
  std::size_t chars = 0;
  for (unsigned char c : s) {
    const bool continuation = utf8 && (c & 0xC0) == 0x80;
    if (!continuation && ++chars > 40) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (!utf8 && c >= 0x80)) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Why a line that does not start an object was rejected, judged from its
// text: the parser's first-byte guess would call "this is text" a `true`.
std::string not_an_object(std::string_view line) {
  std::string_view t = line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  const char c = t.empty() ? ' ' : t.front();
  const char* kind = nullptr;
  if (c == '[') {
    if (t.find("\"traceId\"") != std::string_view::npos)
      return "Zipkin v2 JSON (a span array) is not read yet: give one native span object per line";
    kind = "an array";
  } else if (c == '"' && t.size() > 1 && t.back() == '"') {
    kind = "a string";
  } else if (t == "true" || t == "false") {
    kind = "a boolean";
  } else if (t == "null") {
    kind = "null";
  } else if (parse_decimal(t)) {
    kind = "a number";
  }
  if (kind) return fmt::format("not a JSON object but {}", kind);
  return fmt::format("not JSON: {}", quoted(t));
}

// True when a string's bytes need no unescaping and hold no control bytes:
// eight bytes at a time (exact: no false "plain"; a false alarm only costs
// the careful path).
bool plain_string(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    const std::uint64_t x = w ^ (kOnes * '\\');
    const std::uint64_t backslash = (x - kOnes) & ~x & kHigh;
    if (below_space | backslash) return false;
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '\\') return false;
  }
  return true;
}

// A field's key without copying it when it has no escapes (nearly always);
// escaped keys are unescaped.
simdjson::error_code field_key(simdjson::ondemand::field& f, std::string_view& out) {
  const char* k = f.key().raw();  // just after the opening quote
  const char* p = k;
  while (*p != '"' && *p != '\\') ++p;  // stage 1 has checked the string is closed
  if (*p == '"') {
    out = std::string_view(k, static_cast<std::size_t>(p - k));
    return simdjson::SUCCESS;
  }
  return f.unescaped_key().get(out);
}

// Steps the parser over a scalar. Left alone, On-Demand would skip it later
// by bracket depth alone, and a stray token after it ("x":"y":}) would go
// unnoticed; stepped over, the next separator is checked.
simdjson::error_code consume_scalar(simdjson::ondemand::value& value, std::string_view token) {
  switch (token.front()) {
    case '"':
      return value.get_raw_json_string().error();
    case 'n': {
      bool null = false;
      if (auto err = value.is_null().get(null)) return err;
      return null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
    case 't':
    case 'f':
      return value.get_bool().error() ? simdjson::T_ATOM_ERROR : simdjson::SUCCESS;
    case '{':
    case '[':
      return simdjson::SUCCESS;  // containers are skipped by depth
    default: {
      const simdjson::error_code err = value.get_number().error();
      // Valid JSON that no double holds (1e400): leave it to be skipped.
      return err && parse_decimal(trim_right(token)) ? simdjson::SUCCESS : err;
    }
  }
}

bool is_no_parent(std::string_view id) { return id.empty() || id == "0"; }

// Strict JSON grammar (RFC 8259) of one array or object's text, as a tag's
// value: On-Demand only counted its brackets. Iterative (`open` is the stack
// of brackets, kept by the caller); UTF-8 is checked by simdjson already.
// Unlike simdjson's DOM check, numbers of any size are fine (their text is
// kept).
bool strict_json(std::string_view s, std::string& open) {
  open.clear();
  std::size_t i = 0;
  auto at = [&](char c) { return i < s.size() && s[i] == c; };
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  };
  auto string = [&] {  // at '"'
    for (++i; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (i >= s.size()) return false;
      const char e = s[i++];
      if (e == 'u') {
        for (int k = 0; k < 4; ++k, ++i)
          if (i >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  };
  auto key = [&] {  // a member's name and its ':'
    ws();
    if (!at('"') || !string()) return false;
    ws();
    if (!at(':')) return false;
    ++i;
    return true;
  };
  bool want_value = true;
  for (;;) {
    ws();
    if (want_value) {
      if (i >= s.size()) return false;
      const char c = s[i];
      if (c == '{' || c == '[') {
        ++i;
        ws();
        if (at(c == '{' ? '}' : ']')) {
          ++i;
          want_value = false;
        } else {
          open.push_back(c);
          if (c == '{' && !key()) return false;
        }
        continue;
      }
      if (c == '"') {
        if (!string()) return false;
      } else if (c == 't' || c == 'f' || c == 'n') {
        const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
        if (s.substr(i, word.size()) != word) return false;
        i += word.size();
      } else {
        const std::size_t from = i;
        while (i < s.size() && std::string_view("+-.0123456789eE").find(s[i]) != std::string_view::npos) ++i;
        if (!is_json_number(s.substr(from, i - from))) return false;
      }
      want_value = false;
      continue;
    }
    if (open.empty()) return i == s.size();
    if (at(',')) {
      ++i;
      if (open.back() == '{' && !key()) return false;
      want_value = true;
    } else if (at(open.back() == '{' ? '}' : ']')) {
      ++i;
      open.pop_back();
    } else {
      return false;
    }
  }
}

// A span kind as a native line may spell it: server, client, producer,
// consumer, internal in any case, or OTLP's SPAN_KIND_* names; "" and
// SPAN_KIND_UNSPECIFIED leave it unset. False for anything else.
bool kind_of(std::string_view name, SpanKind& out) {
  static constexpr std::string_view kPrefix = "span_kind_";
  bool prefixed = false;
  if (name.size() > kPrefix.size() && same_letters(name.substr(0, kPrefix.size()), kPrefix)) {
    name.remove_prefix(kPrefix.size());
    prefixed = true;
  }
  static constexpr std::pair<std::string_view, SpanKind> kNames[] = {
      {"server", SpanKind::kServer},     {"client", SpanKind::kClient},     {"producer", SpanKind::kProducer},
      {"consumer", SpanKind::kConsumer}, {"internal", SpanKind::kInternal},
  };
  for (const auto& [n, kind] : kNames) {
    if (same_letters(name, n)) {
      out = kind;
      return true;
    }
  }
  if (name.empty() || (prefixed && same_letters(name, "unspecified"))) {
    out = SpanKind::kUnset;
    return true;
  }
  return false;
}

// The `error` tag set to true (or "true") marks the span as failed.
bool error_tag(const AttributeRecord& a) {
  return a.key == "error" && a.value == "true" && (a.type == ValueType::kBool || a.type == ValueType::kString);
}

}  // namespace

std::string describe_json_error(error_code err) {
  switch (err) {
    case simdjson::UNCLOSED_STRING: return "invalid JSON: unclosed string";
    case simdjson::TAPE_ERROR:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return "invalid JSON: truncated, unbalanced or followed by other text";
    case simdjson::UTF8_ERROR: return "invalid UTF-8";
    case simdjson::DEPTH_ERROR: return "invalid JSON: nested too deep";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR: return "invalid JSON: bad literal";
    case simdjson::NUMBER_ERROR: return "invalid JSON: bad number";
    case simdjson::STRING_ERROR: return "invalid JSON: bad string escape";
    case simdjson::UNESCAPED_CHARS: return "invalid JSON: control character in string";
    case simdjson::EMPTY: return "invalid JSON: empty document";
    case simdjson::CAPACITY: return "line too long for the JSON parser";
    default: return fmt::format("invalid JSON ({})", simdjson::error_message(err));
  }
}

SpanParser::SpanParser(ParseOptions options) : options_(std::move(options)) {}

bool SpanParser::fail(std::string reason) {
  error_ = std::move(reason);
  return false;
}

bool SpanParser::json_error(error_code err, std::string_view where) {
  json_failed_ = true;
  if (where.empty()) return fail(describe_json_error(err));
  return fail(fmt::format("{} in {}", describe_json_error(err), where));
}

void SpanParser::reset() {
  p_ = Pending{};
  calls_.clear();  // keeps its capacity
  attributes_.clear();
  events_.clear();
  event_attributes_.clear();
  detail_error_.clear();
  json_failed_ = false;
}

namespace {

// " (from PATH offset N)" for a span inside a Filebeat event that names its
// origin (log.file.path, log.offset), else empty.
template <typename Pending>
std::string origin_note(const Pending& p) {
  if (p.origin_path.empty()) return {};
  return fmt::format(" (from {}{}{})", p.origin_path, p.origin_offset.empty() ? "" : " offset ", p.origin_offset);
}

}  // namespace

bool SpanParser::parse(std::string_view line, std::size_t capacity, SpanRecord& out) {
  reset();
  if (options_.fast_path && parse_flat(line) && finish(out)) return true;
  reset();
  if (!parse_document(outer_, line.data(), line.size(), capacity, true)) {
    error_ += origin_note(p_);  // when the event named it before the field that failed
    return false;
  }
  if (!p_.has_span_fields && p_.has_message) {
    // Filebeat's default shape: the span line is the string in `message`.
    message_copy_.assign(p_.message);
    const std::size_t len = message_copy_.size();
    message_copy_.resize(len + simdjson::SIMDJSON_PADDING);
    if (!parse_document(inner_, message_copy_.data(), len, message_copy_.size(), false)) {
      error_ = "message: " + error_ + origin_note(p_);
      return false;
    }
  }
  return finish(out);
}

// Unused fields may nest this deep (On-Demand itself only counts brackets).
constexpr std::size_t kMaxValidatedDepth = std::size_t{1} << 20;

// Steps over a value the span does not use (see consume_scalar). A skipped
// object or array is only bracket-counted by On-Demand, so the document is
// then checked in full once parsed.
simdjson::error_code SpanParser::skip_unused(Value& value) {
  const std::string_view token = value.raw_json_token();
  if (token.empty()) return simdjson::TAPE_ERROR;
  if (token.front() == '{' || token.front() == '[') unchecked_container_ = true;
  return consume_scalar(value, token);
}

bool SpanParser::parse_document(simdjson::ondemand::parser& parser, const char* data,
                                std::size_t len, std::size_t capacity, bool envelope) {
  unchecked_container_ = false;
  const std::string_view text(data, len);
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') {
    if (first != std::string_view::npos && text[first] == '[') p_.other_format = "a JSON array";
    return fail(not_an_object(text));
  }
  simdjson::ondemand::document doc;
  if (auto err = parser.iterate(data, len, capacity).get(doc)) return json_error(err);
  json_type type;
  if (auto err = doc.type().get(type)) return json_error(err);
  if (type != json_type::object) return fail(not_an_object(text));
  object obj;
  if (auto err = doc.get_object().get(obj)) return json_error(err);
  if (!parse_fields(obj, envelope)) return false;
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) return fail("invalid JSON: text after the object");
  if (unchecked_container_) {
    // Validates the whole line (DOM); only lines with unused objects or
    // arrays, e.g. Filebeat's agent/ecs, pay for it.
    simdjson::dom::element ignored;
    if (validator_.max_depth() < kMaxValidatedDepth &&
        validator_.allocate(std::max<std::size_t>(len, 4096), kMaxValidatedDepth) != simdjson::SUCCESS)
      return fail("out of memory while checking the line");
    if (auto err = validator_.parse(reinterpret_cast<const std::uint8_t*>(data), len, false).get(ignored))
      return json_error(err);
  }
  return true;
}


bool SpanParser::parse_fields(object obj, bool envelope) {
  unsigned seen = 0;  // span fields met in this object: a repeat is ambiguous
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    if (auto err = std::move(field_result).get(field)) return json_error(err);
    std::string_view key;
    if (auto err = field_key(field, key)) return json_error(err);
    Value value = field.value();
    const SpanKey k = span_key(key, options_.group_field);
    if (k != kOtherKey && k != kHost) {
      if (seen & (1u << k)) return fail(fmt::format("duplicate key \"{}\"", key));
      seen |= 1u << k;
    }
    bool ok = true;
    switch (k) {
      case kTraceId:
        ok = read_id(value, key, p_.trace_id, false);
        p_.has_span_fields = true;
        break;
      case kSpanId:
        ok = read_id(value, key, p_.span_id, false);
        p_.has_span_fields = true;
        break;
      case kParentSpanId: ok = read_id(value, key, p_.parent_id); break;
      case kTimestamp: ok = read_number(value, key, p_.timestamp, p_.has_timestamp); break;
      case kDuration: ok = read_number(value, key, p_.duration, p_.has_duration); break;
      case kHttpCode: ok = read_code(value, key, p_.http_code); break;
      case kService: ok = read_label(value, key, p_.service); break;
      case kOperation: ok = read_label(value, key, p_.operation); break;
      case kRequestStacks: ok = parse_calls(value); break;
      case kGroup: ok = read_label(value, key, p_.group); break;
      case kName: ok = read_label(value, key, p_.name); break;
      case kKind: ok = parse_kind(value); break;
      case kTags: {
        json_type type;
        if (auto err = value.type().get(type)) return json_error(err, key);
        if (envelope && type == json_type::array) {
          // Filebeat's own `tags` (a list of strings) beside the event.
          if (auto err = skip_unused(value)) return json_error(err, key);
        } else {
          ok = parse_tags(value, "tags", attributes_);
        }
        break;
      }
      case kLogs: ok = parse_logs(value); break;
      case kHost:
      case kOtherKey: {
        bool handled = false;
        if (envelope && !parse_envelope_field(key, value, handled)) return false;
        if (!handled && k == kHost) {
          if (seen & (1u << kHost)) return fail("duplicate key \"host\"");
          seen |= 1u << kHost;
          ok = read_label(value, key, p_.host);
        } else if (!handled) {
          if (auto err = skip_unused(value)) return json_error(err, key);
        }
        break;
      }
    }
    if (!ok) return false;
    if (k == kOtherKey && p_.other_format == nullptr) {
      if (key == "resourceSpans") p_.other_format = "OTLP JSON (resourceSpans)";
      if (key == "traceID" || key == "spanID") p_.other_format = "Jaeger JSON (traceID/spanID)";
      if (key == "id") p_.other_format = "Zipkin v2 span (id, no spanId)";
      if (key == "data") p_.other_format = "Recorder span (id, data)";
    }
  }
  p_.present |= seen;
  return true;
}

// Fields of a Filebeat event around the span. Sets `handled` when the field
// was one of them; returns false only on a bad value.
bool SpanParser::parse_envelope_field(std::string_view key, Value value, bool& handled) {
  json_type type;
  if (auto err = value.type().get(type)) return json_error(err, key);
  handled = true;
  if (key == "message" && type == json_type::string) {
    p_.has_message = true;
    if (auto err = value.get_string().get(p_.message)) return json_error(err, key);
    return true;
  }
  if (key == "json" && type == json_type::object) {
    object inner;
    if (auto err = value.get_object().get(inner)) return json_error(err, key);
    return parse_fields(inner, false);
  }
  if ((key == "host" || key == "log") && type == json_type::object) {
    // host.name is a fallback host; log.file.path and log.offset tell where
    // the span was first written.
    object o;
    if (auto err = value.get_object().get(o)) return json_error(err, key);
    for (auto f : o) {
      std::string_view k;
      if (auto err = f.unescaped_key().get(k)) return json_error(err, key);
      Value v = f.value();
      json_type vt;
      if (auto err = v.type().get(vt)) return json_error(err, key);
      if (key == "host" && k == "name") {
        if (!read_label(v, "host.name", p_.envelope_host)) return false;
      } else if (key == "log" && k == "offset") {
        if (!read_label(v, "log.offset", p_.origin_offset)) return false;
      } else if (key == "log" && k == "file" && vt == json_type::object) {
        object file;
        if (auto err = v.get_object().get(file)) return json_error(err, key);
        for (auto ff : file) {
          std::string_view fk;
          if (auto err = ff.unescaped_key().get(fk)) return json_error(err, key);
          Value fv = ff.value();
          if (fk == "path") {
            if (!read_label(fv, "log.file.path", p_.origin_path)) return false;
          } else if (auto err = skip_unused(fv)) {
            return json_error(err, key);
          }
        }
      } else if (auto err = skip_unused(v)) {
        return json_error(err, key);
      }
    }
    return true;
  }
  if (key == "host.name") return read_label(value, key, p_.envelope_host);
  if (key == "log.file.path") return read_label(value, key, p_.origin_path);
  if (key == "log.offset") return read_label(value, key, p_.origin_offset);
  handled = false;
  return true;
}

bool SpanParser::parse_calls(Value value) {
  json_type type;
  if (auto err = value.type().get(type)) return json_error(err, "requestStacks");
  if (type == json_type::null) {
    std::string_view text;
    simdjson::error_code err;
    if (scalar(value, text, err) == Scalar::kNull) return true;
    return json_error(simdjson::N_ATOM_ERROR, "requestStacks");
  }
  if (type != json_type::array)
    return fail(fmt::format("requestStacks is {}, expected an array", type_name(type)));
  simdjson::ondemand::array arr;
  if (auto err = value.get_array().get(arr)) return json_error(err, "requestStacks");
  std::size_t index = 0;
  for (auto element : arr) {
    Value entry;
    if (auto err = element.get(entry)) return json_error(err, "requestStacks");
    if (auto err = entry.type().get(type)) return json_error(err, "requestStacks");
    if (type != json_type::object)
      return fail(fmt::format("requestStacks[{}] is {}, expected an object", index, type_name(type)));
    object obj;
    if (auto err = entry.get_object().get(obj)) return json_error(err, "requestStacks");
    if (!parse_call(obj, index)) return false;
    ++index;
  }
  return true;
}

bool SpanParser::parse_call(object obj, std::size_t index) {
  PendingCall call;
  bool has_id = false;
  unsigned seen = 0;
  static constexpr std::string_view kKeys[] = {"subSpanId", "subTimestamp", "subDuration", "subHttpCode", "subHost"};
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    if (auto err = std::move(field_result).get(field)) return json_error(err, "requestStacks");
    std::string_view key;
    if (auto err = field_key(field, key)) return json_error(err, "requestStacks");
    Value value = field.value();
    for (unsigned k = 0; k < std::size(kKeys); ++k) {
      if (key != kKeys[k]) continue;
      if (seen & (1u << k)) return fail(fmt::format("requestStacks[{}]: duplicate key \"{}\"", index, key));
      seen |= 1u << k;
    }
    bool ok = true;
    if (key == "subSpanId") {
      ok = read_id(value, "subSpanId", call.span_id);
      has_id = !call.span_id.empty();
    } else if (key == "subTimestamp") {
      ok = read_number(value, "subTimestamp", call.start, call.has_start);
    } else if (key == "subDuration") {
      ok = read_number(value, "subDuration", call.duration, call.has_duration);
    } else if (key == "subHttpCode") {
      ok = read_code(value, "subHttpCode", call.http_code);
    } else if (key == "subHost") {
      ok = read_label(value, "subHost", call.host);
    } else if (auto err = skip_unused(value)) {
      return json_error(err, "requestStacks");
    }
    if (!ok) {
      error_ = fmt::format("requestStacks[{}].{}", index, error_);
      return false;
    }
  }
  if (!has_id) return fail(fmt::format("requestStacks[{}] has no subSpanId", index));
  calls_.push_back(call);
  return true;
}

// A shape error in kind, tags or logs is kept aside, and reading goes on.
void SpanParser::keep_detail_error(std::string reason) {
  if (detail_error_.empty()) detail_error_ = std::move(reason);
}

// After a helper that may fail(): a broken line stops the reading, a value
// of the wrong shape is noted (and the helper has left it to be skipped).
bool SpanParser::note_detail(bool ok) {
  if (ok) return true;
  if (json_failed_) return false;
  keep_detail_error(std::move(error_));
  error_.clear();
  return true;
}

bool SpanParser::detail_wrong_type(Value& value, std::string_view field, const char* expected) {
  json_type type;
  if (auto err = value.type().get(type)) return json_error(err, field);
  if (auto err = skip_unused(value)) return json_error(err, field);
  keep_detail_error(fmt::format("{} is {}, expected {}", field, type_name(type), expected));
  return true;
}

bool SpanParser::parse_kind(Value value) {
  std::string_view text;
  simdjson::error_code err;
  switch (scalar(value, text, err)) {
    case Scalar::kNull:
      return err ? json_error(err, "kind") : true;
    case Scalar::kString:
      if (err) return json_error(err, "kind");
      break;
    case Scalar::kNumber:
      if (err || !is_json_number(text)) return json_error(simdjson::NUMBER_ERROR, "kind");
      keep_detail_error("kind is a number, expected a string");
      return true;
    case Scalar::kOther:
      return detail_wrong_type(value, "kind", "a string");
  }
  if (options_.group_field == "kind") p_.group = text;
  if (!kind_of(text, p_.kind))
    keep_detail_error(fmt::format("kind is not one of server, client, producer, consumer, internal: {}", quoted(text)));
  return true;
}

// An object of key -> value: strings, numbers (their text as written), true
// and false as they are, objects and arrays as their JSON text; null adds
// nothing. The texts are views into the line or the parser's string buffer.
bool SpanParser::parse_tags(Value value, std::string_view field, std::vector<AttributeRecord>& out) {
  json_type type;
  if (auto err = value.type().get(type)) return json_error(err, field);
  if (type == json_type::null) {
    std::string_view text;
    simdjson::error_code err;
    if (scalar(value, text, err) == Scalar::kNull && !err) return true;
    return json_error(simdjson::N_ATOM_ERROR, field);
  }
  if (type != json_type::object) return detail_wrong_type(value, field, "an object");
  object obj;
  if (auto err = value.get_object().get(obj)) return json_error(err, field);
  for (auto field_result : obj) {
    simdjson::ondemand::field f;
    if (auto err = std::move(field_result).get(f)) return json_error(err, field);
    std::string_view key;
    if (auto err = field_key(f, key)) return json_error(err, field);
    Value v = f.value();
    const std::string_view token = trim_right(v.raw_json_token());
    if (token.empty()) return json_error(simdjson::TAPE_ERROR, field);
    switch (token.front()) {
      case '"': {
        std::string_view text;
        simdjson::error_code err;
        (void)scalar(v, text, err);
        if (err) return json_error(err, field);
        out.push_back({key, text, ValueType::kString});
        break;
      }
      case 'n':
        if (token != "null") return json_error(simdjson::N_ATOM_ERROR, field);
        if (auto err = consume_scalar(v, token)) return json_error(err, field);
        break;
      case 't':
      case 'f': {
        bool b = false;
        if (v.get_bool().get(b)) return json_error(simdjson::T_ATOM_ERROR, field);
        out.push_back({key, b ? std::string_view("true") : std::string_view("false"), ValueType::kBool});
        break;
      }
      case '{': {
        object nested;
        std::string_view text;
        if (auto err = v.get_object().get(nested)) return json_error(err, field);
        if (auto err = nested.raw_json().get(text)) return json_error(err, field);
        text = trim_right(text);
        if (!strict_json(text, brackets_)) {
          json_failed_ = true;
          return fail(fmt::format("invalid JSON in {}", field));
        }
        out.push_back({key, text, ValueType::kJson});
        break;
      }
      case '[': {
        simdjson::ondemand::array nested;
        std::string_view text;
        if (auto err = v.get_array().get(nested)) return json_error(err, field);
        if (auto err = nested.raw_json().get(text)) return json_error(err, field);
        text = trim_right(text);
        if (!strict_json(text, brackets_)) {
          json_failed_ = true;
          return fail(fmt::format("invalid JSON in {}", field));
        }
        out.push_back({key, text, ValueType::kJson});
        break;
      }
      default: {
        const JsonNumber number = json_number_syntax(token);
        if (number == JsonNumber::kInvalid) return json_error(simdjson::NUMBER_ERROR, field);
        (void)consume_scalar(v, token);  // a number no double holds is still JSON
        out.push_back({key, token, number == JsonNumber::kInteger ? ValueType::kInt : ValueType::kDouble});
        break;
      }
    }
  }
  return true;
}

bool SpanParser::parse_logs(Value value) {
  json_type type;
  if (auto err = value.type().get(type)) return json_error(err, "logs");
  if (type == json_type::null) {
    std::string_view text;
    simdjson::error_code err;
    if (scalar(value, text, err) == Scalar::kNull && !err) return true;
    return json_error(simdjson::N_ATOM_ERROR, "logs");
  }
  if (type != json_type::array) return detail_wrong_type(value, "logs", "an array");
  simdjson::ondemand::array arr;
  if (auto err = value.get_array().get(arr)) return json_error(err, "logs");
  std::size_t index = 0;
  for (auto element : arr) {
    Value entry;
    if (auto err = element.get(entry)) return json_error(err, "logs");
    if (auto err = entry.type().get(type)) return json_error(err, "logs");
    if (type != json_type::object) {
      if (!detail_wrong_type(entry, fmt::format("logs[{}]", index), "an object")) return false;
    } else {
      object obj;
      if (auto err = entry.get_object().get(obj)) return json_error(err, "logs");
      if (!parse_log(obj, index)) return false;
    }
    ++index;
  }
  return true;
}

// One `logs` entry: {timestamp, event (or name, or message), fields}.
bool SpanParser::parse_log(object obj, std::size_t index) {
  static constexpr std::string_view kKeys[] = {"timestamp", "event", "name", "message", "fields"};
  const std::string where = fmt::format("logs[{}]", index);
  PendingEvent event;
  event.attributes_begin = static_cast<std::uint32_t>(event_attributes_.size());
  bool has_time = false;
  std::string_view names[3];  // event, name, message
  unsigned seen = 0;
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    if (auto err = std::move(field_result).get(field)) return json_error(err, where);
    std::string_view key;
    if (auto err = field_key(field, key)) return json_error(err, where);
    Value value = field.value();
    unsigned k = 0;
    while (k < std::size(kKeys) && key != kKeys[k]) ++k;
    if (k < std::size(kKeys)) {
      if (seen & (1u << k)) keep_detail_error(fmt::format("{}: duplicate key \"{}\"", where, key));
      seen |= 1u << k;
    }
    bool ok = true;
    switch (k) {
      case 0: ok = note_detail(read_number(value, where + ".timestamp", event.time, has_time)); break;
      case 1:
      case 2:
      case 3: ok = note_detail(read_label(value, fmt::format("{}.{}", where, key), names[k - 1])); break;
      case 4: ok = parse_tags(value, where + ".fields", event_attributes_); break;
      default:
        if (auto err = skip_unused(value)) return json_error(err, where);
        break;
    }
    if (!ok) return false;
  }
  if (!has_time) keep_detail_error(fmt::format("{} has no timestamp", where));
  if (has_time && event.time.negative && event.time.digits != 0) keep_detail_error(where + ".timestamp is negative");
  event.name = !names[0].empty() ? names[0] : !names[1].empty() ? names[1] : names[2];
  event.attributes_count = static_cast<std::uint32_t>(event_attributes_.size()) - event.attributes_begin;
  events_.push_back(event);
  return true;
}

// A scalar's text without a type() call or a copy: judged by its first byte,
// a string's content is a view into the line unless it has escapes.
SpanParser::Scalar SpanParser::scalar(Value& value, std::string_view& text, simdjson::error_code& err) {
  err = simdjson::SUCCESS;
  const std::string_view token = trim_right(value.raw_json_token());
  if (token.empty()) return Scalar::kOther;
  switch (token.front()) {
    case '"': {
      text = token.substr(1, token.size() >= 2 ? token.size() - 2 : 0);
      if (!plain_string(text)) {
        for (const char c : text) {
          if (static_cast<unsigned char>(c) < 0x20) {
            err = simdjson::UNESCAPED_CHARS;  // JSON strings may not hold raw control bytes
            return Scalar::kString;
          }
        }
        err = value.get_string().get(text);  // has escapes
      } else {
        err = consume_scalar(value, token);
      }
      return Scalar::kString;
    }
    case 'n':
      if (token != "null") return Scalar::kOther;
      err = consume_scalar(value, token);
      return Scalar::kNull;
    case '{':
    case '[':
    case 't':
    case 'f':
      return Scalar::kOther;
    default:
      text = token;
      // JSON numbers have no leading zeros ("0425"); in a string they are fine.
      if (const std::size_t d = token.front() == '-'; token.size() > d + 1 && token[d] == '0' &&
                                                      token[d + 1] >= '0' && token[d + 1] <= '9') {
        err = simdjson::NUMBER_ERROR;
      }
      // Our own reading decides range ("1e400" is out of range, not bad JSON).
      (void)consume_scalar(value, token);
      return Scalar::kNumber;
  }
}

bool SpanParser::wrong_type(Value& value, std::string_view field, const char* expected) {
  json_type type;
  if (auto err = value.type().get(type)) return json_error(err, field);
  return fail(fmt::format("{} is {}, expected {}", field, type_name(type), expected));
}

// traceId and spanId pass nullable = false: null is a wrong type there,
// while a null parentSpanId means "no parent".
bool SpanParser::read_id(Value value, std::string_view field, std::string_view& out, bool nullable) {
  simdjson::error_code err;
  switch (scalar(value, out, err)) {
    case Scalar::kString:
      return err ? json_error(err, field) : true;
    case Scalar::kNumber:
      if (err || !parse_decimal(out)) return fail(fmt::format("invalid JSON: bad number in {}", field));
      return true;
    case Scalar::kNull:
      if (!nullable) return fail(fmt::format("{} is null, expected a string", field));
      out = {};
      return true;
    case Scalar::kOther:
      break;
  }
  return wrong_type(value, field, "a string");
}

bool SpanParser::read_label(Value value, std::string_view field, std::string_view& out) {
  // Labels accept the same shapes as ids: strings, numbers, null.
  return read_id(value, field, out);
}

bool SpanParser::read_number(Value value, std::string_view field, Decimal& out, bool& present) {
  std::string_view text;
  simdjson::error_code err;
  switch (scalar(value, text, err)) {
    case Scalar::kString:
      if (err) return json_error(err, field);
      break;
    case Scalar::kNumber:
      if (err) return json_error(err, field);
      break;
    case Scalar::kNull:
      present = false;
      return true;
    case Scalar::kOther:
      return wrong_type(value, field, "a number");
  }
  auto d = parse_decimal(text);
  if (!d) return fail(fmt::format("{} is not a number: {}", field, quoted(text)));
  out = *d;
  present = true;
  return true;
}

bool SpanParser::read_code(Value value, std::string_view field, std::int16_t& out) {
  Decimal d;
  bool present = false;
  if (!read_number(value, field, d, present)) return false;
  if (!present) {
    out = kNoCode;
    return true;
  }
  auto v = to_integer(d);
  if (!v && d.exponent < 0) {
    // Shown as the decimal it is, e.g. "200.5".
    std::string digits = std::to_string(d.digits);
    const auto frac = static_cast<std::size_t>(-d.exponent);
    if (digits.size() <= frac) digits.insert(0, frac - digits.size() + 1, '0');
    digits.insert(digits.size() - frac, ".");
    return fail(fmt::format("{} is not an integer: \"{}{}\"", field, d.negative ? "-" : "", digits));
  }
  if (!v || *v < 0 || *v > 999) return fail(fmt::format("{} is out of range (0-999)", field));
  out = static_cast<std::int16_t>(*v);
  return true;
}

bool SpanParser::finish(SpanRecord& out) {
  const Pending& p = p_;
  const std::string origin = origin_note(p);
  auto absent = [&](std::string_view field, unsigned key) {
    return fmt::format("{} {}{}", (p.present & (1u << key)) ? "empty" : "missing", field, origin);
  };
  if (p.trace_id.empty()) {
    if (p.other_format && !p.has_span_fields)
      return fail(fmt::format("{} is not read yet: give one native span object per line", p.other_format));
    if (!p.has_message && !p.has_span_fields && !(p.present & (1u << kTraceId)))
      return fail("not a span: no traceId, spanId or Filebeat message");
    return fail(absent("traceId", kTraceId));
  }
  if (p.span_id.empty()) {
    if (p.other_format && !(p.present & (1u << kSpanId)))
      return fail(fmt::format("{} is not read yet: give one native span object per line", p.other_format));
    return fail(absent("spanId", kSpanId));
  }
  if (!detail_error_.empty()) return fail(detail_error_ + origin);
  if (!p.has_timestamp) return fail("missing timestamp" + origin);
  if (p.timestamp.negative) return fail("timestamp is negative" + origin);
  if (p.has_duration && p.duration.negative && p.duration.digits != 0)
    return fail("duration is negative" + origin);

  const TimeUnit unit =
      options_.time_unit == TimeUnit::kAuto ? unit_from_magnitude(p.timestamp) : options_.time_unit;
  auto start = to_nanos(p.timestamp, unit);
  if (!start) return fail("timestamp is out of range" + origin);
  Nanos duration = 0;
  if (p.has_duration) {
    auto d = to_nanos(p.duration, unit);
    if (!d || *d > std::numeric_limits<Nanos>::max() - *start) return fail("duration is out of range" + origin);
    duration = *d;
  }

  out.trace_id = p.trace_id;
  out.span_id = p.span_id;
  out.parent_id = is_no_parent(p.parent_id) ? std::string_view() : p.parent_id;
  out.host = p.host.empty() ? p.envelope_host : p.host;
  out.service = p.service;
  out.operation = p.operation.empty() ? p.name : p.operation;
  out.group = p.group;
  out.start = *start;
  out.duration = duration;
  out.http_code = p.http_code;
  out.calls.clear();
  out.calls.reserve(calls_.size());
  std::size_t index = 0;
  for (const PendingCall& c : calls_) {
    CallRecord& r = out.calls.emplace_back();  // in place (see flat_calls); out is not used when this fails
    r.span_id = c.span_id;
    r.host = c.host;
    r.http_code = c.http_code;
    auto cs = c.has_start ? to_nanos(c.start, unit) : std::optional<Nanos>(*start);
    auto cd = c.has_duration ? to_nanos(c.duration, unit) : std::optional<Nanos>(0);
    if (!cs || *cs < 0) return fail(fmt::format("requestStacks[{}].subTimestamp is out of range", index));
    if (!cd || *cd < 0 || *cd > std::numeric_limits<Nanos>::max() - *cs)
      return fail(fmt::format("requestStacks[{}].subDuration is {}", index,
                              cd && *cd < 0 ? "negative" : "out of range"));
    r.start = *cs;
    r.duration = *cd;
    ++index;
  }

  out.clear_details();
  if (p.kind == SpanKind::kUnset && attributes_.empty() && events_.empty()) return true;  // nearly always
  out.kind = p.kind;
  out.attributes.assign(attributes_.begin(), attributes_.end());
  for (const AttributeRecord& a : attributes_)
    if (error_tag(a)) out.status = StatusCode::kError;
  out.event_attributes.assign(event_attributes_.begin(), event_attributes_.end());
  out.events.reserve(events_.size());
  index = 0;
  for (const PendingEvent& e : events_) {
    auto t = to_nanos(e.time, unit);
    if (!t || *t < 0) return fail(fmt::format("logs[{}].timestamp is out of range{}", index, origin));
    out.events.push_back({*t, e.name, e.attributes_begin, e.attributes_count});
    ++index;
  }
  return true;
}

}  // namespace ta
