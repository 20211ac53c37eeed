// The fast reading of a native span line: one pass over the bytes, for the
// common shape (a flat object of strings, numbers and nulls, requestStacks an
// array of flat objects, no escapes). It accepts only valid JSON and fills
// exactly what the careful reading would; anything else (escapes, nested
// unknown values, Filebeat envelopes, repeated keys, the optional `kind`,
// `tags` and `logs`, any error) makes it give up, and the line is read again
// the careful way, which also words the reason. The fuzz target checks that
// both readings agree.
//
// Where the time goes on a typical line: the known keys are recognised by
// their bytes where they lie (no scan for the closing quote, no second
// compare), strings are scanned 32 bytes at a time, and whole numbers are
// converted while they are read.
#include <simdjson.h>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE4_1__)
#include <smmintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cstring>

#include "parse/span_keys.h"
#include "parse/span_parser.h"
#include "util/decimal_digits.h"

namespace ta {
namespace {

bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// The closing quote of a string whose body starts at p, or nullptr when the
// string needs the careful reading (an escape, a control byte, invalid UTF-8,
// or no closing quote before e). Bytes past e up to the parser's padding are
// readable.
const char* string_end(const char* p, const char* e) {
  const char* begin = p;
  bool high = false;
  for (;;) {
#if defined(__AVX2__)
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    // Signed compare: bytes >= 0x80 are negative, so they count as "below space" too.
    const __m256i hit = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')),
                                                        _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))),
                                        _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v));
    const auto mask = static_cast<unsigned>(_mm256_movemask_epi8(hit));
    if (mask == 0) {
      p += 32;
      if (p >= e) return nullptr;
      continue;
    }
    p += __builtin_ctz(mask);
#elif defined(__SSE2__)
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
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

#if defined(__SSE4_1__)
// Shuffles that move the first n of 16 digit values to the end of a
// register, zeros before them (a lane of 0x80 reads as zero).
constexpr auto kRightAlign = [] {
  std::array<std::array<std::uint8_t, 16>, 17> t{};
  for (std::size_t n = 0; n <= 16; ++n)
    for (std::size_t i = 0; i < 16; ++i) t[n][i] = i < 16 - n ? 0x80 : static_cast<std::uint8_t>(i - (16 - n));
  return t;
}();
#endif

// A whole number of 1 to 19 digits at p, in JSON's spelling (no leading
// zero), read and converted in one pass; the end of its digits, or nullptr
// when the text is anything else (the general reading then takes it). The
// bytes after p are readable (the parser's padding).
const char* whole_number(const char* p, std::uint64_t& out) {
#if defined(__SSE4_1__)
  // Up to 16 digits at once: their count from a compare, then their value
  // (digits16_value) once they are moved to the end of a register.
  const __m128i values = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8('0'));
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(values, _mm_set1_epi8(-1)), _mm_cmplt_epi8(values, _mm_set1_epi8(10)));
  const auto n = static_cast<unsigned>(__builtin_ctz(~static_cast<unsigned>(_mm_movemask_epi8(digit))));  // 0 to 16
  if (n == 0 || (*p == '0' && n > 1)) return nullptr;
  const __m128i aligned =
      _mm_shuffle_epi8(values, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kRightAlign[n].data())));
  std::uint64_t v = digits16_value(aligned);
  const char* q = p + n;
  for (; n == 16 && q < p + 19 && is_digit(*q); ++q) v = v * 10 + static_cast<std::uint64_t>(*q - '0');
#else
  if (!is_digit(*p)) return nullptr;
  if (*p == '0') {
    if (is_digit(p[1])) return nullptr;
    out = 0;
    return p + 1;
  }
  std::uint64_t v = 0;
  const char* q = p;
  for (; q < p + 19 && is_digit(*q); ++q) v = v * 10 + static_cast<std::uint64_t>(*q - '0');
#endif
  if (is_digit(*q)) return nullptr;
  out = v;
  return q;
}

// A read position in one line; every step returns false to give up. The
// line is followed by the parser's padding, so a few bytes may be looked at
// past its end; what is found there is never taken.
struct Cursor {
  const char* p;
  const char* e;

  // White space within a line: a line's text never holds a '\n', and a
  // line read in place (SpanParser::parse_in_place) must not run past its
  // own. The byte at e is readable (padding): no white space, nearly always,
  // costs one compare.
  void ws() {
    if (static_cast<unsigned char>(*p) > ' ') return;  // none: the usual case
    // One space, as after the colons of the seed's lines (`"host": "…"`).
    if (*p == ' ' && p < e && static_cast<unsigned char>(p[1]) > ' ') {
      ++p;
      return;
    }
    constexpr std::uint64_t kWhite = (1ull << ' ') | (1ull << '\t') | (1ull << '\r');
    for (unsigned c; (c = static_cast<unsigned char>(*p)) <= ' ' && (kWhite >> c & 1) && p < e;) ++p;
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
  // A number that cannot go on at q: followed by none of its characters.
  static bool number_stops(const char* q) { return !is_digit(*q) && *q != '.' && *q != 'e' && *q != 'E'; }
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
    // Nearly always a whole number, bare or quoted (the seed's lines quote
    // theirs): each is read once, where it starts.
    std::uint64_t v;
    if (*p == '"') {
      if (const char* q = whole_number(p + 1, v); q && q < e && *q == '"') {
        out = Decimal{v, 0, false};
        present = true;
        p = q + 1;
        return true;
      }
    } else if (const char* q = whole_number(p, v); q && q <= e && number_stops(q)) {
      out = Decimal{v, 0, false};
      present = true;
      p = q;
      return true;
    }
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
    if (d.exponent == 0 && !d.negative) {  // the whole number value() nearly always gives
      if (d.digits > 999) return false;
      out = static_cast<std::int16_t>(d.digits);
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
    if (p < e && *p == ',') {  // the usual case: no white space
      ++p;
      if (p < e && *p == '"') {
        more = true;
        return true;
      }
      ws();
      more = true;
      return true;
    }
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
  // A key spelled exactly as `quoted` (its text, the closing quote and the
  // colon), at p just past the opening quote: p moves past the colon.
  template <std::size_t N>
  bool key_is(const char (&quoted)[N]) {
    if (std::memcmp(p, quoted, N - 1) != 0 || p + (N - 1) > e) return false;
    p += N - 1;
    return true;
  }
};

// A span key spelled in full where it lies ("traceId":), at c.p just past the
// opening quote; kOtherKey when it is another key or spelled otherwise (white
// space before the colon): the general reading of keys then takes it.
SpanKey known_span_key(Cursor& c) {
  switch (*c.p) {
    case 't':
      if (c.key_is("traceId\":")) return kTraceId;
      if (c.key_is("timestamp\":")) return kTimestamp;
      break;
    case 's':
      if (c.key_is("spanId\":")) return kSpanId;
      if (c.key_is("service\":")) return kService;
      break;
    case 'p':
      if (c.key_is("parentSpanId\":")) return kParentSpanId;
      break;
    case 'd':
      if (c.key_is("duration\":")) return kDuration;
      break;
    case 'h':
      if (c.key_is("httpCode\":")) return kHttpCode;
      if (c.key_is("host\":")) return kHost;
      break;
    case 'o':
      if (c.key_is("operation\":")) return kOperation;
      break;
    case 'r':
      if (c.key_is("requestStacks\":")) return kRequestStacks;
      break;
    case 'n':
      if (c.key_is("name\":")) return kName;
      break;
    default:
      break;
  }
  return kOtherKey;
}

// Keys the careful reading treats as parts of a Filebeat event.
bool envelope_key(std::string_view key) {
  return key == "message" || key == "json" || key == "log" || key == "host.name" || key == "log.file.path" ||
         key == "log.offset";
}

// requestStacks: null, or an array of flat objects.
constexpr std::size_t kHugeCalls = 1u << 20;  // bytes of calls past which their list is reserved at once

enum CallKey : unsigned { kSubSpanId = 1, kSubTimestamp = 2, kSubDuration = 4, kSubHttpCode = 8, kSubHost = 16 };

// A requestStacks entry's key: bit 0 for one no field uses, 32 when it
// cannot be read; c.p moves past the colon.
unsigned call_key(Cursor& c) {
  if (c.p[0] == 's' && c.p[1] == 'u' && c.p[2] == 'b') {
    c.p += 3;
    switch (*c.p) {
      case 'S':
        if (c.key_is("SpanId\":")) return kSubSpanId;
        break;
      case 'T':
        if (c.key_is("Timestamp\":")) return kSubTimestamp;
        break;
      case 'D':
        if (c.key_is("Duration\":")) return kSubDuration;
        break;
      case 'H':
        if (c.key_is("HttpCode\":")) return kSubHttpCode;
        if (c.key_is("Host\":")) return kSubHost;
        break;
      default:
        break;
    }
    c.p -= 3;
  }
  --c.p;  // back to the opening quote: the key the general way
  std::string_view key;
  if (!c.string(key) || !c.eat(':')) return 32;
  switch (key.size()) {  // told apart by length first
    case 9:
      if (key == "subSpanId") return kSubSpanId;
      break;
    case 12:
      if (key == "subTimestamp") return kSubTimestamp;
      break;
    case 11:
      if (key == "subDuration") return kSubDuration;
      if (key == "subHttpCode") return kSubHttpCode;
      break;
    case 7:
      if (key == "subHost") return kSubHost;
      break;
    default:
      break;
  }
  return 0;
}

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
    // Filled in place (a call built aside and copied in is read back across
    // the stores of its fields, and waits for them); a line that fails is
    // parsed again from scratch.
    PendingCall& call = calls.emplace_back();
    unsigned seen = 0;
    for (bool fields = true; fields;) {
      if (c.p >= c.e || *c.p != '"') return false;
      ++c.p;
      const unsigned bit = call_key(c);
      c.ws();  // `"subSpanId": "…"`, as the seed's own lines space them
      bool ok = false;
      switch (bit) {
        case kSubSpanId: ok = c.id(call.span_id); break;
        case kSubTimestamp: ok = c.value(call.start, call.has_start); break;
        case kSubDuration: ok = c.value(call.duration, call.has_duration); break;
        case kSubHttpCode: ok = c.code(call.http_code); break;
        case kSubHost: ok = c.id(call.host); break;
        case 0: ok = c.skip(); break;
        default: return false;
      }
      if (!ok || (seen & bit) || !c.next('}', fields)) return false;
      seen |= bit;
    }
    if (call.span_id.empty()) return false;
    if (!c.next(']', more)) return false;
  }
  return true;
}

}  // namespace

bool SpanParser::parse_flat(std::string_view line) {
  const char* end = line.data() + line.size();
  return flat_object(line.data(), end) == end;
}

const char* SpanParser::parse_in_place(const char* p, const char* e, SpanRecord& out) {
  if (!options_.fast_path) return nullptr;
  reset();
  const char* q = flat_object(p, e);
  if (!q || (q < e && *q != '\n') || !finish(out)) return nullptr;
  return q;
}

const char* SpanParser::flat_object(const char* from, const char* to) {
  Cursor c{from, to};
  c.ws();
  if (!c.eat('{') || c.p >= c.e || *c.p != '"') return nullptr;
  unsigned seen = 0;
  for (bool more = true; more;) {
    if (c.p >= c.e || *c.p != '"') return nullptr;
    ++c.p;
    SpanKey k = known_span_key(c);
    std::string_view key;
    if (k == kOtherKey) {
      --c.p;  // the key the general way
      if (!c.string(key) || !c.eat(':')) return nullptr;
      k = span_key(key, options_.group_field);
    } else {
      c.ws();
    }
    if (k != kOtherKey) {
      if (seen & (1u << k)) return nullptr;
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
      case kRequestStacks: ok = flat_calls(c, calls_); break;
      case kKind:
      case kTags:
      case kLogs: return nullptr;  // span details: the careful reading takes them
      case kOtherKey: ok = !envelope_key(key) && c.skip(); break;
    }
    if (!ok || !c.next('}', more)) return nullptr;
  }
  c.ws();
  p_.present |= seen;
  return p_.has_span_fields ? c.p : nullptr;
}

}  // namespace ta
