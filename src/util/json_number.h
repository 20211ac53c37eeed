// JSON number syntax (RFC 8259): what the parsers and writers check before a
// number's text, kept as written, is read or written again as a bare number.
#pragma once

#include <cstdint>
#include <string_view>

namespace ta {

enum class JsonNumber : std::uint8_t {
  kInvalid,    // not a JSON number ("", "+1", "01", "1.", ".5", "NaN", "1e")
  kInteger,  // no fraction and no exponent: "0", "-12"
  kReal,     // a fraction or an exponent: "1.5", "-0e3"
};

// The kind of number `s` is, all of it; any number of digits.
constexpr JsonNumber json_number_syntax(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return JsonNumber::kInvalid;
  }
  JsonNumber kind = JsonNumber::kInteger;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return JsonNumber::kInvalid;
    kind = JsonNumber::kReal;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return JsonNumber::kInvalid;
    kind = JsonNumber::kReal;
  }
  return i == s.size() ? kind : JsonNumber::kInvalid;
}

constexpr bool is_json_number(std::string_view s) { return json_number_syntax(s) != JsonNumber::kInvalid; }

}  // namespace ta
