// How many distinct values a list holds, estimated in one pass by linear
// counting: each value's hash sets a bit of a bitmap of 8 bits a value, and
// the share of bits left clear gives the estimate (within a few percent).
// For deciding whether values repeat enough to be counted rather than
// listed: no sort, no copy of the values.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

namespace ta {

// for_each(mark) calls mark(hash) once for each of the n values (a keyed
// hash: values come from the input).
template <typename ForEach>
double estimate_distinct(std::size_t n, ForEach&& for_each) {
  if (n == 0) return 0;
  const std::size_t bits = std::bit_ceil(n) * 8;  // a power of two, at least 8
  std::vector<std::uint64_t> bitmap((bits + 63) / 64);
  for_each([&](std::uint64_t h) {
    h &= bits - 1;
    bitmap[h / 64] |= std::uint64_t{1} << (h % 64);
  });
  std::size_t set = 0;
  for (const std::uint64_t w : bitmap) set += static_cast<std::size_t>(std::popcount(w));
  const double clear = static_cast<double>(bits - set) / static_cast<double>(bits);
  return clear > 0 ? -static_cast<double>(bits) * std::log(clear) : static_cast<double>(bits);
}

}  // namespace ta
