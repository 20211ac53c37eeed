// Decimal digits read and written eight or sixteen at a time: the numbers
// of a span line (times, codes) and decimal ids are read by the first, and
// decimal ids written back as text by the second.
#pragma once

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

#include <bit>
#include <cstdint>
#include <cstring>

namespace ta {

#if defined(__SSE4_1__)
// The value of 16 digits given as their values (a character less '0', each
// 0 to 9), the first the most significant: pairs, fours and eights joined
// by multiply-adds.
inline std::uint64_t digits16_value(__m128i values) {
  const __m128i pairs = _mm_maddubs_epi16(values, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
  const __m128i fours = _mm_madd_epi16(pairs, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
  const __m128i eights = _mm_madd_epi16(_mm_packus_epi32(fours, fours), _mm_setr_epi16(10000, 1, 10000, 1, 0, 0, 0, 0));
  return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_cvtsi128_si32(eights))) * 100'000'000 +
         static_cast<std::uint32_t>(_mm_extract_epi32(eights, 1));
}

// The 16 characters at p less '0', and whether all of them are digits.
inline bool load_digits16(const char* p, __m128i& values) {
  values = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8('0'));
  // A digit's value is at most 9 as an unsigned byte; any other character's is more.
  const __m128i nine = _mm_set1_epi8(9);
  return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(values, nine), nine)) == 0xFFFF;
}
#endif

// The value of the 8 digit characters at p (checked before), read as one
// word: pairs, fours and eights joined by multiplications in its lanes.
inline std::uint64_t eight_digits(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  v = ((v & 0x0f0f0f0f0f0f0f0full) * 2561) >> 8;
  v = ((v & 0x00ff00ff00ff00ffull) * 6553601) >> 16;
  return ((v & 0x0000ffff0000ffffull) * 42949672960001ull) >> 32;
}

// The 8 digits of v (below 100,000,000, leading zeros written) as one
// word, the first digit in its first byte in memory: the two halves, their
// two pairs and their digits split by multiplications that stand for
// divisions, in the word's lanes.
inline std::uint64_t eight_digit_word(std::uint32_t v) {
  // Lanes of 32 bits: the high four digits, then the low four.
  const std::uint64_t fours = v / 10000 | static_cast<std::uint64_t>(v % 10000) << 32;
  // Each lane over 100 (x * 10486 >> 20 is x / 100 for x below 10,000), and what is left.
  const std::uint64_t high_pairs = ((fours * 10486) >> 20) & 0x0000007F0000007Full;
  const std::uint64_t pairs = ((fours - 100 * high_pairs) << 16) + high_pairs;  // lanes of 16 bits
  // Each pair over 10 (x * 103 >> 10 is x / 10 for x below 100), and what is left.
  const std::uint64_t tens = ((pairs * 103) >> 10) & 0x000F000F000F000Full;
  std::uint64_t digits = (tens + ((pairs - 10 * tens) << 8)) | 0x3030303030303030ull;
  if constexpr (std::endian::native == std::endian::big) digits = __builtin_bswap64(digits);
  return digits;
}

// The 8 digits of v (below 100,000,000, leading zeros written) at out, as
// one 8-byte store.
inline void write_8_digits(std::uint32_t v, char* out) {
  const std::uint64_t digits = eight_digit_word(v);
  std::memcpy(out, &digits, 8);
}

// The digits of v (below 100,000,000) at out, no leading zero; returns the
// end. Stores 8 bytes at out whatever the count: the caller leaves room.
inline char* write_short_decimal(std::uint32_t v, char* out) {
  if constexpr (std::endian::native == std::endian::little) {
    // The leading zeros are the low bytes that are '0': the word moves down
    // past them (v = 0 keeps its last).
    std::uint64_t digits = eight_digit_word(v);
    const unsigned zeros = v == 0 ? 7 : static_cast<unsigned>(__builtin_ctzll(digits ^ 0x3030303030303030ull)) / 8;
    digits >>= 8 * zeros;
    std::memcpy(out, &digits, 8);
    return out + (8 - zeros);
  } else {
    char digits[8];
    char* p = digits + sizeof digits;
    do {
      *--p = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    const auto n = static_cast<std::size_t>(digits + sizeof digits - p);
    std::memcpy(out, p, n);
    return out + n;
  }
}

// The digits of v at out, no leading zero; returns the end. Stores up to 24
// bytes at out (the caller leaves room). Eight digits at a time.
inline char* write_decimal(std::uint64_t v, char* out) {
  constexpr std::uint64_t k8 = 100'000'000, k16 = k8 * k8;
  if (v < k8) return write_short_decimal(static_cast<std::uint32_t>(v), out);
  if (v < k16) {
    out = write_short_decimal(static_cast<std::uint32_t>(v / k8), out);
    write_8_digits(static_cast<std::uint32_t>(v % k8), out);
    return out + 8;
  }
  out = write_short_decimal(static_cast<std::uint32_t>(v / k16), out);  // 1 to 4 digits
  const std::uint64_t low = v % k16;
  write_8_digits(static_cast<std::uint32_t>(low / k8), out);
  write_8_digits(static_cast<std::uint32_t>(low % k8), out + 8);
  return out + 16;
}

}  // namespace ta
