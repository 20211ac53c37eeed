// Cuts a byte stream into chunks of whole lines through one buffer, reused or
// handed over with its chunk and replaced (next_owned), so memory does not
// grow with the file. Every line handed out is followed by at least
// simdjson's padding of readable bytes, so it parses in place.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "read/byte_source.h"
#include "util/utf8.h"

namespace ta {

// Lines longer than max_line_bytes + 1 are cut out and reported as
// oversized; a line of max_line_bytes + 1 still comes through (it may be a
// line at the limit followed by '\r'), so the caller checks the length of
// what for_each_line hands it.
struct LineChunk {
  const char* data = nullptr;
  std::size_t size = 0;        // whole lines, the last one maybe without '\n'
  std::size_t capacity = 0;    // readable bytes from data on (>= size + padding)
  std::uint64_t first_line = 1;
  std::uint64_t newlines = 0;  // '\n' in [data, data+size)
  // Set instead of data: one line longer than the limit, skipped.
  std::uint64_t oversized_line = 0;
  std::uint64_t oversized_bytes = 0;
};

// A buffer a LineReader reads into: `capacity` usable bytes, then the
// padding the JSON parser may read past a line, zeroed when it is made and
// never written.
struct ReadBuffer {
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char[], Free> data;
  std::size_t capacity = 0;
  static ReadBuffer make(std::size_t capacity);
};

// A chunk that another thread parses while the reader goes on, in the
// reader's own buffer, handed over with it (LineReader::next_owned).
struct OwnedChunk {
  ReadBuffer buffer;        // the chunk lies in it; read into again for a later one
  std::vector<char> bytes;  // a whole document (live mode)
  LineChunk chunk;          // points into buffer (an oversized-line chunk has none)
  std::uint32_t file = 0;
  // A whole document instead of lines: its bytes (padded) in `bytes`.
  bool document = false;
  std::size_t document_size = 0;
  std::uint64_t document_lines = 0;
};

class LineReader {
 public:
  LineReader(ByteSource& source, std::size_t chunk_bytes, std::size_t max_line_bytes);

  // The next chunk; false at the end or on a read error (see error()).
  // The chunk stays valid until the next call.
  bool next(LineChunk& chunk);
  // The same, handed over in the buffer it lies in (out.buffer, with out.chunk
  // set): no copy. The reader goes on in the buffer out held, when it is of
  // the reader's size (else a new one), the partial line after the chunk
  // moved to its start. A chunk under a quarter of the buffer is copied into
  // out.buffer instead, so memory follows the bytes held.
  bool next_owned(OwnedChunk& out);
  const std::string& error() const { return error_; }
  std::uint64_t bytes() const { return bytes_; }

  // Following a file that grows (--follow): reaching its end is not the end
  // of input. next() returns false with waiting() set while no new bytes
  // have come; a partial last line waits for the rest.
  void set_follow(bool follow) { follow_ = follow; }
  bool waiting() const { return waiting_; }
  // No more bytes will come (the file was replaced): a partial last line is
  // handed out as it is.
  void end_input() { eof_ = true; }
  // Bytes of a last line cut short because a stop was requested (SIGINT,
  // SIGTERM in live mode): not a line, so neither parsed nor counted.
  std::uint64_t stopped_bytes() const { return stopped_bytes_; }
  // A stop was requested while this input waited for more (a followed file
  // quiet in the middle of a line): reading ends, the partial line held is
  // stopped_bytes().
  void stop();
  // The number the next line handed out gets (after the end: that of the
  // line cut short, if any).
  std::uint64_t next_line() const { return next_line_; }

 private:
  bool fill();
  bool skip_rest_of_line(LineChunk& chunk);

  ByteSource& source_;
  std::size_t max_line_;
  std::size_t chunk_capacity_;  // the buffer's size, until a long line grows it
  ReadBuffer buf_;              // capacity: usable bytes, padding excluded
  std::size_t begin_ = 0, end_ = 0;  // unconsumed bytes in buf_
  std::uint64_t next_line_ = 1;
  std::uint64_t bytes_ = 0;
  bool eof_ = false;
  bool follow_ = false;
  bool waiting_ = false;
  bool skipping_ = false;  // inside a line over the limit
  std::uint64_t skip_dropped_ = 0;
  char skip_last_ = 0;
  bool skip_bom_ = false;  // the skipped line starts with a BOM, not counted (for_each_line drops it)
  std::uint64_t stopped_bytes_ = 0;
  std::string error_;
};

// The '\n' bytes in [p, p + n), counted a vector at a time.
std::uint64_t count_newlines(const char* p, std::size_t n);

// Calls f(line, line_number, capacity) for each non-blank line of a chunk,
// with "\r\n" endings and a leading UTF-8 BOM removed. Returns the number of
// blank lines skipped. Each line's start is first offered to
// in_place(start, chunk end, line_number), which either takes the whole
// line itself and returns its end (its '\n', or the chunk's end), or
// returns nullptr, and then the line is found and given to f.
template <typename F, typename InPlace>
std::uint64_t for_each_line(const LineChunk& chunk, F&& f, InPlace&& in_place) {
  std::uint64_t blank = 0;
  const char* p = chunk.data;
  const char* end = chunk.data + chunk.size;
  std::uint64_t line_no = chunk.first_line;
  while (p < end) {
    if (const char* stop = in_place(p, end, line_no)) {
      ++line_no;
      p = stop + 1;
      continue;
    }
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* stop = nl ? nl : end;
    std::string_view line(p, static_cast<std::size_t>(stop - p));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // A BOM starts the first line of a file, or any line when files were joined with cat.
    if (line.substr(0, 3) == kBom) line.remove_prefix(3);
    if (line.find_first_not_of(" \t\r\f\v") == std::string_view::npos) {
      ++blank;
    } else {
      f(line, line_no, chunk.capacity - static_cast<std::size_t>(line.data() - chunk.data));
    }
    ++line_no;
    p = stop + 1;
  }
  return blank;
}
template <typename F>
std::uint64_t for_each_line(const LineChunk& chunk, F&& f) {
  return for_each_line(chunk, std::forward<F>(f), [](const char*, const char*, std::uint64_t) -> const char* {
    return nullptr;
  });
}

}  // namespace ta
