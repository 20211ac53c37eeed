// One fast hash for ids and labels: short ones (4 to 16 bytes: span and
// trace ids, their packed keys) by one multiplication, longer ones by XXH3
// (header-only).
//
// Ids and labels come from outside, so every hash is keyed by a secret
// drawn once per process (hash_key): ids crafted to collide in one run's
// tables do not collide in the next, and no table can be flooded. Nothing
// the tool writes may depend on the key (the order of traces, notes and
// tallies is set by the data alone). TA_HASH_KEY=<number> fixes the key:
// for tests and the benchmark's attack row, never needed otherwise.
#pragma once

#define XXH_INLINE_ALL
// SSE2 kernels: the AVX-512 ones trip GCC's uninitialised-use warnings under
// -march=native, and the inputs here (ids, span records) are short anyway.
#define XXH_VECTOR 1
#include <xxhash.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ta {

struct HashKey {
  std::uint64_t a, b, seed, mix;
};
// The process's key: random, or from TA_HASH_KEY. Set before main runs.
// The hashes below take it by default; a key passed instead hashes as a
// process with that key would (tests craft ids against other keys).
extern const HashKey hash_key;

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

// Texts of other lengths: XXH3, out of line, so that the short path below
// inlines.
[[gnu::noinline]] inline std::uint64_t hash_other(const char* p, std::size_t n, std::uint64_t seed) {
  return XXH3_64bits_withSeed(p, n, seed);
}

// A text of 4 to 16 bytes is read as two overlapping words (with its length
// they tell texts apart), each offset by a secret word, multiplied 64 x 64
// -> 128 bits and folded: both halves of the product depend on every input
// bit and on the key, so the top bits (a partition) and the low ones (a
// slot) are all mixed. A few cycles where XXH3 takes a few times more.
[[gnu::always_inline]] inline std::uint64_t hash_bytes(std::string_view s, const HashKey& key = hash_key) {
  const std::size_t n = s.size();
  const char* p = s.data();
  std::uint64_t a, b;
  if (n >= 8 && n <= 16) {
    a = load_word(p);
    b = load_word(p + n - 8);
  } else if (n >= 4 && n < 8) {
    a = load_half(p);
    b = load_half(p + n - 4);
  } else {
    return hash_other(p, n, key.seed);
  }
  __extension__ using Wide = unsigned __int128;
  const Wide m = static_cast<Wide>(a ^ key.a) * (b ^ key.b ^ (n * 0xC2B2AE3D27D4EB4Full));
  // The words themselves are added too (a factor of 0 would lose the other
  // word: texts made to hit it must not all collide), then mixed once more.
  std::uint64_t h = (static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64)) + (a ^ std::rotl(b, 32));
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  return h ^ (h >> 33);
}

// A 64-bit number (a pair of symbols) keyed and mixed: for tables keyed by
// numbers the input chose the order of.
inline std::uint64_t hash_number(std::uint64_t k, const HashKey& key = hash_key) {
  __extension__ using Wide = unsigned __int128;
  const Wide m = static_cast<Wide>(k ^ key.a) * (key.mix | 1);
  // Mixed once more: numbers that differ only in their low bits (durations,
  // offsets, symbols) change the product's high half only in its low bits,
  // so the folded product's bits were partly a linear function of them, and
  // under some keys their top or low bits bunched (64 distinct values fell
  // on 48 slots of 512).
  std::uint64_t h = static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  return h ^ (h >> 33);
}

// Two 64-bit numbers (a pair of symbols and a value the input chose, such as
// a clock offset) keyed and mixed together: the value is hashed before it
// meets the pair, so no choice of values lines entries up in one slot.
inline std::uint64_t hash_number_pair(std::uint64_t pair, std::uint64_t value, const HashKey& key = hash_key) {
  return hash_number(pair ^ std::rotl(hash_number(value, key), 29), key);
}

// For standard hash containers keyed by text: the keyed hash, and lookup
// by string_view without making a string.
struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return hash_bytes(s); }
};

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
