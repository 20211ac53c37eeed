// Spans are kept encoded, each as one compact byte record: varints, times
// relative to a time origin, labels as symbols. A span costs tens of bytes instead of a hundred and more as
// structs, which is what keeps memory well below the input size.
#pragma once

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "parse/span_record.h"
#include "store/line_map.h"
#include "store/span.h"
#include "store/symbols.h"
#include "util/hash.h"

namespace ta {

// Record: varint body length, body (and in a SpanLog, its trace and location
// after it, below). Body:
//   start - base, then the rest: duration, id, parent id, host, service,
//   operation, group, code, call count << 1 | has details, then per call:
//   id, start - span start, duration, host, code; then, when it has them,
//   the details of a richer format's span (put_details). Times, ids and
//   codes as put_offset, put_duration, put_id and code_value write them
//   (below); the rest varints.

// A growable byte buffer written through a pointer (no per-byte checks).
class ByteBuffer {
 public:
  std::uint8_t* reserve(std::size_t n) {  // room for n more bytes at end()
    if (size_ + n > cap_) {
      const std::size_t cap = std::max(size_ + n, cap_ * 2);
      auto d = std::make_unique_for_overwrite<std::uint8_t[]>(cap);  // pages not written cost nothing
      if (size_) std::memcpy(d.get(), data_.get(), size_);
      data_ = std::move(d);
      cap_ = cap;
    }
    return data_.get() + size_;
  }
  void commit(const std::uint8_t* end) { size_ = static_cast<std::size_t>(end - data_.get()); }
  const std::uint8_t* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0, cap_ = 0;
};

namespace codec {

inline std::uint8_t* put(std::uint8_t* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<std::uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<std::uint8_t>(v);
  return p;
}
// Reads the varint at p (as put writes it) and moves p past it.
inline std::uint64_t get(const std::uint8_t*& p) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const std::uint8_t b = *p++;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}
inline std::uint8_t* put_text(std::uint8_t* p, std::string_view s) {
  p = put(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
// An HTTP status as its distance from 200, zigzagged: 200, nearly every
// span's, takes one byte (as status + 1 it took two); none (-1) takes two.
inline constexpr std::int64_t kCodeOrigin = 200;
inline std::uint64_t code_value(std::int16_t code) { return zigzag(code - kCodeOrigin); }

// Times are nanoseconds, and nearly always whole milliseconds (logs in ms)
// or whole microseconds (Zipkin, logs in us): one divisible by 10^6 or 10^3
// is kept divided, its unit flagged in the low bits of a varint. The first
// byte holds, above its continuation bit: a millisecond value's 6 low bits
// and a 1; or a microsecond value's 5 low bits and 10; or a nanosecond
// value's 5 low bits and 00. The value's other bits follow as a varint.
inline constexpr std::int64_t kMilli = 1'000'000, kMicro = 1'000;
enum class TimeUnit : std::uint8_t { kNanos, kMillis, kMicros };
inline std::uint8_t* put_scaled(std::uint8_t* p, std::uint64_t v, TimeUnit unit) {
  const unsigned bits = unit == TimeUnit::kMillis ? 6 : 5;
  const unsigned tag = unit == TimeUnit::kMillis ? 1 : unit == TimeUnit::kMicros ? 2 : 0;
  const auto first = static_cast<std::uint8_t>(((v & ((1u << bits) - 1)) << (7 - bits)) | tag);
  if (v >> bits == 0) {
    *p++ = first;
    return p;
  }
  *p++ = static_cast<std::uint8_t>(first | 0x80);
  return put(p, v >> bits);
}
// A time relative to another (signed).
inline std::uint8_t* put_offset(std::uint8_t* p, Nanos x) {
  if (x % kMilli == 0) return put_scaled(p, zigzag(x / kMilli), TimeUnit::kMillis);
  if (x % kMicro == 0) return put_scaled(p, zigzag(x / kMicro), TimeUnit::kMicros);
  return put_scaled(p, zigzag(x), TimeUnit::kNanos);
}
inline std::uint8_t* put_duration(std::uint8_t* p, Nanos d) {
  const auto v = static_cast<std::uint64_t>(d);
  if (v % kMilli == 0) return put_scaled(p, v / kMilli, TimeUnit::kMillis);
  if (v % kMicro == 0) return put_scaled(p, v / kMicro, TimeUnit::kMicros);
  return put_scaled(p, v, TimeUnit::kNanos);
}

// Ids: one id has one encoding, so equal ids have equal bytes. A varint
// header h, then:
// - h = 2n + 1, n from 1 to 16: lowercase hex of 2n digits (nearly every
//   id), packed two digits a byte (n bytes);
// - h = kOddHexId + 2n, n from 1 to 16: 2n - 1 lowercase hex digits (a
//   64-bit id written in decimal, 19 or 17 digits; a hex id with its
//   leading zero left out), packed as the even ones with a 0 digit after
//   the last (n bytes), which is left out when they are written back;
// - h = kUuidId: a lowercase UUID (8-4-4-4-12 hex digits), its 16 bytes;
// - h = kDashedId + 2n, n from 1 to 16: 2n lowercase hex digits, '-', and
//   a lowercase hex number with no leading zero (`<trace id>-1f`): the n
//   bytes packed, then the number as a varint;
// - h even: any other id, h >> 1 bytes as they are.
// An id's shape is tried in that order, so each has one.
inline constexpr std::uint8_t kUuidId = 35, kDashedId = 37, kOddHexId = 71;
#if defined(__SSSE3__)
// 16 characters: each a digit or a-f, to its value, pairs joined into the 8
// bytes at out; false when one is another character.
inline bool pack16(__m128i v, std::uint8_t* out) {
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
  const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('f' + 1)));
  if (_mm_movemask_epi8(_mm_or_si128(digit, letter)) != 0xFFFF) return false;
  const __m128i value = _mm_add_epi8(_mm_and_si128(v, _mm_set1_epi8(0x0F)), _mm_and_si128(letter, _mm_set1_epi8(9)));
  const __m128i pairs = _mm_maddubs_epi16(value, _mm_set1_epi16(0x0110));  // high digit * 16 + low digit
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(pairs, pairs));
  return true;
}
#endif

// Each byte's value as a lowercase hex digit, or -1.
inline constexpr auto kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<std::size_t>(c)] = c >= '0' && c <= '9'   ? static_cast<std::int8_t>(c - '0')
                                     : c >= 'a' && c <= 'f' ? static_cast<std::int8_t>(c - 'a' + 10)
                                                            : std::int8_t{-1};
  return t;
}();

// The digits of id from `i` (even) on, packed a pair a byte at out + i / 2
// from the table, a 0 digit after an odd count; false at a character that
// is not a lowercase hex digit.
inline bool pack_hex_pairs(std::string_view id, std::size_t i, std::uint8_t* out) {
  const std::size_t n = id.size();
  for (; i < n; i += 2) {
    const int high = kHexValue[static_cast<unsigned char>(id[i])];
    const int low = i + 1 < n ? kHexValue[static_cast<unsigned char>(id[i + 1])] : 0;
    if ((high | low) < 0) return false;
    out[i / 2] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return true;
}

// The digits of an id packed at out, a 0 digit after an odd count; false
// when it is not such an id (out may be written). Writes up to 8 bytes past
// the packed ones (put_id's caller has room: an id's bound is 10 bytes more
// than its length).
inline bool pack_hex(std::string_view id, std::uint8_t* out) {
#if defined(__SSSE3__)
  const std::size_t n = id.size();  // 1 to 32
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    if (!pack16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(id.data() + i)), out + i / 2)) return false;
  if (i == n) return true;
  if (n - i == 8) {  // the usual span id: its 8 digits, then '0's to make 16
    const std::uint64_t word = load_word(id.data() + i);
    return pack16(_mm_or_si128(_mm_cvtsi64_si128(static_cast<long long>(word)), _mm_set_epi64x(0x3030303030303030, 0)),
                  out + i / 2);
  }
  // A few digits (an odd count's last 1 to 7: decimal ids of 17 or 19).
  if (n - i < 8) return pack_hex_pairs(id, i, out);
  // Any other rest, after '0' digits to make 16.
  alignas(16) char tail[16];
  std::memset(tail, '0', sizeof tail);
  std::memcpy(tail, id.data() + i, n - i);
  return pack16(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)), out + i / 2);
#else
  return pack_hex_pairs(id, 0, out);
#endif
}

// A UUID or dashed id (above) written at p: the byte after it, or
// nullptr when the id is none of them (p may be written).
std::uint8_t* put_shaped_id(std::uint8_t* p, std::string_view id);

inline std::uint8_t* put_id(std::uint8_t* p, std::string_view id) {
  if (!id.empty() && id.size() <= 32 && pack_hex(id, p + 1)) {
    const std::size_t bytes = (id.size() + 1) / 2;
    *p = static_cast<std::uint8_t>(id.size() % 2 == 0 ? id.size() | 1 : kOddHexId + 2 * bytes);
    return p + 1 + bytes;
  }
  if (!id.empty())
    if (std::uint8_t* end = put_shaped_id(p, id)) return end;
  p = put(p, id.size() << 1);
  if (!id.empty()) std::memcpy(p, id.data(), id.size());
  return p + id.size();
}
inline std::size_t id_bound(std::string_view id) { return 10 + id.size(); }
// The byte after the id (as put_id wrote it) at p.
inline const std::uint8_t* id_end(const std::uint8_t* p) {
  const std::uint64_t h = get(p);
  if (!(h & 1) || h <= 33) return p + (h >> 1);
  if (h == kUuidId) return p + 16;
  if (h > kOddHexId) return p + ((h - kOddHexId) >> 1);
  p += (h - kDashedId) >> 1;
  get(p);  // the dashed id's number
  return p;
}

// Most bytes the body after its start can take.
// Bytes the details (kind, status, tags, events, links) of a richer
// format's span take; 0 for a plain native span.
std::size_t details_size(const SpanRecord& r);
// Writes them (details_size(r) bytes).
std::uint8_t* put_details(std::uint8_t* p, const SpanRecord& r);

inline std::size_t rest_bound(const SpanRecord& r) {
  std::size_t n = 11 + id_bound(r.span_id) + id_bound(r.parent_id) + 4 * 5 + 3 + 5;
  for (const CallRecord& c : r.calls) n += id_bound(c.span_id) + 11 + 11 + 5 + 3;
  if (r.has_details()) n += details_size(r);
  return n;
}

// The body after its start; intern(text) gives a label's symbol.
template <typename Intern>
std::uint8_t* put_rest(std::uint8_t* p, const SpanRecord& r, Intern&& intern) {
  p = put_duration(p, r.duration);
  p = put_id(p, r.span_id);
  p = put_id(p, r.parent_id);
  p = put(p, intern(r.host));
  p = put(p, intern(r.service));
  p = put(p, intern(r.operation));
  p = put(p, intern(r.group));
  p = put(p, code_value(r.http_code));
  const bool details = r.has_details();
  p = put(p, r.calls.size() << 1 | (details ? 1 : 0));
  for (const CallRecord& c : r.calls) {
    p = put_id(p, c.span_id);
    p = put_offset(p, c.start - r.start);
    p = put_duration(p, c.duration);
    p = put(p, intern(c.host));
    p = put(p, code_value(c.http_code));
  }
  if (details) p = put_details(p, r);
  return p;
}

}  // namespace codec

// A span log's record (span_log.h): varint body size, body (as above, its
// start relative to the log's base), varint trace, varint location. Trace
// and location are written against the records before them in their chain
// (a partition's records from one parsing thread), so only a reader of the
// whole chain knows them:
// - trace: d << 1 for the trace of the chain's d-th newest trace number
//   (recent traces are met again soon after: d is small), or 1 for a new
//   trace number, the trace's id following as encoded above (put_id);
// - location: (line - last line) << 1 in the chain's last chunk, or
//   line << 1 | 1 and then varint chunk.
// The body size and the body stand alone.
// Reads a record's body; returns the byte after it.
inline const std::uint8_t* read_body(const std::uint8_t* p, const std::uint8_t*& body, std::uint32_t& size) {
  const std::uint64_t v = codec::get(p);
  size = static_cast<std::uint32_t>(v);
  body = p;
  return p + v;
}
// Appends the id an encoded key (put_id's bytes) stands for.
void append_id(std::string_view key, std::string& out);

// The bytes of the record at p: its body size, then its body.
inline std::size_t record_size(const std::uint8_t* p) {
  const std::uint8_t* body;
  std::uint32_t size;
  return static_cast<std::size_t>(read_body(p, body, size) - p);
}

// A span's record where it lies (a SpanLog's or an OpenTraces' block; read_body
// reads it), and its location: make_location(chunk, line), or file << 32 | line.
struct RecordRef {
  const std::uint8_t* record;
  std::uint64_t location;
};

// One trace's encoded spans, in input order.
struct TraceData {
  std::string_view trace_id;
  const RecordRef* records = nullptr;
  std::size_t record_count = 0;
  const LineMap* lines = nullptr;  // the records' chunks, when located by chunk
  Nanos base = 0;                  // time origin of the starts
  std::uint32_t span_count = 0;
  std::uint32_t dropped = 0;     // spans refused over the per-trace limit
  std::uint32_t duplicates = 0;  // repeats of a kept span not stored (a full trace's, live)
};

// Decodes every span of a trace: Span/Call structs whose ids point into
// copies of their records' bodies appended to `text`. Span::content is the
// body's copy (location excluded), so one line delivered twice has equal
// content bytes.
void decode_spans(const TraceData& data, std::vector<Span>& spans, std::vector<Call>& calls, std::string& text);

}  // namespace ta
