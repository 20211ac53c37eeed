#include "parse/time_value.h"

#include <array>
#include <limits>

namespace ta {
namespace {

__extension__ typedef __int128 i128;  // exact products of 19-digit values
constexpr i128 kMaxNanos = std::numeric_limits<std::int64_t>::max();

i128 pow10(int n) {
  i128 r = 1;
  while (n-- > 0) r *= 10;
  return r;
}

std::int64_t unit_nanos(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kSeconds: return 1'000'000'000;
    case TimeUnit::kMicros: return 1'000;
    case TimeUnit::kNanos: return 1;
    case TimeUnit::kMillis:
    case TimeUnit::kAuto: break;
  }
  return 1'000'000;
}

// digits × 10^exponent × scale, truncated, or -1 past kMaxNanos.
i128 scaled(const Decimal& v, std::int64_t scale) {
  if (v.digits == 0) return 0;
  i128 x = static_cast<i128>(v.digits) * scale;
  if (v.exponent >= 0) {
    for (int i = 0; i < v.exponent; ++i) {
      x *= 10;
      if (x > kMaxNanos) return -1;
    }
    return x > kMaxNanos ? -1 : x;
  }
  if (v.exponent < -38) return 0;
  x /= pow10(-v.exponent);
  return x > kMaxNanos ? -1 : x;
}

}  // namespace

std::optional<Decimal> parse_decimal(std::string_view s) {
  Decimal d;
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') {
    d.negative = true;
    ++i;
  }
  int significant = 0;
  bool any_digit = false;
  auto take_digit = [&](char c, bool fraction) {
    any_digit = true;
    if (d.digits == 0 && c == '0') {
      if (fraction) --d.exponent;
      return true;
    }
    if (significant >= 19) {
      // Further digits only matter as magnitude in the integer part.
      if (!fraction) ++d.exponent;
      return true;
    }
    d.digits = d.digits * 10 + static_cast<std::uint64_t>(c - '0');
    ++significant;
    if (fraction) --d.exponent;
    return true;
  };
  const std::size_t int_begin = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') take_digit(s[i++], false);
  if (i == int_begin) return std::nullopt;  // JSON needs a digit before '.'
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t frac_begin = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') take_digit(s[i++], true);
    if (i == frac_begin) return std::nullopt;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    const std::size_t exp_begin = i;
    int e = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (e < 100000) e = e * 10 + (s[i] - '0');
      ++i;
    }
    if (i == exp_begin) return std::nullopt;
    d.exponent += neg ? -e : e;
  }
  if (i != s.size() || !any_digit) return std::nullopt;
  if (d.digits == 0) d.exponent = 0;
  return d;
}

TimeUnit unit_from_magnitude(const Decimal& t) {
  if (t.digits == 0) return TimeUnit::kMillis;
  // Digits of t.digits: about log10 from its bit width, then one compare.
  static constexpr auto kPow10 = [] {
    std::array<std::uint64_t, 20> p{};
    p[0] = 1;
    for (std::size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
    return p;
  }();
  const int bits = 64 - __builtin_clzll(t.digits);
  const int below = (bits * 1233) >> 12;  // floor(log10(2^bits)), at most 19
  const int digits = below + (t.digits >= kPow10[below] ? 1 : 0);
  const int integer_digits = digits + t.exponent;
  if (integer_digits >= 18) return TimeUnit::kNanos;
  if (integer_digits >= 15) return TimeUnit::kMicros;
  if (integer_digits == 10 || integer_digits == 11) return TimeUnit::kSeconds;
  return TimeUnit::kMillis;
}

std::optional<Nanos> to_nanos_exactly(const Decimal& v, TimeUnit unit) {
  if (v.exponent == 0) {  // a whole number, nearly always: no 128-bit steps
    std::int64_t x;
    if (v.digits <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) &&
        !__builtin_mul_overflow(static_cast<std::int64_t>(v.digits), unit_nanos(unit), &x))
      return v.negative ? -x : x;
  }
  const i128 x = scaled(v, unit_nanos(unit));
  if (x < 0) return std::nullopt;
  return static_cast<Nanos>(v.negative ? -x : x);
}

std::optional<std::int64_t> to_integer(const Decimal& v) {
  if (v.exponent == 0 && v.digits <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    const auto x = static_cast<std::int64_t>(v.digits);  // nearly always: no 128-bit steps
    return v.negative ? -x : x;
  }
  if (v.exponent < 0) {
    // Allowed only when the fraction is zero, e.g. "200.0".
    if (-v.exponent > 19) return std::nullopt;
    const auto p = static_cast<std::uint64_t>(pow10(-v.exponent));
    if (v.digits % p != 0) return std::nullopt;
  }
  const i128 x = scaled(v, 1);
  if (x < 0) return std::nullopt;
  return static_cast<std::int64_t>(v.negative ? -x : x);
}

std::optional<TimeUnit> parse_time_unit(std::string_view name) {
  if (name == "auto") return TimeUnit::kAuto;
  if (name == "s") return TimeUnit::kSeconds;
  if (name == "ms") return TimeUnit::kMillis;
  if (name == "us" || name == "µs") return TimeUnit::kMicros;
  if (name == "ns") return TimeUnit::kNanos;
  return std::nullopt;
}

}  // namespace ta
