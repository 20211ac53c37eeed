// Where a span's line is. Parsing threads read chunks of a file at the same
// time and cannot know how many lines came before theirs, so a span is
// located by its chunk and its line in that chunk; once every chunk is
// read, the chunks' line counts say which line of which file that is.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ta {

// A location: chunk << 32 | line in chunk (from 1). Sorting locations sorts
// lines in input order, as chunks are numbered in input order.
inline std::uint64_t make_location(std::uint32_t chunk, std::uint64_t line) {
  return (static_cast<std::uint64_t>(chunk) << 32) | std::min<std::uint64_t>(line, 0xffffffffu);
}

class LineMap {
 public:
  struct Chunk {
    std::uint32_t file = 0;
    std::uint64_t first_line = 1;  // of the file
  };
  std::uint32_t add(Chunk c) {
    chunks_.push_back(c);
    return static_cast<std::uint32_t>(chunks_.size() - 1);
  }
  Chunk& operator[](std::uint32_t chunk) { return chunks_[chunk]; }
  const Chunk& operator[](std::uint32_t chunk) const { return chunks_[chunk]; }
  std::size_t size() const { return chunks_.size(); }
  bool empty() const { return chunks_.empty(); }

  // The file and line (clamped to 32 bits) of a location.
  void locate(std::uint64_t location, std::uint32_t& file, std::uint32_t& line) const {
    const Chunk& c = chunks_[location >> 32];
    file = c.file;
    line =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(c.first_line + (location & 0xffffffffu) - 1, 0xffffffffu));
  }

 private:
  std::vector<Chunk> chunks_;
};

}  // namespace ta
