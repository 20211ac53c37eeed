#include <doctest/doctest.h>

#include <string_view>

#include "util/json_number.h"

using namespace ta;

TEST_CASE("json number syntax: integers, reals and what is not a number") {
  for (std::string_view s : {"0", "-0", "7", "-12", "1704038400000", "18446744073709551616", "123456789012345678901234567890"}) {
    CAPTURE(s);
    CHECK(json_number_syntax(s) == JsonNumber::kInteger);
    CHECK(is_json_number(s));
  }
  for (std::string_view s : {"0.5", "-0.0", "1.25", "1e3", "1E3", "1e+3", "1e-3", "-2.5e3", "0e0", "10.01E-07"}) {
    CAPTURE(s);
    CHECK(json_number_syntax(s) == JsonNumber::kReal);
    CHECK(is_json_number(s));
  }
  for (std::string_view s : {"", "-", "+1", "01", "-01", "00", "1.", ".5", "-.5", "1.e3", "1e", "1e+", "e3", "0x10",
                             "1 ", " 1", "1_000", "NaN", "Infinity", "-Infinity", "true", "\"1\"", "1.5.2", "1e3e3",
                             "--1", "1-"}) {
    CAPTURE(s);
    CHECK(json_number_syntax(s) == JsonNumber::kInvalid);
    CHECK_FALSE(is_json_number(s));
  }
}

TEST_CASE("json number syntax: a digit cut off is not a number") {
  static_assert(json_number_syntax("-1.5e-7") == JsonNumber::kReal);
  const std::string_view text = "12.5e3";
  for (std::size_t n = 0; n <= text.size(); ++n) {
    const std::string_view s = text.substr(0, n);
    CAPTURE(s);
    const bool complete = s == "1" || s == "12" || s == "12.5" || s == "12.5e3";
    CHECK(is_json_number(s) == complete);
  }
}
