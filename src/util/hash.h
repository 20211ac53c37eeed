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

// Unaligned loads of 8 and 4 bytes.
inline std::uint64_t load_word(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline std::uint32_t load_half(const char* p) {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// a == b, for the short ids and keys that hash tables compare once their
// hashes match: up to 16 bytes in two overlapping word compares, not a call.
inline bool same_bytes(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8 && n <= 16) return load_word(p) == load_word(q) && load_word(p + n - 8) == load_word(q + n - 8);
  if (n >= 4 && n < 8) return load_half(p) == load_half(q) && load_half(p + n - 4) == load_half(q + n - 4);
  return a == b;
}

}  // namespace ta
