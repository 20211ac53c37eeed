#include "parse/formats/otlp.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "util/json_number.h"

namespace ta {
namespace {

using json::Ref;

constexpr std::uint64_t kMaxNanos = std::numeric_limits<Nanos>::max();

// OTLP numbers kinds and status codes in the order SpanKind and StatusCode
// list them. The names are accepted too: proto3 JSON allows them, though
// OTLP's own mapping asks for integers.
constexpr std::array<std::string_view, 6> kKindNames = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                                        "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                                        "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
constexpr std::array<SpanKind, 6> kKinds = {SpanKind::kUnset,  SpanKind::kInternal, SpanKind::kServer,
                                            SpanKind::kClient, SpanKind::kProducer, SpanKind::kConsumer};
constexpr std::array<std::string_view, 3> kStatusNames = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                                          "STATUS_CODE_ERROR"};
constexpr std::array<StatusCode, 3> kStatuses = {StatusCode::kUnset, StatusCode::kOk, StatusCode::kError};

// An enum field's number, or the position of its name; -1 for anything else
// (a value from a newer OTLP is left unset rather than rejected).
template <std::size_t N>
int enum_value(Ref value, const std::array<std::string_view, N>& names) {
  if (const auto n = value.as_int64(); n && *n >= 0 && *n < static_cast<std::int64_t>(N))
    return static_cast<int>(*n);
  for (std::size_t i = 0; i < N; ++i)
    if (value.is_string() && value.text() == names[i]) return static_cast<int>(i);
  return -1;
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    } else {
      out += ch;
    }
  }
  out += '"';
}

struct Typed {
  std::string_view text;
  ValueType type = ValueType::kString;
};

// A number written as a string (the collector writes int64 values so) is
// given back as a bare JSON number: only when it is one.
Typed number_value(std::string_view text) {
  switch (json_number_syntax(text)) {
    case JsonNumber::kInteger: return {text, ValueType::kInt};
    case JsonNumber::kReal: return {text, ValueType::kDouble};
    case JsonNumber::kInvalid: break;
  }
  return {text, ValueType::kString};  // e.g. doubleValue "NaN", which no JSON number holds
}

// key == name, for a name known when compiled: its memcmp is inlined.
template <std::size_t N>
bool is(std::string_view key, const char (&name)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), name, N - 1) == 0;
}

// An AnyValue's members, found in one pass over them (the first of a name
// wins, as Ref::get would give it); all false when it is not an object.
struct AnyFields {
  Ref string_value, int_value, double_value, bool_value, bytes_value, array_value, kvlist_value;
  explicit AnyFields(Ref any) {
    for (auto [key, value] : any.members()) {
      Ref* field = nullptr;
      switch (key.size()) {  // by length first: few names share one
        case 8: field = is(key, "intValue") ? &int_value : nullptr; break;
        case 9: field = is(key, "boolValue") ? &bool_value : nullptr; break;
        case 10: field = is(key, "arrayValue") ? &array_value : is(key, "bytesValue") ? &bytes_value : nullptr; break;
        case 11:
          field = is(key, "stringValue")   ? &string_value
                  : is(key, "doubleValue") ? &double_value
                  : is(key, "kvlistValue") ? &kvlist_value
                                         : nullptr;
          break;
        default: break;
      }
      if (field && !*field) *field = value;
    }
  }
};

// A KeyValue's key and value (the first of each).
struct KeyValue {
  Ref key, value;
  explicit KeyValue(Ref kv) {
    for (auto [name, v] : kv.members()) {
      if (is(name, "key")) {
        if (!key) key = v;
      } else if (is(name, "value")) {
        if (!value) value = v;
      }
    }
  }
};

// An AnyValue that is not an array or kvlist; nullopt when it holds none.
std::optional<Typed> scalar_value(const AnyFields& any) {
  if (Ref s = any.string_value) return Typed{s.text(), ValueType::kString};
  if (Ref i = any.int_value) return number_value(i.text());
  if (Ref d = any.double_value) return number_value(d.text());
  if (Ref b = any.bool_value) {
    return Typed{b.is_true() || b.text() == "true" ? "true" : "false", ValueType::kBool};
  }
  if (Ref b = any.bytes_value) return Typed{b.text(), ValueType::kString};  // base64, as proto3 JSON has it
  return std::nullopt;
}

struct Frame {
  Ref::Elements::iterator next, end;
  bool kvlist;
  bool first;
};

// Writes `any` as JSON; an array or kvlist is only opened (pushed), its
// elements follow from the caller's loop.
void open_value(Ref any, std::string& out, std::vector<Frame>& stack) {
  const AnyFields fields(any);
  const Ref array = fields.array_value;
  const Ref list = array ? array : fields.kvlist_value;
  if (list) {
    const Ref values = list.is_array() ? list : list.get("values");
    const Ref::Elements elements = values.elements();
    out += array ? '[' : '{';
    stack.push_back({elements.begin(), elements.end(), !array, true});
    return;
  }
  const std::optional<Typed> v = scalar_value(fields);
  if (!v) {
    out += "null";
  } else if (v->type == ValueType::kString) {
    append_quoted(out, v->text);
  } else {
    out += v->text;
  }
}

// arrayValue and kvlistValue nest without bound: their compact JSON text
// (["a",1], {"k":"v"}) is written with an explicit stack, never recursion.
std::string compact_json(Ref any) {
  std::string out;
  std::vector<Frame> stack;
  open_value(any, out, stack);
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (!(top.next != top.end)) {
      out += top.kvlist ? '}' : ']';
      stack.pop_back();
      continue;
    }
    Ref item = *top.next;
    ++top.next;
    if (!top.first) out += ',';
    top.first = false;
    if (top.kvlist) {
      append_quoted(out, item.get("key").text());
      out += ':';
      item = item.get("value");
    }
    open_value(item, out, stack);  // may push: `top` is not used after it
  }
  return out;
}

Typed attribute_value(Ref any, Scratch& scratch) {
  const AnyFields fields(any);
  if (fields.array_value || fields.kvlist_value) return {scratch.keep(compact_json(any)), ValueType::kJson};
  return scalar_value(fields).value_or(Typed{});
}

void read_attributes(Ref list, Scratch& scratch, std::vector<AttributeRecord>& out) {
  for (Ref element : list.elements()) {
    const KeyValue kv(element);
    if (!kv.key.is_string()) continue;  // not a KeyValue: nothing to name it by
    const Typed v = attribute_value(kv.value, scratch);
    out.push_back({kv.key.text(), v.text, v.type});
  }
}

std::int16_t http_code_of(const std::vector<AttributeRecord>& attributes) {
  for (const AttributeRecord& a : attributes) {
    if (a.key != "http.status_code" && a.key != "http.response.status_code") continue;
    int code = -1;
    const char* end = a.value.data() + a.value.size();
    const auto [stop, ec] = std::from_chars(a.value.data(), end, code);
    if (ec == std::errc() && stop == end && code >= 0 && code <= 999) return static_cast<std::int16_t>(code);
  }
  return kNoCode;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

bool hex_id(Ref id, std::size_t digits) { return id.is_string() && id.text().size() == digits && is_hex(id.text()); }

// A root's parentSpanId is absent (OTel JS), "" (the collector) or, from
// some converters, all zeros.
bool names_no_parent(Ref parent) {
  if (!parent || parent.is_null()) return true;
  return parent.is_string() && parent.text().find_first_not_of('0') == std::string_view::npos;
}

// What every span of one resourceSpans element shares.
struct Resource {
  std::string_view service;
  std::string_view host;
  Ref attributes;
};

Resource read_resource(Ref resource) {
  Resource r;
  r.attributes = resource.get("attributes");
  std::string_view host_name, pod, instance;
  for (Ref element : r.attributes.elements()) {
    const KeyValue kv(element);
    const std::string_view key = kv.key.text();
    std::string_view* slot = key == "service.name"          ? &r.service
                             : key == "host.name"           ? &host_name
                             : key == "k8s.pod.name"        ? &pod
                             : key == "service.instance.id" ? &instance
                                                            : nullptr;
    if (!slot) continue;
    if (const std::optional<Typed> v = scalar_value(AnyFields(kv.value))) *slot = v->text;
  }
  r.host = !host_name.empty() ? host_name : !pod.empty() ? pod : instance;
  return r;
}

class OtlpReader {
 public:
  OtlpReader(const AdapterOptions& options, RecordSink& sink) : options_(options), sink_(sink) {}
  void read(Ref document);

 private:
  void read_scopes(Ref scopes, std::string_view field, const Resource& resource);
  void read_span(Ref span, const Resource& resource);
  bool fill(Ref span, const Resource& resource);
  bool read_id(Ref id, std::string_view field, std::size_t digits, std::string_view& out);
  bool read_nanos(Ref value, std::string_view field, Nanos& out);
  void read_events(Ref events);
  void read_links(Ref links);
  std::string_view group_of(const Resource& resource);
  void reset_record(const Resource& resource);
  bool fail(std::string reason) {
    error_ = std::move(reason);
    return false;
  }
  void reject(Ref at, std::string reason) { sink_.reject(at.offset(), std::move(reason)); }

  const AdapterOptions& options_;
  RecordSink& sink_;
  SpanRecord record_;
  Scratch scratch_;
  std::string error_;
};

void OtlpReader::read(Ref document) {
  const Ref list = document.get("resourceSpans");
  if (!list) return reject(document, "otlp: not an OTLP JSON document (no resourceSpans)");
  if (list.is_null()) return;  // an empty export
  if (!list.is_array()) return reject(list, "otlp: resourceSpans is not an array");
  for (Ref element : list.elements()) {
    if (!element.is_object()) {
      reject(element, "otlp: an element of resourceSpans is not an object");
      continue;
    }
    const Resource resource = read_resource(element.get("resource"));
    // Both are read: a span listed under neither would go uncounted.
    read_scopes(element.get("scopeSpans"), "scopeSpans", resource);
    read_scopes(element.get("instrumentationLibrarySpans"), "instrumentationLibrarySpans", resource);
  }
}

void OtlpReader::read_scopes(Ref scopes, std::string_view field, const Resource& resource) {
  if (!scopes || scopes.is_null()) return;
  if (!scopes.is_array()) return reject(scopes, fmt::format("otlp: {} is not an array", field));
  for (Ref scope : scopes.elements()) {
    if (!scope.is_object()) {
      reject(scope, fmt::format("otlp: an element of {} is not an object", field));
      continue;
    }
    const Ref spans = scope.get("spans");
    if (!spans || spans.is_null()) continue;
    if (!spans.is_array()) {
      reject(spans, fmt::format("otlp: {}[].spans is not an array", field));
      continue;
    }
    for (Ref span : spans.elements()) read_span(span, resource);
  }
}

void OtlpReader::read_span(Ref span, const Resource& resource) {
  if (!span.is_object()) return reject(span, "otlp: a span is not an object");
  scratch_.clear();
  if (fill(span, resource)) {
    sink_.span(record_, span.offset());
  } else {
    reject(span, std::move(error_));
  }
}

// A span's members, found in one pass over them (the first of a name wins,
// as Ref::get would give it).
struct SpanFields {
  Ref trace_id, span_id, parent, start, end, name, kind, status, attributes, events, links;
  explicit SpanFields(Ref span) {
    for (auto [key, value] : span.members()) {
      Ref* field = nullptr;
      switch (key.size()) {  // by length first: few names share one
        case 4: field = is(key, "name") ? &name : is(key, "kind") ? &kind : nullptr; break;
        case 5: field = is(key, "links") ? &links : nullptr; break;
        case 6: field = is(key, "spanId") ? &span_id : is(key, "status") ? &status : is(key, "events") ? &events : nullptr; break;
        case 7: field = is(key, "traceId") ? &trace_id : nullptr; break;
        case 10: field = is(key, "attributes") ? &attributes : nullptr; break;
        case 12: field = is(key, "parentSpanId") ? &parent : nullptr; break;
        case 15: field = is(key, "endTimeUnixNano") ? &end : nullptr; break;
        case 17: field = is(key, "startTimeUnixNano") ? &start : nullptr; break;
        default: break;
      }
      if (field && !*field) *field = value;
    }
  }
};

bool OtlpReader::fill(Ref span, const Resource& resource) {
  reset_record(resource);
  const SpanFields f(span);
  if (!read_id(f.trace_id, "traceId", 32, record_.trace_id)) return false;
  if (!read_id(f.span_id, "spanId", 16, record_.span_id)) return false;
  if (!names_no_parent(f.parent) && !read_id(f.parent, "parentSpanId", 16, record_.parent_id)) return false;
  Nanos end = 0;
  if (!read_nanos(f.start, "startTimeUnixNano", record_.start)) return false;
  if (!read_nanos(f.end, "endTimeUnixNano", end)) return false;
  if (end < record_.start)
    return fail("otlp: endTimeUnixNano is before startTimeUnixNano (the span ends before it starts)");
  record_.duration = end - record_.start;
  record_.operation = f.name.text();
  if (const int kind = enum_value(f.kind, kKindNames); kind >= 0) record_.kind = kKinds[kind];
  if (const int code = enum_value(f.status.get("code"), kStatusNames); code >= 0) record_.status = kStatuses[code];
  if (const Ref message = f.status.get("message"); message.is_string()) record_.status_message = message.text();
  read_attributes(f.attributes, scratch_, record_.attributes);
  record_.http_code = http_code_of(record_.attributes);
  read_events(f.events);
  read_links(f.links);
  if (!options_.group_field.empty()) record_.group = group_of(resource);
  return true;
}

// OTLP JSON writes ids in hex (any case), not in base64 as plain proto3 JSON
// would: a trace id is 16 bytes, a span id 8.
bool OtlpReader::read_id(Ref id, std::string_view field, std::size_t digits, std::string_view& out) {
  if (!id || id.is_null()) return fail(fmt::format("otlp: {} missing", field));
  if (!id.is_string()) return fail(fmt::format("otlp: {} is not a string", field));
  const std::string_view text = id.text();
  if (text.empty()) return fail(fmt::format("otlp: {} is empty", field));
  const std::optional<std::string_view> lower = hex_id_lower(text, scratch_);
  if (!lower)
    return fail(fmt::format("otlp: {} {} is not hex (OTLP JSON writes ids in hex, not base64)", field, quoted_value(text)));
  if (text.size() != digits)
    return fail(fmt::format("otlp: {} {} has {} hex digits, not {}", field, quoted_value(text), text.size(), digits));
  out = *lower;
  return true;
}

bool OtlpReader::read_nanos(Ref value, std::string_view field, Nanos& out) {
  if (!value || value.is_null()) return fail(fmt::format("otlp: {} missing", field));
  const std::optional<std::uint64_t> n = value.as_uint64();
  if (!n) return fail(fmt::format("otlp: {} {} is not a whole number of nanoseconds", field, quoted_value(value.text())));
  if (*n > kMaxNanos) return fail(fmt::format("otlp: {} {} is past the year 2262 (int64 nanoseconds)", field, *n));
  out = static_cast<Nanos>(*n);
  return true;
}

void OtlpReader::read_events(Ref events) {
  for (Ref e : events.elements()) {
    if (!e.is_object()) continue;
    EventRecord event;
    // An event whose time cannot be read stays in its span, at its start.
    const std::optional<std::uint64_t> time = e.get("timeUnixNano").as_uint64();
    event.time = time && *time <= kMaxNanos ? static_cast<Nanos>(*time) : record_.start;
    event.name = e.get("name").text();
    event.attributes_begin = static_cast<std::uint32_t>(record_.event_attributes.size());
    read_attributes(e.get("attributes"), scratch_, record_.event_attributes);
    event.attributes_count = static_cast<std::uint32_t>(record_.event_attributes.size()) - event.attributes_begin;
    record_.events.push_back(event);
  }
}

void OtlpReader::read_links(Ref links) {
  for (Ref link : links.elements()) {
    const Ref trace_id = link.get("traceId");
    const Ref span_id = link.get("spanId");
    if (!hex_id(trace_id, 32) || !hex_id(span_id, 16)) continue;  // names no span: nothing to show
    record_.links.push_back(
        {lower_hex_id(trace_id.text(), scratch_), lower_hex_id(span_id.text(), scratch_), LinkType::kLink});
  }
}

// A resource attribute (deployment.environment, k8s.namespace.name) groups
// as well as a span's own; the span's wins.
std::string_view OtlpReader::group_of(const Resource& resource) {
  for (const AttributeRecord& a : record_.attributes)
    if (a.key == options_.group_field) return a.value;
  for (Ref element : resource.attributes.elements()) {
    const KeyValue kv(element);
    if (kv.key.text() == options_.group_field) return attribute_value(kv.value, scratch_).text;
  }
  return {};
}

void OtlpReader::reset_record(const Resource& resource) {
  record_.clear_details();
  record_.calls.clear();
  record_.trace_id = record_.span_id = record_.parent_id = record_.operation = record_.group = {};
  record_.host = resource.host;
  record_.service = resource.service;
  record_.start = record_.duration = 0;
  record_.http_code = kNoCode;
}

}  // namespace

namespace {

// Jaeger's query API v3 (`/api/v3/traces/…`) answers with the OTLP request
// under "result".
json::Ref unwrapped(json::Ref value) {
  if (value.is_object() && !value.get("resourceSpans"))
    if (const json::Ref result = value.get("result"); result.is_object() && result.get("resourceSpans"))
      return result;
  return value;
}

}  // namespace

bool is_otlp(json::Ref value) {
  value = unwrapped(value);
  return value.is_object() && value.get("resourceSpans");
}

void read_otlp(json::Ref value, const AdapterOptions& options, RecordSink& sink) {
  OtlpReader(options, sink).read(unwrapped(value));
}

}  // namespace ta
