// libFuzzer target: any input through ta::FormatReader, for every
// --input-format (auto, native, zipkin, jaeger, otlp, recorder).
//
// The data is read three ways, as ingest reads an input:
//   - as a whole document (read_document, as parse_document does), the text
//     followed by simdjson's padding (zeroed, and nothing readable after it,
//     so AddressSanitizer catches a read past it);
//   - line by line (read_line on each non-blank line that for_each_line
//     gives, with the capacity parse_chunk passes: the rest of the text and
//     the padding);
//   - line by line, each line first offered to read_line_in_place, which
//     reads a native line before its end is found: it must end every line it
//     takes at that line's newline, and give what read_line gives.
// A counting RecordSink checks every call: offsets within the text it was
// given, rejection reasons and notes non-empty valid UTF-8, span records
// with a trace id and a span id, no negative duration, no details (kind,
// tags, logs) on a native line that names none, and every view valid
// UTF-8 and readable (each byte is read into a digest: ASan catches a view
// into freed or foreign memory). Accounting: every top-level JSON value of a
// document, and every line, ends as at least one record (span, merged or
// rejected); each record of a document lies in the value it came from. The
// same input read again -- by the same reader, and by a fresh one -- gives
// the same calls in the same order (the digest). The reader must not write
// into its input.
//
// TA_FUZZ_ALLOW_NO_RECORD=1 in the environment lets a value or a line end as
// no record (that one accounting check off), to look for other bugs while
// such a finding is open.
//
// Run through scripts/fuzz; a single input: build-fuzz/fuzz_formats FILE.
#include <simdjson.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parse/format_reader.h"
#include "parse/json_tree.h"
#include "read/line_reader.h"

namespace {

// Stops the run with a reason; libFuzzer saves the input as a crash.
[[noreturn]] void fail(const char* what, ta::InputFormat format, const char* mode) {
  std::fprintf(stderr, "fuzz_formats: check failed: %s (--input-format %s, %s)\n", what,
               std::string(ta::format_name(format)).c_str(), mode);
  std::fflush(stderr);
  __builtin_trap();
}

constexpr std::array<ta::InputFormat, 6> kFormats = {ta::InputFormat::kAuto,   ta::InputFormat::kNative,
                                                     ta::InputFormat::kZipkin, ta::InputFormat::kJaeger,
                                                     ta::InputFormat::kOtlp,   ta::InputFormat::kRecorder};

bool utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// TA_FUZZ_ALLOW_NO_RECORD=1: a value or line that ends as no record passes.
const bool kAllowNoRecord = [] {
  const char* v = std::getenv("TA_FUZZ_ALLOW_NO_RECORD");
  return v && *v && std::string_view(v) != "0";
}();

// FNV-1a over every call, fed byte by byte (so every byte of every view is
// read by instrumented code), with the counts beside it.
struct Digest {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  std::uint64_t spans = 0, merged = 0, rejected = 0, notes = 0;

  void byte(unsigned char c) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  void bytes(std::string_view s) {
    for (char c : s) byte(static_cast<unsigned char>(c));
    byte(0xff);  // a separator: "ab","c" differs from "a","bc"
  }
  void number(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(v >> (8 * i)));
  }
  std::uint64_t records() const { return spans + merged + rejected; }
  bool operator==(const Digest&) const = default;
};

class CountingSink final : public ta::RecordSink {
 public:
  CountingSink(ta::InputFormat format, const char* mode) : format_(format), mode_(mode) {}

  // The text the reader was given (a document, or one line): offsets are bytes into it.
  void text(std::string_view t) { text_ = t; }
  void check(bool ok, const char* what) const {
    if (!ok) fail(what, format_, mode_);
  }

  void span(const ta::SpanRecord& r, std::size_t offset) override {
    at(offset, 'S');
    record(r);
    offsets.push_back(offset);
    ++digest.spans;
  }
  void reject(std::size_t offset, std::string reason) override {
    at(offset, 'R');
    check(!reason.empty(), "a rejection with an empty reason");
    check(utf8(reason), "a rejection reason is not valid UTF-8");
    digest.bytes(reason);
    offsets.push_back(offset);
    ++digest.rejected;
  }
  void merged(std::size_t offset) override {
    at(offset, 'M');
    offsets.push_back(offset);
    ++digest.merged;
  }
  void note(std::string message) override {
    digest.byte('N');
    check(!message.empty(), "an empty note");
    check(utf8(message), "a note is not valid UTF-8");
    digest.bytes(message);
    ++digest.notes;
  }

  // A span record's invariants (also for the one read_line returns).
  void record(const ta::SpanRecord& r) {
    check(!r.trace_id.empty(), "a span with an empty trace id");
    check(!r.span_id.empty(), "a span with an empty span id");
    check(r.duration >= 0, "a span with a negative duration");
    check(r.http_code == ta::kNoCode || (r.http_code >= 0 && r.http_code <= 999), "httpCode out of 0-999");
    view(r.trace_id, "trace_id is not valid UTF-8");
    view(r.span_id, "span_id is not valid UTF-8");
    view(r.parent_id, "parent_id is not valid UTF-8");
    view(r.host, "host is not valid UTF-8");
    view(r.service, "service is not valid UTF-8");
    view(r.operation, "operation is not valid UTF-8");
    view(r.group, "group is not valid UTF-8");
    view(r.status_message, "status_message is not valid UTF-8");
    digest.number(static_cast<std::uint64_t>(r.start));
    digest.number(static_cast<std::uint64_t>(r.duration));
    digest.number(static_cast<std::uint64_t>(r.http_code));
    digest.byte(static_cast<unsigned char>(r.kind));
    digest.byte(static_cast<unsigned char>(r.status));
    digest.byte(static_cast<unsigned char>(r.shared));
    digest.byte(static_cast<unsigned char>(r.parent_link));
    for (const ta::CallRecord& c : r.calls) {
      check(c.duration >= 0, "a call with a negative duration");
      view(c.span_id, "a call's span_id is not valid UTF-8");
      view(c.host, "a call's host is not valid UTF-8");
      digest.number(static_cast<std::uint64_t>(c.start));
      digest.number(static_cast<std::uint64_t>(c.duration));
    }
    for (const ta::AttributeRecord& a : r.attributes) {
      view(a.key, "an attribute key is not valid UTF-8");
      view(a.value, "an attribute value is not valid UTF-8");
      digest.byte(static_cast<unsigned char>(a.type));
    }
    for (const ta::EventRecord& e : r.events) {
      view(e.name, "an event name is not valid UTF-8");
      check(e.attributes_begin <= r.event_attributes.size() &&
                e.attributes_count <= r.event_attributes.size() - e.attributes_begin,
            "an event's attributes lie outside event_attributes");
      digest.number(static_cast<std::uint64_t>(e.time));
    }
    for (const ta::AttributeRecord& a : r.event_attributes) {
      view(a.key, "an event attribute key is not valid UTF-8");
      view(a.value, "an event attribute value is not valid UTF-8");
    }
    for (const ta::LinkRecord& l : r.links) {
      view(l.trace_id, "a link's trace_id is not valid UTF-8");
      view(l.span_id, "a link's span_id is not valid UTF-8");
      digest.byte(static_cast<unsigned char>(l.type));
    }
  }

  Digest digest;
  std::vector<std::size_t> offsets;  // of every span, merged part and rejection, in order

 private:
  void at(std::size_t offset, char kind) {
    check(offset < text_.size(), "an offset outside the text the reader was given");
    digest.byte(static_cast<unsigned char>(kind));
    digest.number(offset);
  }
  void view(std::string_view v, const char* what) {
    check(utf8(v), what);
    digest.bytes(v);  // reads every byte: ASan checks it is readable
  }

  ta::InputFormat format_;
  const char* mode_;
  std::string_view text_;
};

// A value with no object under its top (an empty list), or a format's
// document of nested lists ({"resourceSpans":[...]}), may hold no span
// object: it may end as no record.
bool may_hold_nothing(const ta::json::Tree& tree) {
  const ta::json::Ref root = tree.root();
  if (!root.is_array() && !root.is_object()) return false;  // a scalar is always a rejected record
  // A format's document of nested lists (an OTLP export, a Jaeger answer or
  // trace) may hold no span object in them: an empty list, a resource with
  // no scopeSpans. The adapters' unit tests count what such documents hold.
  for (const char* list : {"resourceSpans", "data", "spans"})
    if (root.get(list)) return true;
  for (std::uint32_t i = 1; i < tree.node(0).end; ++i)
    if (tree.node(i).type == ta::json::Type::kObject) return false;
  return true;
}

// Every record of a document lies in the top-level value it came from, and
// every top-level value that is JSON ends as at least one record. The values
// are found here with a tree of our own, the way read_document walks them:
// a BOM and white space skipped, one value after another.
void check_values(std::string_view text, const CountingSink& sink) {
  static ta::json::Tree tree;
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  std::size_t pos = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  while (pos < text.size() && space(text[pos])) ++pos;
  std::size_t next = 0;  // into sink.offsets, which come in value order
  while (pos < text.size()) {
    const std::size_t start = pos;
    if (!tree.parse(text, pos)) return;  // from here on read_document resynchronises: not followed
    std::size_t records = 0;
    while (next < sink.offsets.size() && sink.offsets[next] < pos) {
      sink.check(sink.offsets[next] >= start, "a record of a value lies before the value");
      ++records;
      ++next;
    }
    sink.check(records > 0 || kAllowNoRecord || may_hold_nothing(tree), "a JSON value in a document ended as no record");
    while (pos < text.size() && space(text[pos])) ++pos;
  }
  sink.check(next == sink.offsets.size(), "a record after the document's last value");
}

Digest read_document(ta::FormatReader& reader, ta::InputFormat format, std::string_view text,
                     const ta::json::LineIndex& lines, bool check_accounting) {
  CountingSink sink(format, "document");
  sink.text(text);
  reader.read_document(text, lines, sink);
  for (std::size_t offset : sink.offsets) sink.digest.number(lines.line_of(offset));
  if (check_accounting) check_values(text, sink);
  return sink.digest;
}

// in_place: each line is first offered to read_line_in_place, as
// parse_chunk does (here every line, however many were not taken); what it
// takes must be what read_line gives for that line.
Digest read_lines(ta::FormatReader& reader, ta::InputFormat format, const ta::LineChunk& chunk, bool in_place) {
  CountingSink sink(format, in_place ? "lines in place" : "lines");
  ta::SpanRecord record;
  auto offer = [&](const char* p, const char* end, std::uint64_t line_no) -> const char* {
    if (!in_place) return nullptr;
    const char* stop = reader.read_line_in_place(p, end, record);
    if (!stop) return nullptr;
    sink.check(stop > p && stop <= end && (stop == end || *stop == '\n'),
               "read_line_in_place ended a line elsewhere than at a newline");
    sink.check(std::memchr(p, '\n', static_cast<std::size_t>(stop - p)) == nullptr,
               "read_line_in_place read past a newline");
    sink.text(std::string_view(p, static_cast<std::size_t>(stop - p)));
    sink.digest.byte('L');
    sink.digest.number(line_no);
    sink.digest.byte('T');
    sink.record(record);
    ++sink.digest.spans;
    return stop;
  };
  const std::uint64_t blank = ta::for_each_line(
      chunk,
      [&](std::string_view line, std::uint64_t line_no, std::size_t capacity) {
        sink.check(line.data() >= chunk.data && line.data() + line.size() <= chunk.data + chunk.size &&
                       capacity == chunk.capacity - static_cast<std::size_t>(line.data() - chunk.data),
                   "for_each_line gave a line outside its chunk");
        sink.text(line);
        sink.digest.byte('L');
        sink.digest.number(line_no);
        const std::uint64_t before = sink.digest.records();
        if (reader.read_line(line, capacity, record, sink)) {
          sink.check(sink.digest.records() == before, "read_line took a native span and also gave the sink records");
          // Native lines may carry kind, tags and logs; a line that names
          // none of them (nor escapes a key) gives a plain span, with nothing
          // left over from the line before.
          const bool names_details = line.find("kind") != std::string_view::npos ||
                                     line.find("tags") != std::string_view::npos ||
                                     line.find("logs") != std::string_view::npos ||
                                     line.find("\\u") != std::string_view::npos;
          sink.check(names_details || !record.has_details(), "a native span from read_line carries details its line does not name");
          sink.digest.byte('T');
          sink.record(record);
          ++sink.digest.spans;
        } else {
          static ta::json::Tree line_tree;
          std::size_t at = 0;
          const bool empty_list = line_tree.parse(line, at) && may_hold_nothing(line_tree);
          sink.check(sink.digest.records() > before || kAllowNoRecord || empty_list, "a line ended as no record");
        }
      },
      offer);
  sink.digest.number(blank);
  return sink.digest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::size_t capacity = size + simdjson::SIMDJSON_PADDING;
  std::unique_ptr<char[]> buf(new char[capacity]);
  if (size) std::memcpy(buf.get(), data, size);
  std::memset(buf.get() + size, 0, simdjson::SIMDJSON_PADDING);
  const std::string_view text(buf.get(), size);
  const ta::json::LineIndex lines(text);

  ta::LineChunk chunk;
  chunk.data = buf.get();
  chunk.size = size;
  chunk.capacity = capacity;
  chunk.first_line = 1;
  chunk.newlines = ta::count_newlines(buf.get(), size);

  // Long-lived readers, one per format (their buffers carry over from one
  // input to the next, as in a real run).
  static std::vector<std::unique_ptr<ta::FormatReader>> readers = [] {
    std::vector<std::unique_ptr<ta::FormatReader>> r;
    for (ta::InputFormat f : kFormats) r.push_back(std::make_unique<ta::FormatReader>(f, ta::ParseOptions{}));
    return r;
  }();

  std::array<Digest, kFormats.size()> docs, by_lines;
  for (std::size_t i = 0; i < kFormats.size(); ++i) {
    const ta::InputFormat format = kFormats[i];
    ta::FormatReader& reader = *readers[i];

    docs[i] = read_document(reader, format, text, lines, true);
    if (!(read_document(reader, format, text, lines, false) == docs[i]))
      fail("the document read again gives other records", format, "document");

    by_lines[i] = read_lines(reader, format, chunk, false);
    if (!(read_lines(reader, format, chunk, false) == by_lines[i]))
      fail("the lines read again give other records", format, "lines");
    if (!(read_lines(reader, format, chunk, true) == by_lines[i]))
      fail("the lines read in place give other records than line by line", format, "lines in place");
  }

  // A fresh reader (one format a run, picked by the input's size) agrees
  // with the long-used one.
  {
    const std::size_t i = size % kFormats.size();
    ta::FormatReader fresh(kFormats[i], ta::ParseOptions{});
    if (!(read_document(fresh, kFormats[i], text, lines, false) == docs[i]))
      fail("a fresh reader reads the document otherwise than a used one", kFormats[i], "document");
    ta::FormatReader fresh_lines(kFormats[i], ta::ParseOptions{});
    if (!(read_lines(fresh_lines, kFormats[i], chunk, false) == by_lines[i]))
      fail("a fresh reader reads the lines otherwise than a used one", kFormats[i], "lines");
  }

  if (size && std::memcmp(buf.get(), data, size) != 0) fail("the reader wrote into its input", kFormats[0], "any");
  return 0;
}
