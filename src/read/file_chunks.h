// A regular, uncompressed file cut into chunks that threads read on their
// own: no reading thread, no copy between threads. Chunk k holds the lines
// that start in [k·C, (k+1)·C), the last of them read to its end, so every
// line is in exactly one chunk wherever the cuts fall. Lines are numbered
// from 1 in their chunk; LineMap places them in the file once every chunk
// has been counted.
//
// The file is mapped, and a chunk's lines are read where they lie in the
// mapping (the kernel's copy of every byte into a buffer was a sixth of
// the reading time); its pages are let go once it is parsed, so resident
// memory holds a chunk or so a thread. A chunk is read into a buffer
// instead (pread) when the file cannot be mapped, near the file's end
// (where the parser's padding would run past the mapping), when its last
// line is longer than the limit, and when the file is shorter than it was
// at open (logrotate's copytruncate). A file cut shorter while its mapped
// pages are read does not kill the run with SIGBUS: the pages past the end
// read as zeros from then on (their lines are rejected) and the file is
// reported cut short.
#pragma once

#include <atomic>
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
    // Mapped: the bytes of the mapping looked at (null: read into the buffer).
    const char* mapped_from = nullptr;
    const char* mapped_to = nullptr;
  };
  // Thread-safe. Every chunk read is handed to done() once its lines are
  // parsed.
  void read(std::size_t k, Buffer& buf, Chunk& out) const;
  // The chunk's mapped pages are let go (and `shrank` set if the file was
  // cut shorter while they were read); once every chunk is done, the file
  // is closed and unmapped, so a run of thousands of files holds only
  // those being read open. Thread-safe.
  void done(Chunk& c) const;

 private:
  FileChunks(int fd, std::uint64_t size, std::size_t chunk, std::size_t max_line)
      : fd_(fd), size_(size), chunk_(chunk), max_line_(max_line) {}
  bool read_mapped(std::size_t k, Chunk& out) const;
  void close_file() const;
  // Closed by the last chunk's done(), when no thread reads the file.
  mutable int fd_;
  std::uint64_t size_;  // at open: bytes past it are not read
  std::uint64_t chunk_;
  std::size_t max_line_;
  mutable const char* map_ = nullptr;  // the whole file, or null
  int slot_ = -1;              // its entry in the SIGBUS guard
  mutable std::atomic<std::size_t> done_{0};
};

}  // namespace ta
