#include <doctest/doctest.h>

#include "parse/time_value.h"

using namespace ta;

TEST_CASE("parse_decimal keeps the number exactly") {
  auto d = parse_decimal("1704038400000");
  REQUIRE(d);
  CHECK(d->digits == 1704038400000ull);
  CHECK(d->exponent == 0);
  auto f = parse_decimal("0.05");
  REQUIRE(f);
  CHECK(f->digits == 5);
  CHECK(f->exponent == -2);
  auto e = parse_decimal("1.5e3");
  REQUIRE(e);
  CHECK(to_integer(*e) == 1500);
  CHECK(parse_decimal("-12")->negative);
}

TEST_CASE("parse_decimal rejects what is not a JSON number") {
  for (const char* bad : {"", "-", "abc", "12a", "1.", ".5", "1e", "0x10", " 1", "1 "})
    CHECK_MESSAGE(!parse_decimal(bad), bad);
}

TEST_CASE("time unit follows the timestamp's magnitude") {
  CHECK(unit_from_magnitude(*parse_decimal("1704038400")) == TimeUnit::kSeconds);
  CHECK(unit_from_magnitude(*parse_decimal("1704038400.5")) == TimeUnit::kSeconds);
  CHECK(unit_from_magnitude(*parse_decimal("1704038400000")) == TimeUnit::kMillis);
  CHECK(unit_from_magnitude(*parse_decimal("1704038400000000")) == TimeUnit::kMicros);
  CHECK(unit_from_magnitude(*parse_decimal("1704038400000000000")) == TimeUnit::kNanos);
  CHECK(unit_from_magnitude(*parse_decimal("40")) == TimeUnit::kMillis);
  CHECK(unit_from_magnitude(*parse_decimal("0")) == TimeUnit::kMillis);
}

TEST_CASE("to_nanos converts each unit exactly") {
  CHECK(to_nanos(*parse_decimal("1704038400"), TimeUnit::kSeconds) == 1704038400'000'000'000LL);
  CHECK(to_nanos(*parse_decimal("100"), TimeUnit::kMillis) == 100'000'000);
  CHECK(to_nanos(*parse_decimal("0.5"), TimeUnit::kMillis) == 500'000);
  CHECK(to_nanos(*parse_decimal("12.3456789"), TimeUnit::kMicros) == 12'345);
  CHECK(to_nanos(*parse_decimal("7"), TimeUnit::kNanos) == 7);
  CHECK(!to_nanos(*parse_decimal("99999999999999999999"), TimeUnit::kMillis));
  CHECK(!to_nanos(*parse_decimal("1e400"), TimeUnit::kNanos));
  CHECK(to_nanos(*parse_decimal("1e-400"), TimeUnit::kSeconds) == 0);
}

TEST_CASE("to_integer accepts whole numbers only") {
  CHECK(to_integer(*parse_decimal("200")) == 200);
  CHECK(to_integer(*parse_decimal("200.0")) == 200);
  CHECK(!to_integer(*parse_decimal("200.5")));
}
