#include "util/printable.h"

#include "util/utf8.h"

namespace ta {

bool terminal_control(std::uint32_t cp) {
  const bool control = cp < 0x20 || (cp >= 0x7f && cp < 0xa0);  // C0, DEL, C1
  const bool bidi = cp == 0x61c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
                    (cp >= 0x2066 && cp <= 0x2069);
  return control || bidi;
}

namespace {

// The length of the UTF-8 sequence at s[i] when it is well formed and shows
// as text, else 0: a control, or bytes that are not UTF-8.
std::size_t shown_length(std::string_view s, std::size_t i) {
  const Utf8Char ch = utf8_char(s, i);
  return terminal_control(ch.code_point) ? 0 : ch.length;
}

}  // namespace

bool all_printable(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = shown_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable(std::string_view s, bool keep_colour) {
  std::string out;
  out.reserve(s.size());
  static const char* hex = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size();) {
    if (const std::size_t n = shown_length(s, i)) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (keep_colour && c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') {
      std::size_t j = i + 2;
      while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';')) ++j;
      if (j < s.size() && s[j] == 'm') {
        out.append(s.substr(i, j - i + 1));
        i = j + 1;
        continue;
      }
    }
    // A whole character that may not be shown as itself is named by its
    // code point; a byte that is no character, by its value.
    if (c >= 0xc2 && c <= 0xf4) {
      std::size_t n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
      bool whole = i + n <= s.size();
      std::uint32_t cp = c & (0x3f >> (n - 1));
      for (std::size_t k = 1; whole && k < n; ++k) {
        const auto d = static_cast<unsigned char>(s[i + k]);
        whole = (d & 0xc0) == 0x80;
        cp = cp << 6 | (d & 0x3f);
      }
      if (whole && cp <= 0x10ffff) {
        out += "\\u{";
        bool any = false;
        for (int shift = 20; shift >= 0; shift -= 4) {
          const unsigned digit = (cp >> shift) & 15;
          if (!any && digit == 0 && shift > 12) continue;
          any = true;
          out += hex[digit];
        }
        out += '}';
        i += n;
        continue;
      }
    }
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
    ++i;
  }
  return out;
}

}  // namespace ta
