#include "read/line_reader.h"

#include <simdjson.h>
#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "util/stop.h"

namespace ta {
ReadBuffer ReadBuffer::make(std::size_t capacity) {
  // Zeroed so the padding that the JSON parser reads past a line is defined;
  // by calloc, which need not write memory the system hands over zeroed
  // (writing it would fault in every page of a buffer a small input never
  // fills).
  ReadBuffer b;
  b.data.reset(static_cast<char*>(std::calloc(capacity + simdjson::SIMDJSON_PADDING, 1)));
  if (!b.data) throw std::bad_alloc();
  b.capacity = capacity;
  return b;
}

std::uint64_t count_newlines(const char* p, std::size_t n) {
  std::uint64_t count = 0;
  std::size_t i = 0;
#if defined(__AVX2__)
  const __m256i nl = _mm256_set1_epi8('\n');
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    count += static_cast<std::uint64_t>(
        __builtin_popcount(static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nl)))));
  }
#elif defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    count += static_cast<std::uint64_t>(__builtin_popcount(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)))));
  }
#endif
  for (; i < n; ++i) count += p[i] == '\n';
  return count;
}

LineReader::LineReader(ByteSource& source, std::size_t chunk_bytes, std::size_t max_line_bytes)
    : source_(source),
      max_line_(max_line_bytes),
      // Never far above the limit: a full buffer without a newline is an
      // oversized line. +2 leaves room for a "\r\n" after a line at the limit.
      chunk_capacity_(std::max<std::size_t>(std::min(chunk_bytes, max_line_bytes + 2), 3)),
      buf_(ReadBuffer::make(chunk_capacity_)) {}

// One read into the free space; false on error.
bool LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buf_.data.get(), buf_.data.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const std::ptrdiff_t r = source_.read(buf_.data.get() + end_, buf_.capacity - end_);
  if (r < 0) {
    error_ = source_.error();
    eof_ = true;
    return false;
  }
  if (r == 0 && stop_requested()) {
    stop();
  } else if (r == 0) {
    (follow_ ? waiting_ : eof_) = true;
  }
  end_ += static_cast<std::size_t>(r);
  bytes_ += static_cast<std::size_t>(r);
  return true;
}

void LineReader::stop() {
  if (eof_) return;
  eof_ = true;
  waiting_ = false;
  if (skipping_) return;  // the rest of a line too long to keep: reported as such
  // Stopped, not ended: the bytes after the last newline are half a line.
  const char* base = buf_.data.get() + begin_;
  const void* nl = end_ > begin_ ? memrchr(base, '\n', end_ - begin_) : nullptr;
  const std::size_t whole = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - base) + 1 : 0;
  stopped_bytes_ = end_ - begin_ - whole;
  end_ = begin_ + whole;
}

// The buffer holds the start of a line longer than the limit: drop bytes up to
// and including its newline, in linear time. In a followed file the rest may
// not be written yet: then next() returns false with waiting() set, and the
// skip goes on at the next call (so the caller can still notice rotation).
bool LineReader::skip_rest_of_line(LineChunk& chunk) {
  for (;;) {
    const char* p = buf_.data.get() + begin_;
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end_ - begin_));
    if (nl) {
      skip_dropped_ += static_cast<std::uint64_t>(nl - p);
      if (nl > p) skip_last_ = nl[-1];
      begin_ += static_cast<std::size_t>(nl - p) + 1;
      break;
    }
    skip_dropped_ += end_ - begin_;
    if (end_ > begin_) skip_last_ = buf_.data[end_ - 1];
    begin_ = end_ = 0;
    if (eof_) break;
    waiting_ = false;
    if (!fill() || (eof_ && end_ == 0)) break;
    if (waiting_) return false;  // still skipping; see waiting()
  }
  skipping_ = false;
  chunk = LineChunk{};
  chunk.oversized_line = next_line_++;
  // The line's length, as for_each_line counts it.
  chunk.oversized_bytes = skip_dropped_ - (skip_last_ == '\r' && skip_dropped_ > 0) - (skip_bom_ ? 3 : 0);
  return true;
}

bool LineReader::next_owned(OwnedChunk& out) {
  LineChunk chunk;
  if (!next(chunk)) return false;
  out.chunk = chunk;
  out.document = false;
  if (chunk.oversized_line) return true;
  if (chunk.size < buf_.capacity / 4) {
    // A small chunk (a pipe gives a few KiB a read, a trickling stream
    // less) is copied, so that a buffer's memory goes with what it holds.
    if (!out.buffer.data || out.buffer.capacity < chunk.size ||
        out.buffer.capacity > std::max(chunk_capacity_, 4 * chunk.size))
      out.buffer = ReadBuffer::make(std::max(chunk_capacity_, chunk.size));
    std::memcpy(out.buffer.data.get(), chunk.data, chunk.size);
    std::memset(out.buffer.data.get() + chunk.size, 0, simdjson::SIMDJSON_PADDING);
    out.chunk.data = out.buffer.data.get();
    out.chunk.capacity = out.buffer.capacity + simdjson::SIMDJSON_PADDING;
    return true;
  }
  // Else the chunk goes with the buffer it lies in; what follows it (part
  // of a line, or nothing) starts the next buffer, back to the chunk size
  // after a long line grew the buffer, unless what is left needs more.
  const std::size_t left = end_ - begin_;
  const std::size_t capacity = left <= chunk_capacity_ ? chunk_capacity_ : buf_.capacity;
  ReadBuffer next = std::move(out.buffer);
  if (!next.data || next.capacity != capacity) next = ReadBuffer::make(capacity);
  std::memcpy(next.data.get(), buf_.data.get() + begin_, left);
  end_ = left;
  begin_ = 0;
  out.buffer = std::exchange(buf_, std::move(next));
  return true;
}

bool LineReader::next(LineChunk& chunk) {
  if (skipping_) return skip_rest_of_line(chunk);
  // Bytes from begin_ looked at and found to hold no newline: only what a
  // read adds is looked at, so a line that comes in many reads (a long
  // line through a pipe, 64 KiB a read) costs linear time.
  std::size_t clean = 0;
  for (;;) {
    const char* base = buf_.data.get() + begin_;
    const std::size_t avail = end_ - begin_;
    const void* last_nl = avail > clean ? memrchr(base + clean, '\n', avail - clean) : nullptr;
    if (!last_nl) clean = avail;
    std::size_t take = 0;
    if (last_nl) {
      take = static_cast<std::size_t>(static_cast<const char*>(last_nl) - base) + 1;
    } else if (eof_ && avail > 0) {
      take = avail;  // last line without a newline
    } else if (eof_) {
      return false;
    } else if (avail > max_line_ + 1) {
      skipping_ = true;
      skip_bom_ = std::string_view(base, 3) == kBom;
      skip_dropped_ = 0;
      skip_last_ = 0;
      return skip_rest_of_line(chunk);
    } else if (begin_ == 0 && end_ == buf_.capacity) {
      // A line longer than the buffer: grow it, up to the line limit.
      ReadBuffer bigger = ReadBuffer::make(std::min(buf_.capacity * 2, max_line_ + 2));
      std::memcpy(bigger.data.get(), buf_.data.get(), end_);
      buf_ = std::move(bigger);
      continue;
    }
    if (take == 0) {
      waiting_ = false;
      fill();
      if (waiting_) return false;
      continue;
    }
    chunk = LineChunk{};
    chunk.data = base;
    chunk.size = take;
    chunk.capacity = buf_.capacity + simdjson::SIMDJSON_PADDING - begin_;
    chunk.first_line = next_line_;
    chunk.newlines = count_newlines(base, take);
    next_line_ += chunk.newlines + (base[take - 1] == '\n' ? 0 : 1);
    begin_ += take;
    return true;
  }
}

}  // namespace ta
