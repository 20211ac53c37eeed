// Decimal digits read sixteen at a time: the numbers of a span line (times,
// codes).
#pragma once

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

#include <cstdint>

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
#endif

}  // namespace ta
