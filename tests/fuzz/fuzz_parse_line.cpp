// libFuzzer target: one input line through ta::SpanParser.
//
// The data is one line, copied into a buffer followed by simdjson's padding
// (zeroed, and nothing readable after it, so AddressSanitizer catches a read
// past the capacity the parser was given). Each parse is repeated and must
// give the same answer: the same success, the same reason, the same record;
// a fresh parser must agree with a long-used one, and the fast reading of
// flat lines with the careful reading alone. Accepted records must
// satisfy the span model's invariants, and an accepted line must be JSON as
// far as README promises (class Contract). With --group-by region, a valid
// JSON line must give the same record apart from `group`.
//
// Run through scripts/fuzz; a single input: build-fuzz/fuzz_parse_line FILE.
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parse/span_parser.h"

namespace {

// Stops the run with a reason; libFuzzer saves the input as a crash.
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_parse_line: check failed: %s\n", what);
  std::fflush(stderr);
  __builtin_trap();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

struct OwnedCall {
  std::string span_id, host;
  ta::Nanos start = 0, duration = 0;
  std::int16_t http_code = 0;
  bool operator==(const OwnedCall&) const = default;
};

struct OwnedAttribute {
  std::string key, value;
  ta::ValueType type = ta::ValueType::kString;
  bool operator==(const OwnedAttribute&) const = default;
};

struct OwnedEvent {
  ta::Nanos time = 0;
  std::string name;
  std::uint32_t attributes_begin = 0, attributes_count = 0;
  bool operator==(const OwnedEvent&) const = default;
};

// What one parse said, copied out of the parser's buffers.
struct Result {
  bool ok = false;
  std::string error;
  std::string trace_id, span_id, parent_id, host, service, operation, group;
  ta::Nanos start = 0, duration = 0;
  std::int16_t http_code = 0;
  std::vector<OwnedCall> calls;
  ta::SpanKind kind = ta::SpanKind::kUnset;
  ta::StatusCode status = ta::StatusCode::kUnset;
  std::string status_message;
  std::vector<OwnedAttribute> attributes, event_attributes;
  std::vector<OwnedEvent> events;
  bool details = false;
  bool operator==(const Result&) const = default;
};

#ifdef TA_FUZZ_LENIENT_JSON
constexpr bool kLenientJson = true;
#else
constexpr bool kLenientJson = false;
#endif

constexpr ta::Nanos kMax = std::numeric_limits<ta::Nanos>::max();

bool valid_code(std::int16_t c) { return c == ta::kNoCode || (c >= 0 && c <= 999); }

Result parse(ta::SpanParser& parser, std::string_view line, std::size_t capacity) {
  ta::SpanRecord rec;
  Result r;
  r.ok = parser.parse(line, capacity, rec);
  if (!r.ok) {
    r.error = parser.error();
    check(!r.error.empty(), "a rejected line has an empty reason");
    // Reasons go into the JSON report: SpanParser promises valid UTF-8.
    check(simdjson::validate_utf8(r.error.data(), r.error.size()), "the reason is not valid UTF-8");
    return r;
  }
  r.trace_id = rec.trace_id;
  r.span_id = rec.span_id;
  r.parent_id = rec.parent_id;
  r.host = rec.host;
  r.service = rec.service;
  r.operation = rec.operation;
  r.group = rec.group;
  r.start = rec.start;
  r.duration = rec.duration;
  r.http_code = rec.http_code;
  for (const ta::CallRecord& c : rec.calls)
    r.calls.push_back({std::string(c.span_id), std::string(c.host), c.start, c.duration, c.http_code});
  r.kind = rec.kind;
  r.status = rec.status;
  r.status_message = rec.status_message;
  for (const ta::AttributeRecord& a : rec.attributes) r.attributes.push_back({std::string(a.key), std::string(a.value), a.type});
  for (const ta::AttributeRecord& a : rec.event_attributes)
    r.event_attributes.push_back({std::string(a.key), std::string(a.value), a.type});
  for (const ta::EventRecord& e : rec.events)
    r.events.push_back({e.time, std::string(e.name), e.attributes_begin, e.attributes_count});
  r.details = rec.has_details();

  check(!r.trace_id.empty(), "accepted span has an empty traceId");
  check(!r.span_id.empty(), "accepted span has an empty spanId");
  check(r.parent_id != "0", "parentSpanId \"0\" was not turned into no parent");
  check(r.start >= 0, "start < 0");
  check(r.duration >= 0, "duration < 0");
  check(r.duration <= kMax - r.start, "start + duration overflows");
  check(valid_code(r.http_code), "httpCode out of 0-999");
  for (const OwnedCall& c : r.calls) {
    check(!c.span_id.empty(), "requestStacks entry with an empty subSpanId");
    check(c.start >= 0, "subTimestamp < 0");
    check(c.duration >= 0, "subDuration < 0");
    check(c.duration <= kMax - c.start, "subTimestamp + subDuration overflows");
    check(valid_code(c.http_code), "subHttpCode out of 0-999");
  }
  return r;
}

// Strict JSON syntax (RFC 8259) of a whole line, UTF-8 aside. Iterative,
// any depth.
bool valid_json(std::string_view s) {
  std::size_t i = 0;
  auto at = [&](char c) { return i < s.size() && s[i] == c; };
  auto digit = [&] { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  auto skip_ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  };
  auto string = [&] {  // at '"'
    ++i;
    while (i < s.size()) {
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
  auto number = [&] {
    if (at('-')) ++i;
    if (at('0')) {
      ++i;
    } else {
      if (!digit()) return false;
      while (digit()) ++i;
    }
    if (at('.')) {
      ++i;
      if (!digit()) return false;
      while (digit()) ++i;
    }
    if (at('e') || at('E')) {
      ++i;
      if (at('+') || at('-')) ++i;
      if (!digit()) return false;
      while (digit()) ++i;
    }
    return true;
  };
  auto key = [&] {  // a member's name and its ':'
    skip_ws();
    if (!at('"') || !string()) return false;
    skip_ws();
    if (!at(':')) return false;
    ++i;
    return true;
  };
  std::vector<char> open;  // '{' or '['
  bool want_value = true;
  for (;;) {
    skip_ws();
    if (want_value) {
      if (i >= s.size()) return false;
      const char c = s[i];
      if (c == '{' || c == '[') {
        ++i;
        skip_ws();
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
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!number()) return false;
      } else {
        bool literal = false;
        for (std::string_view word : {"true", "false", "null"})
          if (s.substr(i, word.size()) == word) {
            i += word.size();
            literal = true;
            break;
          }
        if (!literal) return false;
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

// What README promises about accepted lines ("Fields the tool uses are
// checked fully. Fields it does not use ... are checked for balanced
// brackets, closed strings and valid UTF-8"): strict JSON, except that the
// value of a field the parser does not read only needs closed strings and
// balanced brackets. Which fields are read follows SpanParser: span fields
// at the root, under `json` and in requestStacks entries; Filebeat's
// `message`, `host.name`, `log.offset`, `log.file.path` (nested or dotted).
// UTF-8 is checked apart.
class Contract {
 public:
  Contract(std::string_view line, std::string_view group_field) : s_(line), group_(group_field) {}

  bool holds() {
    skip_ws();
    if (!at('{') || !object(Ctx::kRoot)) return false;
    skip_ws();
    return i_ == s_.size();
  }

 private:
  enum class Ctx { kStrict, kRoot, kInner, kCall, kHost, kLog, kFile };

  bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool digit() const { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; }

  // A strict string; its unescaped text (ASCII escapes only) into `out`.
  bool string(std::string* out) {
    ++i_;  // '"'
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        if (out) *out += static_cast<char>(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      if (e == 'u') {
        unsigned v = 0;
        for (int k = 0; k < 4; ++k, ++i_) {
          if (i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_]))) return false;
          v = v * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(s_[i_]))
                                                 ? s_[i_] - '0'
                                                 : (std::tolower(static_cast<unsigned char>(s_[i_])) - 'a' + 10));
        }
        if (out) *out += v < 0x80 ? static_cast<char>(v) : '?';
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      } else if (out) {
        *out += e == '"' || e == '\\' || e == '/' ? e : '?';
      }
    }
    return false;
  }

  bool number() {
    if (at('-')) ++i_;
    if (at('0')) {
      ++i_;
    } else {
      if (!digit()) return false;
      while (digit()) ++i_;
    }
    if (at('.')) {
      ++i_;
      if (!digit()) return false;
      while (digit()) ++i_;
    }
    if (at('e') || at('E')) {
      ++i_;
      if (at('+') || at('-')) ++i_;
      if (!digit()) return false;
      while (digit()) ++i_;
    }
    return true;
  }

  // Any JSON value, strictly; objects inside follow `ctx`'s rules.
  bool value(Ctx ctx) {
    skip_ws();
    if (i_ >= s_.size()) return false;
    if (++depth_ > 5000) return false;
    bool ok = false;
    const char c = s_[i_];
    if (c == '{') {
      ok = object(ctx);
    } else if (c == '[') {
      ok = array(ctx == Ctx::kCall ? Ctx::kCall : Ctx::kStrict);
    } else if (c == '"') {
      ok = string(nullptr);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      ok = number();
    } else {
      for (std::string_view word : {"true", "false", "null"})
        if (s_.substr(i_, word.size()) == word) {
          i_ += word.size();
          ok = true;
          break;
        }
    }
    --depth_;
    return ok;
  }

  bool array(Ctx element) {
    ++i_;  // '['
    skip_ws();
    if (at(']')) return ++i_, true;
    for (;;) {
      if (!value(element)) return false;
      skip_ws();
      if (at(']')) return ++i_, true;
      if (!at(',')) return false;
      ++i_;
    }
  }

  // The value of a field the parser skips: closed strings, balanced
  // brackets (of any kind), up to the ',' or '}' that ends the field. A
  // backslash escapes the next byte even outside a string, as simdjson's
  // first stage sees it.
  bool skipped() {
    int depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\\') {
        ++i_;
      } else if (c == '"') {
        for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_)
          if (s_[i_] == '\\') ++i_;
        if (i_ >= s_.size()) return false;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return true;
        --depth;
      } else if (c == ',' && depth == 0) {
        return true;
      }
      ++i_;
    }
    return false;
  }

  bool field(Ctx ctx, const std::string& key) {
    skip_ws();
    const char next = i_ < s_.size() ? s_[i_] : '\0';
    auto one_of = [&](std::initializer_list<std::string_view> keys) {
      return std::find(keys.begin(), keys.end(), key) != keys.end();
    };
    switch (ctx) {
      case Ctx::kStrict: return value(Ctx::kStrict);
      case Ctx::kRoot:
      case Ctx::kInner:
        if (one_of({"traceId", "spanId", "parentSpanId", "timestamp", "duration", "httpCode", "service", "operation"}) ||
            (!group_.empty() && key == group_))
          return value(Ctx::kStrict);
        if (key == "requestStacks") return value(Ctx::kCall);
        if (ctx == Ctx::kRoot) {  // a Filebeat envelope's fields
          if (key == "message" && next == '"') return value(Ctx::kStrict);
          if (key == "json" && next == '{') return object(Ctx::kInner);
          if (key == "host" && next == '{') return object(Ctx::kHost);
          if (key == "log" && next == '{') return object(Ctx::kLog);
          if (one_of({"host.name", "log.file.path", "log.offset"})) return value(Ctx::kStrict);
        }
        if (one_of({"host", "name"})) return value(Ctx::kStrict);
        return skipped();
      case Ctx::kCall:
        if (one_of({"subSpanId", "subTimestamp", "subDuration", "subHttpCode", "subHost"})) return value(Ctx::kStrict);
        return skipped();
      case Ctx::kHost: return key == "name" ? value(Ctx::kStrict) : skipped();
      case Ctx::kLog:
        if (key == "offset") return value(Ctx::kStrict);
        if (key == "file" && next == '{') return object(Ctx::kFile);
        return skipped();
      case Ctx::kFile: return key == "path" ? value(Ctx::kStrict) : skipped();
    }
    return false;
  }

  bool object(Ctx ctx) {
    ++i_;  // '{'
    skip_ws();
    if (at('}')) return ++i_, true;
    for (;;) {
      skip_ws();
      std::string key;
      if (!at('"') || !string(&key)) return false;
      skip_ws();
      if (!at(':')) return false;
      ++i_;
      if (!field(ctx, key)) return false;
      skip_ws();
      if (at('}')) return ++i_, true;
      if (!at(',')) return false;
      ++i_;
    }
  }

  std::string_view s_;
  std::string_view group_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

ta::ParseOptions unit_options(ta::TimeUnit unit) {
  ta::ParseOptions o;
  o.time_unit = unit;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::size_t capacity = size + simdjson::SIMDJSON_PADDING;
  std::unique_ptr<char[]> buf(new char[capacity]);
  if (size) std::memcpy(buf.get(), data, size);
  std::memset(buf.get() + size, 0, simdjson::SIMDJSON_PADDING);
  const std::string_view line(buf.get(), size);

  // Long-lived parsers (their buffers carry over from the previous input, as
  // in a real run) parse twice; a fresh one must agree with them.
  static ta::SpanParser plain{ta::ParseOptions{}};
  const Result a = parse(plain, line, capacity);
  const Result b = parse(plain, line, capacity);
  check(a == b, "default options: a second parse of the same line differs");
  {
    ta::SpanParser fresh{ta::ParseOptions{}};
    check(parse(fresh, line, capacity) == a, "default options: a fresh parser differs from a used one");
  }
  check(std::memcmp(buf.get(), data, size) == 0, "the parser wrote into the line");

  // The one-pass reading of flat lines must say exactly what the careful
  // (simdjson) reading alone says: the same record, or the same reason.
  {
    ta::ParseOptions careful_only;
    careful_only.fast_path = false;
    static ta::SpanParser careful{careful_only};
    check(parse(careful, line, capacity) == a, "the fast reading differs from the careful one");
  }

  // An accepted line is JSON as far as README promises (see Contract).
  // (Build with -DTA_FUZZ_LENIENT_JSON to skip that check, e.g. to look for
  // other bugs while a known leniency is open.)
  const bool utf8 = simdjson::validate_utf8(line.data(), line.size());
  const bool json = utf8 && valid_json(line);
  check(!a.ok || kLenientJson || (utf8 && Contract(line, "").holds()),
        "default options: accepted a line broken in a field the parser reads, or with unbalanced brackets");

  // --group-by region: the field becomes `group`, and only that changes.
  static ta::SpanParser grouped{ta::ParseOptions{ta::TimeUnit::kAuto, "region"}};
  const Result c = parse(grouped, line, capacity);
  check(parse(grouped, line, capacity) == c, "group_field set: a second parse of the same line differs");
  check(!c.ok || kLenientJson || (utf8 && Contract(line, "region").holds()),
        "group_field set: accepted a line broken in a field the parser reads, or with unbalanced brackets");
  if (json && c.ok) {
    check(a.ok, "group_field set: a line rejected without it is accepted");
    Result c2 = c;
    c2.group.clear();
    check(c2 == a, "group_field set: the record differs beyond its group");
  } else if (json && c.error.find("region") == std::string::npos) {
    // Not about the group field: the same reason as without it.
    check(!a.ok && a.error == c.error, "group_field set: the line is rejected for another reason");
  }

  // --time-unit s|ms|us|ns, picked by the input's size.
  static ta::SpanParser forced[4] = {ta::SpanParser{unit_options(ta::TimeUnit::kSeconds)},
                                     ta::SpanParser{unit_options(ta::TimeUnit::kMillis)},
                                     ta::SpanParser{unit_options(ta::TimeUnit::kMicros)},
                                     ta::SpanParser{unit_options(ta::TimeUnit::kNanos)}};
  ta::SpanParser& unit = forced[size % 4];
  const Result e = parse(unit, line, capacity);
  check(parse(unit, line, capacity) == e, "time unit set: a second parse of the same line differs");
  check(!e.ok || kLenientJson || (utf8 && Contract(line, "").holds()),
        "time unit set: accepted a line broken in a field the parser reads, or with unbalanced brackets");
  return 0;
}
