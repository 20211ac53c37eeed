// Numeric fields arrive as JSON numbers or strings, in s, ms, µs or ns.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "util/basic_types.h"

namespace ta {

enum class TimeUnit { kAuto, kSeconds, kMillis, kMicros, kNanos };

// A decimal number kept exactly as written: digits × 10^exponent.
struct Decimal {
  std::uint64_t digits = 0;
  int exponent = 0;
  bool negative = false;
};

// Parses JSON-number syntax (also accepted inside strings): optional '-',
// digits, optional fraction, optional exponent. Up to 19 significant digits
// are kept; more is reported as out of range.
std::optional<Decimal> parse_decimal(std::string_view text);

// The unit a timestamp's magnitude implies: 10-11 integer digits are seconds,
// 15-17 microseconds, 18 or more nanoseconds, anything else milliseconds.
TimeUnit unit_from_magnitude(const Decimal& timestamp);

// Converts to nanoseconds (fractions below 1 ns are dropped); nullopt when the
// result does not fit in int64.
std::optional<Nanos> to_nanos_exactly(const Decimal& value, TimeUnit unit);
inline std::optional<Nanos> to_nanos(const Decimal& value, TimeUnit unit) {
  if (value.exponent == 0 && value.digits <= static_cast<std::uint64_t>(INT64_MAX)) {  // a whole number, nearly always
    std::int64_t scale = 1'000'000;
    if (unit == TimeUnit::kSeconds) scale = 1'000'000'000;
    if (unit == TimeUnit::kMicros) scale = 1'000;
    if (unit == TimeUnit::kNanos) scale = 1;
    std::int64_t x;
    if (!__builtin_mul_overflow(static_cast<std::int64_t>(value.digits), scale, &x)) return value.negative ? -x : x;
  }
  return to_nanos_exactly(value, unit);
}

// The integral value, or nullopt when it has a fraction or does not fit.
std::optional<std::int64_t> to_integer(const Decimal& value);

std::optional<TimeUnit> parse_time_unit(std::string_view name);

}  // namespace ta
