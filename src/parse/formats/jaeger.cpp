#include "parse/formats/jaeger.h"
#include "util/hash.h"
#include "util/json_number.h"

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

namespace ta {
namespace {

using json::Ref;

constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
constexpr Nanos kMaxMicros = std::numeric_limits<Nanos>::max() / 1000;

Ref first_element(Ref array) {
  for (Ref e : array.elements()) return e;
  return {};
}

bool looks_like_span(Ref v) { return v.is_object() && v.get("spanID") && v.get("traceID"); }

bool looks_like_trace(Ref v) {
  if (!v.is_object()) return false;
  const Ref spans = v.get("spans");
  if (!spans.is_array()) return false;
  if (spans.size() == 0) return v.get("traceID") || v.get("processes");
  return static_cast<bool>(first_element(spans).get("spanID"));
}

// Shown inside reasons: cut after 40 characters, control bytes escaped.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  std::size_t chars = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80 && ++chars > 40) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Jaeger's own spelling of an id (its TraceID/SpanID String()): lower-case
// hex, 16 digits, or 32 for a trace id whose high half is not zero. Old
// files trimmed leading zeros; newer ones may write 32 digits for any trace.
// Returns why it is not an id, or nullptr.
const char* canonical_id(std::string_view hex, std::size_t max_digits, Scratch& scratch, std::string_view& out) {
  if (hex.empty()) return "is empty";
  bool lower = true;
  for (char c : hex) {
    if (!is_hex(c)) return "is not hex";
    if (c >= 'A' && c <= 'F') lower = false;
  }
  if (hex.size() > max_digits) return max_digits == 16 ? "has more than 16 hex digits" : "has more than 32 hex digits";
  const std::size_t zeros = std::min(hex.find_first_not_of('0'), hex.size());
  const std::size_t width = hex.size() - zeros > 16 ? 32 : 16;
  if (hex.size() == width && lower) {
    out = hex;
    return nullptr;
  }
  if (hex.size() > width) hex.remove_prefix(hex.size() - width);  // only zeros
  std::string id(width - hex.size(), '0');
  for (char c : hex) id += c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
  out = scratch.keep(std::move(id));
  return nullptr;
}

bool is_zero_id(std::string_view id) { return id.find_first_not_of('0') == std::string_view::npos; }

// Why `v` is not a whole, non-negative count of microseconds, or nullptr.
const char* read_micros(Ref v, Nanos& out) {
  if (!v) return "is missing";
  if (const auto signed_value = v.as_int64(); signed_value && *signed_value < 0) return "is negative";
  const auto us = v.as_uint64();
  if (!us) return "is not a whole number of microseconds";
  if (*us > static_cast<std::uint64_t>(kMaxMicros)) return "is too large";
  out = static_cast<Nanos>(*us) * 1000;
  return nullptr;
}

// A tag's value with its type. The declared type wins where the value fits
// it: storage-shaped spans send every value as a string, and int64 values
// beyond 2^53 always arrive as strings.
AttributeRecord typed_value(std::string_view key, Ref type, Ref value) {
  const std::string_view declared = type.is_string() ? type.text() : std::string_view();
  const std::string_view text = value ? value.text() : std::string_view();
  const bool number = value.is_number();
  const bool numeric_text = number || value.is_string();
  if (value.is_array() || value.is_object()) return {key, text, ValueType::kJson};
  if (!value || value.is_null()) return {key, {}, ValueType::kString};
  if (declared == "bool" && (value.is_bool() || (value.is_string() && (text == "true" || text == "false"))))
    return {key, text, ValueType::kBool};
  if (declared == "int64" && numeric_text && json_number_syntax(text) == JsonNumber::kInteger) return {key, text, ValueType::kInt};
  if ((declared == "int64" || declared == "float64") && numeric_text && is_json_number(text))
    return {key, text, ValueType::kDouble};
  if (declared == "string" || declared == "binary" || declared == "bool" || declared == "int64" ||
      declared == "float64" || value.is_string())
    return {key, text, ValueType::kString};
  // No or an unknown type: the JSON value's own.
  if (value.is_bool()) return {key, text, ValueType::kBool};
  return {key, text, json_number_syntax(text) == JsonNumber::kInteger ? ValueType::kInt : ValueType::kDouble};
}

SpanKind kind_of(std::string_view name) {
  if (same_letters(name, "server")) return SpanKind::kServer;
  if (same_letters(name, "client")) return SpanKind::kClient;
  if (same_letters(name, "producer")) return SpanKind::kProducer;
  if (same_letters(name, "consumer")) return SpanKind::kConsumer;
  if (same_letters(name, "internal")) return SpanKind::kInternal;
  return SpanKind::kUnset;
}

std::int16_t http_code_of(std::string_view digits) {
  if (digits.empty() || digits.size() > 3) return kNoCode;
  std::int16_t code = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return kNoCode;
    code = static_cast<std::int16_t>(code * 10 + (c - '0'));
  }
  return code;
}

struct Process {
  std::string_view service;
  std::string_view host;
  Ref tags;
};

bool is_scalar_text(Ref v) { return v.is_string() || v.is_number(); }

// Service from serviceName; host from the tag Jaeger clients set,
// `hostname`, else the resource attributes OpenTelemetry's SDKs give
// (Jaeger keeps them as process tags): `host.name`, else `k8s.pod.name`
// (as the OTLP reader takes them), else the Jaeger client's `ip`.
Process read_process(Ref p) {
  Process out;
  if (!p.is_object()) return out;
  if (const Ref name = p.get("serviceName"); name.is_string()) out.service = name.text();
  out.tags = p.get("tags");
  std::string_view hostname, host_name, pod, ip;
  for (Ref tag : out.tags.elements()) {
    const Ref key = tag.get("key");
    const Ref value = tag.get("value");
    if (!key.is_string() || !is_scalar_text(value)) continue;
    const std::string_view k = key.text();
    std::string_view* slot = k == "hostname"       ? &hostname
                             : k == "host.name"    ? &host_name
                             : k == "k8s.pod.name" ? &pod
                             : k == "ip"           ? &ip
                                                   : nullptr;
    if (slot && slot->empty()) *slot = value.text();
  }
  out.host = !hostname.empty() ? hostname : !host_name.empty() ? host_name : !pod.empty() ? pod : ip;
  return out;
}

std::string_view tag_text(Ref tags, std::string_view key) {
  for (Ref tag : tags.elements())
    if (const Ref k = tag.get("key"); k.is_string() && k.text() == key) {
      const Ref value = tag.get("value");
      return is_scalar_text(value) || value.is_bool() ? value.text() : std::string_view();
    }
  return {};
}

void reset(SpanRecord& r) {
  r.trace_id = r.span_id = r.parent_id = r.host = r.service = r.operation = r.group = {};
  r.start = r.duration = 0;
  r.http_code = kNoCode;
  r.calls.clear();
  r.clear_details();
}

// Where a list of tags sits, to name it in a reason: a span's `tags`, or
// the `fields` of its log number `log`.
struct TagsAt {
  std::size_t log = kNoIndex;
  std::string name(std::size_t i) const {
    return log == kNoIndex ? fmt::format("tags[{}]", i) : fmt::format("logs[{}].fields[{}]", log, i);
  }
  std::string list() const { return log == kNoIndex ? "tags" : fmt::format("logs[{}].fields", log); }
};

class Reader {
 public:
  Reader(const AdapterOptions& options, RecordSink& sink) : options_(options), sink_(sink) {}
  void document(Ref value);
  void finish();

 private:
  void trace_or_span(Ref value, std::string_view where, std::size_t index);
  void trace(Ref trace);
  void span(Ref span);
  bool read_span(Ref span);
  bool read_id(Ref value, std::size_t max_digits, std::string_view& out, std::string_view field,
               std::size_t reference = kNoIndex);
  bool read_times(Ref span);
  bool read_references(Ref span);
  bool read_reference(Ref ref, std::size_t index);
  bool read_tags(Ref tags, TagsAt at, std::vector<AttributeRecord>& out);
  bool read_logs(Ref logs);
  Process process_of(Ref span);
  void apply_tags(const Process& process);
  void api_errors(Ref errors);
  bool fail(std::string reason) {
    why_ = std::move(reason);
    return false;
  }

  const AdapterOptions& options_;
  RecordSink& sink_;
  Scratch scratch_;
  SpanRecord record_;
  std::string why_;
  std::unordered_map<std::string_view, Process, TextHash> processes_;  // of the trace being read
  std::size_t unknown_process_ = 0;
  std::string_view first_unknown_process_;
};

void Reader::document(Ref value) {
  if (value.is_array()) {
    std::size_t i = 0;
    for (Ref e : value.elements()) trace_or_span(e, "", i++);
    return;
  }
  if (!value.is_object()) {
    sink_.reject(value.offset(), "jaeger: not a Jaeger document (an object or an array of traces)");
    return;
  }
  const Ref data = value.get("data");
  if (!data) {
    if (value.get("spans")) {
      trace(value);
    } else {
      span(value);
    }
    return;
  }
  api_errors(value.get("errors"));
  if (data.is_object()) {
    trace_or_span(data, "data", kNoIndex);
  } else if (data.is_array()) {
    std::size_t i = 0;
    for (Ref e : data.elements()) trace_or_span(e, "data", i++);
  } else if (!data.is_null()) {
    sink_.reject(data.offset(), "jaeger: data is not an array of traces");
  }
}

void Reader::trace_or_span(Ref value, std::string_view where, std::size_t index) {
  if (value.is_object() && value.get("spans")) {
    trace(value);
  } else if (value.is_object() && (value.get("spanID") || value.get("traceID"))) {
    processes_.clear();
    span(value);
  } else {
    const std::string name = index == kNoIndex ? std::string(where) : fmt::format("{}[{}]", where, index);
    sink_.reject(value.offset(), fmt::format("jaeger: {} is not a trace (an object with spans)", name));
  }
}

void Reader::trace(Ref trace) {
  const Ref spans = trace.get("spans");
  if (!spans.is_array() && !spans.is_null()) {
    sink_.reject(trace.offset(), "jaeger: the trace's spans is not an array");
    return;
  }
  processes_.clear();
  for (auto [key, value] : trace.get("processes").members()) processes_.emplace(key, read_process(value));
  for (Ref s : spans.elements()) span(s);
}

void Reader::span(Ref s) {
  scratch_.clear();
  reset(record_);
  if (!s.is_object()) {
    sink_.reject(s.offset(), "jaeger: a span is not an object");
  } else if (read_span(s)) {
    sink_.span(record_, s.offset());
  } else {
    sink_.reject(s.offset(), "jaeger: " + why_);
  }
}

bool Reader::read_span(Ref s) {
  SpanRecord& r = record_;
  if (!read_id(s.get("traceID"), 32, r.trace_id, "traceID") || !read_id(s.get("spanID"), 16, r.span_id, "spanID"))
    return false;
  if (!read_references(s) || !read_times(s)) return false;
  const Ref operation = s.get("operationName");
  if (operation.is_string()) {
    r.operation = operation.text();
  } else if (operation && !operation.is_null()) {
    return fail("operationName is not a string");
  }
  const Process process = process_of(s);
  r.service = process.service;
  r.host = process.host;
  if (!read_tags(s.get("tags"), TagsAt{}, r.attributes) || !read_logs(s.get("logs"))) return false;
  apply_tags(process);
  return true;
}

bool Reader::read_id(Ref value, std::size_t max_digits, std::string_view& out, std::string_view field,
                     std::size_t reference) {
  const char* why = !value ? "is missing" : !value.is_string() ? "is not a string" : nullptr;
  if (!why) why = canonical_id(value.text(), max_digits, scratch_, out);
  if (!why) return true;
  const std::string shown = value.is_string() && !value.text().empty() ? ": " + quoted(value.text()) : "";
  if (reference == kNoIndex) return fail(fmt::format("{} {}{}", field, why, shown));
  return fail(fmt::format("references[{}].{} {}{}", reference, field, why, shown));
}

bool Reader::read_times(Ref s) {
  SpanRecord& r = record_;
  if (const char* why = read_micros(s.get("startTime"), r.start)) return fail(fmt::format("startTime {}", why));
  if (const char* why = read_micros(s.get("duration"), r.duration)) return fail(fmt::format("duration {}", why));
  if (r.start > std::numeric_limits<Nanos>::max() - r.duration) return fail("startTime + duration is too large");
  return true;
}

// The parent is the first CHILD_OF reference into the span's own trace, else
// the first FOLLOWS_FROM one, as Jaeger's storage reads them; references to
// other traces are never parents. Every other reference is a link. Files
// older than references carry parentSpanID.
bool Reader::read_references(Ref s) {
  SpanRecord& r = record_;
  const Ref refs = s.get("references");
  if (refs && !refs.is_array() && !refs.is_null()) return fail("references is not an array");
  std::size_t i = 0;
  for (Ref ref : refs.elements())
    if (!read_reference(ref, i++)) return false;
  std::size_t parent = r.links.size();
  for (LinkType type : {LinkType::kChildOf, LinkType::kFollowsFrom}) {
    for (std::size_t k = 0; k < r.links.size() && parent == r.links.size(); ++k)
      if (r.links[k].type == type && r.links[k].trace_id == r.trace_id) parent = k;
  }
  if (parent < r.links.size()) {
    r.parent_id = r.links[parent].span_id;
    r.parent_link = r.links[parent].type;
    r.links.erase(r.links.begin() + static_cast<std::ptrdiff_t>(parent));
    return true;
  }
  const Ref old = s.get("parentSpanID");
  if (!old || old.is_null() || (old.is_string() && old.text().empty())) return true;
  if (!read_id(old, 16, r.parent_id, "parentSpanID")) return false;
  if (is_zero_id(r.parent_id)) r.parent_id = {};
  return true;
}

bool Reader::read_reference(Ref ref, std::size_t index) {
  if (!ref.is_object()) return fail(fmt::format("references[{}] is not an object", index));
  LinkRecord link;
  if (!read_id(ref.get("traceID"), 32, link.trace_id, "traceID", index) ||
      !read_id(ref.get("spanID"), 16, link.span_id, "spanID", index))
    return false;
  if (is_zero_id(link.span_id)) return true;  // "no span": neither parent nor link
  const Ref type = ref.get("refType");
  const std::string_view name = type.is_string() ? type.text() : std::string_view();
  link.type = name == "CHILD_OF" ? LinkType::kChildOf : name == "FOLLOWS_FROM" ? LinkType::kFollowsFrom : LinkType::kLink;
  record_.links.push_back(link);
  return true;
}

bool Reader::read_tags(Ref tags, TagsAt at, std::vector<AttributeRecord>& out) {
  if (tags && !tags.is_array() && !tags.is_null()) return fail(fmt::format("{} is not an array", at.list()));
  std::size_t i = 0;
  for (Ref tag : tags.elements()) {
    if (!tag.is_object()) return fail(fmt::format("{} is not an object", at.name(i)));
    const Ref key = tag.get("key");
    if (!key.is_string()) return fail(fmt::format("{}.key {}", at.name(i), key ? "is not a string" : "is missing"));
    out.push_back(typed_value(key.text(), tag.get("type"), tag.get("value")));
    ++i;
  }
  return true;
}

// A log's name is its `event` field (OpenTracing's convention), else its
// `message`; every field stays an attribute of the event.
bool Reader::read_logs(Ref logs) {
  SpanRecord& r = record_;
  if (logs && !logs.is_array() && !logs.is_null()) return fail("logs is not an array");
  std::size_t i = 0;
  for (Ref log : logs.elements()) {
    if (!log.is_object()) return fail(fmt::format("logs[{}] is not an object", i));
    EventRecord event;
    if (const char* why = read_micros(log.get("timestamp"), event.time))
      return fail(fmt::format("logs[{}].timestamp {}", i, why));
    const std::size_t begin = r.event_attributes.size();
    if (!read_tags(log.get("fields"), TagsAt{i}, r.event_attributes)) return false;
    event.attributes_begin = static_cast<std::uint32_t>(begin);
    event.attributes_count = static_cast<std::uint32_t>(r.event_attributes.size() - begin);
    std::string_view message;
    for (std::size_t k = begin; k < r.event_attributes.size(); ++k) {
      const AttributeRecord& field = r.event_attributes[k];
      if (field.key == "event" && event.name.empty()) event.name = field.value;
      if (field.key == "message" && message.empty()) message = field.value;
    }
    if (event.name.empty()) event.name = message.empty() ? std::string_view("log") : message;
    r.events.push_back(event);
    ++i;
  }
  return true;
}

// An embedded process (storage shape) wins over processID. A processID the
// trace does not list leaves the service empty; it is told once, at the end.
Process Reader::process_of(Ref s) {
  if (const Ref embedded = s.get("process"); embedded.is_object()) return read_process(embedded);
  const Ref id = s.get("processID");
  if (id.is_string()) {
    if (const auto it = processes_.find(id.text()); it != processes_.end()) return it->second;
  }
  if (unknown_process_++ == 0) first_unknown_process_ = id.is_string() ? id.text() : std::string_view();
  return {};
}

// otel.status_code, when present, decides (as the OpenTelemetry translator
// reads Jaeger spans); else the OpenTracing `error` tag.
void Reader::apply_tags(const Process& process) {
  SpanRecord& r = record_;
  bool error_tag = false;
  StatusCode otel = StatusCode::kUnset;
  std::string_view description;
  const std::string_view group_field = options_.group_field;
  for (const AttributeRecord& a : r.attributes) {
    if (a.key == "error") {
      error_tag = error_tag || (a.type != ValueType::kJson && a.value == "true");
    } else if (a.key == "otel.status_code") {
      if (const StatusCode code = otel_status_code(a.value); code != StatusCode::kUnset) otel = code;
    } else if (a.key == "otel.status_description") {
      description = a.value;
    } else if (a.key == "span.kind" && r.kind == SpanKind::kUnset) {
      r.kind = kind_of(a.value);
    } else if ((a.key == "http.status_code" || a.key == "http.response.status_code") && r.http_code == kNoCode) {
      r.http_code = http_code_of(a.value);
    }
    if (!group_field.empty() && r.group.empty() && a.key == group_field) r.group = a.value;
  }
  r.status = otel != StatusCode::kUnset ? otel : error_tag ? StatusCode::kError : StatusCode::kUnset;
  if (r.status == StatusCode::kError && otel == StatusCode::kError) r.status_message = description;
  if (!group_field.empty() && r.group.empty()) r.group = tag_text(process.tags, group_field);
}

void Reader::api_errors(Ref errors) {
  if (!errors.is_array() || errors.size() == 0) return;
  const Ref msg = first_element(errors).get("msg");
  sink_.note(fmt::format("jaeger: the query API answered with {} error(s), the first: {}", errors.size(),
                         quoted(msg.is_string() ? msg.text() : std::string_view())));
}

void Reader::finish() {
  if (unknown_process_ == 0) return;
  const std::string which =
      first_unknown_process_.empty() ? std::string("none") : fmt::format("e.g. {}", quoted(first_unknown_process_));
  sink_.note(fmt::format("jaeger: {} span(s) name no process their trace lists (processID {}): service left empty",
                         unknown_process_, which));
}

}  // namespace

bool is_jaeger(json::Ref value) {
  if (value.is_array()) {
    const Ref first = first_element(value);
    return looks_like_trace(first) || looks_like_span(first);
  }
  if (!value.is_object()) return false;
  if (const Ref data = value.get("data")) {
    if (data.is_null()) return static_cast<bool>(value.get("errors"));
    if (!data.is_array()) return looks_like_trace(data);
    return data.size() == 0 || looks_like_trace(first_element(data));
  }
  return looks_like_trace(value) || looks_like_span(value);
}

void read_jaeger(json::Ref value, const AdapterOptions& options, RecordSink& sink) {
  Reader reader(options, sink);
  reader.document(value);
  reader.finish();
}

}  // namespace ta
