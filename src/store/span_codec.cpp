#include "store/span_codec.h"

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <charconv>
#include <iterator>
#include <cstring>

namespace ta {

namespace {

std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

#if defined(__SSSE3__)
// The 16 lowercase hex digits of the 8 bytes at p, high digit first.
__m128i hex_digits8(const std::uint8_t* p) {
  const __m128i digit_of = _mm_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f');
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  const __m128i v = _mm_cvtsi64_si128(static_cast<long long>(word));
  const __m128i nibbles = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0F)),
                                            _mm_and_si128(v, _mm_set1_epi8(0x0F)));
  return _mm_shuffle_epi8(digit_of, nibbles);
}

// Lanes of a shuffle that reads nothing (pshufb writes a zero byte).
constexpr char kZ = static_cast<char>(0x80);
#endif

// The digits of n packed hex bytes at dst. Reads up to 7 bytes past the
// packed ones and writes up to 16 digits past the last: the callers leave
// room (a slab's slack, the text's room for digits).
char* unpack_hex(const std::uint8_t* bytes, std::size_t n, char* dst) {
#if defined(__SSSE3__)
  for (std::size_t done = 0; done < n; done += 8)  // 8 bytes, 16 digits at a time
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * done), hex_digits8(bytes + done));
#else
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    dst[2 * i] = kDigits[bytes[i] >> 4];
    dst[2 * i + 1] = kDigits[bytes[i] & 0x0F];
  }
#endif
  return dst + 2 * n;
}

// Room for unpack_hex's last write of 16 digits, and for a read past a body.
constexpr std::size_t kDigitRoom = 16;

// The characters of the id (put_id's encoding) at p written at dst; moves p
// past the id and returns the character after it. Writes up to 16 more past
// it (unpack_hex), so a caller leaves 2 characters a byte of the id, and
// kDigitRoom and 2 more (a UUID's 17 bytes give 36 characters).
char* unpack_id(const std::uint8_t*& p, char* dst) {
  const std::uint64_t h = codec::get(p);
  const std::size_t n = h >> 1;
  if (!(h & 1)) {
    std::memcpy(dst, p, n);
    p += n;
    return dst + n;
  }
  if (h <= 33) {
    dst = unpack_hex(p, n, dst);
    p += n;
    return dst;
  }
  if (h == codec::kUuidId) {
#if defined(__SSSE3__)
    // Digits 0-15 and 16-31, placed around the dashes at 8, 13, 18 and 23.
    const __m128i low = hex_digits8(p), high = hex_digits8(p + 8);
    p += 16;
    const __m128i dashes0 = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, '-', 0, 0, 0, 0, '-', 0, 0);
    const __m128i dashes1 = _mm_setr_epi8(0, 0, '-', 0, 0, 0, 0, '-', 0, 0, 0, 0, 0, 0, 0, 0);
    const __m128i text0 = _mm_or_si128(
        _mm_shuffle_epi8(low, _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, kZ, 8, 9, 10, 11, kZ, 12, 13)), dashes0);
    const __m128i text1 = _mm_or_si128(
        _mm_or_si128(_mm_shuffle_epi8(low, _mm_setr_epi8(14, 15, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ)),
                     _mm_shuffle_epi8(high, _mm_setr_epi8(kZ, kZ, kZ, 0, 1, 2, 3, kZ, 4, 5, 6, 7, 8, 9, 10, 11))),
        dashes1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), text0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), text1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_srli_si128(high, 12));  // digits 28-31, then zeros
    return dst + 36;
#else
    static constexpr std::uint8_t kGroups[] = {4, 2, 2, 2, 6};  // bytes between dashes
    for (std::size_t g = 0; g < std::size(kGroups); ++g) {
      if (g > 0) *dst++ = '-';
      dst = unpack_hex(p, kGroups[g], dst);
      p += kGroups[g];
    }
    return dst;
#endif
  }
  if (h > codec::kOddHexId) {
    // Packed with a 0 digit after the last: written, then left out.
    const std::size_t bytes = (h - codec::kOddHexId) >> 1;
    dst = unpack_hex(p, bytes, dst) - 1;
    p += bytes;
    return dst;
  }
  const std::size_t packed = (h - codec::kDashedId) >> 1;
  dst = unpack_hex(p, packed, dst);
  p += packed;
  *dst++ = '-';
  return std::to_chars(dst, dst + 16, codec::get(p), 16).ptr;
}

struct Reader {
  const std::uint8_t* p;
  std::uint64_t get() { return codec::get(p); }
  // A scaled varint (codec::put_scaled): the value, and its unit in
  // nanoseconds.
  std::uint64_t get_scaled(std::uint64_t& unit) {
    const std::uint8_t b = *p++;
    std::uint64_t v;
    unsigned bits;
    if (b & 1) {
      v = (b >> 1) & 0x3F;
      bits = 6;
      unit = codec::kMilli;
    } else {
      v = (b >> 2) & 0x1F;
      bits = 5;
      unit = b & 2 ? codec::kMicro : 1;
    }
    if (b & 0x80) v |= get() << bits;
    return v;
  }
  Nanos offset() {
    std::uint64_t unit;
    const std::int64_t x = unzigzag(get_scaled(unit));
    return x * static_cast<std::int64_t>(unit);
  }
  Nanos duration() {
    std::uint64_t unit;
    const std::uint64_t v = get_scaled(unit);
    return static_cast<Nanos>(v * unit);
  }
  std::int16_t code() { return static_cast<std::int16_t>(unzigzag(get()) + codec::kCodeOrigin); }
  // An id: where its copy lies in the text, or, packed, its digits written
  // at `digits` in the text that starts at `text`.
  TextRef id(const char* text, char*& digits) {
    const auto at = static_cast<std::uint32_t>(digits - text);
    digits = unpack_id(p, digits);
    return TextRef{at, static_cast<std::uint32_t>(digits - text) - at};
  }
};

}  // namespace

namespace {

// The details' payload: status message, then tags (key, type, value),
// events (time - span start, name, tags), links (trace, span, type); texts
// as put_text writes them, counts and types as varints.
std::size_t text_size(std::string_view s) { return 10 + s.size(); }

std::size_t payload_bound(const SpanRecord& r) {
  std::size_t n = text_size(r.status_message) + 30;
  for (const AttributeRecord& a : r.attributes) n += text_size(a.key) + text_size(a.value) + 1;
  for (const EventRecord& e : r.events) n += 10 + text_size(e.name) + 10;
  for (const AttributeRecord& a : r.event_attributes) n += text_size(a.key) + text_size(a.value) + 1;
  for (const LinkRecord& l : r.links) n += text_size(l.trace_id) + text_size(l.span_id) + 1;
  return n;
}

std::uint8_t* put_attributes(std::uint8_t* p, const AttributeRecord* a, std::size_t n) {
  p = codec::put(p, n);
  for (std::size_t i = 0; i < n; ++i) {
    p = codec::put_text(p, a[i].key);
    *p++ = static_cast<std::uint8_t>(a[i].type);
    p = codec::put_text(p, a[i].value);
  }
  return p;
}

std::uint8_t* put_payload(std::uint8_t* p, const SpanRecord& r) {
  using codec::put;
  p = codec::put_text(p, r.status_message);
  p = put_attributes(p, r.attributes.data(), r.attributes.size());
  p = put(p, r.events.size());
  for (const EventRecord& e : r.events) {
    p = put(p, codec::zigzag(e.time - r.start));
    p = codec::put_text(p, e.name);
    const std::size_t from = std::min<std::size_t>(e.attributes_begin, r.event_attributes.size());
    const std::size_t count = std::min<std::size_t>(e.attributes_count, r.event_attributes.size() - from);
    p = put_attributes(p, r.event_attributes.data() + from, count);
  }
  p = put(p, r.links.size());
  for (const LinkRecord& l : r.links) {
    p = codec::put_text(p, l.trace_id);
    p = codec::put_text(p, l.span_id);
    *p++ = static_cast<std::uint8_t>(l.type);
  }
  return p;
}

std::uint8_t details_head(const SpanRecord& r) {
  return static_cast<std::uint8_t>(static_cast<unsigned>(r.kind) | static_cast<unsigned>(r.status) << 3 |
                                   (r.shared ? 1u : 0u) << 5 | static_cast<unsigned>(r.parent_link) << 6);
}

}  // namespace

std::size_t codec::details_size(const SpanRecord& r) { return 1 + 10 + payload_bound(r); }

std::uint8_t* codec::put_details(std::uint8_t* p, const SpanRecord& r) {
  *p++ = details_head(r);
  thread_local std::vector<std::uint8_t> payload;
  payload.resize(payload_bound(r));
  const std::size_t n = static_cast<std::size_t>(put_payload(payload.data(), r) - payload.data());
  p = codec::put(p, n);
  if (n) std::memcpy(p, payload.data(), n);
  return p + n;
}

void append_id(std::string_view key, std::string& out) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(key.data());
  const std::size_t at = out.size();
  out.resize(at + 2 * key.size() + kDigitRoom + 2);
  out.resize(static_cast<std::size_t>(unpack_id(p, out.data() + at) - out.data()));
}

namespace {

// The value of a lowercase hex number in `digits` written with no leading
// zero, up to 16 digits (a dashed id's number is a digit or two); false
// when it is not one. Lowercase only: an id's bytes must have one encoding.
bool hex_number_value(std::string_view digits, std::uint64_t& value) {
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return false;
  if (digits.size() > 16) return false;
  std::uint64_t v = 0;
  for (const char c : digits) {
    const int d = codec::kHexValue[static_cast<unsigned char>(c)];
    if (d < 0) return false;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  value = v;
  return true;
}

}  // namespace

std::uint8_t* codec::put_shaped_id(std::uint8_t* p, std::string_view id) {
  if (id.size() == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-') {
#if defined(__SSSE3__)
    // Its 32 digits, the dashes left out, in two registers from four loads
    // within its 36 bytes: [0,8) [9,13) [14,18), then [19,23) [24,36).
    const auto load = [&](std::size_t at) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(id.data() + at)); };
    const __m128i first = _mm_or_si128(
        _mm_shuffle_epi8(load(0), _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, kZ, kZ, kZ, kZ)),
        _mm_shuffle_epi8(load(2), _mm_setr_epi8(kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, 12, 13, 14, 15)));
    const __m128i second = _mm_or_si128(
        _mm_shuffle_epi8(load(19), _mm_setr_epi8(0, 1, 2, 3, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ, kZ)),
        _mm_shuffle_epi8(load(20), _mm_setr_epi8(kZ, kZ, kZ, kZ, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)));
    if (pack16(first, p + 1) && pack16(second, p + 9)) {
      *p = kUuidId;
      return p + 17;
    }
#else
    char digits[32];
    std::memcpy(digits, id.data(), 8);
    std::memcpy(digits + 8, id.data() + 9, 4);
    std::memcpy(digits + 12, id.data() + 14, 4);
    std::memcpy(digits + 16, id.data() + 19, 4);
    std::memcpy(digits + 20, id.data() + 24, 12);
    if (pack_hex(std::string_view(digits, 32), p + 1)) {
      *p = kUuidId;
      return p + 17;
    }
#endif
  }
  std::uint64_t value;
  // The dash after 16 or 32 digits (a span id of its trace's id) is looked
  // at first: no search for it.
  const std::size_t dash = id.size() > 16 && id[16] == '-'   ? 16
                           : id.size() > 32 && id[32] == '-' ? 32
                                                             : id.find('-');
  if (dash == std::string_view::npos || dash < 2 || dash > 32 || dash % 2 != 0 || id.size() - dash - 1 > 16 ||
      !hex_number_value(id.substr(dash + 1), value) || !pack_hex(id.substr(0, dash), p + 1))
    return nullptr;
  *p = static_cast<std::uint8_t>(kDashedId + dash);
  return put(p + 1 + dash / 2, value);
}

namespace {

// One record's body; `content` is where the store keeps it (the same bytes
// unless `body` is a copy). Its ids are written at `digits` in the trace's
// text, which starts at `text`.
void decode_body(const std::uint8_t* body, std::uint32_t size, const std::uint8_t* content, Nanos base,
                 std::uint32_t file, std::uint32_t line, std::vector<Span>& spans, std::vector<Call>& calls,
                 const char* text, char*& digits) {
  Reader in{body};
  // Written in place (a Span built on the stack and copied in is read back
  // across the stores of its fields, and waits for them).
  Span& s = spans.emplace_back();
  s.content = content;
  s.content_size = size;
  s.start = base + in.offset();
  s.duration = in.duration();
  s.span_id = in.id(text, digits);
  s.parent_id = in.id(text, digits);
  s.host = static_cast<Symbol>(in.get());
  s.service = static_cast<Symbol>(in.get());
  s.operation = static_cast<Symbol>(in.get());
  s.group = static_cast<Symbol>(in.get());
  s.http_code = in.code();
  s.calls_begin = static_cast<std::uint32_t>(calls.size());
  const std::uint64_t calls_word = in.get();
  s.calls_count = static_cast<std::uint32_t>(calls_word >> 1);
  for (std::uint32_t k = 0; k < s.calls_count; ++k) {
    Call& c = calls.emplace_back();
    c.span_id = in.id(text, digits);
    c.start = s.start + in.offset();
    c.duration = in.duration();
    c.host = static_cast<Symbol>(in.get());
    c.http_code = in.code();
  }
  if (calls_word & 1) {
    const std::uint8_t head = *in.p++;
    s.kind = head & 7;
    s.status = (head >> 3) & 3;
    s.shared = (head >> 5) & 1;
    s.parent_link = (head >> 6) & 3;
    const std::size_t n = in.get();
    s.details = TextRef{static_cast<std::uint32_t>(digits - text), static_cast<std::uint32_t>(n)};
    if (n) std::memcpy(digits, in.p, n);
    digits += n;
    in.p += n;
  }
  s.file = file;
  s.line = line;
}

// Room a body's ids may take in the text: two characters a byte (a raw
// id's bytes take one each, a dashed number's varint bytes two
// or fewer), and one more write of 16. A UUID's 17 bytes give 36: the 2
// over are made up by the rest of its span or call, at least 4 bytes.
std::size_t id_room(std::size_t body_size) { return 2 * body_size + kDigitRoom; }

}  // namespace

void decode_spans(const TraceData& data, std::vector<Span>& spans, std::vector<Call>& calls, std::string& text) {
  // Read where the records lie (the blocks may be read past); only the ids
  // go to the text.
  const std::uint8_t* body;
  std::uint32_t size;
  std::size_t used = text.size();
  const bool huge = data.record_count >= 4096;
  if (huge) {  // a huge trace: its text and calls not copied at each doubling
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < data.record_count; ++i) {
      read_body(data.records[i].record, body, size);
      bytes += size;
    }
    text.reserve(used + id_room(bytes));
    calls.reserve(calls.size() + bytes / 16);
  }
  // The trace's records lie apart: fetched kAhead ahead, the first ones all at once.
  constexpr std::size_t kAhead = 8;
  for (std::size_t i = 0; i < std::min(kAhead, data.record_count); ++i) __builtin_prefetch(data.records[i].record);
  for (std::size_t i = 0; i < data.record_count; ++i) {
    if (i + kAhead < data.record_count) {
      __builtin_prefetch(data.records[i + kAhead].record);
      __builtin_prefetch(data.records[i + kAhead].record + 64);
    }
    read_body(data.records[i].record, body, size);
    const std::uint64_t location = data.records[i].location;
    std::uint32_t file, line;
    if (data.lines) {
      data.lines->locate(location, file, line);
    } else {
      file = static_cast<std::uint32_t>(location >> 32);
      line = static_cast<std::uint32_t>(location);
    }
    // The text is sized for a record's ids: a huge trace's record by
    // record within what it reserved (its ids take a fraction of that),
    // any other's ahead in doubling steps (not twice a record); it is cut
    // to what was written at the end.
    if (huge) {
      text.resize(used + id_room(size));
    } else if (text.size() < used + id_room(size)) {
      text.resize(std::max(used + id_room(size), 2 * text.size()));
    }
    char* digits = text.data() + used;
    decode_body(body, size, body, data.base, file, line, spans, calls, text.data(), digits);
    used = static_cast<std::size_t>(digits - text.data());
  }
  text.resize(used);
}

}  // namespace ta
