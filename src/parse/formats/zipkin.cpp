#include "parse/formats/zipkin.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "util/hash.h"
#include "util/trace_ids.h"

namespace ta {
namespace {

using json::Ref;
using json::Type;

// Microseconds that still fit in int64 nanoseconds (until the year 2262).
constexpr std::int64_t kMaxMicros = std::numeric_limits<Nanos>::max() / 1000;

struct Endpoint {
  std::string_view service, ipv4, ipv6;
  std::uint32_t port = 0;  // 0: not given (Zipkin's convention)
  bool empty() const { return service.empty() && ipv4.empty() && ipv6.empty() && port == 0; }
};

struct Tag {
  std::string_view key, value;
};

struct Annotation {
  std::int64_t micros = 0;
  std::string_view value;
};

// One span object as written, before the parts of a span are merged.
struct Part {
  std::size_t offset = 0;
  std::string_view trace_id, id, parent_id, name;
  SpanKind kind = SpanKind::kUnset;
  bool shared = false;
  std::int64_t timestamp = 0, duration = 0;  // µs; 0 is "not given", as in Zipkin
  Endpoint local, remote;
  std::uint32_t tags_begin = 0, tags_count = 0;
  std::uint32_t annotations_begin = 0, annotations_count = 0;
};

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// Parts that are one span: positions [begin, end) of the merge order.
struct Merged {
  std::uint32_t begin = 0, end = 0;
  std::uint32_t first = 0;  // the lowest input position among them
  std::string_view parent_id;
  SpanKind kind = SpanKind::kUnset;
  bool shared = false;
  std::uint32_t folded_into = kNone;  // the span it is a fragment of (see Reader::fold)
  // Its parts and those of the fragments folded into it, in merge order:
  // [parts_begin, parts_end) of Reader::gathered_.
  std::uint32_t parts_begin = 0, parts_end = 0;
};

const char* type_name(Ref v) {
  switch (v.type()) {
    case Type::kNull: return "null";
    case Type::kFalse:
    case Type::kTrue: return "a boolean";
    case Type::kNumber: return "a number";
    case Type::kString: return "a string";
    case Type::kArray: return "an array";
    case Type::kObject: return "an object";
  }
  return "a value";
}


bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool all_zeros(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

// A hex id as Zipkin's Span.Builder takes it: a string of at most
// `max_digits` hex digits. Sets `why` and returns false otherwise.
bool check_hex(Ref v, std::string_view field, std::size_t max_digits, std::string& why) {
  if (!v) {
    why = fmt::format("{} is missing", field);
  } else if (!v.is_string()) {
    why = fmt::format("{} is {}, not a hex string", field, type_name(v));
  } else if (v.text().empty()) {
    why = fmt::format("{} is empty", field);
  } else if (v.text().size() > max_digits) {
    why = fmt::format("{} {} is longer than {} hex digits", field, quoted_value(v.text()), max_digits);
  } else if (!std::all_of(v.text().begin(), v.text().end(), is_hex)) {
    why = fmt::format("{} {} is not hex", field, quoted_value(v.text()));
  } else {
    return true;
  }
  return false;
}

// Lower case, left-padded with '0' to `width` (Zipkin's padLeft); the input
// itself when it already is.
std::string_view padded_lower(std::string_view hex, std::size_t width, Scratch& keep) {
  const bool lower = std::none_of(hex.begin(), hex.end(), [](char c) { return c >= 'A' && c <= 'F'; });
  if (lower && hex.size() == width) return hex;
  std::string s(width - hex.size(), '0');
  for (char c : hex) s += c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
  return keep.keep(std::move(s));
}

// Span.normalizeTraceId: 16 or 32 digits, and a 32-digit id whose high half
// is zero is the 16-digit id.
std::string_view normalise_trace_id(std::string_view hex, Scratch& keep) {
  std::string_view id = padded_lower(hex, hex.size() <= 16 ? 16 : 32, keep);
  if (id.size() == 32 && all_zeros(id.substr(0, 16))) id.remove_prefix(16);
  return id;
}

// Zipkin times are whole microseconds, written as numbers (or, as gson also
// reads them, strings).
bool read_micros(Ref v, std::string_view field, std::int64_t& out, std::string& why) {
  std::optional<std::int64_t> micros = v.as_int64();
  if (!micros) {
    const std::optional<double> d = v.as_double();
    if (d && *d >= -9e15 && *d <= 9e15 && *d == static_cast<double>(static_cast<std::int64_t>(*d)))
      micros = static_cast<std::int64_t>(*d);
  }
  if (!micros) {
    why = v.is_number() || v.is_string()
              ? fmt::format("{} {} is not a whole number of microseconds", field, quoted_value(v.text()))
              : fmt::format("{} is {}, not a number of microseconds", field, type_name(v));
  } else if (*micros < 0) {
    why = fmt::format("{} {} is negative", field, *micros);
  } else if (*micros > kMaxMicros) {
    why = fmt::format("{} {} µs is beyond the year 2262", field, *micros);
  } else {
    out = *micros;
    return true;
  }
  return false;
}

// A string member, or nothing for null.
bool read_text(Ref v, std::string_view& out) {
  if (v.is_null()) return true;
  if (!v.is_string()) return false;
  out = v.text();
  return true;
}

bool read_port(Ref v, std::string_view field, std::uint32_t& out, std::string& why) {
  if (v.is_null()) return true;
  const std::optional<std::int64_t> port = v.as_int64();
  if (!port || *port > 0xffff) {
    why = fmt::format("{}.port {} is not a port number", field, quoted_value(v.text()));
    return false;
  }
  out = *port > 0 ? static_cast<std::uint32_t>(*port) : 0;  // Zipkin: <= 0 is "no port"
  return true;
}

bool read_endpoint(Ref v, std::string_view field, Endpoint& e, std::string& why) {
  if (v.is_null()) return true;
  if (!v.is_object()) {
    why = fmt::format("{} is {}, not an object", field, type_name(v));
    return false;
  }
  for (auto [key, value] : v.members()) {
    std::string_view* text = key == "serviceName" ? &e.service
                             : key == "ipv4"      ? &e.ipv4
                             : key == "ipv6"      ? &e.ipv6
                                                  : nullptr;
    if (text && !read_text(value, *text)) {
      why = fmt::format("{}.{} is {}, not a string", field, key, type_name(value));
      return false;
    }
    if (key == "port" && !read_port(value, field, e.port, why)) return false;
  }
  return true;
}

// One {timestamp, value}; `why` goes on from "annotations[i]".
bool read_annotation(Ref a, Annotation& out, std::string& why) {
  if (!a.is_object()) {
    why = fmt::format(" is {}, not an object", type_name(a));
    return false;
  }
  const Ref timestamp = a.get("timestamp"), value = a.get("value");
  if (!timestamp || !value) {
    why = fmt::format(" has no {}", timestamp ? "value" : "timestamp");
    return false;
  }
  if (!read_micros(timestamp, ".timestamp", out.micros, why)) return false;
  if (!value.is_string()) {
    why = fmt::format(".value is {}, not a string", type_name(value));
    return false;
  }
  out.value = value.text();
  return true;
}

bool parse_kind(std::string_view s, SpanKind& kind) {
  if (s == "CLIENT") {
    kind = SpanKind::kClient;
  } else if (s == "SERVER") {
    kind = SpanKind::kServer;
  } else if (s == "PRODUCER") {
    kind = SpanKind::kProducer;
  } else if (s == "CONSUMER") {
    kind = SpanKind::kConsumer;
  } else {
    return false;
  }
  return true;
}

// 0..999 written as 1 to 3 digits.
std::int16_t http_code(std::string_view s) {
  if (s.empty() || s.size() > 3) return kNoCode;
  int code = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return kNoCode;
    code = code * 10 + (c - '0');
  }
  return static_cast<std::int16_t>(code);
}

// Trace.EndpointTracker: parts of one span may each carry some of its local
// endpoint, but two different values mean two different spans.
class EndpointTracker {
 public:
  bool try_merge(const Endpoint& e) {
    if (clash(e_.service, e.service) || clash(e_.ipv4, e.ipv4) || clash(e_.ipv6, e.ipv6) ||
        (e_.port != 0 && e.port != 0 && e_.port != e.port))
      return false;
    fill(e_, e);
    return true;
  }
  // Endpoint.Builder#merge: fields still empty are taken from `from`.
  static void fill(Endpoint& to, const Endpoint& from) {
    if (to.service.empty()) to.service = from.service;
    if (to.ipv4.empty()) to.ipv4 = from.ipv4;
    if (to.ipv6.empty()) to.ipv6 = from.ipv6;
    if (to.port == 0) to.port = from.port;
  }

 private:
  static bool clash(std::string_view a, std::string_view b) { return !a.empty() && !b.empty() && a != b; }
  Endpoint e_;
};

// Finds the first of a set of local endpoints that does not clash with a
// given one (EndpointTracker's rule) in constant time, however many share a
// span id: each endpoint is filed under all 16 subsets of its 4 fields, and
// a query looks up the at most 16 ways a match can agree with it (each field
// it gives either equal or not given).
class EndpointIndex {
 public:
  void clear() { first_.clear(); }
  // `index` grows from call to call: a key keeps the first.
  void add(const Endpoint& e, std::uint32_t index) {
    for (unsigned fields = 0; fields <= kAll; ++fields) first_.emplace(key(fields, e, fields), index);
  }
  // The first endpoint that does not clash with `e`; with `same_service`,
  // the first of those whose service name is e's (both maybe not given).
  std::uint32_t find(const Endpoint& e, bool same_service) {
    const unsigned given = given_fields(e);
    const unsigned fixed = same_service ? kService : 0u;
    const unsigned free = given & ~fixed;
    std::uint32_t best = kNone;
    for (unsigned equal = free;; equal = (equal - 1) & free) {  // every subset of `free`
      const auto it = first_.find(key(given | fixed, e, equal | (given & fixed)));
      if (it != first_.end()) best = std::min(best, it->second);
      if (equal == 0) break;
    }
    return best;
  }

 private:
  static constexpr unsigned kService = 1, kIpv4 = 2, kIpv6 = 4, kPort = 8, kAll = 15;

  static unsigned given_fields(const Endpoint& e) {
    return (e.service.empty() ? 0u : kService) | (e.ipv4.empty() ? 0u : kIpv4) | (e.ipv6.empty() ? 0u : kIpv6) |
           (e.port == 0 ? 0u : kPort);
  }
  // The fields in `fields`, each as e has it when in `shown` and as "not
  // given" otherwise.
  const std::string& key(unsigned fields, const Endpoint& e, unsigned shown) {
    shown &= given_fields(e);
    key_.assign(1, static_cast<char>(fields));
    const std::array<std::string_view, 3> texts = {e.service, e.ipv4, e.ipv6};
    for (unsigned f = 0; f < texts.size(); ++f) {
      if (!(fields & (1u << f))) continue;
      if (!(shown & (1u << f))) {
        key_ += '\0';
        continue;
      }
      const auto size = static_cast<std::uint32_t>(texts[f].size());
      key_ += '\1';
      for (int shift = 0; shift < 32; shift += 8) key_ += static_cast<char>((size >> shift) & 0xff);
      key_ += texts[f];
    }
    if (fields & kPort) {
      key_ += (shown & kPort) ? '\1' : '\0';
      if (shown & kPort) {
        key_ += static_cast<char>(e.port & 0xff);
        key_ += static_cast<char>((e.port >> 8) & 0xff);
      }
    }
    return key_;
  }

  std::unordered_map<std::string, std::uint32_t, TextHash, std::equal_to<>> first_;  // key -> the first index filed under it
  std::string key_;
};

// Trace.nullSafeCompareTo: a missing field sorts last.
int compare_present(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : (a.empty() ? 1 : -1);
  return a.compare(b);
}

// Trace.compareEndpoint: no endpoint first, so that its data joins the
// first span with the same id and an endpoint.
int compare_endpoints(const Endpoint& l, const Endpoint& r) {
  if (l.empty() || r.empty()) return l.empty() == r.empty() ? 0 : (l.empty() ? -1 : 1);
  if (int c = compare_present(l.service, r.service)) return c;
  if (int c = compare_present(l.ipv4, r.ipv4)) return c;
  return compare_present(l.ipv6, r.ipv6);
}

// Trace.CLEANUP_COMPARATOR, across traces: by trace and span id, non-shared
// before shared, clients first among the non-shared, then local endpoint.
int compare_parts(const Part& l, const Part& r) {
  if (int c = l.trace_id.compare(r.trace_id)) return c;
  if (int c = l.id.compare(r.id)) return c;
  if (l.shared != r.shared) return l.shared ? 1 : -1;
  if (!l.shared) {
    const bool lc = l.kind == SpanKind::kClient, rc = r.kind == SpanKind::kClient;
    if (lc != rc) return lc ? -1 : 1;
  }
  return compare_endpoints(l.local, r.local);
}

class Reader {
 public:
  Reader(const AdapterOptions& options, RecordSink& sink) : options_(options), sink_(sink) {}
  void read(Ref value);

 private:
  void add_part(Ref span);
  bool read_part(Ref span, Part& p, std::string& why);
  bool read_member(std::string_view key, Ref value, Part& p, std::string& why);
  bool read_tags(Ref tags, std::string& why);
  bool read_annotations(Ref annotations, std::string& why);
  void join_trace_ids();
  std::vector<Merged> merge();
  void fold(std::vector<Merged>& spans);
  void emit(const Merged& m);
  void reject_all(std::string_view reason);
  void fill_attributes(const Merged& m, const Endpoint& remote);
  void fill_events(const Merged& m);

  const AdapterOptions& options_;
  RecordSink& sink_;
  std::vector<Part> parts_;
  std::vector<Tag> tags_;
  std::vector<Annotation> annotations_;
  std::vector<std::uint32_t> order_;  // parts_ positions in merge order
  std::vector<std::uint32_t> gathered_;  // parts_ positions span by span, fragments folded in (Merged::parts_begin)
  Scratch ids_;                       // normalised ids: alive for the whole read
  Scratch scratch_;                   // texts of the record being handed over
  SpanRecord record_;
  std::vector<std::uint32_t> members_;  // parts of the span being handed over, in input order
  std::vector<Tag> tag_buffer_;
  std::vector<Annotation> annotation_buffer_;
};

void Reader::read(Ref value) {
  if (value.is_array()) {
    parts_.reserve(value.size());
    for (Ref e : value.elements()) add_part(e);
  } else {
    add_part(value);
  }
  join_trace_ids();
  std::vector<Merged> spans = merge();
  fold(spans);
  std::erase_if(spans, [](const Merged& m) { return m.folded_into != kNone; });
  std::sort(spans.begin(), spans.end(), [](const Merged& a, const Merged& b) { return a.first < b.first; });
  for (const Merged& m : spans) emit(m);
}

void Reader::add_part(Ref span) {
  if (!span.is_object()) {
    sink_.reject(span.offset(), fmt::format("zipkin: a span is a JSON object, not {}", type_name(span)));
    return;
  }
  const std::size_t tags_size = tags_.size(), annotations_size = annotations_.size();
  Part p;
  std::string why;
  if (!read_part(span, p, why)) {
    tags_.resize(tags_size);
    annotations_.resize(annotations_size);
    sink_.reject(span.offset(), "zipkin: " + why);
    return;
  }
  parts_.push_back(p);
}

// Zipkin's v1 model (a span whose annotations carry endpoints, cs/sr/ss/cr,
// and binaryAnnotations for tags and addresses) is not read: read as v2 it
// lost its services, hosts, kinds and errors without a word.
constexpr std::string_view kVersion1 =
    "a Zipkin v1 span (annotations with endpoints, binaryAnnotations): only the v2 model is read; "
    "ask Zipkin's /api/v2 for the trace";

bool Reader::read_part(Ref span, Part& p, std::string& why) {
  p.offset = span.offset();
  p.tags_begin = static_cast<std::uint32_t>(tags_.size());
  p.annotations_begin = static_cast<std::uint32_t>(annotations_.size());
  Ref trace_id, id;
  for (auto [key, value] : span.members()) {
    if (key == "traceId") {
      trace_id = value;
    } else if (key == "id") {
      id = value;
    } else if (!value.is_null() && !read_member(key, value, p, why)) {
      return false;  // null is "not given" for every optional field, as in Zipkin
    }
  }
  if (!check_hex(trace_id, "traceId", 32, why) || !check_hex(id, "id", 16, why)) return false;
  p.trace_id = normalise_trace_id(trace_id.text(), ids_);
  if (all_zeros(p.trace_id)) {
    why = "traceId is all zeros";
    return false;
  }
  p.id = padded_lower(id.text(), 16, ids_);
  if (all_zeros(p.id)) {
    why = "id is all zeros";
    return false;
  }
  if (p.parent_id == p.id) p.parent_id = {};          // Span.Builder#build: no self-parent
  if (p.kind == SpanKind::kClient) p.shared = false;  // shared is the server's half only
  p.tags_count = static_cast<std::uint32_t>(tags_.size()) - p.tags_begin;
  p.annotations_count = static_cast<std::uint32_t>(annotations_.size()) - p.annotations_begin;
  return true;
}

bool Reader::read_member(std::string_view key, Ref value, Part& p, std::string& why) {
  if (key == "parentId") {
    if (!value.is_string() || !value.text().empty()) {  // "" is no parent, as in native lines
      if (!check_hex(value, "parentId", 16, why)) return false;
      if (!all_zeros(value.text())) p.parent_id = padded_lower(value.text(), 16, ids_);
    }
  } else if (key == "name") {
    if (!read_text(value, p.name)) {
      why = fmt::format("name is {}, not a string", type_name(value));
      return false;
    }
  } else if (key == "kind") {
    if (!value.is_string() || !parse_kind(value.text(), p.kind)) {
      why = value.is_string() ? fmt::format("kind {} is not CLIENT, SERVER, PRODUCER or CONSUMER", quoted_value(value.text()))
                              : fmt::format("kind is {}, not a string", type_name(value));
      return false;
    }
  } else if (key == "timestamp") {
    return read_micros(value, "timestamp", p.timestamp, why);
  } else if (key == "duration") {
    return read_micros(value, "duration", p.duration, why);
  } else if (key == "localEndpoint") {
    return read_endpoint(value, "localEndpoint", p.local, why);
  } else if (key == "remoteEndpoint") {
    return read_endpoint(value, "remoteEndpoint", p.remote, why);
  } else if (key == "tags") {
    return read_tags(value, why);
  } else if (key == "annotations") {
    return read_annotations(value, why);
  } else if (key == "binaryAnnotations") {
    why = kVersion1;
    return false;
  } else if (key == "shared") {
    if (!value.is_bool()) {
      why = fmt::format("shared is {}, not true or false", type_name(value));
      return false;
    }
    p.shared = value.is_true();
  }
  return true;
}

bool Reader::read_tags(Ref tags, std::string& why) {
  if (!tags.is_object()) {
    why = fmt::format("tags is {}, not an object", type_name(tags));
    return false;
  }
  for (auto [key, value] : tags.members()) {
    // Tag values are strings; a number is taken as written (gson reads it so).
    if (!value.is_string() && !value.is_number()) {
      why = fmt::format("tags.{} is {}, not a string", quoted_value(key), type_name(value));
      return false;
    }
    tags_.push_back({key, value.text()});
  }
  return true;
}

bool Reader::read_annotations(Ref annotations, std::string& why) {
  if (!annotations.is_array()) {
    why = fmt::format("annotations is {}, not an array", type_name(annotations));
    return false;
  }
  std::size_t i = 0;
  for (Ref a : annotations.elements()) {
    if (a.is_object() && a.get("endpoint")) {  // v1's core annotations (cs, sr, ss, cr) say where
      why = kVersion1;
      return false;
    }
    Annotation out;
    if (!read_annotation(a, out, why)) {
      why = fmt::format("annotations[{}]{}", i, why);
      return false;
    }
    annotations_.push_back(out);
    ++i;
  }
  return true;
}

// Zipkin (strictTraceId off) reads a 16-hex trace id as the trace whose
// 32-hex id ends in it: zipkin-js writes either for the same trace. The
// span store joins such ids across the whole input (util/trace_ids.h); a
// document joins its own first, as Zipkin does one answer's spans, so that
// the parts of a span given under either id merge. An id that several of
// the document's 32-hex ids end in stays, and the store says so.
void Reader::join_trace_ids() {
  std::unordered_map<std::string_view, std::string_view, TextHash> long_ids;  // low half -> id; "" when two differ
  for (const Part& p : parts_) {
    if (p.trace_id.size() != 32) continue;
    auto [it, added] = long_ids.emplace(p.trace_id.substr(16), p.trace_id);
    if (!added && it->second != p.trace_id) it->second = {};
  }
  if (long_ids.empty()) return;
  std::unordered_set<std::string_view, TextHash> noted;
  for (Part& p : parts_) {
    if (p.trace_id.size() != 16) continue;
    const auto it = long_ids.find(p.trace_id);
    if (it == long_ids.end() || it->second.empty()) continue;
    // Worded as the store's join (util/trace_ids.h), so that the two say it once.
    if (noted.insert(p.trace_id).second) sink_.note(joined_trace_note(p.trace_id, it->second));
    p.trace_id = it->second;
  }
}

// Trace#merge: in merge order, a part joins the span before it while the
// trace and span id and the shared flag are the same and the local endpoints
// do not clash. Then, as Zipkin does for instrumentation that forgets it, a
// server span right after a client span with its id is the shared half, and
// a shared half with no parent takes the client half's.
std::vector<Merged> Reader::merge() {
  order_.resize(parts_.size());
  for (std::uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) {
    const int c = compare_parts(parts_[a], parts_[b]);
    return c != 0 ? c < 0 : a < b;
  });
  std::vector<Merged> spans;
  for (std::uint32_t i = 0; i < order_.size();) {
    const Part& head = parts_[order_[i]];
    EndpointTracker tracker;
    tracker.try_merge(head.local);
    Merged m{i, i + 1, order_[i], head.parent_id, head.kind, head.shared};
    for (; m.end < order_.size(); ++m.end) {
      const Part& next = parts_[order_[m.end]];
      if (next.trace_id != head.trace_id || next.id != head.id || next.shared != head.shared ||
          !tracker.try_merge(next.local))
        break;
      m.first = std::min(m.first, order_[m.end]);
      if (m.parent_id.empty()) m.parent_id = next.parent_id;
      if (m.kind == SpanKind::kUnset) m.kind = next.kind;
    }
    if (!spans.empty()) {
      const Merged& last = spans.back();
      const Part& last_head = parts_[order_[last.begin]];
      if (last_head.trace_id == head.trace_id && last_head.id == head.id) {
        if (last.kind == SpanKind::kClient && m.kind == SpanKind::kServer && !m.shared) m.shared = true;
        if (m.shared && m.parent_id.empty()) m.parent_id = last.parent_id;
      }
    }
    spans.push_back(m);
    i = m.end;
  }
  return spans;
}

// Trace#merge keeps apart parts whose shared flag differs, so a fragment
// reported late without the flag (only tags or annotations, no timestamp)
// stays beside the shared server half it belongs to, as a span with no
// timestamp. Such a span is folded, as any fragment, into a span with its
// ids, a timestamp and a local endpoint that does not clash with its own:
// one with its service name if any, the first in merge order. A span with
// no such match is left to be rejected.
void Reader::fold(std::vector<Merged>& spans) {
  std::vector<Endpoint> locals(spans.size());
  std::vector<bool> timed(spans.size());
  for (std::size_t i = 0; i < spans.size(); ++i) {
    for (std::uint32_t k = spans[i].begin; k < spans[i].end; ++k) {
      const Part& p = parts_[order_[k]];
      EndpointTracker::fill(locals[i], p.local);
      if (p.timestamp != 0) timed[i] = true;
    }
  }
  EndpointIndex index;
  for (std::size_t run = 0, run_end = 0; run < spans.size(); run = run_end) {  // spans with the same ids
    const Part& head = parts_[order_[spans[run].begin]];
    bool any_timed = false, any_untimed = false;
    for (run_end = run; run_end < spans.size(); ++run_end) {
      const Part& p = parts_[order_[spans[run_end].begin]];
      if (p.trace_id != head.trace_id || p.id != head.id) break;
      (timed[run_end] ? any_timed : any_untimed) = true;
    }
    if (!any_timed || !any_untimed) continue;
    index.clear();
    for (std::size_t i = run; i < run_end; ++i)
      if (timed[i]) index.add(locals[i], static_cast<std::uint32_t>(i));
    for (std::size_t i = run; i < run_end; ++i) {
      if (timed[i]) continue;
      std::uint32_t into = index.find(locals[i], true);
      if (into == kNone) into = index.find(locals[i], false);
      if (into == kNone) continue;
      Merged& fragment = spans[i];
      Merged& m = spans[into];
      fragment.folded_into = into;
      m.first = std::min(m.first, fragment.first);
      if (m.parent_id.empty()) m.parent_id = fragment.parent_id;
      if (m.kind == SpanKind::kUnset) m.kind = fragment.kind;
    }
  }
  // Each span's parts, those folded in among them: filled span by span in
  // merge order, they stay in merge order.
  auto owner = [&](std::size_t i) -> Merged& {
    return spans[spans[i].folded_into != kNone ? spans[i].folded_into : i];
  };
  for (std::size_t i = 0; i < spans.size(); ++i) owner(i).parts_end += spans[i].end - spans[i].begin;
  std::uint32_t next = 0;
  for (Merged& m : spans) {
    m.parts_begin = next;
    next += std::exchange(m.parts_end, next);
  }
  gathered_.resize(next);
  for (std::size_t i = 0; i < spans.size(); ++i) {
    Merged& to = owner(i);
    for (std::uint32_t k = spans[i].begin; k < spans[i].end; ++k) gathered_[to.parts_end++] = order_[k];
  }
}

void Reader::reject_all(std::string_view reason) {
  for (std::uint32_t p : members_) sink_.reject(parts_[p].offset, std::string(reason));
}

void Reader::emit(const Merged& m) {
  members_.assign(gathered_.begin() + m.parts_begin, gathered_.begin() + m.parts_end);
  std::sort(members_.begin(), members_.end());
  const Part& head = parts_[order_[m.begin]];
  std::int64_t timestamp = 0, duration = 0;
  std::string_view name;
  Endpoint local, remote;
  for (std::uint32_t i = m.parts_begin; i < m.parts_end; ++i) {  // Span.Builder#merge: the first value given wins
    const Part& p = parts_[gathered_[i]];
    if (timestamp == 0) timestamp = p.timestamp;
    if (duration == 0) duration = p.duration;
    if (name.empty()) name = p.name;
    EndpointTracker::fill(local, p.local);
    EndpointTracker::fill(remote, p.remote);
  }
  const std::size_t parts = m.end - m.begin;  // nothing is folded into a span with no timestamp
  if (timestamp == 0) {
    // The parts of a span merge within one document (or line), not across
    // lines: a late fragment on a line of its own stands alone.
    reject_all(parts == 1 ? fmt::format("zipkin: span {} has no timestamp, and no other part of it in this document "
                                        "or line has one (parts on other lines are not merged)",
                                        head.id)
                          : fmt::format("zipkin: span {} has no timestamp in any of its {} parts, and no other part "
                                        "of it in this document or line has one (parts on other lines are not merged)",
                                        head.id, parts));
    return;
  }
  if (timestamp > kMaxMicros - duration) {
    reject_all(fmt::format("zipkin: span {} ends beyond the year 2262", head.id));
    return;
  }
  SpanRecord& r = record_;
  r.clear_details();
  r.calls.clear();
  r.trace_id = head.trace_id;
  r.span_id = head.id;
  r.parent_id = m.parent_id;
  r.host = !local.ipv4.empty() ? local.ipv4 : local.ipv6;
  r.service = local.service;
  r.operation = name;
  r.group = {};
  r.start = timestamp * 1000;
  r.duration = duration * 1000;
  r.http_code = kNoCode;
  r.kind = m.kind == SpanKind::kUnset ? SpanKind::kInternal : m.kind;  // no kind: a local span
  r.shared = m.shared;
  fill_attributes(m, remote);
  fill_events(m);
  sink_.span(r, parts_[m.first].offset);
  for (std::uint32_t p : members_)
    if (p != m.first) sink_.merged(parts_[p].offset);
  scratch_.clear();
}

// Tags of all parts, the later part winning a key (Span.Builder#merge's
// putAll), in key order (Zipkin keeps them in a TreeMap); then the remote
// endpoint.
void Reader::fill_attributes(const Merged& m, const Endpoint& remote) {
  tag_buffer_.clear();
  for (std::uint32_t i = m.parts_begin; i < m.parts_end; ++i) {
    const Part& p = parts_[gathered_[i]];
    tag_buffer_.insert(tag_buffer_.end(), tags_.begin() + p.tags_begin, tags_.begin() + p.tags_begin + p.tags_count);
  }
  std::stable_sort(tag_buffer_.begin(), tag_buffer_.end(), [](const Tag& a, const Tag& b) { return a.key < b.key; });
  SpanRecord& r = record_;
  // OpenTelemetry's Zipkin exporter writes the status as otel.status_code
  // (ERROR, OK), and its description, when there is one, as `error`:
  // otel.status_code decides when present (as OpenTelemetry's Zipkin
  // receiver reads it), else an `error` tag marks a failure.
  bool error_tag = false;
  std::string_view error_text;
  StatusCode otel = StatusCode::kUnset;
  for (std::size_t i = 0; i < tag_buffer_.size(); ++i) {
    if (i + 1 < tag_buffer_.size() && tag_buffer_[i + 1].key == tag_buffer_[i].key) continue;
    const Tag& t = tag_buffer_[i];
    r.attributes.push_back({t.key, t.value, ValueType::kString});
    if (t.key == "error") {
      error_tag = true;
      error_text = t.value;
    } else if (t.key == "otel.status_code") {
      otel = otel_status_code(t.value);
    } else if (t.key == "http.status_code" || (t.key == "http.response.status_code" && r.http_code == kNoCode)) {
      r.http_code = http_code(t.value);
    }
    if (!options_.group_field.empty() && t.key == options_.group_field) r.group = t.value;
  }
  r.status = otel != StatusCode::kUnset ? otel : error_tag ? StatusCode::kError : StatusCode::kUnset;
  if (r.status == StatusCode::kError) r.status_message = error_text;
  if (!remote.service.empty())
    r.attributes.push_back({"remoteEndpoint.serviceName", remote.service, ValueType::kString});
  if (!remote.ipv4.empty()) r.attributes.push_back({"remoteEndpoint.ipv4", remote.ipv4, ValueType::kString});
  if (!remote.ipv6.empty()) r.attributes.push_back({"remoteEndpoint.ipv6", remote.ipv6, ValueType::kString});
  if (remote.port != 0)
    r.attributes.push_back({"remoteEndpoint.port", scratch_.keep(std::to_string(remote.port)), ValueType::kInt});
}

// Annotations of all parts, sorted by time then value and without repeats,
// as Zipkin's Span keeps them.
void Reader::fill_events(const Merged& m) {
  annotation_buffer_.clear();
  for (std::uint32_t i = m.parts_begin; i < m.parts_end; ++i) {
    const Part& p = parts_[gathered_[i]];
    annotation_buffer_.insert(annotation_buffer_.end(), annotations_.begin() + p.annotations_begin,
                              annotations_.begin() + p.annotations_begin + p.annotations_count);
  }
  auto key = [](const Annotation& a) { return std::pair(a.micros, a.value); };
  std::sort(annotation_buffer_.begin(), annotation_buffer_.end(),
            [&](const Annotation& a, const Annotation& b) { return key(a) < key(b); });
  const auto end = std::unique(annotation_buffer_.begin(), annotation_buffer_.end(),
                               [&](const Annotation& a, const Annotation& b) { return key(a) == key(b); });
  for (auto it = annotation_buffer_.begin(); it != end; ++it) record_.events.push_back({it->micros * 1000, it->value});
}

bool is_span(Ref v) { return v.is_object() && v.get("traceId") && v.get("id"); }

}  // namespace

bool is_zipkin(json::Ref value) {
  if (value.is_array()) return value.size() > 0 && is_span(*value.elements().begin());
  return is_span(value);
}

void read_zipkin(json::Ref value, const AdapterOptions& options, RecordSink& sink) {
  Reader reader(options, sink);
  reader.read(value);
}

}  // namespace ta
