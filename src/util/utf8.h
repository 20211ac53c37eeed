// Reading UTF-8 one character at a time, for writers that must not pass on
// bytes that are not text (a file name is any bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ta {

// Bytes that start a line of text encoded with a byte order mark.
inline constexpr std::string_view kBom = "\xEF\xBB\xBF";

// The character at s[i]: its length in bytes and code point, or length 0
// when the bytes there are not well-formed UTF-8 (cut short, overlong, a
// surrogate, past U+10FFFF, a stray continuation byte).
struct Utf8Char {
  std::size_t length = 0;
  std::uint32_t code_point = 0;
};
inline Utf8Char utf8_char(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return {1, c};
  std::size_t n;
  std::uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, cp = c & 0x07;
  } else {
    return {};
  }
  if (i + n > s.size()) return {};
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return {};
    cp = cp << 6 | (b(k) & 0x3f);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {};
  return {n, cp};
}

}  // namespace ta
