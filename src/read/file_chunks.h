// A regular, uncompressed file cut into chunks that threads read on their
// own, with pread into a buffer each reuses: no reading thread, no copy
// between threads, no page of the file mapped (a page fault costs more than
// copying the page, on a VM several times more). Chunk k holds the lines
// that start in [k·C, (k+1)·C), the last of them read to its end, so every
// line is in exactly one chunk wherever the cuts fall. Lines are numbered
// from 1 in their chunk; LineMap places them in the file once every chunk
// has been counted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "read/line_reader.h"

namespace ta {

class FileChunks {
 public:
  // The file opened, or nullptr when it is better streamed (not a regular
  // file, empty, or compressed: see compression_of) or cannot be opened or
  // read (the streaming path says why).
  static std::unique_ptr<FileChunks> open(const std::string& path, std::size_t chunk_bytes, std::size_t max_line_bytes);
  ~FileChunks();
  FileChunks(const FileChunks&) = delete;
  FileChunks& operator=(const FileChunks&) = delete;

  std::size_t count() const { return static_cast<std::size_t>((size_ + chunk_ - 1) / chunk_); }
  std::uint64_t size() const { return size_; }
  // The bytes chunk k is cut at (its lines may end past them).
  std::uint64_t bytes_of(std::size_t k) const;

  // One thread's buffer, grown for a long line and reused.
  struct Buffer {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;  // usable bytes; the parser's padding follows
  };
  struct Chunk {
    LineChunk lines;                    // first_line 1; size 0 when no line starts in the chunk
    std::uint64_t oversized_bytes = 0;  // > 0: one more line, over the limit, after those (not read)
    bool shrank = false;                // the file ended before its size when opened
    std::string error;                  // a read error: the chunk is cut there
  };
  // Thread-safe.
  void read(std::size_t k, Buffer& buf, Chunk& out) const;

 private:
  FileChunks(int fd, std::uint64_t size, std::size_t chunk, std::size_t max_line)
      : fd_(fd), size_(size), chunk_(chunk), max_line_(max_line) {}
  int fd_;
  std::uint64_t size_;  // at open: bytes past it are not read
  std::uint64_t chunk_;
  std::size_t max_line_;
};

}  // namespace ta
