// Reads every input into the span log: bytes -> lines -> span records.
// Bad lines are rejected with a reason and counted; the run goes on. With
// N threads, N parse: regular files they read themselves, a chunk each at a
// time (FileChunks); streams (stdin, pipes, gzip) are read and cut into
// chunks of whole lines by the calling thread and handed to them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "parse/format_reader.h"
#include "parse/span_parser.h"
#include "read/line_reader.h"
#include "store/span_log.h"

namespace ta {

struct Rejection {
  std::uint32_t file;
  std::uint64_t line;
  std::string reason;
};

struct InputStats {
  std::vector<std::string> files;  // as named on the command line; "-" shows as "<stdin>"
  std::uint64_t bytes = 0;
  std::uint64_t lines = 0;  // non-blank lines
  std::uint64_t blank_lines = 0;
  std::uint64_t spans_read = 0;  // records that are spans (duplicates included)
  std::uint64_t rejected = 0;
  std::uint64_t merged = 0;      // fragments folded into a span read before (Zipkin): duplicates
  std::uint64_t documents = 0;   // inputs read as whole documents
  std::vector<std::string> notes;  // said once about the input (e.g. Zipkin trace ids joined)
  // Adds a note unless it was said already (a join a Zipkin document made
  // and the store made again), up to 100.
  void note(std::string message) {
    if (notes.size() < 100 && std::find(notes.begin(), notes.end(), message) == notes.end())
      notes.push_back(std::move(message));
  }
  // Every record read: a span, a duplicate (merged here, or found by the
  // assembly among the spans), rejected, or (live mode) late.
  std::uint64_t records() const { return spans_read + merged + rejected + late_spans; }
  std::uint64_t late_spans = 0;  // live mode: spans of a trace already written
  std::vector<Rejection> rejections;     // the first max_kept_rejections, in input order
  std::vector<std::string> read_errors;  // "FILE: reason": the file was cut short
  bool memory_limit_hit = false;         // reading stopped at --max-memory
  bool one_thread = false;               // read and parsed on one thread (small input): analyse on one too
};

struct IngestOptions {
  ParseOptions parse;
  InputFormat input_format = InputFormat::kAuto;
  // A whole-document input (JSON printed across lines, a Zipkin or Jaeger
  // array) is held in memory once, up to this size.
  std::uint64_t max_document_bytes = 1ull << 30;
  std::size_t threads = 1;
  std::size_t chunk_bytes = 4 << 20;  // at most; a file read by several threads gives each 8 or more (ingest)
  std::size_t max_line_bytes = 64u << 20;
  std::uint64_t line_limit_memory = 0;  // the --max-memory that lowered max_line_bytes, else 0
  std::size_t max_kept_rejections = 1000;
  // --max-memory, resident bytes (0: no limit). Reading stops at 3/4 of
  // it (read_memory): the rest is left to the analysis that follows.
  std::uint64_t max_memory = 0;
  std::uint64_t read_memory() const { return max_memory - max_memory / 4; }
  std::uint64_t small_input_bytes = 4u << 20;  // regular files under this in all: one thread (InputSize::small)
  // Called now and then with the bytes read and spans parsed so far
  // (progress display).
  std::function<void(std::uint64_t bytes, std::uint64_t spans)> on_progress;
};

// Every path should have passed check_inputs; one that fails to open now is
// reported in read_errors.
InputStats ingest(const std::vector<std::string>& paths, const IngestOptions& options, SpanLog& log);

// Spans that analysis did not keep because their trace was full
// (--max-trace-spans): rejected lines, counted and listed as the others.
void add_refused(InputStats& stats, const SpanLog::RefusedSpans& refused, std::size_t max_trace_spans,
                 std::size_t keep);

// The first path that cannot be read, as "PATH: reason", or "" when all can.
std::string check_inputs(const std::vector<std::string>& paths);

// The inputs' size before they are read: the bytes of the regular files
// among them (gzip, recognised by its content when read, counted at ten
// times its size), and whether all are regular files.
struct InputSize {
  std::uint64_t bytes = 0;
  bool all_regular = true;
  // Regular files of under `limit` bytes in all
  // (IngestOptions::small_input_bytes): one thread reads, parses and
  // analyses a few MB sooner than several threads can be started and fed.
  // A stream's size is known only at its end: ingest starts its threads
  // once `limit` bytes have come, and a stream that ends before is read on
  // one thread.
  bool small(std::uint64_t limit) const { return all_regular && bytes < limit; }
};
InputSize input_size(const std::vector<std::string>& paths);

// Rejection reasons shared by batch and live reading.
std::string long_line_reason(std::uint64_t bytes, std::size_t limit, std::uint64_t limit_memory);
std::string full_trace_reason(std::string_view trace_id, std::size_t limit);
// A whole JSON document not read: larger than --max-document-bytes, or
// more than --max-memory leaves room for.
std::string large_document_reason(std::string_view file, std::size_t max_document_bytes);
std::string document_memory_reason(std::string_view file, std::uint64_t max_memory);

// Where a chunk's records go: span(record, line), reject(line, reason),
// merged(line) (a fragment folded into a span handed over before: counted
// as a duplicate). Calls on_* of `Out`, which batch and live mode each give.
template <typename Out>
class LineSink final : public RecordSink {
 public:
  explicit LineSink(Out& out) : out_(out) {}
  void at(std::uint64_t line) { line_ = line; }
  void span(const SpanRecord& r, std::size_t) override { out_.on_span(r, line_); }
  void reject(std::size_t, std::string reason) override { out_.on_reject(line_, std::move(reason)); }
  void merged(std::size_t) override { out_.on_merged(line_); }
  void note(std::string message) override { out_.on_note(std::move(message)); }

 private:
  Out& out_;
  std::uint64_t line_ = 0;
};

// Lines of a chunk not read in place before the chunk's lines are found
// first for the rest of it.
inline constexpr std::uint32_t kInPlaceMisses = 8;
// Bytes of a chunk fetched ahead of the line being read in place.
inline constexpr std::ptrdiff_t kFetchAhead = 1024;

// The lines of a chunk, read: each line's spans, rejections and merged
// fragments to `out` (a native line is one span or one rejection; a line of
// another format may hold several). Counts the lines and the blank lines
// skipped.
template <typename Out>
void parse_chunk(const LineChunk& chunk, FormatReader& reader, SpanRecord& record, std::size_t max_line_bytes,
                 std::uint64_t limit_memory, std::uint64_t& lines, std::uint64_t& blank, Out& out) {
  if (chunk.oversized_line) {
    ++lines;
    out.on_reject(chunk.oversized_line, long_line_reason(chunk.oversized_bytes, max_line_bytes, limit_memory));
    return;
  }
  LineSink<Out> sink(out);
  // Lines are read in place, their ends found by reading them, until a few
  // have not been read so (another format, a rejected line): the rest of
  // the chunk is then cut into lines first.
  std::uint32_t misses = 0;
  std::uintptr_t fetched = 0;  // an address, not a pointer: it may pass the chunk's end
  auto in_place = [&](const char* p, const char* end, std::uint64_t line_no) -> const char* {
    if (misses >= kInPlaceMisses) return nullptr;
    // The bytes a few lines ahead are fetched while this one is read: the
    // text comes from the page cache, not from any cache of the CPU's, and
    // the hardware's own fetching stops at each 4 KiB page.
    const auto from = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t until = from + static_cast<std::uintptr_t>(std::min(end - p, kFetchAhead));
    for (fetched = std::max(fetched, from); fetched < until; fetched += 64)
      __builtin_prefetch(reinterpret_cast<const void*>(fetched));
    const char* stop = reader.read_line_in_place(p, end, record);
    if (!stop || static_cast<std::size_t>(stop - p) > max_line_bytes) {
      ++misses;
      return nullptr;
    }
    ++lines;
    out.on_span(record, line_no);
    return stop;
  };
  blank += for_each_line(
      chunk,
      [&](std::string_view line, std::uint64_t line_no, std::size_t cap) {
        ++lines;
        if (line.size() > max_line_bytes) {
          out.on_reject(line_no, long_line_reason(line.size(), max_line_bytes, limit_memory));
          return;
        }
        sink.at(line_no);
        if (reader.read_line(line, cap, record, sink)) out.on_span(record, line_no);
      },
      in_place);
}

// A whole document's records to `out`, each at the line where its object
// starts. `text` is followed by simdjson's padding.
template <typename Out>
void parse_document(std::string_view text, FormatReader& reader, Out& out) {
  const json::LineIndex index(text);
  struct Located final : RecordSink {
    Located(Out& o, const json::LineIndex& l) : out(o), lines(l) {}
    void span(const SpanRecord& r, std::size_t offset) override { out.on_span(r, lines.line_of(offset)); }
    void reject(std::size_t offset, std::string reason) override {
      out.on_reject(lines.line_of(offset), std::move(reason));
    }
    void merged(std::size_t offset) override { out.on_merged(lines.line_of(offset)); }
    void note(std::string message) override { out.on_note(std::move(message)); }
    Out& out;
    const json::LineIndex& lines;
  } sink(out, index);
  reader.read_document(text, index, sink);
}

inline std::string display_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

}  // namespace ta
