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

#include "util/stop.h"

namespace ta {
namespace {

LineReader::Buffer padded_buffer(std::size_t capacity) {
  // Zeroed so the padding that the JSON parser reads past a line is defined;
  // by calloc, which need not write memory the system hands over zeroed
  // (writing it would fault in every page of a buffer a small input never
  // fills).
  LineReader::Buffer buf(static_cast<char*>(std::calloc(capacity + simdjson::SIMDJSON_PADDING, 1)));
  if (!buf) throw std::bad_alloc();
  return buf;
}

}  // namespace

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
      capacity_(std::max<std::size_t>(std::min(chunk_bytes, max_line_bytes + 2), 3)),
      buf_(padded_buffer(capacity_)) {}

// One read into the free space; false on error.
bool LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const std::ptrdiff_t r = source_.read(buf_.get() + end_, capacity_ - end_);
  if (r < 0) {
    error_ = source_.error();
    eof_ = true;
    return false;
  }
  if (r == 0 && stop_requested()) {
    // Stopped, not ended: the bytes after the last newline are half a line.
    const char* base = buf_.get() + begin_;
    const void* nl = end_ > begin_ ? memrchr(base, '\n', end_ - begin_) : nullptr;
    const std::size_t whole = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - base) + 1 : 0;
    stopped_bytes_ = end_ - begin_ - whole;
    end_ = begin_ + whole;
    eof_ = true;
  } else if (r == 0) {
    (follow_ ? waiting_ : eof_) = true;
  }
  end_ += static_cast<std::size_t>(r);
  bytes_ += static_cast<std::size_t>(r);
  return true;
}

// The buffer holds the start of a line longer than the limit: drop bytes up to
// and including its newline, in linear time. In a followed file the rest may
// not be written yet: then next() returns false with waiting() set, and the
// skip goes on at the next call (so the caller can still notice rotation).
bool LineReader::skip_rest_of_line(LineChunk& chunk) {
  for (;;) {
    const char* p = buf_.get() + begin_;
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end_ - begin_));
    if (nl) {
      skip_dropped_ += static_cast<std::uint64_t>(nl - p);
      if (nl > p) skip_last_ = nl[-1];
      begin_ += static_cast<std::size_t>(nl - p) + 1;
      break;
    }
    skip_dropped_ += end_ - begin_;
    if (end_ > begin_) skip_last_ = buf_[end_ - 1];
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

void OwnedChunk::assign(const LineChunk& from, std::uint32_t file_index) {
  chunk = from;
  file = file_index;
  document = false;
  if (from.oversized_line) return;
  bytes.resize(from.size + simdjson::SIMDJSON_PADDING);
  std::memcpy(bytes.data(), from.data, from.size);
  std::memset(bytes.data() + from.size, 0, simdjson::SIMDJSON_PADDING);
  chunk.data = bytes.data();
  chunk.capacity = bytes.size();
}

bool LineReader::next(LineChunk& chunk) {
  if (skipping_) return skip_rest_of_line(chunk);
  for (;;) {
    const char* base = buf_.get() + begin_;
    const std::size_t avail = end_ - begin_;
    const void* last_nl = avail ? memrchr(base, '\n', avail) : nullptr;
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
    } else if (begin_ == 0 && end_ == capacity_) {
      // A line longer than the buffer: grow it, up to the line limit.
      const std::size_t grown = std::min(capacity_ * 2, max_line_ + 2);
      auto bigger = padded_buffer(grown);
      std::memcpy(bigger.get(), buf_.get(), end_);
      buf_ = std::move(bigger);
      capacity_ = grown;
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
    chunk.capacity = capacity_ + simdjson::SIMDJSON_PADDING - begin_;
    chunk.first_line = next_line_;
    chunk.newlines = count_newlines(base, take);
    next_line_ += chunk.newlines + (base[take - 1] == '\n' ? 0 : 1);
    begin_ += take;
    return true;
  }
}

}  // namespace ta
