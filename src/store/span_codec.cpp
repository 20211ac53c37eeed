#include "store/span_codec.h"

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

#include <algorithm>
#include <cstring>

namespace ta {


namespace {

std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

// The digits of n packed hex bytes at dst. Reads up to 7 bytes past the
// packed ones and writes up to 16 digits past the last: the callers leave
// room (a slab's slack, the text's room for digits).
char* unpack_hex(const std::uint8_t* bytes, std::size_t n, char* dst) {
#if defined(__SSSE3__)
  const __m128i digit_of = _mm_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f');
  for (std::size_t done = 0; done < n; done += 8) {  // 8 bytes, 16 digits at a time
    std::uint64_t word;
    std::memcpy(&word, bytes + done, 8);
    const __m128i v = _mm_cvtsi64_si128(static_cast<long long>(word));
    const __m128i nibbles = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0F)),
                                              _mm_and_si128(v, _mm_set1_epi8(0x0F)));  // high digit first
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * done), _mm_shuffle_epi8(digit_of, nibbles));
  }
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

struct Reader {
  const std::uint8_t* p;
  std::uint64_t get() { return codec::get(p); }
  // A flagged varint (codec::put_flagged): the value; flag set when divided.
  std::uint64_t get_flagged(bool& flag) {
    const std::uint8_t b = *p++;
    flag = b & 1;
    std::uint64_t v = (b >> 1) & 0x3F;
    if (b & 0x80) v |= get() << 6;
    return v;
  }
  Nanos offset() {
    bool milli;
    const std::int64_t x = unzigzag(get_flagged(milli));
    return milli ? x * codec::kMilli : x;
  }
  Nanos duration() {
    bool milli;
    const std::uint64_t v = get_flagged(milli);
    return static_cast<Nanos>(milli ? v * static_cast<std::uint64_t>(codec::kMilli) : v);
  }
  std::int16_t code() { return static_cast<std::int16_t>(unzigzag(get()) + codec::kCodeOrigin); }
  // An id: where its copy lies in the text, or, packed, its digits written
  // at `digits` in the text that starts at `text`.
  TextRef id(const char* text, char*& digits) {
    const std::uint64_t header = get();
    const std::size_t n = header >> 1;
    const auto at = static_cast<std::uint32_t>(digits - text);
    if (header & 1) {
      digits = unpack_hex(p, n, digits);
    } else {
      std::memcpy(digits, p, n);
      digits += n;
    }
    p += n;
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
  Reader in{reinterpret_cast<const std::uint8_t*>(key.data())};
  const std::uint64_t header = in.get();
  if (header & 1) {
    const std::size_t at = out.size(), n = header >> 1;
    out.resize(at + 2 * n + kDigitRoom);
    out.resize(static_cast<std::size_t>(unpack_hex(in.p, n, out.data() + at) - out.data()));
  } else {
    out.append(reinterpret_cast<const char*>(in.p), header >> 1);
  }
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

// Room a body's ids may take in the text: two digits a packed byte (a raw
// id's bytes take one each), and one more write of 16.
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
