// A regular file read through a memory map: its chunks of whole lines are
// handed to the parsers where they lie, with no read() copy and no copy per
// chunk. Parsed pages are given back, so resident memory does not grow with
// the file. A file cut short while mapped (logrotate's copytruncate) does not
// crash the run: the pages past its new end read as zeros and the file is
// reported as shrunk.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "read/line_reader.h"

namespace ta {

class MappedFile {
 public:
  // The file mapped, or nullptr when it is better read (not a regular file,
  // empty, gzip, or no room to map it); `shrank` is set if it is cut short
  // while mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path, std::atomic<bool>* shrank);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  // Bytes readable from data() on: the file, then zeros to a page past its end.
  std::size_t readable() const { return mapped_; }
  // Drops the pages wholly inside [begin, begin + n) from memory; the file's
  // bytes stay in the page cache and would be read back if touched again.
  void release(const char* begin, std::size_t n) const;

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;
  int slot_ = -1;  // in the registry the SIGBUS handler looks in
};

// LineReader's chunks, cut from a mapped file: they stay valid while the
// MappedFile lives (a report of an oversized line has no data at all).
class MappedLineReader {
 public:
  MappedLineReader(std::shared_ptr<MappedFile> file, std::size_t chunk_bytes, std::size_t max_line_bytes);
  bool next(LineChunk& chunk);
  const std::shared_ptr<MappedFile>& file() const { return file_; }
  std::uint64_t bytes() const { return pos_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::size_t window_;  // as LineReader's buffer: at most max_line + 2
  std::size_t max_line_;
  std::size_t pos_ = 0;
  std::uint64_t next_line_ = 1;
};

}  // namespace ta
