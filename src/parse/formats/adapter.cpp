#include "parse/formats/adapter.h"

#include <fmt/format.h>

#include <iterator>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ta {

namespace {

enum class Hex { kNo, kLower, kUpper };  // kUpper: hex with an upper-case letter

Hex hex_case(std::string_view id) {
  if (id.empty()) return Hex::kNo;
  bool upper = false;
  std::size_t i = 0;
#if defined(__SSE2__)
  // 16 characters at a time (ids are 16 or 32): digits, a-f, A-F.
  const auto in = [](__m128i v, char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
  };
  for (; i + 16 <= id.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(id.data() + i));
    const __m128i big = in(v, 'A', 'F');
    const __m128i ok = _mm_or_si128(_mm_or_si128(in(v, '0', '9'), in(v, 'a', 'f')), big);
    if (_mm_movemask_epi8(ok) != 0xFFFF) return Hex::kNo;
    upper = upper || _mm_movemask_epi8(big) != 0;
  }
#endif
  for (; i < id.size(); ++i) {
    const char c = id[i];
    if (c >= 'A' && c <= 'F') {
      upper = true;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Hex::kNo;
    }
  }
  return upper ? Hex::kUpper : Hex::kLower;
}

std::string_view lowered(std::string_view id, Scratch& scratch) {
  std::string lower(id);
  for (char& c : lower)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return scratch.keep(std::move(lower));
}

}  // namespace

bool same_letters(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (c != lower[i]) return false;
  }
  return true;
}

StatusCode otel_status_code(std::string_view value) {
  if (same_letters(value, "error")) return StatusCode::kError;
  if (same_letters(value, "ok")) return StatusCode::kOk;
  return StatusCode::kUnset;
}

std::string quoted_value(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 40) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else {
      out += s[i];
    }
  }
  return out + "\"";
}

std::optional<std::string_view> hex_id_lower(std::string_view id, Scratch& scratch) {
  switch (hex_case(id)) {
    case Hex::kNo: return std::nullopt;
    case Hex::kLower: return id;
    case Hex::kUpper: break;
  }
  return lowered(id, scratch);
}

std::string_view lower_hex_id(std::string_view id, Scratch& scratch) {
  return hex_case(id) == Hex::kUpper ? lowered(id, scratch) : id;
}

}  // namespace ta
