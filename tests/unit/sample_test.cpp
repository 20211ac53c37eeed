#include <doctest/doctest.h>

#include "test_support.h"

#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "analyze/sample.h"

using namespace ta;

namespace {

void check_exact(Sample& s, std::vector<Nanos> all) {
  CHECK(s.exact());
  CHECK(s.count() == all.size());
  test_support::check_distribution(s.summarize(), distribution(all));
}

}  // namespace

TEST_CASE("sample: exact whether its values repeat (counted) or hardly do (listed), and merged any way") {
  std::mt19937_64 rng(5);
  // Durations in whole milliseconds: a few hundred values among many spans.
  auto repeating = [&] { return static_cast<Nanos>(rng() % 600) * 1'000'000 - (rng() % 50 == 0 ? 3'000'000 : 0); };
  // Durations in nanoseconds: nearly all distinct, past the counted limit.
  auto spread = [&] { return static_cast<Nanos>(rng() % 4'000'000'000) - 1'000'000'000; };
  for (int shape = 0; shape < 4; ++shape) {
    CAPTURE(shape);
    Sample a, b;
    std::vector<Nanos> all;
    for (int i = 0; i < 60'000; ++i) {
      const bool first = i % 3 != 0;
      const bool spread_first = shape & 1, spread_second = shape & 2;
      const Nanos v = (first ? spread_first : spread_second) ? spread() : repeating();
      (first ? a : b).push(v);
      all.push_back(v);
    }
    {
      Sample copy;
      copy.merge(std::move(b));  // an empty sample takes the other whole
      b = std::move(copy);
    }
    a.merge(std::move(b));
    CHECK(b.empty());
    check_exact(a, all);
  }
  // n copies at once are n values.
  Sample bulk, one_by_one;
  std::vector<Nanos> all;
  for (Nanos v : {Nanos{7}, Nanos{-2}, Nanos{7}, Nanos{1'000'000'000'000}}) {
    bulk.push(v, 3);
    for (int i = 0; i < 3; ++i) one_by_one.push(v), all.push_back(v);
  }
  check_exact(bulk, all);
  check_exact(one_by_one, all);
  // Many distinct values pushed n at a time still list exactly.
  Sample listed;
  std::vector<Nanos> many;
  for (int i = 0; i < 20'000; ++i) {
    const Nanos v = spread();
    listed.push(v, 1 + i % 2);
    many.push_back(v);
    if (i % 2) many.push_back(v);
  }
  check_exact(listed, many);
}

TEST_CASE("sample: young samples list their values, and count them once they repeat") {
  std::mt19937_64 rng(17);
  // A pair's few dozen calls, nearly all distinct: listed, 4 bytes a value.
  Sample young;
  std::vector<Nanos> few;
  for (int i = 0; i < 60; ++i) {
    const Nanos v = static_cast<Nanos>(rng() % 1'000'000) * 1000;
    young.push(v);
    few.push_back(v);
  }
  CHECK(young.held_bytes() <= 64 * sizeof(std::int32_t));
  // Whole milliseconds, 100 of them over and over: counted once they repeat
  // (a table of at most 256 slots), however many come.
  Sample repeating;
  std::vector<Nanos> all;
  for (int i = 0; i < 200'000; ++i) {
    const Nanos v = static_cast<Nanos>(rng() % 100) * 1'000'000;
    repeating.push(v);
    all.push_back(v);
  }
  CHECK(repeating.held_bytes() <= 256 * 16);
  // A young list merged into a counted sample is counted there, and the
  // counted one merged into a young list too: neither is listed.
  Sample young2, counted;
  for (Nanos v : few) young2.push(v);
  for (Nanos v : all) counted.push(v);
  Sample young3;
  for (Nanos v : few) young3.push(v);
  counted.merge(std::move(young2));
  CHECK(counted.held_bytes() <= 512 * 16);
  young3.merge(std::move(counted));
  CHECK(young3.held_bytes() <= 512 * 16);
  std::vector<Nanos> merged = all;
  merged.insert(merged.end(), few.begin(), few.end());
  merged.insert(merged.end(), few.begin(), few.end());
  check_exact(young3, merged);
  check_exact(young, few);
  check_exact(repeating, all);
  // Copies pushed at once (a merged count) are counted, not listed one by one.
  Sample copies;
  copies.push(5, 1);
  copies.push(7'000'000, 1'000'000);
  CHECK(copies.held_bytes() <= 16 * 16);
  CHECK(copies.count() == 1'000'001);
  CHECK(copies.summarize().p50 == 7'000'000);
  // A young list counted once it repeats, whose first values are all
  // distinct: the table it starts outgrows them and lists them again, and
  // every value is kept either way.
  Sample turning;
  std::vector<Nanos> turned;
  for (int i = 0; i < 70'000; ++i) {
    const Nanos v = static_cast<Nanos>(i < 4500 ? i : i % 4500) * 1000;
    turning.push(v);
    turned.push_back(v);
  }
  check_exact(turning, turned);
}

TEST_CASE("sample: two young lists merge at once, and are looked at once a look falls due among them") {
  // 50 + 50 values of 3 repeating ones: the merge passes 64 values, the list
  // is looked at, and its values are counted (a table of 8 slots), not
  // listed (400 bytes).
  Sample a, b;
  std::vector<Nanos> all;
  for (int i = 0; i < 100; ++i) {
    const Nanos v = Nanos{i % 3 + 1} * 1'000'000;
    (i < 50 ? a : b).push(v);
    all.push_back(v);
  }
  a.merge(std::move(b));
  CHECK(b.empty());
  CHECK(a.held_bytes() <= 8 * 16);
  check_exact(a, all);
  // Distinct values stay listed; one too wide for 32 bits, in either list,
  // widens the merged one.
  for (int wide_in = 0; wide_in < 2; ++wide_in) {
    CAPTURE(wide_in);
    Sample x, y;
    std::vector<Nanos> values;
    for (int i = 0; i < 40; ++i) {
      const Nanos v = i == 7 ? Nanos{5'000'000'000'000} : Nanos{i} * 1000 + 1;
      ((i < 20) == (wide_in == 0) ? x : y).push(v);
      values.push_back(v);
    }
    x.merge(std::move(y));
    CHECK(x.count() == 40);
    check_exact(x, values);
  }
}

TEST_CASE("sample: listed values in 32 bits until one does not fit, then in 64") {
  std::mt19937_64 rng(11);
  for (Nanos big : {Nanos{3'000'000'000}, Nanos{-5'000'000'000}, Nanos{INT64_MAX}, Nanos{INT64_MIN}}) {
    Sample a, b;
    std::vector<Nanos> all;
    for (int i = 0; i < 20'000; ++i) {  // distinct values, past the counted ones: listed
      const Nanos v = static_cast<Nanos>(rng() % 2'000'000'000) - 1'000'000'000;
      (i % 2 ? a : b).push(v);
      all.push_back(v);
    }
    b.push(big);  // b widens
    all.push_back(big);
    a.merge(std::move(b));  // narrow + wide
    check_exact(a, all);
  }
}

TEST_CASE("sample: exact below its limit, within 1/64 above it") {
  std::mt19937_64 rng(3);
  std::vector<Nanos> values;
  Sample bounded(100), exact, coarse(100, 4, true);  // coarse: 16 sparse buckets per power of two
  for (int i = 0; i < 50'000; ++i) {
    // Durations from 1µs to 10s, a few negative (gaps), some tiny.
    Nanos v = static_cast<Nanos>(std::exp(std::uniform_real_distribution<double>(7, 23)(rng)));
    if (i % 10 == 0) v = -v;
    if (i % 97 == 0) v = static_cast<Nanos>(rng() % 100);
    values.push_back(v);
    bounded.push(v);
    exact.push(v);
    coarse.push(v);
  }
  CHECK_FALSE(bounded.exact());
  CHECK(exact.exact());
  const Distribution e = exact.summarize(), b = bounded.summarize();
  CHECK(b.count == e.count);
  CHECK(b.min == e.min);
  CHECK(b.max == e.max);
  for (auto [x, y] : {std::pair{b.p50, e.p50}, {b.p90, e.p90}, {b.p99, e.p99}})
    CHECK(std::abs(static_cast<double>(x - y)) <= std::abs(static_cast<double>(y)) / 64 + 1);
  const Distribution c = coarse.summarize();
  CHECK(c.count == e.count);
  CHECK(c.min == e.min);
  CHECK(c.max == e.max);
  for (auto [x, y] : {std::pair{c.p50, e.p50}, {c.p90, e.p90}, {c.p99, e.p99}})
    CHECK(std::abs(static_cast<double>(x - y)) <= std::abs(static_cast<double>(y)) / 16 + 1);
  // A coarse sample merged into a fine one keeps its count and bounds.
  Sample fine(10);
  for (Nanos v = 1; v <= 20; ++v) fine.push(v * 1'000'000);
  fine.merge(std::move(coarse));
  CHECK(fine.count() == e.count + 20);
  CHECK(fine.summarize().max == std::max<Nanos>(e.max, 20'000'000));

  Sample small(100);
  for (Nanos v : {5, 1, 4, 2, 3}) small.push(v);
  std::vector<Nanos> copy = {5, 1, 4, 2, 3};
  const Distribution s = small.summarize(), d = distribution(copy);
  CHECK(small.exact());
  CHECK(s.p50 == d.p50);
  CHECK(s.p99 == d.p99);

  // Merging a bounded sample into another keeps every value.
  Sample m1(10), m2(10);
  for (Nanos v = 0; v < 8; ++v) m1.push(v * 1000);
  for (Nanos v = 8; v < 16; ++v) m2.push(v * 1000);
  m1.merge(std::move(m2));
  CHECK(m1.count() == 16);
  CHECK_FALSE(m1.exact());
  const Distribution md = m1.summarize();
  CHECK(md.min == 0);
  CHECK(md.max == 15000);
  CHECK(std::abs(static_cast<double>(md.p50 - 7000)) <= 7000.0 / 64 + 1);
}

TEST_CASE("sample: a sparse histogram gives what a dense one does, its keys met in any order, merged any way") {
  // Values spread over 40 powers of two, both signs: hundreds of buckets,
  // most new ones met between others (kept apart and merged in at times).
  std::mt19937_64 rng(11);
  auto value = [&] {
    const Nanos v = static_cast<Nanos>(std::exp(std::uniform_real_distribution<double>(0, 28)(rng)));
    return rng() % 3 == 0 ? -v : v;
  };
  for (const int precision : {3, 6}) {
    CAPTURE(precision);
    Sample sparse(64, precision, true), dense(64, precision, false), half(64, precision, true),
        other(64, precision, true);
    for (int i = 0; i < 20'000; ++i) {
      const Nanos v = value();
      sparse.push(v);
      dense.push(v);
      (i % 2 == 0 ? half : other).push(v);
      if (i == 10'000) CHECK(sparse.summarize().count == 10'001);  // a summary midway, and on
    }
    half.merge(std::move(other));
    const Distribution d = dense.summarize();
    CHECK_FALSE(sparse.exact());
    test_support::check_distribution(sparse.summarize(), d);
    test_support::check_distribution(half.summarize(), d);
  }
}
