// The fast reading of a native span line: one pass over the bytes, for the
// common shape (a flat object of strings, numbers and nulls, requestStacks an
// array of flat objects, no escapes). It accepts only valid JSON and fills
// exactly what the careful reading would; anything else (escapes, nested
// unknown values, Filebeat envelopes, repeated keys, any error) makes it give
// up, and the line is read again the careful way, which also words the
// reason. The fuzz target checks that both readings agree.
#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstring>

#include "parse/span_keys.h"
#include "parse/span_parser.h"

namespace ta {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The closing quote of a string whose body starts at p, or nullptr when the
// string needs the careful reading (an escape, a control byte, invalid UTF-8,
// or no closing quote before e). Bytes past e up to the parser's padding are
// readable.
const char* string_end(const char* p, const char* e) {
  const char* begin = p;
  bool high = false;
  for (;;) {
#if defined(__SSE2__)
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compare: bytes >= 0x80 are negative, so they count as "below space" too.
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                     _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask == 0) {
      p += 16;
      if (p >= e) return nullptr;
      continue;
    }
    p += __builtin_ctz(mask);
#else
    while (p < e && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20 &&
           static_cast<unsigned char>(*p) < 0x80)
      ++p;
#endif
    if (p >= e) return nullptr;
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') {
      if (high && !simdjson::validate_utf8(begin, static_cast<std::size_t>(p - begin))) return nullptr;
      return p;
    }
    if (c < 0x80) return nullptr;  // '\\' or a control byte
    high = true;
    ++p;
  }
}

// The end of a JSON number starting at p (RFC 8259 grammar), or nullptr.
const char* number_end(const char* p, const char* e) {
  if (p < e && *p == '-') ++p;
  if (p >= e) return nullptr;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (p < e && is_digit(*p)) ++p;
  } else {
    return nullptr;
  }
  if (p < e && *p == '.') {
    const char* digits = ++p;
    while (p < e && is_digit(*p)) ++p;
    if (p == digits) return nullptr;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < e && (*p == '+' || *p == '-')) ++p;
    const char* digits = p;
    while (p < e && is_digit(*p)) ++p;
    if (p == digits) return nullptr;
  }
  return p;
}

// parse_decimal, with the common case (up to 19 plain digits) done inline;
// the result is the same.
bool decimal(std::string_view s, Decimal& out) {
  if (!s.empty() && s.size() <= 19) {
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (i == s.size()) {
      out = Decimal{v, 0, false};
      return true;
    }
  }
  auto d = parse_decimal(s);
  if (!d) return false;
  out = *d;
  return true;
}

// A read position in one line; every step returns false to give up.
struct Cursor {
  const char* p;
  const char* e;

  void ws() {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) ++p;
  }
  bool eat(char c) {
    ws();
    if (p >= e || *p != c) return false;
    ++p;
    ws();
    return true;
  }
  bool literal(const char* word, std::size_t n) {
    if (static_cast<std::size_t>(e - p) < n || std::memcmp(p, word, n) != 0) return false;
    p += n;
    return true;
  }
  bool string(std::string_view& out) {  // at the opening quote
    const char* q = string_end(p + 1, e);
    if (!q) return false;
    out = std::string_view(p + 1, static_cast<std::size_t>(q - p - 1));
    p = q + 1;
    return true;
  }
  bool number(std::string_view& out) {
    const char* q = number_end(p, e);
    if (!q) return false;
    out = std::string_view(p, static_cast<std::size_t>(q - p));
    p = q;
    return true;
  }
  // An id or label: a string, a number (as its text) or, when nullable, null.
  bool id(std::string_view& out, bool nullable = true) {
    if (p >= e) return false;
    if (*p == '"') return string(out);
    if (*p == 'n') {
      out = {};
      return nullable && literal("null", 4);
    }
    Decimal ignored;
    return number(out) && decimal(out, ignored);
  }
  // A time or code: a number, a string holding one, or null (absent).
  bool value(Decimal& out, bool& present) {
    if (p >= e) return false;
    std::string_view text;
    if (*p == 'n') {
      present = false;
      return literal("null", 4);
    }
    if (!(*p == '"' ? string(text) : number(text)) || !decimal(text, out)) return false;
    present = true;
    return true;
  }
  bool code(std::int16_t& out) {
    Decimal d;
    bool present = false;
    if (!value(d, present)) return false;
    if (!present) {
      out = kNoCode;
      return true;
    }
    auto v = to_integer(d);
    if (!v || *v < 0 || *v > 999) return false;
    out = static_cast<std::int16_t>(*v);
    return true;
  }
  // A value no field uses: any scalar (containers go the careful way).
  bool skip() {
    if (p >= e) return false;
    std::string_view ignored;
    switch (*p) {
      case '"': return string(ignored);
      case 'n': return literal("null", 4);
      case 't': return literal("true", 4);
      case 'f': return literal("false", 5);
      default: return number(ignored);
    }
  }
  // After a member: true with more = true at ',', more = false at `close`.
  bool next(char close, bool& more) {
    ws();
    if (p >= e) return false;
    if (*p == ',') {
      ++p;
      ws();
      more = true;
      return true;
    }
    more = false;
    if (*p != close) return false;
    ++p;
    return true;
  }
};

// Keys the careful reading treats as parts of a Filebeat event.
bool envelope_key(std::string_view key) {
  return key == "message" || key == "json" || key == "log" || key == "host.name" || key == "log.file.path" ||
         key == "log.offset";
}

// requestStacks: null, or an array of flat objects.
constexpr std::size_t kHugeCalls = 1u << 20;  // bytes of calls past which their list is reserved at once

template <typename PendingCall>
bool flat_calls(Cursor& c, std::vector<PendingCall>& calls) {
  if (c.p < c.e && *c.p == 'n') return c.literal("null", 4);
  if (!c.eat('[')) return false;
  if (c.p < c.e && *c.p == ']') {
    ++c.p;
    return true;
  }
  // A huge line (a fan-out's root, a million calls) reserves room for
  // about as many calls as its bytes could hold, so the list is not copied
  // and its pages touched anew at every doubling; pages never written cost
  // no memory.
  if (const auto left = static_cast<std::size_t>(c.e - c.p); left >= kHugeCalls)
    calls.reserve(calls.size() + left / 64);
  for (bool more = true; more;) {
    if (!c.eat('{')) return false;
    PendingCall call;
    unsigned seen = 0;
    for (bool fields = true; fields;) {
      std::string_view key;
      if (c.p >= c.e || *c.p != '"' || !c.string(key) || !c.eat(':')) return false;
      bool ok = false;
      unsigned bit = 0;
      const std::size_t n = key.size();  // told apart by length first
      if (n == 9 && key == "subSpanId") {
        bit = 1;
        ok = c.id(call.span_id);
      } else if (n == 12 && key == "subTimestamp") {
        bit = 2;
        ok = c.value(call.start, call.has_start);
      } else if (n == 11 && key == "subDuration") {
        bit = 4;
        ok = c.value(call.duration, call.has_duration);
      } else if (n == 11 && key == "subHttpCode") {
        bit = 8;
        ok = c.code(call.http_code);
      } else if (n == 7 && key == "subHost") {
        bit = 16;
        ok = c.id(call.host);
      } else {
        ok = c.skip();
      }
      if (!ok || (seen & bit) || !c.next('}', fields)) return false;
      seen |= bit;
    }
    if (call.span_id.empty()) return false;
    calls.push_back(call);
    if (!c.next(']', more)) return false;
  }
  return true;
}

}  // namespace

bool SpanParser::parse_flat(std::string_view line) {
  Cursor c{line.data(), line.data() + line.size()};
  c.ws();
  if (!c.eat('{') || c.p >= c.e || *c.p != '"') return false;
  unsigned seen = 0;
  for (bool more = true; more;) {
    std::string_view key;
    if (c.p >= c.e || *c.p != '"' || !c.string(key) || !c.eat(':')) return false;
    const SpanKey k = span_key(key, options_.group_field);
    if (k != kOtherKey) {
      if (seen & (1u << k)) return false;
      seen |= 1u << k;
    }
    bool ok = false;
    switch (k) {
      case kTraceId:
        ok = c.id(p_.trace_id, false);
        p_.has_span_fields = true;
        break;
      case kSpanId:
        ok = c.id(p_.span_id, false);
        p_.has_span_fields = true;
        break;
      case kParentSpanId: ok = c.id(p_.parent_id); break;
      case kTimestamp: ok = c.value(p_.timestamp, p_.has_timestamp); break;
      case kDuration: ok = c.value(p_.duration, p_.has_duration); break;
      case kHttpCode: ok = c.code(p_.http_code); break;
      case kService: ok = c.id(p_.service); break;
      case kOperation: ok = c.id(p_.operation); break;
      case kHost: ok = c.id(p_.host); break;
      case kName: ok = c.id(p_.name); break;
      case kGroup: ok = c.id(p_.group); break;
      case kRequestStacks: ok = flat_calls(c, p_.calls); break;
      case kOtherKey: ok = !envelope_key(key) && c.skip(); break;
    }
    if (!ok || !c.next('}', more)) return false;
  }
  c.ws();
  p_.present |= seen;
  return c.p == c.e && p_.has_span_fields;
}

}  // namespace ta
