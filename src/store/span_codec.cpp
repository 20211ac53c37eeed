#include "store/span_codec.h"

#include "util/hash.h"

namespace ta {
namespace {

// Record: varint body length, body, varint file, varint line. Body:
//   zigzag(start - base), duration, id, parent id, host, service, operation,
//   group, code + 1, call count, then per call: id, zigzag(start - span
//   start), duration, host, code + 1. Strings are a varint length + bytes.

void put(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

std::uint64_t zigzag(std::int64_t v) { return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63); }
std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

void put_text(std::vector<std::uint8_t>& out, std::string_view s) {
  put(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

std::uint64_t code_value(std::int16_t code) { return static_cast<std::uint64_t>(code + 1); }

struct Reader {
  const std::uint8_t* p;
  std::uint64_t get() {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const std::uint8_t b = *p++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  }
  TextRef text(std::string& out) {
    const auto n = static_cast<std::uint32_t>(get());
    TextRef r{static_cast<std::uint32_t>(out.size()), n};
    out.append(reinterpret_cast<const char*>(p), n);
    p += n;
    return r;
  }
};

}  // namespace

void encode_span(const SpanRecord& r, std::uint32_t file, std::uint32_t line, Nanos base, SymbolTable& symbols,
                 std::vector<std::uint8_t>& blob) {
  thread_local std::vector<std::uint8_t> body;
  body.clear();
  put(body, zigzag(r.start - base));
  put(body, static_cast<std::uint64_t>(r.duration));
  put_text(body, r.span_id);
  put_text(body, r.parent_id);
  put(body, symbols.intern(r.host));
  put(body, symbols.intern(r.service));
  put(body, symbols.intern(r.operation));
  put(body, symbols.intern(r.group));
  put(body, code_value(r.http_code));
  put(body, r.calls.size());
  for (const CallRecord& c : r.calls) {
    put_text(body, c.span_id);
    put(body, zigzag(c.start - r.start));
    put(body, static_cast<std::uint64_t>(c.duration));
    put(body, symbols.intern(c.host));
    put(body, code_value(c.http_code));
  }
  const std::size_t need = body.size() + 15;
  if (blob.capacity() < blob.size() + need) blob.reserve(blob.size() + need + blob.size() / 2);
  put(blob, body.size());
  blob.insert(blob.end(), body.begin(), body.end());
  put(blob, file);
  put(blob, line);
}

void decode_spans(const std::vector<std::uint8_t>& blob, Nanos base, std::vector<Span>& spans,
                  std::vector<Call>& calls, std::string& text) {
  Reader in{blob.data()};
  const std::uint8_t* end = blob.data() + blob.size();
  while (in.p < end) {
    const std::uint64_t body_len = in.get();
    Span s;
    s.content_hash = XXH3_64bits(in.p, body_len);
    s.start = base + unzigzag(in.get());
    s.duration = static_cast<Nanos>(in.get());
    s.span_id = in.text(text);
    s.parent_id = in.text(text);
    s.host = static_cast<Symbol>(in.get());
    s.service = static_cast<Symbol>(in.get());
    s.operation = static_cast<Symbol>(in.get());
    s.group = static_cast<Symbol>(in.get());
    s.http_code = static_cast<std::int16_t>(static_cast<std::int64_t>(in.get()) - 1);
    s.calls_begin = static_cast<std::uint32_t>(calls.size());
    s.calls_count = static_cast<std::uint32_t>(in.get());
    for (std::uint32_t k = 0; k < s.calls_count; ++k) {
      Call c;
      c.span_id = in.text(text);
      c.start = s.start + unzigzag(in.get());
      c.duration = static_cast<Nanos>(in.get());
      c.host = static_cast<Symbol>(in.get());
      c.http_code = static_cast<std::int16_t>(static_cast<std::int64_t>(in.get()) - 1);
      calls.push_back(c);
    }
    s.file = static_cast<std::uint32_t>(in.get());
    s.line = static_cast<std::uint32_t>(in.get());
    spans.push_back(s);
  }
}

}  // namespace ta
