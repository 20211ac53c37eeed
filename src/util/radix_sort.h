// Sorting many records by a 64-bit key, stably, by the key's bytes (least
// significant first): a pass over the records per byte, none for a byte all
// keys share. A fleet's caller -> callee pairs number as many as its calls,
// and their keys (two ranks of a few thousand names) vary in four bytes or
// fewer: four linear passes where a comparison sort takes log n.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace ta {

// Sorts the n records at v by key(record), a std::uint64_t; records of
// equal keys keep their order. Takes `buffer` (grown to n) for the time of
// the sort: a caller sorting many ranges in turn reuses one.
template <typename T, typename Key>
void radix_sort(T* v, std::size_t n, Key&& key, std::vector<T>& buffer) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (n < 64) {
    std::stable_sort(v, v + n, [&](const T& x, const T& y) { return key(x) < key(y); });
    return;
  }
  std::array<std::array<std::size_t, 256>, 8> counts{};
  for (const T* r = v; r != v + n; ++r) {
    const std::uint64_t k = key(*r);
    for (int d = 0; d < 8; ++d) ++counts[d][(k >> (8 * d)) & 0xff];
  }
  if (buffer.size() < n) buffer.resize(n);
  T* from = v;
  T* to = buffer.data();
  for (int d = 0; d < 8; ++d) {
    std::array<std::size_t, 256>& c = counts[d];
    if (std::find(c.begin(), c.end(), n) != c.end()) continue;  // one value: the order stands
    std::size_t at = 0;
    for (std::size_t& b : c) {
      const std::size_t here = b;
      b = at;
      at += here;
    }
    for (const T* r = from; r != from + n; ++r) to[c[(key(*r) >> (8 * d)) & 0xff]++] = *r;
    std::swap(from, to);
  }
  if (from != v) std::copy(from, from + n, v);
}

// Sorts v by key(record), stably. Takes a buffer as large as v for the time
// of the sort.
template <typename T, typename Key>
void radix_sort(std::vector<T>& v, Key&& key) {
  std::vector<T> buffer;
  radix_sort(v.data(), v.size(), key, buffer);
}

}  // namespace ta
