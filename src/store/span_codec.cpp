#include "store/span_codec.h"


namespace ta {
namespace {

std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

struct Reader {
  const std::uint8_t* p;
  const std::uint8_t* start;  // of the blob, whose copy begins at `origin` in the text
  std::uint32_t origin;
  std::uint64_t get() {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const std::uint8_t b = *p++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  }
  TextRef text() {
    const auto n = static_cast<std::uint32_t>(get());
    const TextRef r{origin + static_cast<std::uint32_t>(p - start), n};
    p += n;
    return r;
  }
};

}  // namespace

void append_record(Blob& blob, BlobArena& arena, Nanos start_offset, const std::uint8_t* rest, std::size_t size,
                   std::uint32_t file, std::uint32_t line) {
  using codec::put;
  std::uint8_t start[10], head[10], tail[20];
  const auto start_size = static_cast<std::size_t>(put(start, codec::zigzag(start_offset)) - start);
  const auto head_size = static_cast<std::size_t>(put(head, start_size + size) - head);
  const auto tail_size = static_cast<std::size_t>(put(put(tail, file), line) - tail);
  std::uint8_t* p = arena.append(blob, head_size + start_size + size + tail_size);
  p = std::copy_n(head, head_size, p);
  p = std::copy_n(start, start_size, p);
  p = std::copy_n(rest, size, p);
  std::copy_n(tail, tail_size, p);
}

void encode_span(const SpanRecord& r, std::uint32_t file, std::uint32_t line, Nanos base, SymbolTable& symbols,
                 Blob& blob, BlobArena& arena) {
  thread_local ByteBuffer rest;
  rest.clear();
  std::uint8_t* p = rest.reserve(codec::rest_bound(r));
  rest.commit(codec::put_rest(p, r, [&](std::string_view s) { return symbols.intern(s); }));
  append_record(blob, arena, r.start - base, rest.data(), rest.size(), file, line);
}

const std::uint8_t* read_record(const std::uint8_t* p, LogRecord& out) {
  Reader in{p, p, 0};
  const auto id_size = static_cast<std::size_t>(in.get());
  out.trace_id = std::string_view(reinterpret_cast<const char*>(in.p), id_size);
  in.p += id_size;
  const auto chunk = static_cast<std::uint32_t>(in.get());
  out.location = make_location(chunk, in.get());
  out.body_size = static_cast<std::uint32_t>(in.get());
  out.body = in.p;
  return in.p + out.body_size;
}

namespace {

// One record's body, whose copy starts at `origin` in the trace's text.
void decode_body(const std::uint8_t* body, std::uint32_t size, std::uint32_t origin, Nanos base, std::uint32_t file,
                 std::uint32_t line, std::vector<Span>& spans, std::vector<Call>& calls) {
  Reader in{body, body, origin};
  Span s;
  s.content = TextRef{origin, size};
  s.start = base + unzigzag(in.get());
  s.duration = static_cast<Nanos>(in.get());
  s.span_id = in.text();
  s.parent_id = in.text();
  s.host = static_cast<Symbol>(in.get());
  s.service = static_cast<Symbol>(in.get());
  s.operation = static_cast<Symbol>(in.get());
  s.group = static_cast<Symbol>(in.get());
  s.http_code = static_cast<std::int16_t>(static_cast<std::int64_t>(in.get()) - 1);
  s.calls_begin = static_cast<std::uint32_t>(calls.size());
  s.calls_count = static_cast<std::uint32_t>(in.get());
  for (std::uint32_t k = 0; k < s.calls_count; ++k) {
    Call c;
    c.span_id = in.text();
    c.start = s.start + unzigzag(in.get());
    c.duration = static_cast<Nanos>(in.get());
    c.host = static_cast<Symbol>(in.get());
    c.http_code = static_cast<std::int16_t>(static_cast<std::int64_t>(in.get()) - 1);
    calls.push_back(c);
  }
  s.file = file;
  s.line = line;
  spans.push_back(s);
}

}  // namespace

void decode_spans(const TraceData& data, std::vector<Span>& spans, std::vector<Call>& calls, std::string& text) {
  if (data.records) {
    // Each body is copied into the text, where its ids are found later.
    LogRecord r;
    if (data.record_count >= 4096) {  // a huge trace: its text and calls not copied at each doubling
      std::size_t bytes = 0;
      for (std::size_t i = 0; i < data.record_count; ++i) {
        read_record(data.records[i], r);
        bytes += r.body_size;
      }
      text.reserve(text.size() + bytes);
      calls.reserve(calls.size() + bytes / 16);
    }
    for (std::size_t i = 0; i < data.record_count; ++i) {
      read_record(data.records[i], r);
      std::uint32_t file, line;
      if (data.lines) {
        data.lines->locate(r.location, file, line);
      } else {
        file = static_cast<std::uint32_t>(r.location >> 32);
        line = static_cast<std::uint32_t>(r.location);
      }
      const auto origin = static_cast<std::uint32_t>(text.size());
      text.append(reinterpret_cast<const char*>(r.body), r.body_size);
      decode_body(r.body, r.body_size, origin, data.base, file, line, spans, calls);
    }
    return;
  }
  // The ids are read where they lie in a copy of the whole blob: one copy
  // instead of one per id.
  const Blob& blob = data.blob;
  const auto origin = static_cast<std::uint32_t>(text.size());
  text.append(reinterpret_cast<const char*>(blob.data), blob.size);
  // A huge trace reserves room for as many calls as its bytes could hold in
  // the usual encoding, so the list is not copied at every doubling.
  if (blob.size >= (1u << 20)) calls.reserve(calls.size() + blob.size / 16);
  Reader in{blob.data, blob.data, origin};
  const std::uint8_t* end = blob.data + blob.size;
  while (in.p < end) {
    const auto body_len = static_cast<std::uint32_t>(in.get());
    const std::uint8_t* body = in.p;
    in.p += body_len;
    const auto file = static_cast<std::uint32_t>(in.get());
    const auto line = static_cast<std::uint32_t>(in.get());
    decode_body(body, body_len, origin + static_cast<std::uint32_t>(body - blob.data), data.base, file, line, spans,
                calls);
  }
}

}  // namespace ta
