// Memory mapped at a huge-page boundary and advised as transparent huge
// pages: on a VM a 4 KiB page fault costs microseconds, so large blocks
// (whole blocks of a ChunkedVector, and through the global operator new
// every allocation of 2 MiB and more) are better faulted in 2 MiB at a time.
#pragma once

#include <cstddef>

namespace ta {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

struct HugeMapping {
  void* base = nullptr;     // as mapped (nullptr: the mapping failed); unmap base, length
  std::size_t length = 0;
  char* start = nullptr;    // at a huge-page boundary, with at least the bytes asked for after it
};

// Room for `bytes` from a huge-page boundary, with at least `lead` bytes
// (less than a huge page) mapped before it; [start, start + advised)
// advised as huge pages.
HugeMapping map_aligned(std::size_t bytes, std::size_t lead, std::size_t advised);
// The block's huge pages, all advised (its last one, if it fills it in
// part, too).
inline HugeMapping map_huge_pages(std::size_t bytes) {
  return map_aligned(bytes, 0, (bytes + kHugePage - 1) & ~(kHugePage - 1));
}

}  // namespace ta
