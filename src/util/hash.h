// One fast hash for ids and labels (XXH3, header-only).
#pragma once

#define XXH_INLINE_ALL
// SSE2 kernels: the AVX-512 ones trip GCC's uninitialised-use warnings under
// -march=native, and the inputs here (ids, span records) are short anyway.
#define XXH_VECTOR 1
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace ta {

inline std::uint64_t hash_bytes(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// a == b, for the short ids and keys that hash tables compare once their
// hashes match: up to 16 bytes in two overlapping word compares, not a call.
inline bool same_bytes(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  auto word = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  auto half = [](const char* p) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
  };
  if (n >= 8 && n <= 16) return word(a.data()) == word(b.data()) && word(a.data() + n - 8) == word(b.data() + n - 8);
  if (n >= 4 && n < 8) return half(a.data()) == half(b.data()) && half(a.data() + n - 4) == half(b.data() + n - 4);
  return a == b;
}

}  // namespace ta
